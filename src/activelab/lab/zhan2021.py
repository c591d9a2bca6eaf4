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

__all__ = [
    "STRATEGIES",
    "QUICK_DATASETS",
    "PUBLISHED",
    "PUBLISHED_DIFF",
    "ZhanTrial",
    "prepare_trial",
    "run_trial",
    "run_reproduction",
    "collect",
    "summary_table",
    "markdown_report",
    "paired_table",
]

STRATEGIES: tuple[str, ...] = ("random", "margin", "entropy", "coreset", "ours")
QUICK_DATASETS: tuple[str, ...] = ("appendicitis", "sonar", "parkinsons", "ex8b", "heart")
N_INITIAL = 20
TEST_SIZE = 0.4

#: Mean ± SD AUBC that Lu et al. publish for 26 binary sets (100 trials), from the
#: results table in the README of their code repository (ariapoy/active-learning-benchmark,
#: ``results/README.md``): Uniform, US-C (margin with the task SVC), US-NC (uncertainty
#: sampling with a logistic-regression query model) and Core-Set.
PUBLISHED: dict[str, dict[str, str]] = {
    "appendicitis": {"random": "0.8395±0.0363", "margin": "0.8454±0.0333", "us_nc": "0.8449±0.0322", "coreset": "0.8398±0.0327"},
    "sonar": {"random": "0.7463±0.0379", "margin": "0.7762±0.0313", "us_nc": "0.7622±0.0329", "coreset": "0.7420±0.0353"},
    "parkinsons": {"random": "0.8305±0.0368", "margin": "0.8531±0.0343", "us_nc": "0.8511±0.0321", "coreset": "0.8356±0.0346"},
    "ex8b": {"random": "0.8853±0.0280", "margin": "0.8981±0.0245", "us_nc": "0.8938±0.0250", "coreset": "0.8916±0.0257"},
    "heart": {"random": "0.8051±0.0279", "margin": "0.8157±0.0262", "us_nc": "0.8120±0.0266", "coreset": "0.8105±0.0260"},
    "haberman": {"random": "0.7308±0.0270", "margin": "0.7295±0.0287", "us_nc": "0.7301±0.0286", "coreset": "0.7267±0.0280"},
    "ionosphere": {"random": "0.9180±0.0178", "margin": "0.9300±0.0154", "us_nc": "0.9197±0.0179", "coreset": "0.9134±0.0166"},
    "clean1": {"random": "0.8183±0.0194", "margin": "0.8425±0.0214", "us_nc": "0.8329±0.0195", "coreset": "0.7897±0.0249"},
    "breast": {"random": "0.9616±0.0090", "margin": "0.9632±0.0091", "us_nc": "0.9624±0.0092", "coreset": "0.9626±0.0090"},
    "wdbc": {"random": "0.9539±0.0130", "margin": "0.9652±0.0103", "us_nc": "0.9597±0.0111", "coreset": "0.9586±0.0105"},
    "australian": {"random": "0.8483±0.0158", "margin": "0.8504±0.0157", "us_nc": "0.8459±0.0159", "coreset": "0.8478±0.0158"},
    "diabetes": {"random": "0.7424±0.0152", "margin": "0.7479±0.0153", "us_nc": "0.7432±0.0147", "coreset": "0.7491±0.0138"},
    "mammographic": {"random": "0.8130±0.0198", "margin": "0.8177±0.0195", "us_nc": "0.8167±0.0206", "coreset": "0.8162±0.0193"},
    "ex8a": {"random": "0.8539±0.0217", "margin": "0.8788±0.0176", "us_nc": "0.8273±0.0220", "coreset": "0.8540±0.0201"},
    "tictactoe": {"random": "0.8718±0.0153", "margin": "0.8720±0.0158", "us_nc": "0.8718±0.0154", "coreset": "0.8716±0.0149"},
    "german": {"random": "0.7340±0.0173", "margin": "0.7417±0.0154", "us_nc": "0.7388±0.0149", "coreset": "0.7365±0.0152"},
    "splice": {"random": "0.8075±0.0161", "margin": "0.8229±0.0130", "us_nc": "0.8158±0.0138", "coreset": "0.7518±0.0276"},
    "gcloudb": {"random": "0.8952±0.0117", "margin": "0.8981±0.0109", "us_nc": "0.8853±0.0225", "coreset": "0.8920±0.0118"},
    "gcloudub": {"random": "0.9437±0.0096", "margin": "0.9560±0.0082", "us_nc": "0.9490±0.0089", "coreset": "0.8929±0.0181"},
    "checkerboard": {"random": "0.9781±0.0059", "margin": "0.9847±0.0062", "us_nc": "0.9134±0.0258", "coreset": "0.9874±0.0031"},
    "spambase": {"random": "0.9103±0.0057", "margin": "0.9205±0.0043", "us_nc": "0.9010±0.0044", "coreset": "0.9052±0.0073"},
    "banana": {"random": "0.8926±0.0038", "margin": "0.8787±0.0219", "us_nc": "0.8050±0.0306", "coreset": "0.8930±0.0048"},
    "phoneme": {"random": "0.8254±0.0101", "margin": "0.8355±0.0063", "us_nc": "0.8211±0.0078", "coreset": "0.8240±0.0059"},
    "ringnorm": {"random": "0.9776±0.0021", "margin": "0.9786±0.0026", "us_nc": "0.9767±0.0028", "coreset": "0.9477±0.0190"},
    "twonorm": {"random": "0.9753±0.0019", "margin": "0.9764±0.0017", "us_nc": "0.9755±0.0018", "coreset": "0.9755±0.0017"},
    "phishing": {"random": "0.9382±0.0048", "margin": "0.9460±0.0049", "us_nc": "0.9391±0.0040", "coreset": "0.9406±0.0043"},
}


#: Mean AUBC difference from Uniform that Lu et al. publish (same README, "Usefulness of
#: query strategies"; ``*`` / ``**``: paired t-test rejects at 0.05 / 0.01), for US-C
#: (margin with the task SVC) and Core-Set.
PUBLISHED_DIFF: dict[str, dict[str, str]] = {
    "appendicitis": {"margin": "+0.0058**", "coreset": "+0.0003"},
    "sonar": {"margin": "+0.0299**", "coreset": "-0.0044"},
    "parkinsons": {"margin": "+0.0226**", "coreset": "+0.0051**"},
    "ex8b": {"margin": "+0.0127**", "coreset": "+0.0063**"},
    "heart": {"margin": "+0.0107**", "coreset": "+0.0054**"},
    "haberman": {"margin": "-0.0014", "coreset": "-0.0041"},
    "ionosphere": {"margin": "+0.0120**", "coreset": "-0.0046"},
    "clean1": {"margin": "+0.0242**", "coreset": "-0.0286"},
    "breast": {"margin": "+0.0016**", "coreset": "+0.0010**"},
    "wdbc": {"margin": "+0.0113**", "coreset": "+0.0047**"},
    "australian": {"margin": "+0.0021**", "coreset": "-0.0006"},
    "diabetes": {"margin": "+0.0054**", "coreset": "+0.0067**"},
    "mammographic": {"margin": "+0.0047**", "coreset": "+0.0032**"},
    "ex8a": {"margin": "+0.0249**", "coreset": "+0.0001"},
    "tictactoe": {"margin": "+0.0001", "coreset": "-0.0002"},
    "german": {"margin": "+0.0077**", "coreset": "+0.0025**"},
    "splice": {"margin": "+0.0154**", "coreset": "-0.0557"},
    "gcloudb": {"margin": "+0.0029**", "coreset": "-0.0032"},
    "gcloudub": {"margin": "+0.0123**", "coreset": "-0.0508"},
    "checkerboard": {"margin": "+0.0066**", "coreset": "+0.0093**"},
    "spambase": {"margin": "+0.0102**", "coreset": "-0.0050"},
    "banana": {"margin": "-0.0139", "coreset": "+0.0005"},
    "phoneme": {"margin": "+0.0101**", "coreset": "-0.0014"},
    "ringnorm": {"margin": "+0.0010**", "coreset": "-0.0299"},
    "twonorm": {"margin": "+0.0011**", "coreset": "+0.0002"},
    "phishing": {"margin": "+0.0078**", "coreset": "+0.0024**"},
}


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

    Returns
    -------
    dict
        ``n_labeled`` and ``accuracy`` (the curve, initial fit included), ``aubc``,
        ``n_train``, ``n_test``, ``fit_seconds``, ``query_seconds``, ``seconds`` and
        ``strategy_used`` (for ``ours``).
    """
    import warnings

    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}.")
    started = time.perf_counter()
    with warnings.catch_warnings():
        # scikit-learn >= 1.9 deprecates probability=True; it is libsvm's Platt scaling,
        # which the protocol's probabilistic strategies use.
        warnings.simplefilter("ignore", FutureWarning)
        data = prepare_trial(X, y, trial, n_initial)
        return _run_trial(data, strategy, trial, budget, started)


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
class _Curve:
    """What a trial records while it runs."""

    accuracy: np.ndarray
    order: list[int]
    fit_seconds: float = 0.0
    query_seconds: float = 0.0


def _fit_and_score(model: Any, data: ZhanTrial, labeled: np.ndarray) -> float:
    rows = np.flatnonzero(labeled)
    model.fit(data.X_train[rows], data.y_train[rows])
    return float(np.mean(model.predict(data.X_test) == data.y_test))


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


def _run_trial(
    data: ZhanTrial, strategy: str, trial: int, budget: int | None, started: float
) -> dict[str, Any]:
    n_train, n_initial = data.X_train.shape[0], data.initial.size
    n_queries = n_train - n_initial if budget is None else min(budget, n_train - n_initial)
    model = _task_model(strategy, trial)
    chooser, used = _trial_strategy(strategy, trial)
    labeled = np.zeros(n_train, dtype=bool)
    labeled[data.initial] = True
    curve = _Curve(np.empty(n_queries + 1), [int(i) for i in data.initial])
    for step in range(n_queries + 1):
        t0 = time.perf_counter()
        curve.accuracy[step] = _fit_and_score(model, data, labeled)
        t1 = time.perf_counter()
        curve.fit_seconds += t1 - t0
        if step > 0 and hasattr(chooser, "update"):
            # a bandit learns from the refit model which of its arms pays off
            last = curve.order[-1]
            chooser.update(np.asarray([last]), data.y_train[[last]], model)
        if step < n_queries:
            chosen = _choose(model, chooser, strategy, data, labeled)
            labeled[chosen] = True
            curve.order.append(chosen)
        curve.query_seconds += time.perf_counter() - t1
    return _trial_record(data, strategy, used, trial, curve, started)


def _trial_record(
    data: ZhanTrial, strategy: str, used: str, trial: int, curve: _Curve, started: float
) -> dict[str, Any]:
    n_initial = data.initial.size
    n_labeled = np.arange(n_initial, n_initial + curve.accuracy.size)
    return {
        "strategy": strategy,
        "strategy_used": used,
        "trial": int(trial),
        "n_train": int(data.X_train.shape[0]),
        "n_test": int(data.X_test.shape[0]),
        "n_initial": int(n_initial),
        "n_labeled": n_labeled.tolist(),
        "accuracy": curve.accuracy.tolist(),
        "aubc": aubc(n_labeled, curve.accuracy),
        "fit_seconds": curve.fit_seconds,
        "query_seconds": curve.query_seconds,
        "seconds": time.perf_counter() - started,
        "query_order": curve.order,
    }


def aubc(n_labeled: np.ndarray, accuracy: np.ndarray) -> float:
    """Area under the budget curve: trapezoid area divided by the budget's length.

    Uses :func:`activelab.evaluation.aulc` when it is available (same definition).
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
    out_dir: str, dataset: str, strategy: str, trial: int, data_dir: str | None
) -> tuple[str, str, int, float]:
    from threadpoolctl import threadpool_limits

    path = result_path(Path(out_dir), dataset, strategy, trial)
    if path.exists():  # finished meanwhile by another process on the same folder
        return dataset, strategy, trial, float(read_json(path)["seconds"])
    with threadpool_limits(limits=1):
        X, y = _load(dataset, data_dir)
        result = run_trial(X, y, strategy, trial)
    result["dataset"] = dataset
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
) -> int:
    """Run every missing (dataset, strategy, trial) of the grid; return how many ran.

    Finished results are never redone: a result is done iff its file exists.
    Tasks run dataset by dataset, smallest first, trial by trial, so that the
    table fills in whole rows.
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
            dataset, strategy, trial, seconds = _task(str(out), *item, data_dir)
            ran += 1
            if progress:
                print(f"[{done + ran}/{total}] {dataset} {strategy} trial {trial}: "
                      f"{seconds:.1f}s", flush=True)
        return ran
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: set[Future[Any]] = set()
        queue = iter(todo)
        for item in _take(queue, 2 * workers):
            pending.add(pool.submit(_task, str(out), *item, data_dir))
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
                pending.add(pool.submit(_task, str(out), *item, data_dir))
    return ran


def _take(iterator: Iterable[Any], n: int) -> list[Any]:
    out = []
    for item in iterator:
        out.append(item)
        if len(out) >= n:
            break
    return out


def collect(out_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All finished results under ``out_dir`` (curves left out), one dict per run."""
    rows = []
    for path in sorted(Path(out_dir).glob("*/*.json")):
        r = read_json(path)
        rows.append({k: v for k, v in r.items() if k not in ("n_labeled", "accuracy", "query_order")})
    return rows


def summary_table(
    rows: list[dict[str, Any]], strategies: Sequence[str] = STRATEGIES
) -> dict[str, dict[str, tuple[float, float, int]]]:
    """Mean, SD (ddof=1) and number of trials of AUBC per dataset and strategy."""
    table: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        table.setdefault(r["dataset"], {}).setdefault(r["strategy"], []).append(r["aubc"])
    out: dict[str, dict[str, tuple[float, float, int]]] = {}
    for d in [d for d in ZHAN_BINARY if d in table]:
        out[d] = {}
        for s in strategies:
            vals = np.asarray(table[d].get(s, []), dtype=np.float64)
            sd = float(vals.std(ddof=1)) if vals.size > 1 else math.nan
            out[d][s] = (float(vals.mean()) if vals.size else math.nan, sd, int(vals.size))
    return out


def _fmt(mean: float, sd: float, n: int) -> str:
    if n == 0:
        return "—"
    sd_text = "n/a" if math.isnan(sd) else f"{sd:.4f}"
    return f"{mean:.4f}±{sd_text}"


def markdown_report(
    rows: list[dict[str, Any]],
    *,
    command: str,
    machine: str,
    strategies: Sequence[str] = STRATEGIES,
) -> str:
    """The results as markdown: our table, trials per cell, and Lu et al.'s numbers."""
    table = summary_table(rows, strategies)
    ours_used = sorted({r.get("strategy_used", "") for r in rows if r["strategy"] == "ours"})
    seconds: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        seconds.setdefault((r["dataset"], r["strategy"]), []).append(float(r["seconds"]))
    lines = [
        "| dataset | " + " | ".join(strategies) + " | trials | s per trial |",
        "|---|" + "---|" * len(strategies) + "---|---|",
    ]
    for d, cells in table.items():
        counts = sorted({c[2] for c in cells.values()})
        per_trial = sum(float(np.mean(seconds[(d, s)])) for s in strategies if (d, s) in seconds)
        lines.append(
            f"| {d} | " + " | ".join(_fmt(*cells[s]) for s in strategies)
            + f" | {'/'.join(map(str, counts))} | {per_trial:.1f} |"
        )
    pub = [
        "| dataset | random: ours / Lu et al. | margin: ours / Lu et al. (US-C) "
        "| core-set: ours / Lu et al. | Lu et al. US-NC |",
        "|---|---|---|---|---|",
    ]
    for d, cells in table.items():
        p = PUBLISHED.get(d, {})
        pub.append(
            f"| {d} | {_fmt(*cells.get('random', (math.nan, math.nan, 0)))} / {p.get('random', '—')}"
            f" | {_fmt(*cells.get('margin', (math.nan, math.nan, 0)))} / {p.get('margin', '—')}"
            f" | {_fmt(*cells.get('coreset', (math.nan, math.nan, 0)))} / {p.get('coreset', '—')}"
            f" | {p.get('us_nc', '—')} |"
        )
    tests = paired_table(rows, strategies)
    return "\n".join(
        [
            f"Command: `{command}`",
            "",
            f"Machine: {machine}",
            "",
            f"`ours` ran as: {', '.join(ours_used) or 'not run'}.",
            "",
            "AUBC, mean ± SD over trials (SD with ddof=1); `trials` gives the number of "
            "finished trials per cell; `s per trial`: wall seconds of one trial of every "
            "strategy together (one worker, BLAS threads = 1, machine shared with other work).",
            "",
            *lines,
            "",
            "Each strategy against random, paired by trial: mean AUBC difference and the "
            "two-sided Wilcoxon signed-rank p-value (`*` p < 0.05 with a difference of at "
            "least 0.005, `~` p < 0.05 but smaller; otherwise not significantly different). "
            "In brackets after margin and core-set: the mean difference Lu et al. publish "
            "(100 trials; their `*`/`**` = paired t-test at 0.05/0.01).",
            "",
            *tests,
            "",
            "Compared with Lu et al. (their README table, 100 trials):",
            "",
            *pub,
            "",
        ]
    )


def paired_table(rows: list[dict[str, Any]], strategies: Sequence[str] = STRATEGIES) -> list[str]:
    """Markdown rows: each strategy minus random per dataset, with the Wilcoxon p-value."""
    from .stats import paired_test

    others = [s for s in strategies if s != "random"]
    by: dict[tuple[str, str], dict[int, float]] = {}
    for r in rows:
        by.setdefault((r["dataset"], r["strategy"]), {})[int(r["trial"])] = float(r["aubc"])
    lines = [
        "| dataset | " + " | ".join(
            f"{s} − random" + (" (Lu et al.)" if s in ("margin", "coreset") else "")
            for s in others
        ) + " |",
        "|---|" + "---|" * len(others),
    ]
    for d in [d for d in ZHAN_BINARY if (d, "random") in by]:
        cells = []
        for s in others:
            base = by[(d, "random")]
            cur = by.get((d, s), {})
            trials = sorted(set(base) & set(cur))
            if len(trials) < 2:
                cells.append("—")
                continue
            t = paired_test([cur[k] for k in trials], [base[k] for k in trials])
            mark = ""
            if t.significant():
                mark = "*" if abs(t.mean_diff) >= 0.005 else "~"
            lu = PUBLISHED_DIFF.get(d, {}).get(s)
            cells.append(f"{t.mean_diff:+.4f}{mark} (p={t.p_value:.2g}, n={t.n})"
                         + (f" ({lu})" if lu else ""))
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    return lines
