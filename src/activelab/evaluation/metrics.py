"""Test metrics by name, the task each serves and its direction, and the full-pool score.

Every entry of :data:`METRICS` is a :class:`Metric`: a function ``f(y_true, y_pred) ->
float`` that also knows the tasks it serves (:attr:`Metric.tasks`) and whether a higher
value is better (:attr:`Metric.higher_is_better`: False for ``rmse``, ``mae`` and
``hamming_loss``).  Learning curves, AULC and labels-to-target use a higher-is-better
primary metric (:func:`primary_metric`: accuracy, f1_micro or r2); error metrics are
reported beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    cohen_kappa_score,
    f1_score,
    hamming_loss,
    matthews_corrcoef,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
)

from ..engine.tasks import DEFAULT_METRICS, Task

__all__ = [
    "Metric",
    "METRICS",
    "TASK_METRICS",
    "get_metric",
    "metrics_for",
    "primary_metric",
    "higher_is_better",
    "check_metric_task",
    "full_pool_score",
]

_CLASSIFICATION = frozenset({Task.CLASSIFICATION})
_MULTILABEL = frozenset({Task.MULTILABEL})
_REGRESSION = frozenset({Task.REGRESSION})
_LABELS = frozenset({Task.CLASSIFICATION, Task.MULTILABEL})


@dataclass(frozen=True)
class Metric:
    """A test metric ``f(y_true, y_pred) -> float`` with its tasks and direction.

    Attributes
    ----------
    name : str
    func : callable
    tasks : frozenset of Task
        The tasks whose targets it scores.
    higher_is_better : bool
        False for error metrics (RMSE, MAE, Hamming loss).
    """

    name: str
    func: Callable[[Any, Any], float]
    tasks: frozenset[Task]
    higher_is_better: bool = True

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        return float(self.func(y_true, y_pred))


def _f1(average: str) -> Callable[[Any, Any], float]:
    def f1(y_true: Any, y_pred: Any) -> float:
        return float(f1_score(y_true, y_pred, average=average, zero_division=0))

    f1.__name__ = f"f1_{average}"
    return f1


def _rmse(y_true: Any, y_pred: Any) -> float:
    return float(np.sqrt(mean_squared_error(y_true, y_pred)))


def _table(*entries: Metric) -> dict[str, Metric]:
    return {m.name: m for m in entries}


#: The one metric table: every face (the loop, simulate, benchmark, the reports) knows a
#: metric by these names; each entry is a :class:`Metric` (callable as ``f(y_true, y_pred)``).
METRICS: dict[str, Metric] = _table(
    Metric("accuracy", accuracy_score, _CLASSIFICATION),
    Metric("f1_macro", _f1("macro"), _LABELS),
    Metric("f1_micro", _f1("micro"), _LABELS),
    Metric("f1_weighted", _f1("weighted"), _LABELS),
    Metric("balanced_accuracy", balanced_accuracy_score, _CLASSIFICATION),
    Metric("cohen_kappa", cohen_kappa_score, _CLASSIFICATION),
    Metric("mcc", matthews_corrcoef, _CLASSIFICATION),
    Metric("subset_accuracy", accuracy_score, _MULTILABEL),
    Metric("hamming_loss", hamming_loss, _MULTILABEL, higher_is_better=False),
    Metric("r2", r2_score, _REGRESSION),
    Metric("rmse", _rmse, _REGRESSION, higher_is_better=False),
    Metric("mae", mean_absolute_error, _REGRESSION, higher_is_better=False),
)

#: The metrics a run records when the user names none, per task; the first is primary.
TASK_METRICS: dict[Task, tuple[str, ...]] = {
    Task.CLASSIFICATION: ("accuracy", "f1_macro", "balanced_accuracy"),
    Task.MULTILABEL: ("f1_micro", "f1_macro", "hamming_loss", "subset_accuracy"),
    Task.REGRESSION: ("r2", "rmse", "mae"),
}


def get_metric(name: str) -> Metric:
    """The metric called ``name`` (callable as ``f(y_true, y_pred) -> float``)."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; choose one of: {', '.join(METRICS)}.")
    return METRICS[name]


def metrics_for(task: Task | str) -> list[str]:
    """The names of the metrics that serve ``task``, in table order."""
    task = Task(task)
    return [name for name, m in METRICS.items() if task in m.tasks]


def primary_metric(task: Task | str) -> str:
    """The higher-is-better metric curves and AULC use for ``task`` (accuracy, f1_micro, r2)."""
    return DEFAULT_METRICS[Task(task)]


def higher_is_better(name: str) -> bool:
    """Whether a higher value of metric ``name`` is better (True for unknown names)."""
    metric = METRICS.get(name)
    return True if metric is None else metric.higher_is_better


def check_metric_task(name: str, task: Task | str, what: str = "metric") -> None:
    """Refuse a known metric that does not serve ``task``, naming those that do.

    Raises
    ------
    ValueError
    """
    task = Task(task)
    metric = METRICS.get(name)
    if metric is not None and task not in metric.tasks:
        served = ", ".join(sorted(t.value for t in metric.tasks))
        raise ValueError(
            f"{what} {name!r} scores {served}, not {task.value}; for {task.value} use one of: "
            f"{', '.join(metrics_for(task))}."
        )


def full_pool_score(
    estimator: Any,
    X_pool: Any,
    y_pool: Any,
    X_test: Any,
    y_test: Any,
    metric: str = "accuracy",
) -> float:
    """Test score of the model fitted on the *whole* pool with its true labels.

    This is the ceiling an active-learning run approaches; a target such as "95 % of
    full-pool accuracy" is ``0.95 * full_pool_score(...)``.

    Parameters
    ----------
    estimator : classifier or regressor
        Cloned before fitting.
    X_pool, y_pool : the pool and its true labels (or targets).
    X_test, y_test : the held-out test set.
    metric : str, default="accuracy"
        A name of :data:`METRICS` (e.g. ``"r2"`` for a regressor).

    Returns
    -------
    float
    """
    score = get_metric(metric)
    model = clone(estimator).fit(X_pool, np.asarray(y_pool))
    return score(np.asarray(y_test), model.predict(X_test))
