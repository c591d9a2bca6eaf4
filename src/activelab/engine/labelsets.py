"""Multi-label targets at the learner boundary: label lists, table shapes, fit errors.

A multi-label learner learns from an ``n x L`` 0/1 indicator table (one column per
label).  Users often hold *lists of labels* instead (``[["news", "sport"], [], ...]``);
the learners accept those too and turn them into the table with a
:class:`sklearn.preprocessing.MultiLabelBinarizer` that they keep (``label_binarizer_``),
so that every later ``teach`` maps the same label to the same column and ``labels_``
names the columns in order.

The helpers here keep the learners short:

- :func:`to_indicator` — lists of labels (or a table) as the learner's table;
- :func:`check_same_kind` — refuse 1-D targets after 2-D ones and the other way round;
- :func:`check_label_table` — refuse a table with no positive label at all;
- :func:`fit_multilabel` — fit, and explain a failure caused by labels that never
  change value in the training rows;
- :func:`bootstrap_rows` — a bootstrap resample that keeps both values of every label
  column that had both (so that a committee member can be fitted).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tasks import _is_label_lists

__all__ = [
    "is_label_lists",
    "to_indicator",
    "check_same_kind",
    "check_label_table",
    "fit_multilabel",
    "bootstrap_rows",
    "single_row_labels",
]


def is_label_lists(y: Any) -> bool:
    """True for a sequence whose items are lists/tuples/sets of labels."""
    return _is_label_lists(y)


def _binarizer(classes: Any, y: Any) -> Any:
    from sklearn.preprocessing import MultiLabelBinarizer

    if classes is not None:
        return MultiLabelBinarizer(classes=list(np.asarray(classes).ravel())).fit([[]])
    return MultiLabelBinarizer().fit(y)


def to_indicator(y: Any, binarizer: Any, classes: Any, name: str) -> tuple[Any, Any]:
    """``y`` as an indicator table when it is lists of labels, and the binarizer used.

    Parameters
    ----------
    y : lists of labels, or anything else (returned unchanged)
    binarizer : fitted MultiLabelBinarizer or None
        The learner's; None fits one on ``classes`` (when given) or on ``y``.
    classes : array-like or None
        Every label the lists may hold, in column order.
    name : str
        The argument's name, for messages.

    Raises
    ------
    ValueError
        When the lists hold a label the binarizer does not know, or fewer than two labels.
    """
    if not is_label_lists(y):
        return y, binarizer
    rows = [list(r) for r in y]
    if binarizer is None:
        binarizer = _binarizer(classes, rows)
        if len(binarizer.classes_) < 2:
            raise ValueError(
                f"{name} holds a single label ({binarizer.classes_.tolist()}); with one label "
                "that is binary classification: give 1-D class labels (1 where the label "
                "applies) instead, or name every label with classes=[...]."
            )
    known = set(binarizer.classes_.tolist())
    unknown = sorted({lab for r in rows for lab in r} - known, key=str)
    if unknown:
        raise ValueError(
            f"{name} holds label(s) {unknown} that the learner does not know (its labels, in "
            f"column order: {binarizer.classes_.tolist()}); give every label up front with "
            "ActiveLearner(..., classes=[...all labels...])."
        )
    return binarizer.transform(rows).astype(np.int8), binarizer


def single_row_labels(y: Any, n_rows: int, width: int | None) -> Any:
    """A 1-D 0/1 vector of ``width`` values given for one row, as a ``1 x width`` table."""
    arr = np.asarray(y)
    if width is not None and n_rows == 1 and arr.ndim == 1 and arr.shape[0] == width > 1:
        return arr.reshape(1, -1)
    return y


def check_same_kind(previous: np.ndarray | None, y: Any, name: str = "y") -> None:
    """Refuse 1-D targets for a learner trained on a label table, and the other way round.

    Raises
    ------
    ValueError
    """
    if previous is None or is_label_lists(y):
        return
    arr = np.asarray(y)
    two_d = arr.ndim == 2 and arr.shape[1] > 1
    if previous.ndim == 2 and not two_d:
        raise ValueError(
            f"{name} has shape {arr.shape} but the learner learns {previous.shape[1]} labels "
            f"per row (an n x {previous.shape[1]} 0/1 table); give one row of "
            f"{previous.shape[1]} 0/1 values per item."
        )
    if previous.ndim == 2 and arr.shape[1] != previous.shape[1]:
        raise ValueError(
            f"{name} has {arr.shape[1]} label columns but the learner learns "
            f"{previous.shape[1]}; give the same columns, in the same order."
        )
    if previous.ndim == 1 and two_d:
        raise ValueError(
            f"{name} is an n x {arr.shape[1]} label table but the learner was trained on one "
            "class per row; keep to one kind of target (start a new learner for "
            "multi-label data)."
        )


def check_label_table(Y: np.ndarray, name: str = "y_training") -> None:
    """Refuse a multi-label table in which no item has any label.

    Raises
    ------
    ValueError
    """
    if Y.size and not Y.any():
        raise ValueError(
            f"{name} holds no positive label at all (every column is 0); a multi-label "
            "model needs items that carry labels: label more initial items (e.g. with "
            "cold_start='kmeans') or check the label columns."
        )


def _constant_columns(Y: np.ndarray) -> np.ndarray:
    return np.flatnonzero(Y.min(axis=0) == Y.max(axis=0))


def fit_multilabel(estimator: Any, X: Any, Y: np.ndarray, labels: Any, **fit_kwargs: Any) -> Any:
    """``estimator.fit(X, Y)``, explaining a failure caused by constant label columns.

    Many base classifiers (``LogisticRegression`` inside ``MultiOutputClassifier`` or
    ``ClassifierChain``) cannot be fitted on a label that is 0 (or 1) for every training
    row; ``OneVsRestClassifier`` and random forests can.

    Raises
    ------
    ValueError
        Naming the constant labels and the fix, when the fit fails and some exist.
    """
    try:
        return estimator.fit(X, Y, **fit_kwargs)
    except ValueError as exc:
        constant = _constant_columns(Y)
        if not constant.size:
            raise
        names = np.asarray(labels)[constant].tolist() if labels is not None else constant.tolist()
        raise ValueError(
            f"{type(estimator).__name__} could not be fitted: label(s) {names} take a single "
            f"value in all {Y.shape[0]} training rows ({exc}). Wrap the base classifier in "
            "sklearn.multiclass.OneVsRestClassifier (it copes with such labels), use a "
            "RandomForestClassifier, or label items that carry those labels first."
        ) from exc


def bootstrap_rows(Y: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Row positions of a bootstrap resample of ``Y`` (n x L) that keeps, for every label
    column holding both 0 and 1, at least one row of each value."""
    n = Y.shape[0]
    positions = rng.randint(0, n, size=n)
    varied = Y.min(axis=0) != Y.max(axis=0)
    sample = Y[positions]
    extra = []
    for j in np.flatnonzero(varied & (sample.min(axis=0) == sample.max(axis=0))):  # labels
        missing = 1 - sample[0, j]
        extra.append(rng.choice(np.flatnonzero(Y[:, j] == missing)))
    if extra:
        positions = np.concatenate([positions, np.asarray(extra, dtype=np.int64)])
    return positions
