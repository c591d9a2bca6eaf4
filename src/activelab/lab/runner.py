"""Run a benchmark grid in parallel worker processes, resumably.

Layout of a benchmark folder::

    OUT/config.json                 the settings (a resumed benchmark must match them)
    OUT/runs/<run_id>/events.jsonl  the run's event log (as ``activelab simulate`` writes)
    OUT/results/<run_id>.json       the run's result: curves, AULC, times
    OUT/results.parquet (or .csv)   one row per finished run

A run is done if and only if its result file exists: the file is written through a
temporary file and a rename, after the run finished.  An interrupted benchmark
started again skips the done runs and redoes the others from the start (their partial
event logs are replaced).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..engine.models import make_model
from ..engine.tasks import Task
from .config import BenchmarkConfig, RunSpec
from .splits import paired_split
from .store import atomic_write_json, read_json

__all__ = [
    "BenchmarkSummary",
    "run_benchmark",
    "execute_run",
    "gather_results",
    "load_results",
    "rare_class_recall",
    "prepare_data",
]

ProgressCallback = Callable[[int, int, str], None]

#: TF-IDF vocabulary of the ``spamassassin-domain`` scenario.
DOMAIN_MAX_FEATURES = 5000


@dataclass
class BenchmarkSummary:
    """What :func:`run_benchmark` did."""

    out_dir: Path
    n_total: int
    n_skipped: int
    n_ran: int
    table_path: Path
    seconds: float


def rare_class_recall(y_true: Any, y_pred: Any) -> float:
    """Recall of the least frequent class of ``y_true`` (ties: the smallest label)."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    classes, counts = np.unique(y_true, return_counts=True)
    rare = classes[np.argmin(counts)]
    mask = y_true == rare
    return float(np.mean(y_pred[mask] == rare)) if mask.any() else float("nan")


# --------------------------------------------------------------------- data
_CACHE: dict[tuple[str, str | None, str], Any] = {}


@dataclass
class _Data:
    X: Any
    y: np.ndarray
    source_rows: np.ndarray | None  # rows always in the pool and labeled first (domain)
    target_rows: np.ndarray  # rows split into pool and test
    primary_metric: str | None
    extra_metrics: tuple[str, ...]
    task: str = "classification"


def _load(dataset: str, data_dir: str | None, file_options: dict[str, Any] | None = None) -> _Data:
    from ..datasets import _looks_like_path

    options = dict(file_options or {}) if _looks_like_path(dataset) else {}
    key = (dataset, data_dir, repr(sorted(options.items())))
    if key in _CACHE:
        return _CACHE[key]
    from ..datasets import load_dataset

    if dataset == "imbalanced":
        ds = load_dataset("synthetic", n_samples=10000, n_features=20, imbalance=0.01,
                          random_state=0)
        data = _Data(ds.X, np.asarray(ds.y), None, np.arange(len(ds.y)), "f1_macro",
                     ("f1_macro", "rare_recall"))
    elif dataset == "spamassassin-domain":
        from ..datasets.real import spamassassin_domains

        # 5,000 TF-IDF terms: feature-space strategies (core-set) stay affordable
        source, target = spamassassin_domains(data_dir, max_features=DOMAIN_MAX_FEATURES)
        import scipy.sparse as sp

        X = sp.vstack([source.X, target.X], format="csr")
        y = np.concatenate([source.y, target.y])
        n_src = source.X.shape[0]
        data = _Data(X, y, np.arange(n_src), np.arange(n_src, X.shape[0]), None, ())
    else:
        ds = load_dataset(dataset, data_dir=data_dir, **options)
        data = _Data(ds.X, np.asarray(ds.y), None, np.arange(len(ds.y)), None, (), ds.task)
    _CACHE[key] = data
    return data


def prepare_data(
    spec: RunSpec, config: BenchmarkConfig
) -> tuple[Any, np.ndarray, Any, np.ndarray, np.ndarray | None, str, list[str]]:
    """The pool, its labels, the test set, the forced initial ids, and the metrics of a run.

    The split and the initial set come from :func:`activelab.lab.splits.paired_split`
    (stratified, seeded by the seed; the policy ``activelab simulate`` uses too), so every
    strategy of a seed sees the same pool, test set and initial labels.

    Returns
    -------
    X_pool, y_pool, X_test, y_test, initial_ids, primary_metric, metrics
        ``initial_ids`` are the seeded random initial set, or every source row in the
        domain-adaptation scenario.
    """
    data = _load(spec.dataset, config.data_dir, config.file_options())
    rows = data.target_rows
    split = paired_split(
        data.y[rows], test_size=config.test_size, n_initial=config.initial, seed=spec.seed,
        task=data.task,
    )
    pool_rows, test_rows = rows[split.pool_rows], rows[split.test_rows]
    initial = split.initial_ids
    if data.source_rows is not None:
        pool_rows = np.concatenate([data.source_rows, pool_rows])
        initial = np.arange(len(data.source_rows), dtype=np.int64)
    X_pool, X_test = data.X[pool_rows], data.X[test_rows]
    metrics, primary = _task_metrics(config, data)
    if primary not in metrics:
        metrics.insert(0, primary)
    return X_pool, data.y[pool_rows], X_test, data.y[test_rows], initial, primary, metrics


def _task_metrics(config: BenchmarkConfig, data: _Data) -> tuple[list[str], str]:
    """The metrics a run records and its primary one.

    Classification: the config's metrics (the first primary) and the scenario's.  Other
    tasks: the task's metrics (:data:`~activelab.evaluation.metrics.TASK_METRICS`, the
    higher-is-better one primary, error metrics beside it) and the config's metrics that
    serve the task.
    """
    if data.task == "classification":
        metrics = list(dict.fromkeys([*config.metrics, *data.extra_metrics]))
        return metrics, data.primary_metric or config.metrics[0]
    from ..evaluation.metrics import TASK_METRICS, metrics_for

    own = [m for m in config.metrics if m in metrics_for(data.task)]
    task_metrics = TASK_METRICS[Task(data.task)]
    return list(dict.fromkeys([*task_metrics, *own])), task_metrics[0]


def dataset_task(dataset: str, config: BenchmarkConfig) -> str:
    """The task of a benchmark dataset (reads it, as the runs would)."""
    if dataset in ("imbalanced", "spamassassin-domain"):
        return "classification"
    return _load(dataset, config.data_dir, config.file_options()).task


# --------------------------------------------------------------------- one run
def result_path(out_dir: Path, spec: RunSpec) -> Path:
    """Where a run's result lives; the run is done iff this file exists."""
    return Path(out_dir) / "results" / f"{spec.run_id}.json"


def events_path(out_dir: Path, spec: RunSpec) -> Path:
    """Where a run's event log lives."""
    return Path(out_dir) / "runs" / spec.run_id / "events.jsonl"


def execute_run(spec: RunSpec, config: BenchmarkConfig, out_dir: str | Path) -> dict[str, Any]:
    """Run one cell of the grid and write its event log and result file.

    Returns
    -------
    dict
        The result written to ``results/<run_id>.json``.
    """
    from threadpoolctl import threadpool_limits

    from ..events import JSONLSink
    from ..loop import run

    out_dir = Path(out_dir)
    started = time.perf_counter()
    with threadpool_limits(limits=1):
        X_pool, y_pool, X_test, y_test, initial, primary, metric_names = prepare_data(spec, config)
        domain = _load(spec.dataset, config.data_dir, config.file_options()).source_rows is not None
        offset = len(initial) if domain and initial is not None else 0
        task = _load(spec.dataset, config.data_dir, config.file_options()).task
        estimator = make_model(spec.model, random_state=spec.seed, task=task)
        result = run(
            estimator, X_pool, _oracle(y_pool, spec, offset), strategy=spec.strategy,
            X_test=X_test, y_test=y_test, initial=initial, batch_size=config.batch_size,
            budget=min(config.budget + offset, X_pool.shape[0]), random_state=spec.seed,
            sinks=[_TaggedJSONL(JSONLSink(_fresh_log(out_dir, spec)), spec)],
            metrics=_metric_functions(metric_names), run_name=spec.run_id,
        )
        full = _full_score(estimator, X_pool, y_pool, X_test, y_test, primary)
    record = _record(spec, result, metric_names, primary, offset, full)
    record["task"] = task
    record["seconds"] = time.perf_counter() - started
    atomic_write_json(result_path(out_dir, spec), record)
    return record


def _metric_functions(names: list[str]) -> dict[str, Any]:
    from ..evaluation.metrics import METRICS

    return {m: (rare_class_recall if m == "rare_recall" else METRICS[m]) for m in names}


def _oracle(y_pool: np.ndarray, spec: RunSpec, n_source: int) -> Any:
    """The true labels, or a seeded noisy oracle; source-domain labels stay clean."""
    if spec.noise == 0:
        return y_pool
    from ..oracles import NoisyOracle

    oracle = NoisyOracle(y_pool, error_rate=spec.noise, random_state=spec.seed)
    if n_source:
        # the source domain comes labeled; only the target answers are noisy
        return _CleanSourceOracle(y_pool, n_source, oracle)
    return oracle


def _fresh_log(out_dir: Path, spec: RunSpec) -> Path:
    """The run's event log path, emptied of what an interrupted attempt left."""
    log = events_path(out_dir, spec)
    log.parent.mkdir(parents=True, exist_ok=True)
    if log.exists():  # left by an interrupted attempt: the run starts over
        log.unlink()
    return log


def _full_score(estimator: Any, X_pool: Any, y_pool: Any, X_test: Any, y_test: Any,
                primary: str) -> float:
    from ..evaluation import full_pool_score

    metric = primary if primary != "rare_recall" else "accuracy"
    try:
        return full_pool_score(estimator, X_pool, y_pool, X_test, y_test, metric=metric)
    except ValueError:
        return float("nan")


def _record(spec: RunSpec, result: Any, metric_names: list[str], primary: str, offset: int,
            full: float) -> dict[str, Any]:
    """The JSON result of a run: its curves (target labels only), AULC and times."""
    from ..evaluation import aulc

    curves: dict[str, dict[str, list[float]]] = {}
    for m in metric_names:
        n, v = result.curve(m)
        curves[m] = {"n_labeled": (n - offset).tolist(), "values": v.tolist()}
    n_p = np.asarray(curves[primary]["n_labeled"], dtype=np.float64)
    v_p = np.asarray(curves[primary]["values"], dtype=np.float64)
    record = {
        "run_id": spec.run_id,
        "dataset": spec.dataset,
        "strategy": spec.strategy,
        "model": spec.model,
        "noise": spec.noise,
        "seed": spec.seed,
        "primary_metric": primary,
        "aulc": aulc(n_p, v_p) if n_p.size else float("nan"),
        "final": float(v_p[-1]) if v_p.size else float("nan"),
        "full_score": full,
        "n_labeled_final": int(n_p[-1]) if n_p.size else 0,
        "n_source_labels": offset,
        "n_rounds": len(result.rounds),
        "stopped_by": result.stopped_by,
        "fit_seconds": float(sum(r.fit_seconds for r in result.rounds)),
        "query_seconds": float(sum(r.query_seconds for r in result.rounds)),
        "seconds": 0.0,
        "curves": curves,
    }
    for m in metric_names:
        record[f"final_{m}"] = curves[m]["values"][-1] if curves[m]["values"] else float("nan")
    return record


class _TaggedJSONL:
    """Writes the loop's events to a JSONL sink, tagged as ``activelab simulate`` tags them.

    Every event gets ``run_id``, ``strategy`` and ``seed``; ``run_start`` also gets the
    ``dataset``, ``model`` and oracle ``noise``.
    """

    def __init__(self, sink: Any, spec: RunSpec) -> None:
        self.sink = sink
        self.tags = {"run_id": spec.run_id, "strategy": spec.strategy, "seed": spec.seed}
        self.start = {"dataset": spec.dataset, "model": spec.model, "noise": spec.noise}

    def emit(self, event: dict[str, Any]) -> None:
        tagged = {**event, **self.tags}
        if event.get("event") == "run_start":
            tagged.update(self.start)
        self.sink.emit(tagged)

    def close(self) -> None:
        self.sink.close()


class _CleanSourceOracle:
    """True labels for the first ``n_source`` pool ids, ``noisy``'s answers for the rest."""

    def __init__(self, y: np.ndarray, n_source: int, noisy: Any) -> None:
        self.y = np.asarray(y)
        self.n_source = n_source
        self.noisy = noisy

    def label(self, ids: np.ndarray, pool: Any) -> Any:
        from ..oracles import OracleAnswer

        ids = np.asarray(ids, dtype=np.int64)
        labels = self.y[ids].copy()
        target = ids >= self.n_source
        if target.any():
            answer = self.noisy.label(ids[target], pool)
            labels[target] = answer.labels
        return OracleAnswer(ids=ids, labels=labels)


def _worker(spec: RunSpec, config_dict: dict[str, Any], out_dir: str) -> tuple[str, float]:
    config = BenchmarkConfig.from_dict(config_dict)
    record = execute_run(spec, config, out_dir)
    return spec.run_id, float(record["seconds"])


# --------------------------------------------------------------------- the grid
def _check_settings(out: Path, config: BenchmarkConfig) -> None:
    path = out / "config.json"
    if path.exists():
        old = BenchmarkConfig.from_dict(read_json(path))
        if old.grid_settings() != config.grid_settings():
            diff = sorted(
                k for k, v in config.grid_settings().items() if old.grid_settings().get(k) != v
            )
            raise ValueError(
                f"the folder {str(out)!r} holds a benchmark with other settings "
                f"({', '.join(diff)}); use the same settings to resume, or another --out."
            )
    atomic_write_json(path, config.to_dict())


def run_benchmark(
    config: BenchmarkConfig,
    out_dir: str | os.PathLike[str],
    *,
    n_jobs: int | None = None,
    progress: bool | ProgressCallback = False,
) -> BenchmarkSummary:
    """Run every run of ``config`` that has no result yet, then gather the table.

    Parameters
    ----------
    config : BenchmarkConfig
    out_dir : path
        The benchmark folder (created); starting again with the same folder resumes.
    n_jobs : int, optional
        Worker processes; default ``config.n_jobs``, else all cores (-1 = all cores too).
        ``1`` runs in this process.
    progress : bool or callable
        ``True`` prints one line per finished run on stderr; a callable gets
        ``(n_done, n_total, run_id)`` after every finished run (and once at the start).

    Returns
    -------
    BenchmarkSummary
    """
    if not isinstance(config, BenchmarkConfig):
        raise TypeError(f"config must be a BenchmarkConfig, got {type(config).__name__}.")
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int)
                               or not (n_jobs >= 1 or n_jobs == -1)):
        raise ValueError(
            f"n_jobs must be a number of worker processes (1 or more, or -1 for all cores), "
            f"got {n_jobs!r}."
        )
    started = time.perf_counter()
    config.check_datasets()
    _read_files(config)
    _task_default_strategies(config)
    _check_tasks(config)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _check_settings(out, config)
    specs = config.runs()
    todo = [s for s in specs if not result_path(out, s).exists()]
    n_done = len(specs) - len(todo)
    report = _progress_reporter(progress)
    if report is not None:
        report(n_done, len(specs), "")

    def finished(k: int, run_id: str) -> None:
        if report is not None:
            report(n_done + k, len(specs), run_id)

    workers = n_jobs if n_jobs else config.n_jobs
    if workers is None or workers == -1:
        workers = os.cpu_count() or 1
    workers = max(1, min(workers, len(todo) or 1))
    if workers == 1:
        ran = _run_here(todo, config, out, finished)
    else:
        ran = _run_in_workers(todo, config, out, workers, finished)
    table = gather_results(out, config)
    return BenchmarkSummary(out, len(specs), n_done, ran, table, time.perf_counter() - started)


def _read_files(config: BenchmarkConfig) -> None:
    """Read every dataset given as a file now, so that a bad column fails before any folder
    is made (the tables are kept for the runs of this process)."""
    from ..datasets import _looks_like_path

    for name in config.datasets:
        if name not in ("imbalanced", "spamassassin-domain") and _looks_like_path(name):
            _load(name, config.data_dir, config.file_options())


def _cheap_task(name: str, config: BenchmarkConfig) -> str | None:
    """The task of a dataset that is cheap to read (scikit-learn's bundled sets, sets
    shipped inside a package such as ``yeast``, and files); None for the others."""
    from ..datasets import _looks_like_path
    from ..datasets.bundled import BUNDLED
    from ..datasets.packaged import is_packaged

    if name.lower() in BUNDLED or is_packaged(name.lower()) or _looks_like_path(name):
        return dataset_task(name, config)
    return None


def _task_default_strategies(config: BenchmarkConfig) -> None:
    """With no strategies given, the datasets' task picks them (the downloaded real sets
    are all classification ones)."""
    if not config.strategies_by_default:
        return
    tasks = {_cheap_task(name, config) or "classification" for name in config.datasets}
    if len(tasks) > 1:
        raise ValueError(
            f"the datasets are of different tasks ({', '.join(sorted(tasks))}) and no "
            "strategy but random serves them all; benchmark each task on its own, or name "
            "the strategies."
        )
    config.use_task_defaults(tasks.pop())


def _check_tasks(config: BenchmarkConfig) -> None:
    """Every model, strategy and noise level fits the task of every dataset that is cheap
    to read (see :func:`_cheap_task`), before any folder is made."""
    from ..strategies.registry import check_strategy_task, get_strategy
    from .tasks import check_noise

    for name in config.datasets:
        task = _cheap_task(name, config)
        if task is None:
            continue
        check_noise(config.noise, task)
        for model in config.models:
            try:
                make_model(model, task=task)
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"dataset {name!r} is a {task} set: {exc}") from None
        for strategy in config.strategies:
            try:
                check_strategy_task(get_strategy(strategy), task)
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"dataset {name!r} is a {task} set: {exc}") from None


def _progress_reporter(progress: bool | ProgressCallback) -> ProgressCallback | None:
    """The callback of ``progress``: itself, one stderr line per run, or none."""
    if callable(progress):
        return progress
    if not progress:
        return None

    def report(done: int, total: int, run_id: str) -> None:
        print(f"[{done}/{total}] {run_id}", file=sys.stderr, flush=True)

    return report


def _run_here(
    todo: list[RunSpec], config: BenchmarkConfig, out: Path, finished: Callable[[int, str], None]
) -> int:
    """Run ``todo`` one after the other in this process; returns how many ran."""
    for k, spec in enumerate(todo, start=1):
        execute_run(spec, config, out)
        finished(k, spec.run_id)
    return len(todo)


def _run_in_workers(
    todo: list[RunSpec], config: BenchmarkConfig, out: Path, workers: int,
    finished: Callable[[int, str], None],
) -> int:
    """Run ``todo`` in ``workers`` processes, at most two queued per worker."""
    if not todo:
        return 0
    config_dict = config.to_dict()
    ran = 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        queue = iter(todo)
        pending: set[Future[Any]] = set()

        def submit(k: int) -> None:
            for _ in range(k):
                spec = next(queue, None)
                if spec is None:
                    return
                pending.add(pool.submit(_worker, spec, config_dict, str(out)))

        submit(2 * workers)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                run_id, _ = fut.result()
                ran += 1
                finished(ran, run_id)
            submit(len(done))
    return ran


def load_results(out_dir: str | os.PathLike[str], with_curves: bool = True) -> list[dict[str, Any]]:
    """Every finished run's result, sorted by run id."""
    rows = []
    for path in sorted((Path(out_dir) / "results").glob("*.json")):
        r = read_json(path)
        if not with_curves:
            r.pop("curves", None)
        rows.append(r)
    return rows


def gather_results(out_dir: str | os.PathLike[str], config: BenchmarkConfig | None = None) -> Path:
    """Write the results table (one row per finished run) and return its path."""
    import pandas as pd

    out = Path(out_dir)
    if config is None:
        config = BenchmarkConfig.from_dict(read_json(out / "config.json"))
    rows = load_results(out, with_curves=False)
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.sort_values("run_id").reset_index(drop=True)
    path = out / f"results.{config.format}"
    tmp = out / f".results.{config.format}.tmp"
    if config.format == "parquet":
        frame.to_parquet(tmp, index=False)
    else:
        frame.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path
