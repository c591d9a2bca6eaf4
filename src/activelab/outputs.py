"""Model outputs for the tasks beyond one class per item, computed chunk by chunk.

* :func:`label_marginals` — multi-label: P(label j applies) per row, ``n x L``, from
  whichever shape the model's ``predict_proba`` has (a list of ``n x 2`` arrays for
  random forests and ``MultiOutputClassifier``, one ``n x L`` array for
  ``OneVsRestClassifier``/``ClassifierChain``/MLP), or a sigmoid of
  ``decision_function``.
* :func:`predict_values` — regression: the predicted value per row.
* :func:`member_predictions` — regression: each committee member's (or ensemble
  member's) prediction, ``members x n``.
* :func:`predictive_std` — regression: the model's own predictive standard deviation
  (``predict(X, return_std=True)``: Gaussian processes, Bayesian ridge), else the spread
  of its members.

:class:`activelab.strategies.base.QueryContext` computes these lazily, once per query.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from .pool import DEFAULT_CHUNK_ROWS, materialize, n_rows, take_rows

__all__ = ["label_marginals", "predict_values", "member_predictions", "predictive_std"]


def _blocks(X: Any, chunk_rows: int):
    n = n_rows(X)
    for start in range(0, n, chunk_rows):
        yield start, materialize(take_rows(X, np.arange(start, min(start + chunk_rows, n))))


def _marginals_of(out: Any, n: int) -> np.ndarray:
    if isinstance(out, list):  # one (n, 2) (or (n, 1) for a label seen one way) per label
        cols = []
        for p in out:
            p = np.asarray(p, dtype=np.float64)
            cols.append(p[:, -1] if p.shape[1] > 1 else np.zeros(n))
        return np.column_stack(cols)
    return np.asarray(out, dtype=np.float64)


def _single_class_fix(estimator: Any, proba: np.ndarray) -> np.ndarray:
    """A label that was always 1 in training has one column ``[1]``: its P is 1, not 0."""
    classes = getattr(_final(estimator), "classes_", None)
    if isinstance(classes, list):
        for j, c in enumerate(classes):
            c = np.asarray(c)
            if c.size == 1 and c[0] == 1:
                proba[:, j] = 1.0
    return proba


def _final(estimator: Any) -> Any:
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def label_marginals(estimator: Any, X: Any, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> np.ndarray:
    """P(label j applies) for every row of ``X``, shape ``(n, n_labels)``, float64.

    Raises
    ------
    TypeError
        When the model has neither ``predict_proba`` nor ``decision_function``.
    """
    has_proba = hasattr(estimator, "predict_proba")
    if not has_proba and not hasattr(estimator, "decision_function"):
        raise TypeError(
            f"{type(estimator).__name__} gives neither predict_proba nor decision_function; "
            "multi-label strategies need per-label probabilities (use e.g. "
            "OneVsRestClassifier(LogisticRegression()) or a RandomForestClassifier)."
        )
    parts = []
    for _, block in _blocks(X, chunk_rows):
        if has_proba:
            p = _marginals_of(estimator.predict_proba(block), n_rows(block))
            parts.append(_single_class_fix(estimator, p))
        else:
            parts.append(1.0 / (1.0 + np.exp(-np.asarray(estimator.decision_function(block)))))
    width = parts[0].shape[1] if parts else 0
    return np.concatenate(parts) if parts else np.empty((0, width))


def predict_values(estimator: Any, X: Any, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> np.ndarray:
    """``estimator.predict`` over ``X`` chunk by chunk, as 1-D float64."""
    parts = [np.asarray(estimator.predict(b), dtype=np.float64).ravel() for _, b in _blocks(X, chunk_rows)]
    return np.concatenate(parts) if parts else np.empty(0)


def _ensemble_members(estimator: Any) -> tuple[Any, list[Any], list[Any] | None] | None:
    """(transform-before-members, members, feature subsets) of a fitted ensemble, or None."""
    final = _final(estimator)
    members = getattr(final, "estimators_", None)
    if members is None:
        return None
    members = list(np.ravel(members)) if isinstance(members, np.ndarray) else list(members)
    features = getattr(final, "estimators_features_", None)
    steps = getattr(estimator, "steps", None)
    before = estimator[:-1] if steps else None
    return before, members, features


def member_predictions(estimator: Any, X: Any, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> np.ndarray:
    """Each member's prediction, shape ``(n_members, n)``.

    A learner with ``committee_predictions(X)`` (a regression committee) is asked
    directly; a fitted scikit-learn ensemble (random forest, extra trees, bagging) is
    read through its ``estimators_``.

    Raises
    ------
    TypeError
        For a single model with no members.
    """
    own = getattr(estimator, "committee_predictions", None)
    if own is not None:
        return np.asarray(own(X), dtype=np.float64)
    found = _ensemble_members(estimator)
    if found is None:
        raise TypeError(
            f"{type(estimator).__name__} is a single model; committee strategies need "
            "members: use activelab.Committee of regressors, or an ensemble such as "
            "RandomForestRegressor / BaggingRegressor."
        )
    before, members, features = found
    parts = []
    for _, block in _blocks(X, chunk_rows):
        block = before.transform(block) if before is not None else block
        cols = [
            m.predict(block if features is None else block[:, features[i]])
            for i, m in enumerate(members)
        ]
        parts.append(np.asarray(cols, dtype=np.float64))
    return np.concatenate(parts, axis=1) if parts else np.empty((len(members), 0))


def _accepts_return_std(estimator: Any) -> bool:
    final = _final(estimator)
    try:
        return "return_std" in inspect.signature(final.predict).parameters
    except (TypeError, ValueError):
        return False


def _accepts_quantiles(estimator: Any) -> bool:
    final = _final(estimator)
    try:
        return "quantiles" in inspect.signature(final.predict).parameters
    except (TypeError, ValueError):
        return False


#: The quantiles one standard deviation either side of a normal distribution's median.
_ONE_SIGMA = (0.15865525393145707, 0.8413447460685429)


def predictive_std(estimator: Any, X: Any, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> np.ndarray:
    """The model's predictive standard deviation per row, shape ``(n,)``.

    From ``predict(X, return_std=True)`` when the model offers it; for a quantile
    regressor (``predict(X, quantiles=...)``, e.g. quantile_forest's
    ``RandomForestQuantileRegressor``) half the distance between its 15.9 % and 84.1 %
    quantiles (one standard deviation, were the predictive distribution normal); else the
    standard deviation of its members' predictions (:func:`member_predictions`).

    Raises
    ------
    TypeError
        When the model gives neither.
    """
    if _accepts_return_std(estimator):
        parts = [
            np.asarray(estimator.predict(b, return_std=True)[1], dtype=np.float64).ravel()
            for _, b in _blocks(X, chunk_rows)
        ]
        return np.concatenate(parts) if parts else np.empty(0)
    if _accepts_quantiles(estimator):
        parts = [
            np.diff(np.asarray(estimator.predict(b, quantiles=list(_ONE_SIGMA)),
                               dtype=np.float64), axis=1).ravel() / 2.0
            for _, b in _blocks(X, chunk_rows)
        ]
        return np.concatenate(parts) if parts else np.empty(0)
    try:
        return member_predictions(estimator, X, chunk_rows).std(axis=0)
    except TypeError:
        raise TypeError(
            f"{type(estimator).__name__} gives no predictive uncertainty; use a model with "
            "predict(X, return_std=True) (GaussianProcessRegressor, BayesianRidge) or an "
            "ensemble (RandomForestRegressor, activelab.Committee of regressors)."
        ) from None
