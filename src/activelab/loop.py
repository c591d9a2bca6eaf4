"""The active-learning loop: fit, evaluate, check stopping, query, label, repeat.

:func:`run` is the only place that knows the order of the cycle.  Each round it

1. fits the learner on every label obtained so far,
2. evaluates it on the test set (when one is given),
3. asks the stopping rules whether to end,
4. asks the strategy for a batch of unlabeled pool ids,
5. asks the oracle for their labels and records them in the pool,

and reports what happened to its event sinks (progress bar, JSONL log, callbacks).
Everything a round did is kept in a :class:`RoundRecord`; the whole run in a
:class:`RunResult`.
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from .evaluation.metrics import METRICS
from .events import ProgressSink, json_float, to_jsonable
from .learners import ActiveLearner, Committee, check_training_labels
from .pool import Pool, check_features
from .strategies.base import Strategy
from .strategies.registry import get_strategy

__all__ = [
    "LoopState",
    "RoundRecord",
    "RunResult",
    "run",
    "METRICS",
    "STOP_BUDGET",
    "STOP_POOL",
    "STOP_CRITERION",
    "STOP_ORACLE",
]

#: Values of :attr:`RunResult.stop_kind`.
STOP_BUDGET = "budget"
STOP_POOL = "pool"
STOP_CRITERION = "criterion"
STOP_ORACLE = "oracle"


_EMPTY_IDS = np.empty(0, dtype=np.int64)


# --------------------------------------------------------------------------- records
@dataclass
class RoundRecord:
    """What one round of the loop did.

    Round ``r`` fits on the ``n_labeled`` labels known at its start, evaluates, and then
    (unless the run stops) queries a batch and records the labels it got.  Round 0 is
    the fit on the initial set.

    Attributes
    ----------
    round : int
        Round number, 0 for the fit on the initial set.
    n_labeled : int
        Labels the learner was fitted on in this round.
    metrics : dict of str to float
        Test-set metrics of that fit (empty without a test set).
    query_ids : ndarray of int64
        Pool ids the strategy chose and the oracle was asked about, in asked order.
    query_utilities : ndarray of float64
        Utility of each of ``query_ids`` as the strategy scored it (NaN when unscored).
    labels : ndarray
        Labels the oracle gave, aligned with :attr:`labeled_ids`.
    skipped_ids : ndarray of int64
        Ids the oracle declined; they are not labeled and not asked again in this run.
    fit_seconds, query_seconds, label_seconds : float
        Wall time (``time.perf_counter``) spent fitting, querying and labeling.
    eval_seconds : float
        Wall time spent predicting the test set and computing the metrics.
    info : dict
        Facts from the strategy (its name and the :attr:`QueryResult.info` entries).
    labeled_ids : ndarray of int64
        The ids among ``query_ids`` that received a label, in the order labeled.
    """

    round: int
    n_labeled: int
    metrics: dict[str, float] = field(default_factory=dict)
    query_ids: np.ndarray = field(default_factory=lambda: _EMPTY_IDS.copy())
    query_utilities: np.ndarray = field(default_factory=lambda: np.empty(0))
    labels: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    skipped_ids: np.ndarray = field(default_factory=lambda: _EMPTY_IDS.copy())
    fit_seconds: float = 0.0
    query_seconds: float = 0.0
    label_seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    labeled_ids: np.ndarray = field(default_factory=lambda: _EMPTY_IDS.copy())
    eval_seconds: float = 0.0

    @property
    def n_new_labels(self) -> int:
        """Labels obtained by this round's query."""
        return int(len(self.labeled_ids))

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-able Python values (lists, floats, ``None`` for NaN)."""
        return {
            "round": int(self.round),
            "n_labeled": int(self.n_labeled),
            "metrics": {k: _json_float(v) for k, v in self.metrics.items()},
            "query_ids": _json_list(self.query_ids),
            "query_utilities": _json_list(self.query_utilities),
            "labeled_ids": _json_list(self.labeled_ids),
            "labels": _json_list(self.labels),
            "skipped_ids": _json_list(self.skipped_ids),
            "fit_seconds": float(self.fit_seconds),
            "query_seconds": float(self.query_seconds),
            "label_seconds": float(self.label_seconds),
            "eval_seconds": float(self.eval_seconds),
            "info": to_jsonable(self.info),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoundRecord:
        """Rebuild a record from :meth:`to_dict` output (or a ``round`` event)."""
        utilities = [np.nan if u is None else u for u in data.get("query_utilities", [])]
        return cls(
            round=int(data["round"]),
            n_labeled=int(data["n_labeled"]),
            metrics={
                k: (np.nan if v is None else float(v))
                for k, v in dict(data.get("metrics") or {}).items()
            },
            query_ids=np.asarray(data.get("query_ids", []), dtype=np.int64),
            query_utilities=np.asarray(utilities, dtype=np.float64),
            labels=np.asarray(data.get("labels", [])),
            skipped_ids=np.asarray(data.get("skipped_ids", []), dtype=np.int64),
            fit_seconds=float(data.get("fit_seconds", 0.0)),
            query_seconds=float(data.get("query_seconds", 0.0)),
            label_seconds=float(data.get("label_seconds", 0.0)),
            info=dict(data.get("info") or {}),
            labeled_ids=np.asarray(data.get("labeled_ids", []), dtype=np.int64),
            eval_seconds=float(data.get("eval_seconds", 0.0)),
        )


@dataclass
class LoopState:
    """What a stopping criterion sees, once per round after evaluation.

    Attributes
    ----------
    round : int
        0 = after fitting on the initial set.
    pool : Pool
    learner : ActiveLearner or Committee
        Fitted on the current labels.
    n_labeled : int
    n_queried : int
        Labels obtained by queries (the initial set excluded).
    history : list of RoundRecord
        Previous rounds, including the current one (whose query fields are still empty).
    elapsed_seconds : float
        Seconds since the run started.
    started_at : float
        ``time.perf_counter()`` at the start of the run.
    """

    round: int
    pool: Pool
    learner: Any
    n_labeled: int
    n_queried: int
    history: list[RoundRecord]
    elapsed_seconds: float
    started_at: float


@dataclass
class RunResult:
    """The outcome of :func:`run`.

    Attributes
    ----------
    rounds : list of RoundRecord
    stopped_by : str
        Why the run ended, in words (e.g. ``"budget reached: 60 of 60 labels"``).
    pool : Pool or None
        The pool with every label obtained (``None`` for a run rebuilt from its log).
    learner : ActiveLearner, Committee or None
        The learner fitted on all labels (``None`` for a run rebuilt from its log).
    config : dict
        The run's settings, JSON-able.
    initial_ids : ndarray of int64
        Ids of the initial set that received a label, in labeling order.
    initial_labels : ndarray
        Their labels.
    oracle_info : dict
        Facts the oracle knows about its own answers (e.g. the ids a noisy oracle
        corrupted), when it has any.
    stop_kind : str
        ``"budget"``, ``"pool"``, ``"criterion"`` or ``"oracle"``.
    total_seconds : float
        Wall time of the whole run.
    """

    rounds: list[RoundRecord]
    stopped_by: str
    pool: Pool | None
    learner: Any
    config: dict[str, Any]
    initial_ids: np.ndarray = field(default_factory=lambda: _EMPTY_IDS.copy())
    initial_labels: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    oracle_info: dict[str, Any] = field(default_factory=dict)
    stop_kind: str = ""
    total_seconds: float = 0.0

    @property
    def labeled_ids(self) -> np.ndarray:
        """Every labeled id in the order labeled: the initial set, then each round's query."""
        parts = [np.asarray(self.initial_ids, dtype=np.int64)]
        parts += [r.labeled_ids for r in self.rounds]
        return np.concatenate(parts).astype(np.int64, copy=False)

    @property
    def labels(self) -> np.ndarray:
        """Labels aligned with :attr:`labeled_ids`."""
        parts = [np.asarray(self.initial_labels, dtype=object)]
        parts += [np.asarray(r.labels, dtype=object) for r in self.rounds]
        return np.asarray(np.concatenate(parts).tolist())

    @property
    def n_labeled(self) -> int:
        """Total labels obtained (initial set included)."""
        return int(len(self.initial_ids) + sum(r.n_new_labels for r in self.rounds))

    @property
    def metric_names(self) -> list[str]:
        """Metrics recorded in at least one round."""
        names: dict[str, None] = {}
        for r in self.rounds:
            names.update(dict.fromkeys(r.metrics))
        return list(names)

    def curve(self, metric: str = "accuracy") -> tuple[np.ndarray, np.ndarray]:
        """The learning curve of one metric.

        Parameters
        ----------
        metric : str, default="accuracy"

        Returns
        -------
        n_labeled : ndarray of int64
            Labels the learner was fitted on, one entry per evaluated round.
        values : ndarray of float64
            The metric after that fit.

        Raises
        ------
        ValueError
            When the metric was not recorded (no test set, or another metric name).
        """
        rows = [r for r in self.rounds if metric in r.metrics]
        if not rows:
            known = self.metric_names
            if not known:
                raise ValueError(
                    "this run recorded no metrics; pass X_test and y_test to run() to get "
                    "a learning curve."
                )
            raise ValueError(
                f"metric {metric!r} was not recorded; choose one of: {', '.join(known)}."
            )
        n = np.asarray([r.n_labeled for r in rows], dtype=np.int64)
        v = np.asarray([r.metrics[metric] for r in rows], dtype=np.float64)
        return n, v

    def to_records(self) -> list[dict[str, Any]]:
        """One flat JSON-able dict per round (metrics as columns), e.g. for a DataFrame."""
        out = []
        for r in self.rounds:
            d = r.to_dict()
            metrics = d.pop("metrics")
            info = d.pop("info")
            row: dict[str, Any] = {"run_name": self.config.get("run_name")}
            row.update(d)
            row.update(metrics)
            row["n_queried"] = len(d["query_ids"])
            row["n_new_labels"] = len(d["labeled_ids"])
            row["n_skipped"] = len(d["skipped_ids"])
            row["strategy"] = info.get("strategy")
            row["info"] = info
            out.append(row)
        return out


# --------------------------------------------------------------------------- JSON helpers
def _json_float(v: Any) -> float | None:
    return json_float(v)


def _json_list(a: Any) -> list[Any]:
    return to_jsonable(np.asarray(a))


# --------------------------------------------------------------------------- validation
def _check_int(value: Any, name: str, minimum: int, fix: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}; {fix}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}; {fix}")
    return value


def _check_metrics(metrics: Any) -> dict[str, Callable[[Any, Any], float]]:
    if metrics is None:
        return {}
    if isinstance(metrics, str):
        metrics = (metrics,)
    if isinstance(metrics, Mapping):
        items = list(metrics.items())
    else:
        items = [(m, None) for m in metrics]
    out: dict[str, Callable[[Any, Any], float]] = {}
    for name, func in items:
        if func is None:
            if name not in METRICS:
                raise ValueError(
                    f"unknown metric {name!r} in metrics; choose from: "
                    + ", ".join(METRICS)
                    + " (or pass a dict of name -> f(y_true, y_pred))."
                )
            func = METRICS[name]
        elif not callable(func):
            raise TypeError(f"metrics[{name!r}] must be a function f(y_true, y_pred) -> float.")
        out[str(name)] = func
    return out


def _check_test_set(X_test: Any, y_test: Any, n_features: int) -> tuple[Any, Any]:
    if X_test is None and y_test is None:
        return None, None
    if X_test is None or y_test is None:
        raise ValueError(
            "give both X_test and y_test (to evaluate each round), or neither."
        )
    X_test = check_features(X_test, "X_test")
    if X_test.shape[1] != n_features:
        raise ValueError(
            f"X_test has {X_test.shape[1]} features but X has {n_features}; build both "
            "with the same columns and the same featurizer."
        )
    y_test = np.asarray(y_test)
    if y_test.ndim == 2 and 1 in y_test.shape:
        y_test = y_test.ravel()
    if y_test.ndim != 1 or y_test.shape[0] != X_test.shape[0]:
        raise ValueError(
            f"y_test has shape {y_test.shape} but X_test has {X_test.shape[0]} rows; "
            "give one label per test row."
        )
    if y_test.dtype.kind == "f" and np.isnan(y_test).any():
        raise ValueError("y_test contains NaN; drop the unlabeled test rows.")
    return X_test, y_test


def _check_initial_ids(initial: Any, n_samples: int) -> np.ndarray:
    ids = np.asarray(initial)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(
            "initial must be a number of items or a 1-D array of integer pool ids, "
            f"got {ids.dtype} with shape {ids.shape}."
        )
    ids = ids.astype(np.int64)
    if ids.size == 0:
        raise ValueError("initial is an empty list of ids; give at least two ids.")
    if ids.min() < 0 or ids.max() >= n_samples:
        raise ValueError(
            f"initial ids must be between 0 and {n_samples - 1} (row positions of X); "
            f"got {int(ids.min())}..{int(ids.max())}."
        )
    if np.unique(ids).size != ids.size:
        raise ValueError("initial contains the same id twice; list each id once.")
    return ids


def _has_label_method(obj: Any) -> bool:
    return callable(getattr(obj, "label", None))


def _make_oracle(oracle: Any, n_samples: int) -> Any:
    if _has_label_method(oracle):
        y = getattr(oracle, "y", None)
        if y is not None and hasattr(y, "__len__") and len(y) != n_samples:
            raise ValueError(
                f"the oracle knows {len(y)} labels but X has {n_samples} rows; "
                "give the oracle one label per row of X."
            )
        return oracle
    from .oracles import SimulatedOracle, as_oracle

    if callable(oracle):
        return as_oracle(oracle)
    if isinstance(oracle, (str, bytes)) or not hasattr(oracle, "__len__"):
        raise TypeError(
            "oracle must be an Oracle, a function f(ids, X_rows) -> labels, or the array "
            f"of true labels (one per row of X); got {type(oracle).__name__}."
        )
    y = np.asarray(oracle)
    if y.ndim == 2 and 1 in y.shape:
        y = y.ravel()
    if y.ndim != 1 or y.shape[0] != n_samples:
        raise ValueError(
            f"the labels given as oracle have shape {y.shape} but X has {n_samples} rows; "
            "give one label per row of X."
        )
    return SimulatedOracle(y)


def _seeded_estimator(estimator: Any, seed: int) -> Any:
    """A clone of ``estimator`` whose unset ``random_state`` is fixed to ``seed``."""
    est = clone(estimator)
    params = est.get_params(deep=False) if hasattr(est, "get_params") else {}
    if "random_state" in params and params["random_state"] is None:
        est.set_params(random_state=seed)
    return est


def _make_learner(
    estimator: Any, strategy: Strategy, committee_size: int, seed: int, est_seed: int
) -> ActiveLearner | Committee:
    needs_committee = "committee_proba" in getattr(strategy, "needs", frozenset())
    if isinstance(estimator, Committee):
        members = [
            ActiveLearner(
                _seeded_estimator(m.estimator, est_seed + i),
                query_strategy="random",
                **m.fit_kwargs,
            )
            for i, m in enumerate(estimator.learner_list)
        ]
        return Committee(
            members, query_strategy=strategy, bootstrap=estimator.bootstrap, random_state=seed
        )
    fit_kwargs: dict[str, Any] = {}
    if isinstance(estimator, ActiveLearner):
        fit_kwargs = dict(estimator.fit_kwargs)
        estimator = estimator.estimator
    if not hasattr(estimator, "fit"):
        raise TypeError(
            "estimator must be a scikit-learn style classifier (with fit and predict), an "
            f"ActiveLearner or a Committee; got {type(estimator).__name__}."
        )
    base = _seeded_estimator(estimator, est_seed)
    if needs_committee:
        if fit_kwargs:
            raise ValueError(
                "fit keyword arguments cannot be passed to a bagging committee; give a "
                "Committee of ActiveLearners instead."
            )
        return Committee.bagging(
            base, committee_size, query_strategy=strategy, random_state=seed
        )
    return ActiveLearner(base, query_strategy=strategy, random_state=seed, **fit_kwargs)


def _describe(obj: Any) -> Any:
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return repr(obj)


def _oracle_facts(oracle: Any) -> dict[str, Any]:
    """What a (noisy) oracle knows about its own answers; empty for a perfect one."""
    facts: dict[str, Any] = {}
    corrupted = getattr(oracle, "corrupted_ids_", None)
    if corrupted is None:
        return facts
    corrupted = np.asarray(corrupted, dtype=np.int64)
    facts["corrupted_ids"] = corrupted
    facts["n_corrupted"] = int(corrupted.size)
    for attr, key in (
        ("n_asked_", "n_asked"),
        ("n_labeled_", "n_labeled"),
        ("observed_error_rate_", "observed_error_rate"),
        ("error_rate", "error_rate"),
        ("noise_matrix", "noise_matrix"),
    ):
        value = getattr(oracle, attr, None)
        if value is not None:
            facts[key] = value
    return facts


def _check_proba_support(learner: Any, needs: set[str], strategy: str, fitted: bool) -> None:
    """Raise TypeError when the strategy needs probabilities the model cannot give.

    Checked on the unfitted estimators first (so a person labels nothing in vain), and
    again after the first fit for models whose ``predict_proba`` depends on fitting.
    """
    if not needs & {"proba", "committee_proba"}:
        return
    if isinstance(learner, Committee):
        members = learner.learner_list
    else:
        members = [learner]
    for member in members:
        model = member.estimator_ if fitted else member.estimator
        if not hasattr(model, "predict_proba"):
            what = "committee member " if isinstance(learner, Committee) else ""
            raise TypeError(
                f"{what}{type(model).__name__} has no predict_proba, which the {strategy!r} "
                "strategy needs; use a probabilistic classifier (e.g. LogisticRegression, "
                "SVC(probability=True)) or wrap it in "
                "sklearn.calibration.CalibratedClassifierCV."
            )


# --------------------------------------------------------------------------- oracle answers
def _ask(
    oracle: Any, ids: np.ndarray, pool: Pool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Ask the oracle about ``ids``; returns (labeled ids, labels, skipped ids, stop)."""
    answer = oracle.label(ids, pool)
    got = np.asarray(getattr(answer, "ids", _EMPTY_IDS), dtype=np.int64).ravel()
    labels = np.asarray(getattr(answer, "labels", []), dtype=object).ravel()
    skipped = np.asarray(getattr(answer, "skipped", _EMPTY_IDS), dtype=np.int64).ravel()
    stop = bool(getattr(answer, "stop", False))
    if labels.shape[0] != got.shape[0]:
        raise ValueError(
            f"the oracle returned {got.shape[0]} ids but {labels.shape[0]} labels; an "
            "OracleAnswer needs one label per labeled id."
        )
    answered = np.concatenate([got, skipped])
    stray = answered[~np.isin(answered, ids)]
    if stray.size:
        raise ValueError(
            f"the oracle answered ids {stray[:5].tolist()} it was not asked about; "
            "return only (a subset of) the ids passed to label()."
        )
    if np.unique(answered).size != answered.size:
        raise ValueError(
            "the oracle answered an id twice (labeled and skipped, or labeled twice); "
            "answer each asked id at most once."
        )
    if not stop:
        # an id neither labeled nor skipped counts as skipped, so it is not asked forever
        silent = ids[~np.isin(ids, answered)]
        if silent.size:
            skipped = np.concatenate([skipped, silent])
    return got, labels, skipped, stop


# --------------------------------------------------------------------------- the loop
def run(
    estimator: Any,
    X: Any,
    oracle: Any,
    *,
    strategy: Any = "margin",
    X_test: Any = None,
    y_test: Any = None,
    initial: Any = 20,
    cold_start: str = "random",
    batch_size: int = 10,
    budget: int | None = None,
    stopping: Any = None,
    committee_size: int = 5,
    random_state: Any = None,
    sinks: Iterable[Any] = (),
    progress: bool = False,
    metrics: Any = ("accuracy", "f1_macro", "balanced_accuracy"),
    costs: Any = None,
    run_name: str | None = None,
    blas_threads: int | None = None,
) -> RunResult:
    """Run pool-based active learning until the budget, the pool, a stopping rule or the
    oracle ends it.

    Parameters
    ----------
    estimator : classifier, ActiveLearner or Committee
        A scikit-learn classifier is cloned (an unset ``random_state`` is fixed from
        ``random_state``).  With a committee strategy (one whose ``needs`` holds
        ``"committee_proba"``) a plain classifier becomes
        ``Committee.bagging(estimator, committee_size)``.  An ``ActiveLearner`` or
        ``Committee`` given here lends its estimators and settings; the run fits fresh
        copies and never changes the object passed in.
    X : array-like, sparse matrix, DataFrame or Pool, shape (n_samples, n_features)
        The pool.  Pool ids are the row positions.  A :class:`Pool` that already holds
        labels uses them as the initial set.
    oracle : Oracle, callable or array-like
        Who labels the queried ids: an object with ``label(ids, pool) -> OracleAnswer``,
        a function ``f(ids, X_rows) -> labels`` (see :func:`activelab.oracles.as_oracle`),
        or the true labels of every row (a simulation).
    strategy : str, Strategy or callable, default="margin"
        The query strategy (see :func:`activelab.available_strategies`).
    X_test, y_test : array-like, optional
        Held-out data to evaluate after every fit; without them no metrics are recorded.
    initial : int or array-like of int, default=20
        Size of the initial set (chosen by ``cold_start``) or its pool ids.
    cold_start : {"random", "kmeans", "typiclust"}, default="random"
        How an initial set of size ``initial`` is chosen.
    batch_size : int, default=10
        Ids queried per round (fewer when the budget or the pool has fewer left).
    budget : int, optional
        Total number of labels, the initial set included; ``None`` runs until the pool
        is empty.
    stopping : StoppingCriterion, optional
        Checked once per round after evaluation.  Copied, so one object can serve several
        runs.
    committee_size : int, default=5
        Members of the bagging committee built for committee strategies.
    random_state : int, RandomState or None
        Seeds the cold start, the estimator, the committee's bootstraps and the strategy's
        tie breaking: the same seed gives the same queries, labels and metrics.
    sinks : iterable of sinks
        Receive the ``run_start``, ``round`` and ``run_end`` events (see
        :mod:`activelab.events`); closed when the run ends.
    progress : bool, default=False
        Show a progress line or bar on stderr (adds a :class:`activelab.events.ProgressSink`).
    metrics : sequence of str or dict, default=("accuracy", "f1_macro", "balanced_accuracy")
        Names from :data:`METRICS`, or a dict of name -> ``f(y_true, y_pred) -> float``.
    costs : array-like of shape (n_samples,), optional
        Labeling cost of every pool item, passed to cost-aware strategies.
    blas_threads : int, optional
        Limit BLAS (OpenBLAS/MKL) to this many threads for the run.  On small matrices
        and busy machines one thread is often several times faster than the default;
        ``None`` leaves the process's setting alone.
    run_name : str, optional
        A name carried in the config and every event.

    Returns
    -------
    RunResult

    Raises
    ------
    ValueError
        For bad settings or data (NaN features, mismatched shapes, an initial set larger
        than the pool, ``batch_size < 1``, ``budget`` below the initial set, initial labels
        of a single class).
    TypeError
        For arguments of the wrong kind, or an estimator without ``predict_proba`` when
        the strategy needs probabilities.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> result = run(LogisticRegression(max_iter=500), X, y, X_test=X, y_test=y,
    ...              initial=10, batch_size=5, budget=30, random_state=0)
    >>> result.n_labeled
    30
    >>> result.stop_kind
    'budget'
    """
    if blas_threads is not None:
        if isinstance(blas_threads, bool) or not isinstance(blas_threads, (int, np.integer)) \
                or blas_threads < 1:
            raise ValueError(
                f"blas_threads must be a positive integer or None, got {blas_threads!r}."
            )
        arguments = dict(locals(), blas_threads=None)  # the parameters, before any local
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=int(blas_threads), user_api="blas"):
            return run(**arguments)
    started_at = time.perf_counter()

    # ---- validate everything before anything is labeled or written
    if isinstance(X, Pool):
        given = X
        pool = Pool(given.X, keys=given.keys, raw=given.raw)
        pool.feature_names = given.feature_names
        preset_ids = given.labeled_ids
        preset_labels = given.labels_of(preset_ids) if preset_ids.size else None
    else:
        pool = Pool(X)
        preset_ids, preset_labels = _EMPTY_IDS, None
    n_samples, n_features = pool.n_samples, int(pool.X.shape[1])

    batch_size = _check_int(batch_size, "batch_size", 1, "query at least one item per round.")
    if preset_ids.size:
        initial_ids: np.ndarray | None = preset_ids
        n_initial = int(preset_ids.size)
    elif isinstance(initial, (int, np.integer)) and not isinstance(initial, bool):
        n_initial = int(initial)
        if n_initial < 1:
            raise ValueError(
                f"initial must be at least 1 (2 or more, to see two classes), got {n_initial}."
            )
        initial_ids = None
    elif isinstance(initial, bool) or isinstance(initial, (str, float, np.floating)):
        raise TypeError(
            f"initial must be a number of items or an array of pool ids, got {initial!r}."
        )
    else:
        initial_ids = _check_initial_ids(initial, n_samples)
        n_initial = int(initial_ids.size)
    if n_initial > n_samples:
        raise ValueError(
            f"initial={n_initial} is larger than the pool ({n_samples} rows); "
            "ask for fewer initial labels."
        )
    if budget is not None:
        budget = _check_int(budget, "budget", 1, "give the total number of labels or None.")
        if budget < n_initial:
            raise ValueError(
                f"budget={budget} is smaller than the initial set ({n_initial} labels); "
                "the budget counts the initial labels too, so raise it or lower initial."
            )
    X_test, y_test = _check_test_set(X_test, y_test, n_features)
    metric_funcs = _check_metrics(metrics)
    if X_test is None:
        metric_funcs = {}
    if costs is not None:
        costs = np.asarray(costs, dtype=np.float64)
        if costs.shape != (n_samples,):
            raise ValueError(
                f"costs has shape {costs.shape}; give one cost per row of X ({n_samples},)."
            )
        if not np.isfinite(costs).all():
            raise ValueError("costs contains NaN or infinite values; give every item a cost.")
    if isinstance(stopping, (list, tuple)):
        from .stopping import as_stopping

        stopping = as_stopping(stopping)
    if stopping is not None:
        if not callable(getattr(stopping, "should_stop", None)):
            raise TypeError(
                "stopping must be a StoppingCriterion (with should_stop(state)), e.g. "
                f"activelab.PerformancePlateau(); got {type(stopping).__name__}."
            )
        stopping = copy.deepcopy(stopping)
        if callable(getattr(stopping, "reset", None)):
            stopping.reset()
    if isinstance(strategy, Strategy):
        strategy = copy.deepcopy(strategy)
    query_strategy = get_strategy(strategy)
    needs = set(getattr(query_strategy, "needs", frozenset()))
    if "committee_proba" in needs and not isinstance(estimator, Committee):
        committee_size = _check_int(
            committee_size, "committee_size", 2, "a bagging committee needs 2 members or more."
        )
    oracle = _make_oracle(oracle, n_samples)

    rng = check_random_state(random_state)
    cold_seed, learner_seed, est_seed = (int(s) for s in rng.randint(0, 2**31 - 1, size=3))
    learner = _make_learner(estimator, query_strategy, committee_size, learner_seed, est_seed)

    _check_proba_support(learner, needs, str(getattr(query_strategy, "name", "")), fitted=False)

    sink_list = list(sinks)
    for sink in sink_list:
        if not callable(getattr(sink, "emit", None)):
            raise TypeError(
                f"every sink needs an emit(event) method; got {type(sink).__name__}. "
                "Wrap a function in activelab.CallbackSink(fn)."
            )
    if progress:
        sink_list.append(ProgressSink())

    config: dict[str, Any] = {
        "run_name": run_name,
        "estimator": repr(estimator),
        "strategy": getattr(query_strategy, "name", "") or repr(query_strategy),
        "learner": type(learner).__name__,
        "initial": n_initial if initial_ids is None else "ids",
        "cold_start": cold_start if initial_ids is None else None,
        "batch_size": batch_size,
        "budget": budget,
        "stopping": _describe(stopping),
        "committee_size": committee_size if isinstance(learner, Committee) else None,
        "random_state": _describe(random_state),
        "metrics": list(metric_funcs),
        "n_samples": n_samples,
        "n_features": n_features,
        "n_test": None if X_test is None else int(X_test.shape[0]),
        "costs": costs is not None,
    }

    def emit(event: dict[str, Any]) -> None:
        for sink in sink_list:
            sink.emit(event)

    started = False
    try:
        # ---- the initial set
        if initial_ids is None:
            from .cold_start import cold_start as choose_initial

            initial_ids = np.asarray(
                choose_initial(pool.X, n_initial, method=cold_start, random_state=cold_seed),
                dtype=np.int64,
            )
        t0 = time.perf_counter()
        if preset_ids.size:
            init_got, init_labels = preset_ids, np.asarray(preset_labels, dtype=object)
            init_skipped, stop_now = _EMPTY_IDS, False
        else:
            init_got, init_labels, init_skipped, stop_now = _ask(oracle, initial_ids, pool)
        init_label_seconds = time.perf_counter() - t0
        if init_got.size:
            pool.label(init_got, init_labels)
        excluded = np.zeros(n_samples, dtype=bool)
        excluded[init_skipped] = True
        if init_got.size == 0 and stop_now:
            return RunResult(
                rounds=[],
                stopped_by="oracle asked to stop before labeling the initial set",
                pool=pool,
                learner=learner,
                config=config,
                oracle_info=_oracle_facts(oracle),
                stop_kind=STOP_ORACLE,
                total_seconds=time.perf_counter() - started_at,
            )
        y_init = pool.labels_of(init_got)
        check_training_labels(y_init, init_got.size, name="the initial labels")

        # ---- round 0 fit (needed to check predict_proba before anything is written)
        t0 = time.perf_counter()
        learner.teach(pool.X[init_got], y_init)
        fit_seconds = time.perf_counter() - t0
        _check_proba_support(learner, needs, config["strategy"], fitted=True)

        emit(
            {
                "event": "run_start",
                "run_name": run_name,
                "config": to_jsonable(config),
                "initial_asked": to_jsonable(initial_ids),
                "initial_ids": to_jsonable(init_got),
                "initial_labels": to_jsonable(init_labels),
                "initial_skipped": to_jsonable(init_skipped),
                "initial_label_seconds": init_label_seconds,
                "classes": to_jsonable(np.asarray(learner.classes_)),
                "time": time.time(),
            }
        )
        started = True

        rounds: list[RoundRecord] = []
        n_queried = 0
        oracle_stop = stop_now
        stopped_by, stop_kind = "", ""
        new_ids, new_labels = init_got, y_init
        round_no = 0
        while True:
            if round_no > 0:
                t0 = time.perf_counter()
                learner.teach(pool.X[new_ids], new_labels)
                fit_seconds = time.perf_counter() - t0
                # strategies that learn from feedback (the `auto` bandit) see each round's labels
                update = getattr(learner.strategy_, "update", None)
                if callable(update) and len(new_ids):
                    update(new_ids, new_labels, learner)
            n_labeled = pool.n_labeled
            scores: dict[str, float] = {}
            t0 = time.perf_counter()
            if metric_funcs:
                y_pred = learner.predict(X_test)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    scores = {k: float(f(y_test, y_pred)) for k, f in metric_funcs.items()}
            record = RoundRecord(
                round=round_no, n_labeled=n_labeled, metrics=scores, fit_seconds=fit_seconds,
                eval_seconds=time.perf_counter() - t0,
            )
            rounds.append(record)

            candidates = np.flatnonzero(~(pool.labeled_mask | excluded)).astype(np.int64)
            if oracle_stop:
                stopped_by, stop_kind = "oracle asked to stop", STOP_ORACLE
            elif budget is not None and n_labeled >= budget:
                stopped_by = f"budget reached: {n_labeled} of {budget} labels"
                stop_kind = STOP_BUDGET
            elif candidates.size == 0:
                n_left = pool.n_unlabeled
                stopped_by = (
                    "pool exhausted: every item is labeled"
                    if n_left == 0
                    else f"pool exhausted: the {n_left} unlabeled items left were all skipped"
                )
                stop_kind = STOP_POOL
            elif stopping is not None:
                state = LoopState(
                    round=round_no,
                    pool=pool,
                    learner=learner,
                    n_labeled=n_labeled,
                    n_queried=n_queried,
                    history=rounds,
                    elapsed_seconds=time.perf_counter() - started_at,
                    started_at=started_at,
                )
                if stopping.should_stop(state):
                    reason = getattr(stopping, "reason", None) or getattr(
                        stopping, "name", type(stopping).__name__
                    )
                    stopped_by, stop_kind = f"stopping criterion: {reason}", STOP_CRITERION
            if stop_kind:
                emit({"event": "round", "run_name": run_name, **record.to_dict()})
                break

            # ---- query and label, asking for replacements of skipped ids
            want = batch_size if budget is None else min(batch_size, budget - n_labeled)
            asked, utils, got_ids, got_labels, skipped = [], [], [], [], []
            info: dict[str, Any] = {}
            query_seconds = label_seconds = 0.0
            while want > 0 and candidates.size and not oracle_stop:
                k = min(want, candidates.size)
                view = (
                    pool.unlabeled_view()
                    if candidates.size == pool.n_unlabeled
                    else pool.view(candidates)
                )
                context_kwargs = {} if costs is None else {"costs": costs[candidates]}
                t0 = time.perf_counter()
                result = learner.query_result(
                    view, k, candidate_ids=candidates, **context_kwargs
                )
                query_seconds += time.perf_counter() - t0
                ids = np.asarray(result.ids, dtype=np.int64)
                if not info:
                    info = {"strategy": result.strategy, **dict(result.info)}
                t0 = time.perf_counter()
                g, lab, s, oracle_stop = _ask(oracle, ids, pool)
                label_seconds += time.perf_counter() - t0
                if g.size:
                    pool.label(g, lab)
                asked.append(ids)
                utils.append(result.utility_of(ids))
                got_ids.append(g)
                got_labels.append(lab)
                skipped.append(s)
                excluded[s] = True
                want -= int(g.size)
                answered = np.concatenate([g, s])
                candidates = candidates[~np.isin(candidates, answered)]
                if s.size == 0:
                    break
            record.query_ids = np.concatenate(asked) if asked else _EMPTY_IDS.copy()
            record.query_utilities = np.concatenate(utils) if utils else np.empty(0)
            record.labeled_ids = np.concatenate(got_ids) if got_ids else _EMPTY_IDS.copy()
            record.labels = (
                np.asarray(np.concatenate(got_labels).tolist())
                if got_labels
                else np.empty(0, dtype=object)
            )
            record.skipped_ids = np.concatenate(skipped) if skipped else _EMPTY_IDS.copy()
            record.query_seconds = query_seconds
            record.label_seconds = label_seconds
            record.info = info
            emit({"event": "round", "run_name": run_name, **record.to_dict()})

            new_ids = record.labeled_ids
            n_queried += int(new_ids.size)
            if new_ids.size == 0:
                # nothing new to fit on: the oracle quit, or it skipped every item left
                if oracle_stop:
                    stopped_by, stop_kind = "oracle asked to stop", STOP_ORACLE
                else:
                    stopped_by = "pool exhausted: the oracle skipped every item left"
                    stop_kind = STOP_POOL
                break
            new_labels = pool.labels_of(new_ids)
            round_no += 1
        result = RunResult(
            rounds=rounds,
            stopped_by=stopped_by,
            pool=pool,
            learner=learner,
            config=config,
            initial_ids=init_got,
            initial_labels=np.asarray(np.asarray(init_labels, dtype=object).tolist()),
            oracle_info=_oracle_facts(oracle),
            stop_kind=stop_kind,
            total_seconds=time.perf_counter() - started_at,
        )
        emit(
            {
                "event": "run_end",
                "run_name": run_name,
                "stopped_by": stopped_by,
                "stop_kind": stop_kind,
                "n_labeled": pool.n_labeled,
                "n_rounds": len(rounds),
                "total_seconds": result.total_seconds,
                "oracle_info": to_jsonable(result.oracle_info),
            }
        )
        return result
    except BaseException as exc:
        if started:
            emit(
                {
                    "event": "run_end",
                    "run_name": run_name,
                    "stopped_by": f"error: {type(exc).__name__}: {exc}",
                    "stop_kind": "error",
                    "n_labeled": pool.n_labeled,
                    "total_seconds": time.perf_counter() - started_at,
                }
            )
        raise
    finally:
        for sink in sink_list:
            close = getattr(sink, "close", None)
            if callable(close):
                close()

