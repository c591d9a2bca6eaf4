"""Small pools and a fitted learner shared by the scale tests (built once per process)."""

from __future__ import annotations

import functools

import numpy as np
from sklearn.linear_model import LogisticRegression

from activelab.learners import ActiveLearner


@functools.cache
def pool_data(n_pool: int = 2500, n_features: int = 5) -> tuple[np.ndarray, ...]:
    """``(X_train, y_train, X_pool)``: 4 classes from a noisy linear rule."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((n_features, 4)) * 2
    X_train = rng.standard_normal((200, n_features))
    y_train = np.argmax(X_train @ W + rng.gumbel(size=(200, 4)), axis=1)
    X_pool = rng.standard_normal((n_pool, n_features))
    return X_train, y_train, X_pool


@functools.cache
def fitted_learner(strategy: str = "entropy") -> ActiveLearner:
    """A logistic-regression learner fitted on :func:`pool_data`'s training rows."""
    X_train, y_train, _ = pool_data()
    return ActiveLearner(
        LogisticRegression(max_iter=300), query_strategy=strategy,
        X_training=X_train, y_training=y_train, random_state=0,
    )


def in_memory_ids(
    strategy: str, n: int, exclude: np.ndarray | None = None, n_rows: int | None = None
) -> np.ndarray:
    """The ids the in-memory path picks from :func:`pool_data`'s pool (its first rows)."""
    X_pool = pool_data()[2][:n_rows]
    candidates = np.setdiff1d(np.arange(len(X_pool)), [] if exclude is None else exclude)
    learner = fitted_learner(strategy)
    return learner.query_result(X_pool[candidates], n, candidate_ids=candidates).ids
