"""Argument checks at the boundary of a run.

Each function checks one argument (or one pair) of :func:`activelab.run` and returns it in
the form the :class:`~activelab.engine.session.Session` works with.  Bad input raises
ValueError or TypeError with one message that names the argument and the fix, before
anything is labeled or written.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..evaluation.metrics import METRICS, TASK_METRICS, check_metric_task
from ..events import JSONLSink, ProgressSink
from ..learners import Committee
from ..oracles import SimulatedOracle, as_oracle
from ..pool import Pool, check_features
from ..stopping import as_stopping
from ..strategies.base import Strategy
from ..strategies.registry import check_strategy_task, get_strategy
from .records import EMPTY_IDS
from .tasks import DEFAULT_STRATEGIES, Task, check_targets, infer_task

__all__ = [
    "check_int",
    "check_blas_threads",
    "check_pool",
    "check_initial",
    "check_initial_ids",
    "check_budget",
    "check_test_set",
    "check_metrics",
    "check_task_metrics",
    "run_task",
    "check_costs",
    "check_stopping",
    "resolve_strategy",
    "check_committee_size",
    "make_oracle",
    "check_sinks",
    "check_proba_support",
    "check_resume",
    "check_candidate_subset",
]


def check_int(value: Any, name: str, minimum: int, fix: str) -> int:
    """``value`` as an int of at least ``minimum``; ``fix`` ends the error message."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}; {fix}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}; {fix}")
    return value


def check_blas_threads(blas_threads: Any) -> int | None:
    """``None`` or a positive number of BLAS threads."""
    if blas_threads is None:
        return None
    if isinstance(blas_threads, bool) or not isinstance(blas_threads, (int, np.integer)) \
            or blas_threads < 1:
        raise ValueError(
            f"blas_threads must be a positive integer or None, got {blas_threads!r}."
        )
    return int(blas_threads)


def check_candidate_subset(candidate_subset: Any, batch_size: int) -> int | None:
    """``None`` or the number of candidates scored per query (at least the batch size)."""
    if candidate_subset is None:
        return None
    return check_int(
        candidate_subset, "candidate_subset", batch_size,
        "score at least batch_size random candidates per query, or None for all of them.",
    )


def check_pool(X: Any) -> tuple[Pool, np.ndarray, np.ndarray | None]:
    """A fresh :class:`Pool` of ``X``, and the ids and labels a given Pool already holds."""
    if not isinstance(X, Pool):
        return Pool(X), EMPTY_IDS, None
    pool = Pool(X.X, keys=X.keys, raw=X.raw)
    pool.feature_names = X.feature_names
    preset_ids = X.labeled_ids
    preset_labels = X.labels_of(preset_ids) if preset_ids.size else None
    return pool, preset_ids, preset_labels


def check_initial(
    initial: Any, preset_ids: np.ndarray, n_samples: int
) -> tuple[np.ndarray | None, int]:
    """The initial ids (``None`` when a cold start chooses them) and the initial set's size."""
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
        initial_ids = check_initial_ids(initial, n_samples)
        n_initial = int(initial_ids.size)
    if n_initial > n_samples:
        raise ValueError(
            f"initial={n_initial} is larger than the pool ({n_samples} rows); "
            "ask for fewer initial labels."
        )
    return initial_ids, n_initial


def check_initial_ids(initial: Any, n_samples: int) -> np.ndarray:
    """A 1-D array of distinct pool ids as int64."""
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


def check_budget(budget: Any, n_initial: int) -> int | None:
    """``None`` or a budget that covers the initial set."""
    if budget is None:
        return None
    budget = check_int(budget, "budget", 1, "give the total number of labels or None.")
    if budget < n_initial:
        raise ValueError(
            f"budget={budget} is smaller than the initial set ({n_initial} labels); "
            "the budget counts the initial labels too, so raise it or lower initial."
        )
    return budget


def check_test_set(
    X_test: Any, y_test: Any, n_features: int, task: Task | str = Task.CLASSIFICATION
) -> tuple[Any, Any]:
    """Both test arrays checked against each other and the pool's width, or ``(None, None)``.

    Multi-label and regression targets are checked by
    :func:`~activelab.engine.tasks.check_targets` (an ``n x L`` 0/1 table; finite numbers).
    """
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
    if Task(task) is not Task.CLASSIFICATION:
        return X_test, check_targets(y_test, X_test.shape[0], task, "y_test")
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


def check_metrics(metrics: Any) -> dict[str, Callable[[Any, Any], float]]:
    """Metric names (from :data:`METRICS`) or a name -> function dict, as name -> function."""
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


def check_task_metrics(
    metrics: Any, task: Task | str
) -> dict[str, Callable[[Any, Any], float]]:
    """:func:`check_metrics` for ``task``: the classification default (accuracy, f1_macro,
    balanced_accuracy) stands for the task's own defaults
    (:data:`~activelab.evaluation.metrics.TASK_METRICS`); a named metric that does not
    serve the task is refused."""
    task = Task(task)
    default = TASK_METRICS[Task.CLASSIFICATION]
    if task is not Task.CLASSIFICATION and isinstance(metrics, (tuple, list)) \
            and tuple(metrics) == default:
        metrics = TASK_METRICS[task]
    if metrics is not None and not isinstance(metrics, Mapping):
        for name in (metrics,) if isinstance(metrics, str) else metrics:
            check_metric_task(name, task, "metrics entry")
    return check_metrics(metrics)


def check_costs(costs: Any, n_samples: int) -> np.ndarray | None:
    """``None`` or one finite cost per pool row, as float64."""
    if costs is None:
        return None
    costs = np.asarray(costs, dtype=np.float64)
    if costs.shape != (n_samples,):
        raise ValueError(
            f"costs has shape {costs.shape}; give one cost per row of X ({n_samples},)."
        )
    if not np.isfinite(costs).all():
        raise ValueError("costs contains NaN or infinite values; give every item a cost.")
    return costs


def check_stopping(stopping: Any) -> Any:
    """A fresh, reset copy of the stopping criterion (a list means any of them), or ``None``."""
    if isinstance(stopping, (list, tuple)):
        stopping = as_stopping(stopping)
    if stopping is None:
        return None
    if not callable(getattr(stopping, "should_stop", None)):
        raise TypeError(
            "stopping must be a StoppingCriterion (with should_stop(state)), e.g. "
            f"activelab.PerformancePlateau(); got {type(stopping).__name__}."
        )
    stopping = copy.deepcopy(stopping)
    if callable(getattr(stopping, "reset", None)):
        stopping.reset()
    return stopping


def resolve_strategy(strategy: Any, task: Task | str = Task.CLASSIFICATION) -> Strategy:
    """The run's own strategy object: a copy of a given Strategy, or one built from a name.

    ``None`` is the task's default (:data:`~activelab.engine.tasks.DEFAULT_STRATEGIES`); a
    strategy that does not serve ``task`` is refused, naming those that do.
    """
    if strategy is None:
        strategy = DEFAULT_STRATEGIES[Task(task)]
    if isinstance(strategy, Strategy):
        strategy = copy.deepcopy(strategy)
    resolved = get_strategy(strategy)
    check_strategy_task(resolved, task)
    return resolved


def _estimators_of(estimator: Any) -> list[Any]:
    """The scikit-learn estimator(s) inside an estimator, ActiveLearner or Committee."""
    if isinstance(estimator, Committee):
        return [m.estimator for m in estimator.learner_list]
    return [getattr(estimator, "estimator", estimator) if hasattr(estimator, "teach")
            else estimator]


def run_task(estimator: Any, oracle: Any, task: Any = None) -> Task:
    """The run's :class:`~activelab.engine.tasks.Task`: ``task`` when given, else inferred
    from the estimator (a regressor means regression) and the labels the oracle knows
    (an array, or an oracle's ``y``).

    Raises
    ------
    ValueError
        For an unknown ``task`` name, or a regressor with a classification ``task``.
    """
    if task is not None:
        try:
            task = Task(task)
        except ValueError:
            raise ValueError(
                f"unknown task {task!r}; choose one of: {', '.join(t.value for t in Task)}."
            ) from None
    y = oracle if not callable(getattr(oracle, "label", None)) and not callable(oracle) \
        else getattr(oracle, "y", None)
    if isinstance(y, (str, bytes)) or (y is not None and not hasattr(y, "__len__")):
        y = None
    model = _estimators_of(estimator)[0]
    inferred = infer_task(y, model if hasattr(model, "fit") else None)  # else refused later
    if task is None:
        return inferred
    if inferred is Task.REGRESSION and task is not Task.REGRESSION and y is None:
        raise ValueError(
            f"task={task.value!r} but the estimator is a regressor; use a classifier, or "
            "task='regression'."
        )
    return task


def check_committee_size(committee_size: Any, strategy: Strategy, estimator: Any) -> Any:
    """The committee size, checked when a bagging committee will be built."""
    needs = {str(n) for n in getattr(strategy, "needs", frozenset())}
    if needs & {"committee_proba", "committee_predictions"} and not isinstance(estimator, Committee):
        return check_int(
            committee_size, "committee_size", 2, "a bagging committee needs 2 members or more."
        )
    return committee_size


def _has_label_method(obj: Any) -> bool:
    return callable(getattr(obj, "label", None))


def make_oracle(oracle: Any, n_samples: int) -> Any:
    """An object with ``label(ids, pool)``: the oracle given, a wrapped function, or a
    :class:`~activelab.oracles.SimulatedOracle` of the true labels."""
    if _has_label_method(oracle):
        y = getattr(oracle, "y", None)
        if y is not None and hasattr(y, "__len__") and len(y) != n_samples:
            raise ValueError(
                f"the oracle knows {len(y)} labels but X has {n_samples} rows; "
                "give the oracle one label per row of X."
            )
        return oracle
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
    if y.ndim not in (1, 2) or y.shape[0] != n_samples:
        raise ValueError(
            f"the labels given as oracle have shape {y.shape} but X has {n_samples} rows; "
            "give one label per row of X."
        )
    return SimulatedOracle(y)


def check_sinks(
    sinks: Iterable[Any], progress: bool, log_path: str | os.PathLike[str] | None = None
) -> list[Any]:
    """The sinks as a list, plus a progress sink when asked for and a :class:`JSONLSink`
    on ``log_path`` when no given sink writes there."""
    sink_list = list(sinks)
    for sink in sink_list:
        if not callable(getattr(sink, "emit", None)):
            raise TypeError(
                f"every sink needs an emit(event) method; got {type(sink).__name__}. "
                "Wrap a function in activelab.CallbackSink(fn)."
            )
    if progress:
        sink_list.append(ProgressSink())
    if log_path is not None and not any(_writes_to(s, log_path) for s in sink_list):
        sink_list.append(JSONLSink(log_path))
    return sink_list


def _writes_to(sink: Any, path: str | os.PathLike[str]) -> bool:
    target = getattr(sink, "path", None)
    if not isinstance(sink, JSONLSink) or target is None:
        return False
    return os.path.abspath(os.fspath(target)) == os.path.abspath(os.fspath(path))


def check_proba_support(learner: Any, needs: set[str], strategy: str, fitted: bool) -> None:
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


def check_resume(resume: Any, random_state: Any) -> str | os.PathLike[str] | None:
    """``None`` or the path of the log to resume; resuming needs an integer seed."""
    if resume is None:
        return None
    if not isinstance(resume, (str, os.PathLike)):
        raise TypeError(
            f"resume must be the path of a run's JSONL event log, got {type(resume).__name__}."
        )
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
        raise ValueError(
            f"resume needs the integer random_state of the logged run, got {random_state!r}; "
            "a run without a fixed seed cannot be replayed, so pass the seed it ran with."
        )
    return resume
