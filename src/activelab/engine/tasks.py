"""What kind of target a run learns: one class per item, several labels, or a number.

Every face asks :func:`infer_task` once and then speaks of the :class:`Task` it got:
the learners check their targets with :func:`check_targets`, strategies declare the
tasks they serve (``Strategy.tasks``, read with :func:`tasks_of`; the registry's
``check_strategy_task`` refuses a mismatch), and
:data:`DEFAULT_STRATEGIES` / :data:`DEFAULT_METRICS` name what a run uses when the user
names nothing.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import numpy as np

__all__ = [
    "Task",
    "infer_task",
    "check_targets",
    "check_class_labels",
    "tasks_of",
    "DEFAULT_STRATEGIES",
    "DEFAULT_METRICS",
]


class Task(str, Enum):
    """The kind of target: members compare equal to their string values."""

    CLASSIFICATION = "classification"
    """One class per item (binary or multiclass); ``y`` is 1-D."""
    MULTILABEL = "multilabel"
    """Any number of labels per item; ``y`` is an ``n x L`` 0/1 indicator matrix."""
    REGRESSION = "regression"
    """A real number per item; ``y`` is 1-D float."""

    def __str__(self) -> str:
        return self.value


#: The strategy a run uses when the user names none, per task.
DEFAULT_STRATEGIES: dict[Task, str] = {
    Task.CLASSIFICATION: "margin",
    Task.MULTILABEL: "multilabel_margin",
    Task.REGRESSION: "greedy_io",
}

#: The test metric a run reports when the user names none, per task.
DEFAULT_METRICS: dict[Task, str] = {
    Task.CLASSIFICATION: "accuracy",
    Task.MULTILABEL: "f1_micro",
    Task.REGRESSION: "r2",
}


def _estimator_kind(estimator: Any) -> str | None:
    """``"regressor"``, ``"classifier"`` or None, as scikit-learn's tags say."""
    if estimator is None:
        return None
    from sklearn.base import is_classifier, is_regressor

    inner = getattr(estimator, "steps", None)
    target = inner[-1][1] if inner else estimator
    if is_regressor(target) or is_regressor(estimator):
        return "regressor"
    if is_classifier(target) or is_classifier(estimator):
        return "classifier"
    return None


def _is_label_lists(y: Any) -> bool:
    """True for a sequence whose items are lists/tuples/sets of labels (not a 0/1 table)."""
    if isinstance(y, np.ndarray) and y.dtype != object:
        return False
    try:
        first = next(iter(y))
    except (TypeError, StopIteration):
        return False
    if not isinstance(first, (list, tuple, set, frozenset)):
        return False
    try:
        table = np.asarray(y)
    except ValueError:  # ragged: lists of different lengths
        return True
    return table.dtype.kind not in "biuf"


def infer_task(y: Any = None, estimator: Any = None) -> Task:
    """The :class:`Task` that targets ``y`` (and/or an ``estimator``) describe.

    Parameters
    ----------
    y : array-like, optional
        Targets: 1-D class labels, an ``n x L`` 0/1 indicator matrix or lists of labels
        (multi-label), or 1-D real numbers (regression).
    estimator : scikit-learn estimator, optional
        A regressor makes the task regression whatever ``y`` looks like.

    Returns
    -------
    Task

    Raises
    ------
    ValueError
        When ``y`` is 2-D but not 0/1, or real-valued targets meet a classifier.
    """
    kind = _estimator_kind(estimator)
    if kind == "regressor":
        return Task.REGRESSION
    if y is None:
        return Task.CLASSIFICATION
    if _is_label_lists(y):
        return Task.MULTILABEL
    arr = np.asarray(y)
    if arr.ndim == 2 and 1 not in arr.shape:
        return _two_d_task(arr)
    arr = arr.ravel() if arr.ndim == 2 else arr
    if arr.dtype.kind == "f" and arr.size:
        finite = arr[np.isfinite(arr)]
        if finite.size and not np.all(finite == np.round(finite)):
            if kind == "classifier":
                raise ValueError(
                    "y holds real numbers (e.g. "
                    f"{finite[~(finite == np.round(finite))][0]!r}) but the estimator is a "
                    "classifier; use a regressor for continuous targets, or give class labels."
                )
            return Task.REGRESSION
    return Task.CLASSIFICATION


def _two_d_task(arr: np.ndarray) -> Task:
    values = np.unique(arr[~_nan_mask(arr)]) if arr.dtype.kind == "f" else np.unique(arr)
    if arr.dtype.kind in "biuf" and np.isin(values, (0, 1)).all():
        return Task.MULTILABEL
    raise ValueError(
        f"y has shape {arr.shape}: a 2-D target must be a 0/1 indicator matrix (one column "
        "per label) for multi-label learning; give 1-D targets for classification or "
        "regression (multi-output regression is not supported)."
    )


def _nan_mask(arr: np.ndarray) -> np.ndarray:
    return np.isnan(arr) if arr.dtype.kind == "f" else np.zeros(arr.shape, dtype=bool)


def check_targets(y: Any, n_rows: int, task: Task | str, name: str = "y_training") -> np.ndarray:
    """Validate targets for ``task`` and return them in the task's canonical form.

    Classification targets are checked by :func:`check_class_labels` (1-D, two classes
    or more); multi-label targets come back as an ``n x L`` int8 0/1
    matrix with ``L >= 2``; regression targets as 1-D finite float64.

    Raises
    ------
    ValueError
        Naming ``name`` and the fix.
    """
    task = Task(task)
    if task is Task.CLASSIFICATION:
        return check_class_labels(y, n_rows, name)
    if task is Task.MULTILABEL:
        return _check_indicator(y, n_rows, name)
    return _check_real(y, n_rows, name)


def check_class_labels(y: Any, n_rows: int, name: str = "y_training") -> np.ndarray:
    """Validate class labels: 1-D, one per row, no missing values, two classes or more."""
    y = np.asarray(y)
    if y.ndim != 1:
        y = y.ravel() if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per row), got shape {y.shape}.")
    if y.shape[0] != n_rows:
        raise ValueError(
            f"{name} has {y.shape[0]} labels but the features have {n_rows} rows; "
            "give one label per row."
        )
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(f"{name} contains NaN; every training row needs a label.")
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError(
            f"{name} holds a single class ({classes[0]!r}); a classifier needs examples of at "
            "least two classes. Label more initial items (or start with cold_start='kmeans', "
            "which covers the pool's clusters)."
        )
    return y


def _check_rows(count: int, n_rows: int, name: str) -> None:
    if count != n_rows:
        raise ValueError(
            f"{name} has {count} targets but the features have {n_rows} rows; "
            "give one target per row."
        )


def _check_indicator(y: Any, n_rows: int, name: str) -> np.ndarray:
    if _is_label_lists(y):
        raise TypeError(
            f"{name} is a list of label lists; turn it into a 0/1 indicator matrix first, "
            "e.g. sklearn.preprocessing.MultiLabelBinarizer().fit_transform(y)."
        )
    arr = np.asarray(y)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be an n x L 0/1 indicator matrix, got shape {arr.shape}.")
    _check_rows(arr.shape[0], n_rows, name)
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN; every training row needs its 0/1 labels.")
    if arr.dtype.kind not in "biuf" or not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must hold only 0 and 1 (one column per label).")
    if arr.shape[1] < 2:
        raise ValueError(
            f"{name} has a single label column; that is binary classification: give the "
            "column as 1-D class labels instead."
        )
    return arr.astype(np.int8)


def _check_real(y: Any, n_rows: int, name: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one number per row), got shape {arr.shape}.")
    _check_rows(arr.shape[0], n_rows, name)
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold numbers for regression; got {arr.dtype}.") from None
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity; every training row needs a number.")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; a regressor needs at least one labeled row.")
    return arr


def tasks_of(strategy: Any) -> frozenset[Task]:
    """The tasks a strategy (or strategy class) serves; classification when undeclared."""
    declared = getattr(strategy, "tasks", None) or (Task.CLASSIFICATION,)
    return frozenset(Task(t) for t in declared)
