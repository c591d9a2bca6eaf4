"""The labeling app's model facts for multi-label and regression projects.

The scorer asks, after each retraining: is the model worth showing (:func:`fit_quality`,
cross-validated against a baseline), what does it guess for the queued items
(:func:`task_guesses`, in the stored form of answers), and have its predictions stopped
changing (:func:`stop_agreement`).  Classification keeps its own, older code in
:mod:`activelab.server.scorer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import clone

from ..store.targets import encode_set

__all__ = ["METRIC_NAMES", "trainable", "fit_quality", "task_guesses", "stop_agreement"]

#: What the cross-validated score of each task is (the page and the progress curve say it).
METRIC_NAMES = {"classification": "accuracy", "multilabel": "micro F1", "regression": "R²"}


def trainable(y: np.ndarray, task: str) -> bool:
    """Whether the targets can train a model: two distinct classes, label sets or numbers."""
    y = np.asarray(y)
    if y.shape[0] < 2:
        return False
    if task == "multilabel":
        return np.unique(y, axis=0).shape[0] >= 2
    if task == "regression":
        return np.unique(y).size >= 2
    return np.unique(y.astype(str)).size >= 2


def fit_quality(estimator: Any, X: Any, y: np.ndarray, task: str, random_state: int
                ) -> tuple[float | None, bool]:
    """``(cross-validated score, beats the baseline)`` of a multi-label or regression model.

    Multi-label: micro F1, against always guessing the commonest label set (scikit-learn's
    ``DummyClassifier``) in the same folds.  Regression: R², which is above 0 exactly when
    the model beats predicting the mean.  ``(None, False)`` with fewer than 4 items.
    """
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import KFold, cross_val_score

    n = int(np.asarray(y).shape[0])
    if n < 4:
        return None, False
    cv = KFold(n_splits=min(5, n // 2), shuffle=True, random_state=random_state)
    if task == "regression":
        score = float(np.mean(cross_val_score(clone(estimator), X, y, cv=cv, scoring="r2")))
        return score, bool(score > 0.0)
    score = float(np.mean(cross_val_score(clone(estimator), X, y, cv=cv,
                                          scoring="f1_micro")))
    base = float(np.mean(cross_val_score(DummyClassifier(strategy="most_frequent"), X, y,
                                         cv=cv, scoring="f1_micro")))
    return score, bool(score > base)


def task_guesses(model: Any, X: Any, task: str, labels: Sequence[str]
                 ) -> tuple[list[str], np.ndarray | None]:
    """The model's guess for each row, as a stored answer, and how sure it is.

    Multi-label: the labels whose probability is above 0.5 (possibly none), sure to the
    probability of that exact set (the product of ``max(p, 1 - p)`` over the labels).
    Regression: the predicted number; no confidence (``None``).
    """
    from ..outputs import label_marginals, predict_values

    if task == "regression":
        return [repr(float(v)) for v in predict_values(model, X)], None
    p = label_marginals(model, X)
    names = np.asarray(labels, dtype=object)
    guesses = [encode_set(names[row].tolist(), labels) for row in p > 0.5]
    return guesses, np.prod(np.maximum(p, 1.0 - p), axis=1)


def stop_agreement(prev: list[str] | None, cur: list[str], task: str) -> float | None:
    """How much two model versions agree on the stop set (1.0 when identical).

    Multi-label: the share of items whose predicted set is the same.  Regression: the R² of
    the new predictions against the previous ones.
    """
    if prev is None or len(prev) != len(cur) or not cur:
        return None
    if task == "regression":
        a, b = np.asarray(prev, dtype=float), np.asarray(cur, dtype=float)
        spread = float(np.sum((a - a.mean()) ** 2))
        if spread == 0.0:
            return 1.0 if np.array_equal(a, b) else 0.0
        return float(1.0 - np.sum((b - a) ** 2) / spread)
    return float(np.mean(np.asarray(prev, dtype=object) == np.asarray(cur, dtype=object)))
