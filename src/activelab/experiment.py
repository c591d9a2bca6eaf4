"""Simulated experiments: strategies against random over several seeds.

:func:`simulate` runs every strategy on every seed with a simulated (optionally noisy)
oracle and summarises the result: mean learning curves with 95 % intervals, AULC,
labels to a target, savings against random, and the time a query takes.

How a comparison is made fair (paired by seed)
----------------------------------------------
For seed ``k`` the data is split once, stratified, into a pool and a test set
(``test_size``), and one initial labeled set of ``initial`` pool ids is drawn; every
strategy of seed ``k`` starts from that same split and initial set, and the learner is
seeded with ``k``.  Differences between strategies at the same seed are therefore not
the luck of the split, and savings are computed per seed before averaging.  The split and
the initial set come from :func:`activelab.lab.splits.paired_split`, the one policy that
``activelab benchmark`` uses too, so the same seed gives both commands the same runs.

``random`` is always run as the baseline (it is added when the list leaves it out, and
:attr:`SimulationResult.notes` says so).
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .engine.models import MODELS, make_model
from .evaluation.cost import Estimate, Savings, compare_to_random, cost_analysis
from .evaluation.curves import aulc, labels_to_target, learning_curve_stats
from .evaluation.metrics import full_pool_score
from .lab.splits import check_split_sizes, paired_split
from .lab.tasks import check_model, check_noise, check_task_name, primary_and_metrics, resolve_task

__all__ = [
    "MODELS",
    "SimulationResult",
    "StrategySummary",
    "make_model",
    "simulate",
    "LEGEND",
]

BASELINE = "random"


# --------------------------------------------------------------------------- results
LEGEND: tuple[str, ...] = (
    "AULC: mean test accuracy over the label range (area under the learning curve / range); "
    "1.0 = perfect, above random = better.",
    "labels to target: labels until test accuracy first reached the target; mean over seeds "
    "that reached it (k/n if not all).",
    "saved vs random: labels random needed minus this strategy's, same seed (paired), and as % "
    "of random's; + = fewer labels.",
    "±: 95% t-interval of the mean over the seeds.",
    "query: time to choose one batch (mean over rounds).",
)


@dataclass
class StrategySummary:
    """One strategy's results over the seeds (one row of the summary table)."""

    strategy: str
    n_seeds: int
    aulc: Estimate
    labels_to_target: Estimate
    n_reached: int
    savings: Savings | None
    cost: Any
    query_seconds: float
    final: Estimate

    def to_dict(self) -> dict[str, Any]:
        """Flat JSON-able values (for tables and files)."""
        out: dict[str, Any] = {
            "strategy": self.strategy,
            "n_seeds": self.n_seeds,
            "aulc": self.aulc.mean,
            "aulc_low": self.aulc.low,
            "aulc_high": self.aulc.high,
            "final": self.final.mean,
            "labels_to_target": self.labels_to_target.mean,
            "labels_to_target_low": self.labels_to_target.low,
            "labels_to_target_high": self.labels_to_target.high,
            "n_reached": self.n_reached,
            "hours_to_target": self.cost.hours.mean,
            "money_to_target": self.cost.money.mean,
            "query_seconds": self.query_seconds,
        }
        s = self.savings
        for key in ("labels", "percent", "hours", "money"):
            est = getattr(s, key) if s is not None else None
            out[f"saved_{key}"] = est.mean if est else float("nan")
            out[f"saved_{key}_low"] = est.low if est else float("nan")
            out[f"saved_{key}_high"] = est.high if est else float("nan")
        out["saved_pairs"] = s.n_pairs if s is not None else 0
        return out


@dataclass
class SimulationResult:
    """What :func:`simulate` found.

    Attributes
    ----------
    dataset : str
    strategies : list of str
        Strategies in the order run; ``"random"`` last when it was added.
    seeds : list of int
    runs : dict of str to list of RunResult
        ``runs[strategy][i]`` is the run of seed ``seeds[i]``.
    config : dict
        The settings of the simulation.
    full_pool_scores : ndarray
        Per seed: the test score of the model fitted on the whole pool.
    targets : ndarray
        Per seed: the target metric value used for labels-to-target.
    target_label : str
        The target in words (e.g. ``"0.95 × full-pool accuracy"``).
    events : list of dict
        Every run's events, each tagged with ``run_id``, ``strategy`` and ``seed``.
    notes : list of str
        Things the user should know (baseline added, budget lowered to the pool size).
    seconds : float
        Wall-clock time of the whole simulation.
    """

    dataset: str
    strategies: list[str]
    seeds: list[int]
    runs: dict[str, list[Any]]
    config: dict[str, Any]
    full_pool_scores: np.ndarray
    targets: np.ndarray
    target_label: str
    events: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    # ----------------------------------------------------------------- curves
    @property
    def metric(self) -> str:
        return str(self.config.get("metric", "accuracy"))

    def curves(self, metric: str | None = None) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
        """Per strategy, one ``(n_labeled, values)`` curve per seed."""
        m = metric or self.metric
        return {s: [r.curve(m) for r in runs] for s, runs in self.runs.items()}

    def label_range(self) -> tuple[float, float]:
        """The label range shared by every run (first to smallest last label count)."""
        curves = [c for cs in self.curves().values() for c in cs]
        start = max(float(n[0]) for n, _ in curves)
        end = min(float(n[-1]) for n, _ in curves)
        return start, max(start, end)

    def curve_stats(self, metric: str | None = None) -> dict[str, dict[str, np.ndarray]]:
        """Per strategy, :func:`activelab.evaluation.learning_curve_stats` of its seeds."""
        return {s: learning_curve_stats(c) for s, c in self.curves(metric).items()}

    # ---------------------------------------------------------------- summary
    def summary(self) -> list[StrategySummary]:
        """One :class:`StrategySummary` per strategy, in run order."""
        start, end = self.label_range()
        cost_kw = {
            "cost_per_label": float(self.config.get("cost_per_label", 1.0)),
            "seconds_per_label": float(self.config.get("seconds_per_label", 30.0)),
        }
        curves = self.curves()
        to_target = {
            s: np.array([labels_to_target(n, v, t) for (n, v), t in zip(cs, self.targets, strict=True)])
            for s, cs in curves.items()
        }
        rows = []
        for s, cs in curves.items():
            areas = [aulc(n, v, start, end) for n, v in cs]
            finals = [v[-1] for _, v in cs]
            q = [
                r.query_seconds for run in self.runs[s] for r in run.rounds if len(r.query_ids)
            ]
            reached = to_target[s]
            savings = (
                None
                if s == BASELINE or BASELINE not in to_target
                else compare_to_random(reached, to_target[BASELINE], **cost_kw)
            )
            rows.append(
                StrategySummary(
                    strategy=s,
                    n_seeds=len(cs),
                    aulc=Estimate.of(areas),
                    labels_to_target=Estimate.of(reached[~np.isnan(reached)]).at_least(0.0),
                    n_reached=int(np.sum(~np.isnan(reached))),
                    savings=savings,
                    cost=cost_analysis(reached, **cost_kw),
                    query_seconds=float(np.mean(q)) if q else float("nan"),
                    final=Estimate.of(finals),
                )
            )
        return rows

    def table(self) -> tuple[list[str], list[list[str]]]:
        """The summary as a header and rows of display strings."""
        start, end = self.label_range()
        header = [
            "strategy",
            f"AULC {int(start)}–{int(end)}",
            "labels to target",
            "saved vs random",
            "query",
        ]
        errors = self.error_metrics()
        header[2:2] = [f"final {m} (lower is better)" for m in errors]
        rows = []
        for row in self.summary():
            finals = [_fmt_est(Estimate.of([r.curve(m)[1][-1] for r in self.runs[row.strategy]]),
                               "{:.3g}") for m in errors]
            rows.append([
                row.strategy,
                _fmt_est(row.aulc, "{:.3f}"),
                *finals,
                _fmt_reached(row),
                _fmt_savings(row),
                _fmt_seconds(row.query_seconds),
            ])
        return header, rows

    def _target_short(self) -> str:
        frac = self.config.get("target_of_full")
        if frac is not None:
            return f"{float(frac):.0%} of full-pool {self.metric} (≈{float(np.mean(self.targets)):.3f})"
        return f"{float(self.config['target']):.3g}"

    def legend(self) -> list[str]:
        """One line per column saying what it means, with this run's numbers filled in."""
        n = len(self.seeds)
        start, end = self.label_range()
        lines = list(LEGEND)
        lines[0] = lines[0].replace("the label range", f"{int(start)}–{int(end)} labels")
        lines[1] = (
            f"labels to target: labels until test {self.metric} first reached "
            f"{self._target_short()}; mean over seeds that reached it (k/{n} if not all)."
        )
        lines[3] = f"±: 95% t-interval of the mean over {n} seed{'s' if n != 1 else ''}" + (
            " (no interval with one seed)." if n == 1 else "."
        )
        if n < 10:
            lines[3] += (
                f" With {n} seed{'s' if n != 1 else ''} the intervals are wide: trust a saving "
                "only when its interval excludes 0, and use --seeds 10 or more before claiming one."
            )
        if self.metric != "accuracy":
            lines[0] = lines[0].replace("accuracy", self.metric)
        return lines

    # ---------------------------------------------------------------- writers
    def write_events(self, path: str | os.PathLike[str]) -> Path:
        """All runs' events as one JSON Lines file (each line has ``run_id``)."""
        from .events import to_jsonable

        path = Path(path)
        with open(path, "w", encoding="utf-8") as fh:
            for event in self.events:
                fh.write(json.dumps(to_jsonable(event), allow_nan=False, ensure_ascii=False))
                fh.write("\n")
        return path

    def write_curves_csv(self, path: str | os.PathLike[str]) -> Path:
        """Every round of every run: strategy, seed, round, n_labeled, metrics, timings."""
        path = Path(path)
        metrics: list[str] = []
        for runs in self.runs.values():
            for r in runs:
                metrics += [m for m in r.metric_names if m not in metrics]
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["strategy", "seed", "round", "n_labeled", *metrics,
                        "fit_seconds", "query_seconds"])
            for s, runs in self.runs.items():
                for seed, r in zip(self.seeds, runs, strict=True):
                    for rec in r.rounds:
                        w.writerow([s, seed, rec.round, rec.n_labeled,
                                    *(_csv_num(rec.metrics.get(m)) for m in metrics),
                                    f"{rec.fit_seconds:.6f}", f"{rec.query_seconds:.6f}"])
        return path

    def to_markdown(self, plot_name: str | None = "learning_curve.png") -> str:
        """The summary as a markdown report (settings, table, legend, notes)."""
        c = self.config
        header, rows = self.table()
        lines = [
            f"# Active learning on {self.dataset}",
            "",
            f"- model: `{c.get('model')}`; strategies: {', '.join(self.strategies)}; "
            f"seeds: {', '.join(map(str, self.seeds))}",
            f"- pool {c.get('n_pool')} / test {c.get('n_test')} items (stratified split per "
            f"seed, test_size={c.get('test_size')}); initial {c.get('initial')} labels, batches "
            f"of {c.get('batch_size')}, budget {c.get('budget')} labels; label noise "
            f"{c.get('noise')}",
            f"- full-pool {self.metric} (model fitted on every pool label): "
            + _fmt_est(Estimate.of(self.full_pool_scores), "{:.3f}"),
            f"- target: {self.target_label}",
            f"- time: {self.seconds:.1f} s",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "|".join("---" for _ in header) + "|",
        ]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        lines += ["", *(f"- {line}" for line in self.legend())]
        lines += self._cost_lines()
        from .lab.live import simulation_verdicts, verdict_markdown

        lines += verdict_markdown(simulation_verdicts(self))
        if self.notes:
            lines += ["", "## Notes", "", *(f"- {n}" for n in self.notes)]
        if plot_name:
            lines += ["", f"![learning curves]({plot_name})"]
        return "\n".join(lines) + "\n"

    def _cost_lines(self) -> list[str]:
        """The markdown section on labels, hours and money to the target."""
        c = self.config
        lines = ["", "## Cost to reach the target", "",
                 f"At {c.get('cost_per_label')} per label and {c.get('seconds_per_label')} s "
                 "per label (mean over the seeds that reached the target; savings paired "
                 "by seed; intervals of savings need at least 3 pairs):", "",
                 "| strategy | labels | hours | money | saved labels | saved hours | "
                 "saved money | saved % |", "|---|---|---|---|---|---|---|---|"]
        for row in self.summary():
            s = row.savings
            saved = "baseline | | |" if s is None else " | ".join(
                _fmt_saved(s, est, fmt) for est, fmt in (
                    (s.labels, "{:.0f}"), (s.hours, "{:.2f}"), (s.money, "{:.2f}"),
                    (s.percent, "{:.0f}%"),
                )
            )
            lines.append(
                f"| {row.strategy} | {_fmt_est(row.cost.labels, '{:.0f}')} | "
                f"{_fmt_est(row.cost.hours, '{:.2f}')} | {_fmt_est(row.cost.money, '{:.2f}')} | "
                f"{saved} |"
            )
        return lines

    def write_summary(self, path: str | os.PathLike[str]) -> Path:
        """The markdown report (see :meth:`to_markdown`)."""
        path = Path(path)
        path.write_text(self.to_markdown(), encoding="utf-8")
        return path

    def plot(self, path: str | os.PathLike[str] | None = None) -> Any:
        """Learning curves of every strategy against random (mean and 95 % band)."""
        from .evaluation.plots import plot_learning_curves

        target = float(np.mean(self.targets)) if np.all(np.isfinite(self.targets)) else None
        n = len(self.seeds)
        title = f"{self.dataset}: {self.config.get('model')}, {n} seed{'s' if n != 1 else ''}"
        errors = self.error_metrics()
        if not errors:
            return plot_learning_curves(
                self.curves(), baseline=BASELINE, metric=self.metric, target=target,
                title=title, path=path,
            )
        return self._plot_with_errors(errors[0], target, title, path)

    def error_metrics(self) -> list[str]:
        """The recorded metrics where lower is better (RMSE, MAE, Hamming loss)."""
        from .evaluation.metrics import higher_is_better

        return [m for m in self.config.get("metrics", ()) if not higher_is_better(m)]

    def _plot_with_errors(self, error: str, target: Any, title: str, path: Any) -> Any:
        """The primary metric's curves beside those of an error metric (lower is better)."""
        from ._plotting import import_pyplot
        from .evaluation.plots import plot_learning_curves

        plt = import_pyplot()
        fig, (left, right) = plt.subplots(1, 2, figsize=(12.0, 4.5))
        clip = None if self.config.get("task") == "regression" else (0.0, 1.0)
        plot_learning_curves(self.curves(), baseline=BASELINE, metric=self.metric,
                             target=target, title=title, ax=left, clip=clip)
        plot_learning_curves(self.curves(error), baseline=BASELINE, ax=right, clip=None,
                             metric=f"{error} (lower is better)", title=f"{error} vs labels")
        if path is not None:
            fig.savefig(os.fspath(path), dpi=120)
            plt.close(fig)
        return fig

    def save(self, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
        """Write events.jsonl, curves.csv, summary.md and learning_curve.png into ``out_dir``.

        The folder is created when missing; files of an earlier simulation there are
        replaced.  Returns the paths by kind.
        """
        out = Path(out_dir)
        if out.exists() and not out.is_dir():
            raise ValueError(f"{str(out)!r} is a file; give a folder for the results.")
        out.mkdir(parents=True, exist_ok=True)
        return {
            "events": self.write_events(out / "events.jsonl"),
            "curves": self.write_curves_csv(out / "curves.csv"),
            "summary": self.write_summary(out / "summary.md"),
            "plot": _saved(self.plot, out / "learning_curve.png"),
        }


def _saved(fn: Callable[[Path], Any], path: Path) -> Path:
    fn(path)
    return path


def _csv_num(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{float(v):.6g}"


def _fmt_est(e: Estimate, fmt: str) -> str:
    if math.isnan(e.mean):
        return "–"
    text = fmt.format(e.mean)
    if math.isnan(e.low):
        return text
    if not math.isclose(e.high - e.mean, e.mean - e.low, rel_tol=1e-9, abs_tol=1e-12):
        return f"{text} ({fmt.format(e.low)}–{fmt.format(e.high)})"  # cut at a bound
    return text + " ± " + fmt.format(e.half_width)


def _fmt_saved(s: Savings, est: Estimate, fmt: str) -> str:
    """A saving with its interval, or its mean alone when the pairs are too few."""
    if s.interval_is_informative or math.isnan(est.mean):
        return _fmt_est(est, fmt)
    return fmt.format(est.mean) + f" ({s.n_pairs} pair{'s' if s.n_pairs != 1 else ''})"


def _fmt_reached(row: StrategySummary) -> str:
    if row.n_reached == 0:
        return "not reached"
    text = _fmt_est(row.labels_to_target, "{:.0f}")
    if row.n_reached < row.n_seeds:
        text += f" ({row.n_reached}/{row.n_seeds})"
    return text


def _fmt_savings(row: StrategySummary) -> str:
    s = row.savings
    if s is None:
        return "baseline" if row.strategy == BASELINE else "–"
    if s.n_pairs == 0:
        return "– (target not reached)"
    text = f"{s.labels.mean:+.0f} ({s.percent.mean:+.0f}%"
    if not s.interval_is_informative:
        text += f"; {s.n_pairs} seed{'s' if s.n_pairs != 1 else ''}, too few for an interval"
    elif not math.isnan(s.percent.low):
        text += f" ±{s.percent.half_width:.0f}"
    text += ")"
    if s.n_unreached:
        text += f" [{s.n_pairs} seed{'s' if s.n_pairs != 1 else ''}]"
    return text


def _fmt_seconds(sec: float) -> str:
    if math.isnan(sec):
        return "–"
    return f"{sec * 1000:.0f} ms" if sec < 1 else f"{sec:.2f} s"


# --------------------------------------------------------------------------- simulate
class _TaggedSink:
    """Collects a run's events in memory, tagged with its run id, and reports rounds."""

    def __init__(
        self, store: list[dict[str, Any]], tags: dict[str, Any], extra_start: dict[str, Any],
        on_round: Callable[[dict[str, Any]], None] | None,
    ) -> None:
        self.store, self.tags, self.extra_start, self.on_round = store, tags, extra_start, on_round

    def emit(self, event: dict[str, Any]) -> None:
        tagged = {**event, **self.tags}
        if event.get("event") == "run_start":
            tagged.update(self.extra_start)
        self.store.append(tagged)
        if event.get("event") == "round" and self.on_round is not None:
            self.on_round(event)

    def close(self) -> None:
        """Nothing to release (the events stay in memory)."""


def _check_number(value: Any, name: str, lo: float, hi: float, fix: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}.")
    if not (lo <= float(value) <= hi) or math.isnan(float(value)):
        raise ValueError(f"{name} must be between {lo:g} and {hi:g}, got {value}; {fix}")
    return float(value)


def _check_count(value: Any, name: str, minimum: int, fix: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number, got {value!r}.")
    if int(value) < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}; {fix}")
    return int(value)


def check_strategies(strategies: Any) -> tuple[list[str], list[str]]:
    """Validate strategy names; returns the names (random added last) and notes."""
    from .strategies import available_strategies, get_strategy

    if isinstance(strategies, str):
        strategies = [s for s in strategies.split(",")]
    names = [str(s).strip().lower().replace("-", "_") for s in strategies]
    names = [n for n in names if n]
    if not names:
        raise ValueError(
            "strategies is empty; give at least one, e.g. margin,entropy (choose from: "
            + ", ".join(available_strategies()) + ")."
        )
    for n in names:
        get_strategy(n)  # raises ValueError naming the known strategies
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"strategy {dupes[0]!r} is listed twice; list each strategy once.")
    notes = []
    if BASELINE not in names:
        names.append(BASELINE)
        notes.append("added 'random' as the baseline every strategy is compared with.")
    return names, notes


def _resolve_data(
    X: Any, y: Any, label_column: str | None
) -> tuple[str, Any, np.ndarray, list[str], str | None]:
    """The data's name, checked features, labels, the loader's notes and its task."""
    from .datasets import Dataset, load_dataset
    from .pool import check_features

    if isinstance(X, (str, os.PathLike)):
        if y is not None:
            raise ValueError("y must be left out when data is given by name or path.")
        X = load_dataset(X, label_column=label_column)
    if isinstance(X, Dataset):
        return X.name, check_features(X.X, "X"), np.asarray(X.y), list(X.notes), X.task
    if y is None:
        raise ValueError("give y (the true labels) with X, or pass a dataset name or Dataset.")
    X = check_features(X, "X")
    y = np.asarray(y)
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y has shape {y.shape} but X has {X.shape[0]} rows; give one label per row."
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError("y contains NaN or infinity; give every row its label or target.")
    return "data", X, y, [], None


@dataclass
class _Settings:
    """The checked settings of one simulation."""

    names: list[str]
    notes: list[str]
    seeds: list[int]
    model: Any
    initial: int
    batch_size: int
    budget: int | None
    test_size: float
    noise: float
    target: float | None
    target_of_full: float | None
    metric: str
    committee_size: int
    cost_per_label: float
    seconds_per_label: float
    blas_threads: int | None
    task: Any = None
    recorded: tuple[str, ...] = ()

    @property
    def model_name(self) -> str:
        return self.model if isinstance(self.model, str) else type(self.model).__name__


@dataclass
class _Data:
    """The data of a simulation and the sizes of its split."""

    name: str
    X: Any
    y: np.ndarray
    n_pool: int
    n_test: int
    n_classes: int


@dataclass
class _Grid:
    """What the runs of every seed produced."""

    runs: dict[str, list[Any]]
    events: list[dict[str, Any]] = field(default_factory=list)
    full_scores: list[float] = field(default_factory=list)
    targets: list[float] = field(default_factory=list)


def _seed_list(seeds: Any) -> list[int]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        return list(range(_check_count(seeds, "seeds", 1, "run at least one seed.")))
    try:
        seed_list = [int(s) for s in seeds]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"seeds must be a count or a list of integers, got {seeds!r}.") from exc
    if not seed_list or len(set(seed_list)) != len(seed_list):
        raise ValueError("seeds must be a non-empty list of distinct integers.")
    return seed_list


def _check_budget(budget: int | None, initial: int) -> int | None:
    if budget is None:
        return None
    budget = _check_count(budget, "budget", 1, "give the total number of labels or None.")
    if budget < initial:
        raise ValueError(
            f"budget ({budget}) is smaller than initial ({initial}); the budget counts the "
            "initial labels too, so raise it or lower initial."
        )
    return budget


def _check_targets(
    target: float | None, target_of_full: float | None
) -> tuple[float | None, float | None]:
    if target is not None and target_of_full is not None:
        raise ValueError("give target or target_of_full, not both.")
    if target is not None:
        return _check_share(target, "target", "e.g. 0.9 accuracy."), None
    if target_of_full is None:
        return None, 0.95
    return None, _check_share(target_of_full, "target_of_full", "e.g. 0.95 of the full-pool score.")


def _check_share(value: Any, name: str, fix: str) -> float:
    """A number in (0, 1]: a target of 0 is reached by every run before its first query."""
    value = _check_number(value, name, 0.0, 1.0, fix)
    if value == 0.0:
        raise ValueError(f"{name} must be above 0 (every run reaches 0 at once), got 0; {fix}")
    return value


def _check_batch(batch_size: int, limit: int | None, what: str) -> None:
    """One batch cannot be larger than the whole budget (or the whole pool)."""
    if limit is not None and batch_size > limit:
        raise ValueError(
            f"batch_size ({batch_size}) is larger than {what} ({limit}); one round can never "
            "label that many, so lower batch_size (e.g. 10)."
        )


def _check_settings(
    *, strategies: Any, seeds: Any, model: Any, initial: Any, batch_size: Any, budget: Any,
    test_size: Any, noise: Any, target: Any, target_of_full: Any, metric: str | None,
    committee_size: Any, cost_per_label: Any, seconds_per_label: Any, blas_threads: Any,
    task: Any = None,
) -> _Settings:
    """Every argument of :func:`simulate` checked, before any data is read."""
    from .evaluation.cost import _check_rates
    from .evaluation.metrics import get_metric

    names, notes = check_strategies(strategies)
    seed_list = _seed_list(seeds)
    initial = _check_count(initial, "initial", 2, "start with two labels or more.")
    batch_size = _check_count(batch_size, "batch_size", 1, "query at least one item per round.")
    budget = _check_budget(budget, initial)
    _check_batch(batch_size, budget, "the whole budget")
    test_size = _check_number(test_size, "test_size", 0.0, 1.0, "e.g. 0.25.")
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be strictly between 0 and 1, got {test_size}; e.g. 0.25.")
    noise = _check_number(noise, "noise", 0.0, 1.0, "it is the share of wrong labels, e.g. 0.1.")
    committee_size = _check_count(committee_size, "committee_size", 2, "use 2 members or more.")
    target, target_of_full = _check_targets(target, target_of_full)
    if metric is not None:
        get_metric(metric)
    _check_rates(cost_per_label, seconds_per_label)
    _check_model_early(model, task)
    if blas_threads is not None:
        blas_threads = _check_count(blas_threads, "blas_threads", 1, "use 1 or more, or None.")
    return _Settings(
        names, notes, seed_list, model, initial, batch_size, budget, test_size, noise, target,
        target_of_full, metric, committee_size, cost_per_label, seconds_per_label, blas_threads,
        check_task_name(task),
    )


def _check_model_early(model: Any, task: Any) -> None:
    """A bad model name fails before any data is read (for the task asked, or any task)."""
    if model is None:
        return
    task = check_task_name(task)
    if task is not None:
        make_model(model, task=task)
        return
    try:
        make_model(model)
    except (ValueError, TypeError):
        try:
            make_model(model, task="regression")  # a name of the regression table
        except (ValueError, TypeError):
            pass
        else:
            return
        raise


def _settle_task(settings: _Settings, dataset_task: Any, y: np.ndarray) -> None:
    """The task of the simulation, its model and metrics, once the data is known."""
    task = resolve_task(settings.task, dataset_task, y, settings.model)
    settings.task = task
    settings.model = check_model(settings.model, task)
    settings.metric, settings.recorded = primary_and_metrics(settings.metric, task)
    check_noise(settings.noise, task)
    from .strategies.registry import check_strategy_task, get_strategy

    for name in settings.names:
        check_strategy_task(get_strategy(name), task)


def _load_data(X: Any, y: Any, label_column: str | None, settings: _Settings) -> _Data:
    """The data, checked against the split; lowers the budget to the pool size (noted)."""
    name, X_all, y_all, notes, dataset_task = _resolve_data(X, y, label_column)
    _settle_task(settings, dataset_task, y_all)
    n_test = check_split_sizes(y_all, settings.test_size, settings.task)
    n_pool = y_all.shape[0] - n_test
    if settings.initial >= n_pool:
        raise ValueError(
            f"initial ({settings.initial}) must be smaller than the pool ({n_pool} items after "
            f"holding out {n_test} for testing); lower initial."
        )
    if settings.budget is None or settings.budget > n_pool:
        if settings.budget is not None:
            settings.notes.append(f"budget lowered from {settings.budget} to the pool size ({n_pool}).")
        settings.budget = n_pool
    _check_batch(settings.batch_size, n_pool, "the pool")
    settings.notes.extend(notes)
    return _Data(name, X_all, y_all, n_pool, n_test, _n_classes(y_all, settings.task))


def _n_classes(y: np.ndarray, task: Any) -> int:
    """Classes of a classification set, label columns of a multi-label one, 0 for regression."""
    if task == "regression":
        return 0
    return int(y.shape[1]) if task == "multilabel" else int(np.unique(y).size)


def _run_strategy(
    strategy: str, seed: int, est: Any, split: Any, data: _Data, settings: _Settings,
    grid: _Grid, reporter: _Reporter,
) -> Any:
    """One run: ``strategy`` from the seed's split and initial set."""
    from .loop import run
    from .oracles import NoisyOracle, SimulatedOracle

    X_pool, y_pool = data.X[split.pool_rows], data.y[split.pool_rows]
    run_id = f"{strategy}-seed{seed}"
    oracle = (
        NoisyOracle(y_pool, error_rate=settings.noise, random_state=seed)
        if settings.noise > 0 else SimulatedOracle(y_pool)
    )
    sink = _TaggedSink(
        grid.events,
        {"run_id": run_id, "strategy": strategy, "seed": seed},
        {"pool_rows": split.pool_rows, "test_rows": split.test_rows, "dataset": data.name},
        reporter.round_done(run_id),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run(
            est, X_pool, oracle, strategy=strategy, X_test=data.X[split.test_rows],
            y_test=data.y[split.test_rows], initial=split.initial_ids,
            batch_size=settings.batch_size, budget=settings.budget,
            committee_size=settings.committee_size, random_state=seed, sinks=[sink],
            metrics=settings.recorded, run_name=run_id, task=settings.task,
        )


def _run_seed(seed: int, data: _Data, settings: _Settings, grid: _Grid, reporter: _Reporter) -> None:
    """Every strategy on seed ``seed``'s split (:func:`activelab.lab.splits.paired_split`)."""
    split = paired_split(data.y, test_size=settings.test_size, n_initial=settings.initial,
                         seed=seed, task=settings.task)
    est = make_model(settings.model, random_state=seed, task=settings.task)
    pool, test = split.pool_rows, split.test_rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = full_pool_score(est, data.X[pool], data.y[pool], data.X[test], data.y[test],
                               settings.metric)
    grid.full_scores.append(full)
    grid.targets.append(
        settings.target if settings.target is not None else settings.target_of_full * full
    )
    for strategy in settings.names:
        grid.runs[strategy].append(
            _run_strategy(strategy, seed, est, split, data, settings, grid, reporter)
        )


def _run_grid(data: _Data, settings: _Settings, progress: Any) -> _Grid:
    """Every seed, every strategy; BLAS threads limited while the models fit."""
    assert settings.budget is not None
    n_rounds = 1 + math.ceil((settings.budget - settings.initial) / settings.batch_size)
    reporter = _Reporter(progress, n_rounds * len(settings.names) * len(settings.seeds))
    grid = _Grid(runs={s: [] for s in settings.names})
    with contextlib.ExitStack() as stack:
        stack.callback(reporter.close)
        if settings.blas_threads is not None:
            from threadpoolctl import threadpool_limits

            stack.enter_context(threadpool_limits(limits=settings.blas_threads, user_api="blas"))
        for seed in settings.seeds:
            _run_seed(seed, data, settings, grid, reporter)
    return grid


def _result(data: _Data, settings: _Settings, grid: _Grid, seconds: float) -> SimulationResult:
    s = settings
    target_label = (
        f"{s.target:g}" if s.target is not None
        else f"{s.target_of_full:g} × full-pool {s.metric} "
        f"(≈ {float(np.mean(grid.targets)):.3f}, per seed)"
    )
    config = {
        "dataset": data.name, "model": s.model_name, "strategies": s.names, "seeds": s.seeds,
        "initial": s.initial, "batch_size": s.batch_size, "budget": s.budget,
        "test_size": s.test_size, "noise": s.noise, "target": s.target,
        "target_of_full": s.target_of_full, "metric": s.metric,
        "committee_size": s.committee_size, "cost_per_label": s.cost_per_label,
        "seconds_per_label": s.seconds_per_label, "n_pool": data.n_pool,
        "n_test": data.n_test, "n_classes": data.n_classes, "task": str(s.task),
        "metrics": list(s.recorded),
    }
    return SimulationResult(
        dataset=data.name, strategies=s.names, seeds=s.seeds, runs=grid.runs, config=config,
        full_pool_scores=np.asarray(grid.full_scores),
        targets=np.asarray(grid.targets, dtype=np.float64), target_label=target_label,
        events=grid.events, notes=s.notes, seconds=seconds,
    )


def simulate(
    X: Any,
    y: Any = None,
    *,
    strategies: Sequence[str] | str = ("margin", "entropy", "random"),
    seeds: int | Sequence[int] = 3,
    model: Any = None,
    initial: int = 20,
    batch_size: int = 10,
    budget: int | None = 300,
    test_size: float = 0.25,
    noise: float = 0.0,
    target: float | None = None,
    target_of_full: float | None = None,
    metric: str | None = None,
    committee_size: int = 5,
    cost_per_label: float = 1.0,
    seconds_per_label: float = 30.0,
    label_column: str | None = None,
    progress: bool | Callable[[str, int, int], None] = False,
    blas_threads: int | None = 1,
    task: str | None = None,
) -> SimulationResult:
    """Compare query strategies with random sampling over several seeds.

    Parameters
    ----------
    X : array-like, Dataset, or str
        Features, a :class:`activelab.datasets.Dataset`, or a dataset name or path for
        :func:`activelab.load_dataset` (``"digits"``, ``"synthetic:classes=3"``, a CSV).
    y : array-like, optional
        True labels when ``X`` is a feature matrix.
    strategies : sequence of str or comma-separated str
        Registered strategy names; ``random`` is added when missing.
    seeds : int or sequence of int, default=3
        ``n`` means seeds ``0 .. n-1``.  Each seed has its own split and initial set,
        shared by all strategies (see the module notes).
    model : str, classifier or regressor, optional
        See :func:`make_model`; the task's default when omitted: ``"logreg"`` for
        classification, ``"ridge"`` for regression.
    initial : int, default=20
        Size of the random initial labeled set (when a draw holds a single class, one of
        its items is swapped for an item of another class).
    batch_size : int, default=10
    budget : int or None, default=300
        Total labels per run, the initial set included (lowered to the pool size, with a
        note, when the pool is smaller; None = the whole pool).
    test_size : float, default=0.25
        Share of the data held out for testing (stratified).
    noise : float, default=0.0
        Share of the oracle's answers that are wrong (:class:`activelab.NoisyOracle`).
    target : float, optional
        Absolute target for labels-to-target, e.g. 0.9 accuracy.
    target_of_full : float, optional
        Target as a share of the full-pool score of each seed, e.g. 0.95.  The default,
        when neither is given, is ``target_of_full=0.95``.
    metric : str, optional
        The higher-is-better metric of the curves, AULC and labels-to-target; the task's
        default when omitted (``"accuracy"``; ``"r2"`` for regression, which also records
        ``rmse`` and ``mae``).
    committee_size : int, default=5
        Members of the bagging committee of committee strategies.
    cost_per_label, seconds_per_label : float
        For the cost analysis (money and hours to the target).
    label_column : str, optional
        Label column when ``X`` is a CSV/Parquet path.
    progress : bool or callable, default=False
        True shows a progress bar (rich) or lines on stderr; a callable receives
        ``(description, done_rounds, total_rounds)`` after every round.
    blas_threads : int or None, default=1
        BLAS threads while the runs fit their models (via threadpoolctl).  Active learning
        fits many small models, for which one thread is several times faster than many
        (threads spin waiting for each other); None leaves the setting alone.
    task : {"classification", "multilabel", "regression"}, optional
        The kind of target; when omitted, a regressor ``model`` means regression, else
        the dataset's own task (``diabetes`` is regression), else what ``y`` looks like.

    Returns
    -------
    SimulationResult

    Raises
    ------
    ValueError, TypeError
        For bad settings, named in the message; all settings are checked before the
        first run starts.

    Examples
    --------
    >>> res = simulate("iris", strategies=["margin"], seeds=2, initial=10, budget=40)
    >>> [row.strategy for row in res.summary()]
    ['margin', 'random']
    """
    started = time.perf_counter()
    settings = _check_settings(
        strategies=strategies, seeds=seeds, model=model, initial=initial,
        batch_size=batch_size, budget=budget, test_size=test_size, noise=noise, target=target,
        target_of_full=target_of_full, metric=metric, committee_size=committee_size,
        cost_per_label=cost_per_label, seconds_per_label=seconds_per_label,
        blas_threads=blas_threads, task=task,
    )
    data = _load_data(X, y, label_column, settings)
    grid = _run_grid(data, settings, progress)
    return _result(data, settings, grid, time.perf_counter() - started)


class _Reporter:
    """Progress over all runs: a rich bar, plain lines, or a user callback."""

    def __init__(self, progress: Any, total: int) -> None:
        self.total, self.done = total, 0
        self.callback: Callable[[str, int, int], None] | None = None
        self._bar: Any = None
        self._task: Any = None
        if callable(progress):
            self.callback = progress
        elif progress:
            try:
                from rich.console import Console
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    TextColumn,
                    TimeElapsedColumn,
                )

                self._bar = Progress(
                    TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("rounds"), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=False,
                )
                self._bar.start()
                self._task = self._bar.add_task("simulating", total=total)
            except ImportError:
                self.callback = self._print

    @staticmethod
    def _print(desc: str, done: int, total: int) -> None:
        import sys

        print(f"{desc}: {done}/{total} rounds", file=sys.stderr, flush=True)

    def round_done(self, run_id: str) -> Callable[[dict[str, Any]], None]:
        def update(event: dict[str, Any]) -> None:
            self.done += 1
            if self._bar is not None:
                self._bar.update(self._task, completed=self.done, description=run_id)
            elif self.callback is not None:
                self.callback(run_id, self.done, self.total)

        return update

    def close(self) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, description="done")
            self._bar.stop()
            self._bar = None
