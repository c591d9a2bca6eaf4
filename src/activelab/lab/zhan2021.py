"""The tabular benchmark protocol of Lu, Cheng, Li & Lin (TMLR 2025).

Lu et al. re-ran the benchmark of Zhan et al. (IJCAI 2021) on its 26 binary tabular
sets.  Per trial (seed ``t``):

1. a random 60 / 40 train / test split (``train_test_split(test_size=0.4,
   random_state=t)``);
2. ``StandardScaler`` fitted on the training split, applied to both;
3. 20 random initial labels from the training split (redrawn, seeded, until both
   classes are present);
4. batch size 1, querying until the whole training split is labeled;
5. model ``SVC(kernel="rbf", gamma="auto", C=1)`` refitted after every label, test
   accuracy recorded after every fit;
6. AUBC = trapezoid area under test accuracy over the whole budget, divided by its length.

Strategies
----------
Every column queries through :func:`activelab.strategies.query.query_once` with the
library's registered strategy of the same name (seeded with ``RandomState(t)``, kept for
the whole trial); ties at the top utility are broken at random by that generator.

``random``
    Uniform sampling (the library's ``random``).
``margin``
    The smallest ``|f(x)|`` of the SVC's ``decision_function`` (the distance to the
    separating surface), with the same SVC as query model.  This is Lu et al.'s
    "US-C" (uncertainty sampling with the compatible model), which uses the margin
    sampler of Google's active-learning library on the task SVC.  The library's
    ``margin`` reads class probabilities, so it is given the two columns of
    :func:`svm_margin_proba`, whose margin ``|f| / (1 + |f|)`` orders items as ``|f|``
    does: the same pick as ``argmin |f(x)|``, not the margin of Platt probabilities.
``entropy``
    The library's ``entropy`` of Platt-scaled probabilities of the same SVC
    (``probability=True``).  For two classes entropy, margin and least-confident rank
    items alike on the same probabilities; the difference from ``margin`` is Platt's
    calibration.
``coreset``
    The library's ``coreset`` (k-center greedy) on the standardised features: the
    unlabeled item farthest from its nearest labeled item (batch size 1 makes greedy
    exact).
``ours``
    The library's own strategy through the strategy registry: ``auto`` (the strategy
    bandit) when it is registered, else ``margin`` with the library defaults (margin of
    the predicted probabilities of ``SVC(probability=True)``).  The result records
    which one ran.

Trials are paired: the same seed gives every strategy the same split and initial set.
Each (dataset, strategy, trial) writes one JSON file atomically, so an interrupted
reproduction resumes where it stopped.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets.real import ZHAN_BINARY
from .store import atomic_write_json, read_json
from .zhan2021_published import PUBLISHED, PUBLISHED_DIFF, STRATEGIES
from .zhan2021_report import markdown_report, paired_table, summary_table

__all__ = [
    "STRATEGIES",
    "QUICK_DATASETS",
    "PUBLISHED",
    "PUBLISHED_DIFF",
    "ZhanTrial",
    "prepare_trial",
    "run_trial",
    "aubc",
    "aubc_published",
    "outside_margin",
    "run_reproduction",
    "collect",
    "summary_table",
    "markdown_report",
    "paired_table",
]

QUICK_DATASETS: tuple[str, ...] = ("appendicitis", "sonar", "parkinsons", "ex8b", "heart")
N_INITIAL = 20
TEST_SIZE = 0.4

@dataclass
class ZhanTrial:
    """One trial's data: the scaled split and the initial labeled positions."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    initial: np.ndarray


def prepare_trial(
    X: np.ndarray, y: np.ndarray, trial: int, n_initial: int = N_INITIAL
) -> ZhanTrial:
    """Split, scale and draw the initial set of one trial (deterministic in ``trial``).

    Parameters
    ----------
    X, y : the whole dataset.
    trial : int
        The trial's seed; every strategy of a trial gets the same split and initial set.
    n_initial : int, default=20

    Returns
    -------
    ZhanTrial
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X_train, X_test, y_train, y_test = train_test_split(
        np.asarray(X, dtype=np.float64), np.asarray(y), test_size=TEST_SIZE, random_state=trial
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if not 2 <= n_initial < X_train.shape[0]:
        raise ValueError(
            f"n_initial must be between 2 and {X_train.shape[0] - 1} for this dataset, "
            f"got {n_initial}."
        )
    if np.unique(y_train).size < 2:
        raise ValueError("the training split holds a single class; this dataset cannot be used.")
    rng = np.random.RandomState(trial)
    for _ in range(1000):
        initial = rng.choice(X_train.shape[0], n_initial, replace=False)
        if np.unique(y_train[initial]).size >= 2:
            break
    else:  # pragma: no cover - needs a class of a handful of items among thousands
        raise ValueError("could not draw an initial set with two classes; use more initial labels.")
    return ZhanTrial(X_train, X_test, y_train, y_test, initial.astype(np.int64))


def _ours_strategy() -> str:
    from ..strategies import available_strategies

    return "auto" if "auto" in available_strategies() else "margin"


def run_trial(
    X: np.ndarray,
    y: np.ndarray,
    strategy: str,
    trial: int,
    *,
    n_initial: int = N_INITIAL,
    budget: int | None = None,
    skip_refits: bool = True,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_seconds: float = 60.0,
) -> dict[str, Any]:
    """Run one trial of the protocol and return its learning curve and AUBC.

    Parameters
    ----------
    X, y : the whole dataset (split inside).
    strategy : {"random", "margin", "entropy", "coreset", "ours"}
    trial : int
        Seed of the split, the initial set and the strategy's randomness.
    n_initial : int, default=20
    budget : int, optional
        Number of queries; ``None`` (the protocol) queries until the pool is labeled.
    skip_refits : bool, default=True
        Skip the SVC refit when the new point lies outside the margin on its own side
        (``y f(x) >= 1``): its dual variable stays 0 and the old solution stays optimal,
        so the refit would return the same classifier.  Only for the columns whose model
        has no Platt scaling (``random``, ``margin``, ``coreset``): Platt's internal
        cross-validation changes with every new point.
    checkpoint : path, optional
        File where the trial's state is saved every ``checkpoint_seconds``; a trial
        started again with the same file goes on from the saved step (and removes the
        file when it finishes).  The file is a pickle: only load your own.
    checkpoint_seconds : float, default=60

    Returns
    -------
    dict
        ``n_labeled`` and ``accuracy`` (the curve, initial fit included), ``aubc``
        (activelab's, initial point included), ``aubc_published`` (Lu et al.'s, see
        :func:`aubc_published`), ``n_train``, ``n_test``, ``n_refits`` / ``n_steps``,
        ``fit_seconds``, ``query_seconds``, ``seconds`` and ``strategy_used``.
    """
    import warnings

    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}.")
    with warnings.catch_warnings():
        # scikit-learn >= 1.9 deprecates probability=True; it is libsvm's Platt scaling,
        # which the protocol's probabilistic strategies use.
        warnings.simplefilter("ignore", FutureWarning)
        data = prepare_trial(X, y, trial, n_initial)
        n_train = data.X_train.shape[0]
        n_queries = n_train - data.initial.size
        if budget is not None:
            n_queries = min(budget, n_queries)
        saver = _Checkpoint(checkpoint, checkpoint_seconds, (strategy, trial, n_train, n_queries))
        state = saver.load() or _start(data, strategy, trial, n_queries)
        skip = skip_refits and strategy in SKIPPABLE
        _run_steps(data, state, strategy, skip, saver)
        saver.done()
        return _trial_record(data, strategy, trial, state)


#: Columns whose task SVC has no Platt scaling, so an exact refit skip applies.
SKIPPABLE: frozenset[str] = frozenset({"random", "margin", "coreset"})


def svm_margin_proba(model: Any, X: np.ndarray) -> np.ndarray:
    """Two columns whose margin orders items as ``|decision_function|`` does.

    The library's ``margin`` strategy reads class probabilities; the protocol's margin
    (Lu et al.'s US-C) is the distance ``|f(x)|`` of the task SVC's decision value.  The
    columns ``0.5 -/+ f / (2 (1 + |f|))`` have the margin ``|f| / (1 + |f|)``, which rises
    strictly with ``|f|`` (and does not round to 1 for large ``|f|`` as a sigmoid would),
    so ``margin`` on them picks the item of smallest ``|f(x)|``.
    """
    f = np.asarray(model.decision_function(X), dtype=np.float64)
    half = 0.5 * f / (1.0 + np.abs(f))
    return np.column_stack([0.5 - half, 0.5 + half])


def _task_model(strategy: str, trial: int) -> Any:
    """The protocol's SVC; Platt-scaled probabilities only for the strategies that read them."""
    from sklearn.svm import SVC

    probabilistic = strategy in ("entropy", "ours")
    return SVC(kernel="rbf", gamma="auto", C=1.0, probability=probabilistic, random_state=trial)


def _trial_strategy(strategy: str, trial: int) -> tuple[Any, str]:
    """The library strategy that runs for a protocol column, and its registry name.

    One seeded generator per trial, kept by the strategy, so random draws and tie breaks
    go on from query to query (an integer seed would restart them every query).
    """
    from ..strategies import get_strategy

    name = _ours_strategy() if strategy == "ours" else strategy
    return get_strategy(name, random_state=np.random.RandomState(trial)), name


@dataclass
class _State:
    """Everything a running trial needs to go on (what a checkpoint saves)."""

    model: Any
    chooser: Any
    used: str
    labeled: np.ndarray
    accuracy: np.ndarray
    order: list[int]
    step: int = 0
    refit: bool = True
    n_refits: int = 0
    fit_seconds: float = 0.0
    query_seconds: float = 0.0
    seconds: float = 0.0


def _start(data: ZhanTrial, strategy: str, trial: int, n_queries: int) -> _State:
    chooser, used = _trial_strategy(strategy, trial)
    labeled = np.zeros(data.X_train.shape[0], dtype=bool)
    labeled[data.initial] = True
    return _State(_task_model(strategy, trial), chooser, used, labeled,
                  np.empty(n_queries + 1), [int(i) for i in data.initial])


def _fit_and_score(model: Any, data: ZhanTrial, labeled: np.ndarray) -> float:
    rows = np.flatnonzero(labeled)
    model.fit(data.X_train[rows], data.y_train[rows])
    return float(np.mean(model.predict(data.X_test) == data.y_test))


def outside_margin(model: Any, x: np.ndarray, label: Any) -> bool:
    """Whether a new point leaves a fitted binary SVC optimal: ``y f(x) >= 1``.

    A point on the right side of the margin (or on it) gets dual variable 0 in the
    solution with it, and every other optimality (KKT) condition is unchanged, so the
    old solution is the solution of the larger problem: refitting is not needed.
    """
    f = float(np.ravel(model.decision_function(np.atleast_2d(x)))[0])
    sign = 1.0 if label == model.classes_[1] else -1.0
    return sign * f >= 1.0


def _choose(model: Any, chooser: Any, strategy: str, data: ZhanTrial, labeled: np.ndarray) -> int:
    """One query through :func:`activelab.strategies.query.query_once`."""
    from ..strategies.query import query_once

    pool = np.flatnonzero(~labeled)
    rows = np.flatnonzero(labeled)
    context: dict[str, Any] = {"X_labeled": data.X_train[rows], "y_labeled": data.y_train[rows]}
    if strategy == "margin":
        context["proba"] = svm_margin_proba(model, data.X_train[pool])
    result = query_once(model, data.X_train[pool], pool, chooser, 1, **context)
    return int(result.ids[0])


def _run_steps(data: ZhanTrial, st: _State, strategy: str, skip: bool, saver: _Checkpoint) -> None:
    """Fit (or keep) the SVC, score it, query one item; until the budget is spent."""
    n_queries = st.accuracy.size - 1
    for step in range(st.step, n_queries + 1):
        t0 = time.perf_counter()
        if st.refit:
            st.accuracy[step] = _fit_and_score(st.model, data, st.labeled)
            st.n_refits += 1
        else:  # the same classifier as before: the same test accuracy
            st.accuracy[step] = st.accuracy[step - 1]
        t1 = time.perf_counter()
        st.fit_seconds += t1 - t0
        if step > 0 and hasattr(st.chooser, "update"):
            # a bandit learns from the refit model which of its arms pays off
            last = st.order[-1]
            st.chooser.update(np.asarray([last]), data.y_train[[last]], st.model)
        if step < n_queries:
            chosen = _choose(st.model, st.chooser, strategy, data, st.labeled)
            st.refit = not (skip and outside_margin(
                st.model, data.X_train[chosen], data.y_train[chosen]))
            st.labeled[chosen] = True
            st.order.append(chosen)
        t2 = time.perf_counter()
        st.query_seconds += t2 - t1
        st.seconds += t2 - t0
        st.step = step + 1
        saver.maybe_save(st)


def _trial_record(data: ZhanTrial, strategy: str, trial: int, st: _State) -> dict[str, Any]:
    n_initial = data.initial.size
    n_labeled = np.arange(n_initial, n_initial + st.accuracy.size)
    return {
        "strategy": strategy,
        "strategy_used": st.used,
        "trial": int(trial),
        "n_train": int(data.X_train.shape[0]),
        "n_test": int(data.X_test.shape[0]),
        "n_initial": int(n_initial),
        "n_labeled": n_labeled.tolist(),
        "accuracy": st.accuracy.tolist(),
        "aubc": aubc(n_labeled, st.accuracy),
        "aubc_published": aubc_published(st.accuracy),
        "n_refits": int(st.n_refits),
        "n_steps": int(st.accuracy.size),
        "fit_seconds": st.fit_seconds,
        "query_seconds": st.query_seconds,
        "seconds": st.seconds,
        "query_order": st.order,
    }


class _Checkpoint:
    """Saves a trial's state now and then; a trial started again goes on from it."""

    def __init__(self, path: Any, every: float, identity: tuple[Any, ...]) -> None:
        self.path = None if path is None else Path(path)
        self.every, self.identity = float(every), identity
        self.last = time.monotonic()

    def load(self) -> _State | None:
        import pickle

        if self.path is None or not self.path.is_file():
            return None
        try:
            with open(self.path, "rb") as fh:
                identity, state = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError):
            return None  # a damaged checkpoint: start the trial again
        return state if identity == self.identity else None

    def maybe_save(self, state: _State) -> None:
        if self.path is None or time.monotonic() - self.last < self.every:
            return
        import pickle

        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            pickle.dump((self.identity, state), fh)
        os.replace(tmp, self.path)
        self.last = time.monotonic()

    def done(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def aubc(n_labeled: np.ndarray, accuracy: np.ndarray) -> float:
    """Area under the budget curve: trapezoid area divided by the budget's length.

    activelab's AULC (:func:`activelab.evaluation.aulc`): the curve's first point, at
    the initial labels, is included.
    """
    n_labeled = np.asarray(n_labeled, dtype=np.float64)
    accuracy = np.asarray(accuracy, dtype=np.float64)
    if n_labeled.size == 1:
        return float(accuracy[0])
    try:
        from ..evaluation import aulc
    except ImportError:
        return float(np.trapezoid(accuracy, n_labeled) / (n_labeled[-1] - n_labeled[0]))
    return float(aulc(n_labeled, accuracy))


def aubc_published(accuracy: Any) -> float:
    """Lu et al.'s AUBC (Zhan et al.'s ``AUBC_Zhan``) of a batch-size-1 curve.

    ``accuracy[0]`` is the test accuracy at the initial labels and ``accuracy[1:]`` the
    ``Q`` accuracies after each query.  The published formula leaves out the initial
    point and divides the trapezoid area of the ``Q - 1`` intervals between the
    post-query points by ``Q``.  It equals :func:`aubc` minus ``(a0 + a1) / (2 Q)``.

    Examples
    --------
    >>> aubc_published([0.5, 0.6, 0.8, 1.0])   # (0.7 + 0.9) / 3
    0.5333333333333333
    """
    a = np.asarray(accuracy, dtype=np.float64)
    q = a.size - 1
    if q < 1:
        return float(a[0]) if a.size else math.nan
    after = a[1:]
    return float(np.sum((after[1:] + after[:-1]) / 2.0) / q)


# ------------------------------------------------------------------ the whole grid
_DATA_CACHE: dict[tuple[str, str | None], tuple[np.ndarray, np.ndarray]] = {}


def _load(name: str, data_dir: str | None) -> tuple[np.ndarray, np.ndarray]:
    key = (name, data_dir)
    if key not in _DATA_CACHE:
        from ..datasets.real import load_real_dataset

        ds = load_real_dataset(f"zhan:{name}", data_dir=data_dir)
        _DATA_CACHE[key] = (np.asarray(ds.X), np.asarray(ds.y))
    return _DATA_CACHE[key]


def result_path(out_dir: Path, dataset: str, strategy: str, trial: int) -> Path:
    """Where the result of one (dataset, strategy, trial) lives."""
    return Path(out_dir) / dataset / f"{strategy}-{trial:03d}.json"


def _task(
    out_dir: str, dataset: str, strategy: str, trial: int, data_dir: str | None,
    commit: str | None = None,
) -> tuple[str, str, int, float]:
    """One (dataset, strategy, trial): checkpointed while it runs, one JSON file when done."""
    from threadpoolctl import threadpool_limits

    path = result_path(Path(out_dir), dataset, strategy, trial)
    if path.exists():  # finished meanwhile by another process on the same folder
        return dataset, strategy, trial, float(read_json(path)["seconds"])
    with threadpool_limits(limits=1):
        X, y = _load(dataset, data_dir)
        result = run_trial(X, y, strategy, trial, checkpoint=path.with_suffix(".partial.pkl"))
    result["dataset"] = dataset
    result["commit"] = commit
    atomic_write_json(path, result)
    return dataset, strategy, trial, result["seconds"]


def run_reproduction(
    out_dir: str | os.PathLike[str],
    *,
    datasets: Sequence[str] = ZHAN_BINARY,
    strategies: Sequence[str] = STRATEGIES,
    trials: int = 20,
    n_jobs: int | None = None,
    data_dir: str | None = None,
    progress: bool = True,
    commit: str | None = None,
) -> int:
    """Run every missing (dataset, strategy, trial) of the grid; return how many ran.

    Finished results are never redone: a result is done iff its file exists, and a
    trial that was stopped goes on from its last checkpoint (saved every minute).
    Tasks run dataset by dataset, smallest first, trial by trial, so that the table
    fills in whole rows; ``n_jobs`` trials run at once.  ``commit`` (the code's
    version) is written into every result.
    """
    out = Path(out_dir)
    unknown = [d for d in datasets if d not in ZHAN_BINARY]
    if unknown:
        raise ValueError(
            f"unknown binary Zhan et al. dataset {unknown[0]!r}; choose from {', '.join(ZHAN_BINARY)}."
        )
    bad = [s for s in strategies if s not in STRATEGIES]
    if bad:
        raise ValueError(f"unknown strategy {bad[0]!r}; choose from {', '.join(STRATEGIES)}.")
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}.")
    todo = [
        (d, s, t)
        for d in datasets
        for t in range(trials)
        for s in strategies
        if not result_path(out, d, s, t).exists()
    ]
    total = len(datasets) * len(strategies) * trials
    done = total - len(todo)
    if progress:
        print(f"{done}/{total} runs already done; {len(todo)} to run", flush=True)
    if not todo:
        return 0
    workers = n_jobs or os.cpu_count() or 1
    ran = 0
    if workers == 1:
        for item in todo:
            dataset, strategy, trial, seconds = _task(str(out), *item, data_dir, commit)
            ran += 1
            if progress:
                print(f"[{done + ran}/{total}] {dataset} {strategy} trial {trial}: "
                      f"{seconds:.1f}s", flush=True)
        return ran
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: set[Future[Any]] = set()
        queue = iter(todo)
        for item in _take(queue, 2 * workers):
            pending.add(pool.submit(_task, str(out), *item, data_dir, commit))
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                dataset, strategy, trial, seconds = fut.result()
                ran += 1
                if progress:
                    print(
                        f"[{done + ran}/{total}] {dataset} {strategy} trial {trial}: "
                        f"{seconds:.1f}s",
                        flush=True,
                    )
            for item in _take(queue, len(finished)):
                pending.add(pool.submit(_task, str(out), *item, data_dir, commit))
    return ran


def _take(iterator: Iterable[Any], n: int) -> list[Any]:
    out = []
    for item in iterator:
        out.append(item)
        if len(out) >= n:
            break
    return out


def collect(out_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All finished results under ``out_dir`` (curves left out), one dict per run.

    Results written before ``aubc_published`` was recorded get it from their curve.
    """
    rows = []
    for path in sorted(Path(out_dir).glob("*/*.json")):
        r = read_json(path)
        r.setdefault("aubc_published", aubc_published(r["accuracy"]))
        rows.append({k: v for k, v in r.items() if k not in ("n_labeled", "accuracy", "query_order")})
    return rows
