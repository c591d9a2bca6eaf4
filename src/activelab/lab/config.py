"""Benchmark settings: read from TOML or given as arguments, expanded into a run grid.

A benchmark is datasets × strategies × models × oracle noise levels × seeds.  Every
cell of the grid is one :class:`RunSpec` with a stable id; the id names the run's
result file, which is what makes a benchmark resumable.

Example ``bench.toml``::

    name = "small"
    datasets = ["iris", "zhan:australian", "imbalanced"]
    strategies = ["random", "margin", "entropy"]
    models = ["logreg"]
    seeds = 5
    noise = [0.0, 0.1]
    budget = 200
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..engine.models import MODELS, make_model

__all__ = [
    "BenchmarkConfig",
    "RunSpec",
    "MODELS",
    "SCENARIO_DATASETS",
    "load_config",
    "make_model",
]

#: Dataset names that stand for a scenario rather than one file.
SCENARIO_DATASETS: dict[str, str] = {
    "imbalanced": "synthetic set, 10,000 x 20, one class 1 % of the items; scored on macro-F1 "
    "and rare-class recall",
    "spamassassin-domain": "model starts from the labeled SpamAssassin '-1' groups (source); "
    "active learning on the later '-2' groups (target), tested on held-out target mail; "
    "TF-IDF with 5,000 terms",
}

#: Settings that apply to every dataset given as a CSV/Parquet path (see
#: :func:`activelab.datasets.files.load_file`).
FILE_OPTIONS: tuple[str, ...] = (
    "label_column", "text_column", "drop_columns", "id_column", "text_method", "encoding",
    "delimiter",
)

#: The strategies benchmarked when none are given, by the datasets' task: the default
#: selector and margin for classification; for regression and multi-label the two that
#: beat random on diabetes and yeast (docs/benchmarks/regression.md, multilabel.md).
DEFAULT_STRATEGIES: dict[str, list[str]] = {
    "classification": ["random", "auto", "margin"],
    "regression": ["random", "greedy_io", "greedy_x"],
    "multilabel": ["random", "cvirs", "multilabel_margin"],
}

_KEYS = {
    "name", "datasets", "strategies", "models", "seeds", "noise", "initial", "batch_size",
    "budget", "test_size", "metrics", "target", "data_dir", "n_jobs", "format",
    "cost_per_label", "seconds_per_label", "min_effect", *FILE_OPTIONS,
}


@dataclass(frozen=True)
class RunSpec:
    """One cell of the grid: a dataset, a strategy, a model, a noise level and a seed."""

    dataset: str
    strategy: str
    model: str
    noise: float
    seed: int

    @property
    def run_id(self) -> str:
        """A file-name-safe id, unique within a benchmark."""
        return (
            f"{_slug(self.dataset)}__{_slug(self.strategy)}__{_slug(self.model)}"
            f"__noise{round(self.noise * 100):02d}__seed{self.seed}"
        )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "_", text).strip("_") or "x"


@dataclass
class BenchmarkConfig:
    """What a benchmark runs.

    Parameters
    ----------
    datasets : list of str
        Names understood by :func:`activelab.datasets.load_dataset` (``"digits"``,
        ``"zhan:australian"``, ``"synthetic:classes=3"``, a CSV/Parquet/libsvm path), or a
        scenario: ``"imbalanced"``, ``"spamassassin-domain"``.
    strategies : list of str
        Registered strategy names; ``"random"`` is added when missing (it is the baseline).
        Default: those of the datasets' task (:data:`DEFAULT_STRATEGIES`; for
        classification ``["random", "auto", "margin"]``), chosen when the benchmark runs.
    models : list of str
        Names of the model table (:data:`activelab.engine.models.MODELS`: ``logreg``,
        ``rf``, ``svm``, ``knn``, ``nb``) or import paths ``"package.module.Class"``, built
        by :func:`activelab.engine.models.make_model` with the run's seed.  Default: the
        task's model (``logreg``; ``ridge`` for regression).
    seeds : int or list of int
        ``n`` means seeds ``0 .. n-1``.  Seed ``k`` gives every strategy the same split
        and initial set (paired comparisons).
    noise : list of float
        Oracle error rates (:class:`activelab.oracles.NoisyOracle`); 0 is a perfect oracle.
    initial, batch_size, budget : int
        Initial labels, labels per round, total labels (initial included).
    test_size : float
        Share of each dataset held out for testing.
    metrics : list of str
        Recorded every round; the first is the one AULC and the verdicts use
        (``imbalanced`` uses macro-F1).
    target : float
        Labels-to-target goal as a fraction of the full-pool score (e.g. 0.95).
    data_dir : str, optional
        Folder of the real datasets.
    n_jobs : int, optional
        Worker processes; ``None`` or -1 = all cores.
    format : {"parquet", "csv"}
        Format of the results table.
    cost_per_label, seconds_per_label : float
        For the savings in money and hours.
    min_effect : float
        The smallest AULC difference the report calls a win (default 0.005).
    label_column, text_column, drop_columns, id_column, text_method, encoding, delimiter
        How the datasets given as CSV/Parquet paths are read (the arguments of
        :func:`activelab.datasets.files.load_file`); ignored for named datasets.
    """

    name: str = "benchmark"
    datasets: list[str] = field(default_factory=lambda: ["iris"])
    strategies: list[str] | None = None
    models: list[str] | None = None
    seeds: Any = 5
    noise: list[float] = field(default_factory=lambda: [0.0])
    initial: int = 20
    batch_size: int = 10
    budget: int = 200
    test_size: float = 0.25
    metrics: list[str] = field(default_factory=lambda: ["accuracy", "f1_macro"])
    target: float = 0.95
    data_dir: str | None = None
    n_jobs: int | None = None
    format: str = "parquet"
    cost_per_label: float = 1.0
    seconds_per_label: float = 30.0
    min_effect: float = 0.005
    label_column: str | None = None
    text_column: Any = None
    drop_columns: Any = None
    id_column: str | None = None
    text_method: str | None = None
    encoding: str | None = None
    delimiter: str | None = None

    def __post_init__(self) -> None:
        self.validate()

    # ---------------------------------------------------------------- checks
    def validate(self) -> None:
        """Raise ValueError/TypeError naming the setting and the fix."""
        self._check_lists()
        self._check_strategies()
        self.seeds = self.seed_list()
        self._check_noise()
        self._check_sizes()
        if self.format not in ("parquet", "csv"):
            raise ValueError(f"format must be 'parquet' or 'csv', got {self.format!r}.")
        if self.n_jobs is not None and (
            isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, int)
            or not (self.n_jobs >= 1 or self.n_jobs == -1)
        ):
            raise ValueError(
                f"n_jobs must be a number of worker processes (1 or more, or -1 for all "
                f"cores), got {self.n_jobs!r}."
            )
        from ..evaluation.metrics import METRICS

        bad = [m for m in self.metrics if m not in METRICS]
        if bad:
            raise ValueError(f"unknown metric {bad[0]!r}; choose from {', '.join(METRICS)}.")
        self._check_models()

    def _check_lists(self) -> None:
        for key in ("datasets", "strategies", "models", "metrics"):
            value = getattr(self, key)
            if key in ("strategies", "models") and value is None:
                continue  # the task's defaults (use_task_defaults)
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
                setattr(self, key, value)
            if not isinstance(value, (list, tuple)) or not value:
                raise ValueError(f"{key} must be a non-empty list, e.g. {key} = [...].")
            if not all(isinstance(v, str) and v for v in value):
                raise TypeError(f"{key} must hold names (strings).")
            setattr(self, key, list(dict.fromkeys(value)))

    def _check_strategies(self) -> None:
        #: Whether the strategies are the defaults (then the datasets' task picks them).
        self.strategies_by_default = self.strategies is None
        if self.strategies is None:
            self.strategies = list(DEFAULT_STRATEGIES["classification"])
        if "random" not in self.strategies:
            self.strategies = ["random", *self.strategies]
        from ..strategies import available_strategies

        known = set(available_strategies())
        bad = [s for s in self.strategies if s.lower().replace("-", "_") not in known]
        if bad:
            raise ValueError(
                f"unknown strategy {bad[0]!r} in strategies; choose from {', '.join(sorted(known))}."
            )

    def _check_noise(self) -> None:
        if isinstance(self.noise, (int, float)):
            self.noise = [float(self.noise)]
        self.noise = [float(n) for n in self.noise]
        if any(not 0.0 <= n < 1.0 for n in self.noise):
            raise ValueError("noise rates must be in [0, 1), e.g. noise = [0.0, 0.1, 0.3].")

    def _check_sizes(self) -> None:
        for key, low in (("initial", 1), ("batch_size", 1), ("budget", 2)):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{key} must be an integer of at least {low}, got {value!r}.")
        if self.budget <= self.initial:
            raise ValueError(
                f"budget ({self.budget}) must be larger than initial ({self.initial}); "
                "the budget counts the initial labels too."
            )
        if self.batch_size > self.budget:
            raise ValueError(
                f"batch_size ({self.batch_size}) is larger than the whole budget "
                f"({self.budget}); one round can never label that many, so lower batch_size."
            )
        if not 0.0 < float(self.test_size) < 1.0:
            raise ValueError(f"test_size must be between 0 and 1, got {self.test_size!r}.")
        if not 0.0 < float(self.target) <= 1.0:
            raise ValueError(f"target must be a fraction in (0, 1], got {self.target!r}.")

    def _check_models(self) -> None:
        """Names of the model table or import paths, each built once (before any run)."""
        from ..engine.models import REGRESSION_MODELS

        #: Whether the model is the default (then the datasets' task picks it).
        self.models_by_default = self.models is None
        if self.models is None:
            self.models = ["logreg"]
        for model in self.models:
            key = model.strip().lower()
            if key in REGRESSION_MODELS and key not in MODELS:
                continue  # a regressor: checked against each dataset's task by the runner
            if key not in MODELS and not any(c in model for c in ".:"):
                raise ValueError(
                    f"unknown model {model!r}; use one of {', '.join(MODELS)} (classification), "
                    f"{', '.join(REGRESSION_MODELS)} (regression) or an import path such as "
                    "sklearn.tree.DecisionTreeClassifier."
                )
            make_model(model)

    def check_datasets(self) -> None:
        """Check that every dataset can be found, before any run starts.

        Nothing is read: names must be known, the real sets' files must be in the data
        directory, files must exist and have a known format
        (:func:`activelab.datasets.check_dataset`).
        """
        from ..datasets import _looks_like_path, check_dataset, known_names
        from ..datasets.real import require_files

        for name in self.datasets:
            if name == "imbalanced":
                continue
            if name == "spamassassin-domain":
                require_files(name, self.data_dir)
            elif _looks_like_path(name):
                check_dataset(name, **self.file_options())
            else:
                try:
                    check_dataset(name, data_dir=self.data_dir)
                except ValueError as exc:
                    if not str(exc).startswith("unknown dataset"):
                        raise
                    raise ValueError(
                        f"unknown dataset {name!r}; known names: {', '.join(known_names())}, "
                        "imbalanced, spamassassin-domain, or a CSV/Parquet/libsvm file path."
                    ) from None

    def file_options(self) -> dict[str, Any]:
        """The table settings that were given, as :func:`activelab.load_dataset` arguments."""
        return {k: getattr(self, k) for k in FILE_OPTIONS if getattr(self, k) not in (None, [], ())}

    def seed_list(self) -> list[int]:
        """The seeds as a list."""
        seeds = self.seeds
        if isinstance(seeds, bool):
            raise TypeError("seeds must be a count or a list of integers.")
        if isinstance(seeds, int):
            if seeds < 1:
                raise ValueError(f"seeds must be at least 1, got {seeds}.")
            return list(range(seeds))
        if isinstance(seeds, (list, tuple)) and seeds and all(
            isinstance(s, int) and not isinstance(s, bool) for s in seeds
        ):
            return list(dict.fromkeys(int(s) for s in seeds))
        raise TypeError("seeds must be a count (e.g. 5) or a non-empty list of integers.")

    def use_task_defaults(self, task: str) -> None:
        """Take ``task``'s default strategies and model where none were given
        (:data:`DEFAULT_STRATEGIES`, :data:`activelab.engine.models.DEFAULT_MODELS`)."""
        from ..engine.models import DEFAULT_MODELS

        if self.strategies_by_default:
            self.strategies = list(DEFAULT_STRATEGIES[task])
        if self.models_by_default:
            self.models = [DEFAULT_MODELS[task]]

    # ------------------------------------------------------------------ grid
    def runs(self) -> list[RunSpec]:
        """Every run of the grid, dataset by dataset, seed by seed."""
        return [
            RunSpec(d, s, m, n, seed)
            for d in self.datasets
            for m in self.models
            for n in self.noise
            for seed in self.seed_list()
            for s in self.strategies
        ]

    def grid_settings(self) -> dict[str, Any]:
        """Settings that change what a run computes (a resumed benchmark must match them)."""
        d = self.to_dict()
        for key in ("name", "n_jobs", "format", "cost_per_label", "seconds_per_label",
                    "min_effect", "target", "datasets", "strategies", "models", "seeds",
                    "noise", "data_dir"):
            d.pop(key)
        return d

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-able dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchmarkConfig:
        """Build from a dict (e.g. a parsed TOML file), rejecting unknown keys."""
        unknown = sorted(set(data) - _KEYS)
        if unknown:
            raise ValueError(
                f"unknown setting {unknown[0]!r} in the benchmark config; known settings: "
                f"{', '.join(sorted(_KEYS))}."
            )
        return cls(**data)


def load_config(path: str | Path, **overrides: Any) -> BenchmarkConfig:
    """Read a benchmark config from a TOML file; ``overrides`` that are not None win.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When it is not valid TOML or holds an unknown or bad setting.
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {str(path)!r} does not exist.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config file {str(path)!r} is not valid TOML: {exc}") from exc
    data.update({k: v for k, v in overrides.items() if v is not None})
    return BenchmarkConfig.from_dict(data)


def parse_list(value: str | Sequence[str] | None) -> list[str] | None:
    """``"a,b"`` -> ``["a", "b"]``; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value)
