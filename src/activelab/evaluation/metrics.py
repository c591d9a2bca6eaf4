"""Test metrics by name, and the score a model reaches with every pool label."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    cohen_kappa_score,
    f1_score,
    matthews_corrcoef,
)

__all__ = ["METRICS", "get_metric", "full_pool_score"]


def _f1(average: str) -> Callable[[Any, Any], float]:
    def f1(y_true: Any, y_pred: Any) -> float:
        return float(f1_score(y_true, y_pred, average=average, zero_division=0))

    f1.__name__ = f"f1_{average}"
    return f1


#: The one metric table: every face (the loop, simulate, benchmark, the reports) knows a
#: metric by these names, ``f(y_true, y_pred) -> float``.
METRICS: dict[str, Callable[[Any, Any], float]] = {
    "accuracy": lambda t, p: float(accuracy_score(t, p)),
    "f1_macro": _f1("macro"),
    "f1_micro": _f1("micro"),
    "f1_weighted": _f1("weighted"),
    "balanced_accuracy": lambda t, p: float(balanced_accuracy_score(t, p)),
    "cohen_kappa": lambda t, p: float(cohen_kappa_score(t, p)),
    "mcc": lambda t, p: float(matthews_corrcoef(t, p)),
}


def get_metric(name: str) -> Callable[[Any, Any], float]:
    """The metric function ``(y_true, y_pred) -> float`` called ``name``."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; choose one of: {', '.join(METRICS)}.")
    return METRICS[name]


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
    estimator : classifier
        Cloned before fitting.
    X_pool, y_pool : the pool and its true labels.
    X_test, y_test : the held-out test set.
    metric : {"accuracy", "f1_macro", "balanced_accuracy"}, default="accuracy"

    Returns
    -------
    float
    """
    score = get_metric(metric)
    model = clone(estimator).fit(X_pool, np.asarray(y_pool))
    return score(np.asarray(y_test), model.predict(X_test))
