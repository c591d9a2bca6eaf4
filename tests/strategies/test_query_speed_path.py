"""The fast query path (linear-model probabilities, blocked entropy) gives the plain results."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, SGDClassifier

from activelab.learners import ActiveLearner
from activelab.pool import RowView
from activelab.proba import (
    _linear_proba_model,
    predict_proba_checked,
    predict_proba_chunked,
    row_reduce,
)
from activelab.strategies.base import QueryContext, top_k
from activelab.strategies.registry import get_strategy
from activelab.strategies.uncertainty import (
    Entropy,
    entropy_utility,
    least_confident_utility,
    margin_utility,
)


def _data(n_classes: int, n_pool: int = 3000, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((6, n_classes)) * 2.0
    X_train = rng.standard_normal((300, 6))
    y_train = np.argmax(X_train @ W + rng.gumbel(size=(300, n_classes)), axis=1)
    X_pool = rng.standard_normal((n_pool, 6))
    return X_train, y_train, X_pool


def _plain_ids(estimator, X_pool: np.ndarray, k: int, seed: int) -> np.ndarray:
    proba = predict_proba_checked(estimator, X_pool)
    utilities = -(np.where(proba > 0, proba * np.log(np.where(proba > 0, proba, 1)), 0)).sum(1)
    return top_k(utilities, k, np.random.RandomState(seed))


@pytest.mark.parametrize(
    ("make", "n_classes", "mode"),
    [
        (lambda: LogisticRegression(max_iter=300), 4, "softmax"),
        (lambda: LogisticRegression(max_iter=300), 2, "binary"),
        (lambda: SGDClassifier(loss="log_loss", random_state=0), 3, "ovr"),
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_linear_fast_path_matches_predict_proba(make, n_classes, mode, dtype):
    X_train, y_train, X_pool = _data(n_classes)
    X_pool = X_pool.astype(dtype)
    est = make().fit(X_train.astype(dtype), y_train)
    linear = _linear_proba_model(est, X_pool)
    assert linear is not None and linear.mode == mode
    fast = predict_proba_chunked(est, X_pool, chunk_rows=700)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fast, est.predict_proba(X_pool), rtol=0, atol=tol)
    assert fast.dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_learner_query_ids_equal_plain_path(dtype):
    X_train, y_train, X_pool = _data(5, n_pool=9000)
    X_pool = X_pool.astype(dtype)
    learner = ActiveLearner(
        LogisticRegression(max_iter=300), query_strategy="entropy",
        X_training=X_train.astype(dtype), y_training=y_train, random_state=3,
    )
    ids, rows = learner.query(X_pool, n_instances=25)
    expected = _plain_ids(learner.estimator_, X_pool, 25, 3)
    np.testing.assert_array_equal(ids, expected)
    np.testing.assert_array_equal(rows, X_pool[expected])


def test_row_view_with_gaps_matches_plain_path():
    X_train, y_train, X_pool = _data(3, n_pool=5000)
    est = LogisticRegression(max_iter=300).fit(X_train, y_train)
    positions = np.flatnonzero(np.arange(5000) % 3 != 1)
    view = RowView(X_pool, positions)
    fast = predict_proba_chunked(est, view, chunk_rows=1000)
    np.testing.assert_allclose(fast, est.predict_proba(X_pool[positions]), rtol=0, atol=1e-12)
    context = QueryContext(positions, view, estimator=est)
    result = Entropy(random_state=0).select(context, 10)
    expected = positions[_plain_ids(est, X_pool[positions], 10, 0)]
    np.testing.assert_array_equal(result.ids, expected)


class _Tempered(LogisticRegression):
    """A linear model whose probabilities are not the plain softmax of its logits."""

    def predict_proba(self, X):
        proba = super().predict_proba(X) ** 0.5
        return proba / proba.sum(axis=1, keepdims=True)


def test_overridden_predict_proba_is_respected():
    X_train, y_train, X_pool = _data(4)
    est = _Tempered(max_iter=300).fit(X_train, y_train)
    assert _linear_proba_model(est, X_pool) is None
    np.testing.assert_allclose(
        predict_proba_chunked(est, X_pool, chunk_rows=500), est.predict_proba(X_pool), atol=1e-12
    )


def test_sparse_and_integer_pools_use_the_linear_kernel():
    import scipy.sparse as sp

    X_train, y_train, X_pool = _data(3)
    est = LogisticRegression(max_iter=300).fit(X_train, y_train)
    X_sparse = sp.csr_matrix(X_pool)
    X_int = np.round(X_pool * 3).astype(np.int64)
    for X in (X_sparse, X_int):
        assert _linear_proba_model(est, X) is not None
        np.testing.assert_allclose(
            predict_proba_chunked(est, X), est.predict_proba(X), rtol=0, atol=1e-12
        )
    # other sparse formats and object arrays still go through the estimator
    assert _linear_proba_model(est, sp.csc_matrix(X_pool)) is None


def test_entropy_utility_worked_values():
    proba = np.array(
        [[0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0], [0.9, 0.1, 0, 0]]
    )
    expected = [np.log(4), 0.0, np.log(2), -(0.9 * np.log(0.9) + 0.1 * np.log(0.1))]
    np.testing.assert_allclose(entropy_utility(proba), expected, rtol=1e-15)
    # a query of 2 picks the uniform row, then the 50/50 row
    result = Entropy(random_state=0).select(QueryContext([10, 11, 12, 13], proba=proba), 2)
    assert result.ids.tolist() == [10, 12]


def test_entropy_blocks_give_equal_rows_equal_utilities():
    rng = np.random.default_rng(1)
    rows = rng.dirichlet(np.ones(7), size=3)
    proba = rows[np.arange(10_000) % 3]  # crosses several blocks
    u = entropy_utility(proba)
    for j in range(3):
        assert np.unique(u[j::3]).size == 1
    np.testing.assert_allclose(u[:3], -(rows * np.log(rows)).sum(1), rtol=1e-13)


@pytest.mark.parametrize("n_cols", [1, 5, 40])
def test_row_reduce_matches_numpy(n_cols):
    x = np.random.default_rng(2).standard_normal((50, n_cols))
    np.testing.assert_allclose(row_reduce(x, np.add), x.sum(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(row_reduce(x, np.maximum), x.max(axis=1))


def test_margin_and_least_confident_worked_values():
    proba = np.array([[0.5, 0.3, 0.2], [0.4, 0.4, 0.2], [0.9, 0.05, 0.05]])
    np.testing.assert_allclose(margin_utility(proba), [-0.2, 0.0, -0.85], atol=1e-15)
    np.testing.assert_allclose(least_confident_utility(proba), [0.5, 0.6, 0.1], atol=1e-15)
    ctx = QueryContext([7, 8, 9], proba=proba)
    assert get_strategy("margin", random_state=0).select(ctx, 2).ids.tolist() == [8, 7]
    assert get_strategy("least_confident", random_state=0).select(ctx, 1).ids.tolist() == [8]


@pytest.mark.parametrize("n_classes", [1, 2, 7, 40])
def test_blocked_margin_and_least_confident_equal_the_plain_formulas(n_classes):
    rng = np.random.default_rng(n_classes)
    proba = rng.dirichlet(np.ones(n_classes), size=9000)
    proba[::5] = np.round(proba[::5], 1)  # ties between the top classes
    plain_lc = 1.0 - proba.max(axis=1)
    np.testing.assert_array_equal(least_confident_utility(proba), plain_lc)
    if n_classes == 1:
        np.testing.assert_array_equal(margin_utility(proba), -1.0)
        return
    top2 = np.sort(proba, axis=1)[:, -2:]
    np.testing.assert_array_equal(margin_utility(proba), top2[:, 0] - top2[:, 1])
