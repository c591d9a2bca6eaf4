"""Fused scoring (utilities straight from the model, block by block) picks the plain ids.

"Plain" is the straightforward computation: the whole probability matrix, the measure
written with whole-array numpy, and the seeded ``top_k``.  Where the model's arithmetic
is exact (small integer weights and features) the plain matrix is scikit-learn's own
``predict_proba``; elsewhere it is ``predict_proba_chunked``, which makes the same
matrix products as the fused path.

These tests pin the numpy path, so they run with the optional compiled kernels off;
tests/test_compiled.py checks that the compiled path picks the same ids.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from activelab.compiled import kernels_off
from activelab.engine.models import SparseSafeScaler
from activelab.parallel import run_blocks, scoring_threads
from activelab.pool import RowView
from activelab.proba import (
    KERNEL_ROWS,
    _DecisionKernel,
    _LinearKernel,
    _ProbaKernel,
    predict_proba_chunked,
    probability_kernel,
    reduce_proba,
)
from activelab.strategies import QueryContext, get_strategy, top_k
from activelab.strategies.query import query_once, utilities_once
from activelab.strategies.uncertainty import entropy_block

MEASURES = ("entropy", "margin", "least_confident")


@pytest.fixture(autouse=True)
def _numpy_path():
    with kernels_off():
        yield
N = 2 * KERNEL_ROWS + 17  # three blocks, the last one short


def plain_utility(proba: np.ndarray, measure: str) -> np.ndarray:
    """The measure with whole-array numpy (sums over fewer than 8 classes are sequential)."""
    if measure == "entropy":
        return -(proba * np.log(np.where(proba > 0, proba, 1.0))).sum(axis=1)
    if measure == "margin":
        top = np.sort(proba, axis=1)
        return top[:, -2] - top[:, -1]
    return 1.0 - proba.max(axis=1)


def exact_model(n_classes: int = 3, n_features: int = 4) -> LogisticRegression:
    """A logistic regression whose weights are small integers: its logits are exact."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, n_features))
    est = LogisticRegression(max_iter=200).fit(X, np.arange(60) % n_classes)
    est.coef_ = rng.integers(-2, 3, size=est.coef_.shape).astype(np.float64)
    est.intercept_ = rng.integers(-1, 2, size=est.intercept_.shape).astype(np.float64)
    return est


def exact_pool(n: int = N, n_features: int = 4, seed: int = 1) -> np.ndarray:
    """Integer features, with exact duplicates far apart (ties across blocks)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-3, 4, size=(n, n_features)).astype(np.float64)
    X[[i for i in (5, KERNEL_ROWS + 3, n - 1) if i < n]] = X[7]
    return X


@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_fused_ids_equal_sklearn_plain_ids_with_ties(measure, threads, n_classes):
    est, X = exact_model(n_classes), exact_pool()
    u_plain = plain_utility(est.predict_proba(X), measure)
    assert np.unique(u_plain).size < X.shape[0] // 10  # many exact ties
    for seed in range(3):
        with scoring_threads(threads):
            result = query_once(est, X, None, measure, 60, random_state=seed)
        np.testing.assert_array_equal(result.utilities, u_plain)
        np.testing.assert_array_equal(result.ids, top_k(u_plain, 60, seed))


@pytest.mark.parametrize("measure", MEASURES)
def test_sparse_pool_gives_sklearn_values_and_ids(measure):
    rng = np.random.default_rng(3)
    X = sp.random(N, 30, density=0.1, format="csr", random_state=4)
    est = LogisticRegression(max_iter=300).fit(X[:500], rng.integers(0, 4, 500))
    assert isinstance(probability_kernel(est, X), _LinearKernel)
    u_plain = plain_utility(est.predict_proba(X), measure)
    for threads in (1, 2):
        with scoring_threads(threads):
            result = query_once(est, X, None, measure, 40, random_state=0)
        np.testing.assert_array_equal(result.utilities, u_plain)
        np.testing.assert_array_equal(result.ids, top_k(u_plain, 40, 0))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("measure", MEASURES)
def test_random_pools_fused_equal_the_whole_matrix_at_any_thread_count(dtype, measure):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((N, 7)).astype(dtype)
    X[[3, KERNEL_ROWS + 1, N - 2]] = X[11]  # duplicates in three blocks
    est = LogisticRegression(max_iter=300).fit(X[:400], rng.integers(0, 5, 400))
    from activelab.strategies import uncertainty

    plain = getattr(uncertainty, f"{measure}_utility")(predict_proba_chunked(est, X))
    np.testing.assert_allclose(predict_proba_chunked(est, X), est.predict_proba(X),
                               atol=1e-5 if dtype == np.float32 else 1e-12)
    for threads in (1, 2, 3):
        with scoring_threads(threads):
            result = query_once(est, X, None, measure, 50, random_state=7)
        np.testing.assert_array_equal(result.utilities, plain)
        np.testing.assert_array_equal(result.ids, top_k(plain, 50, 7))


def test_fused_path_never_builds_the_probability_matrix(monkeypatch):
    import activelab.strategies.base as base

    est, X = exact_model(), exact_pool()

    def refuse(*args, **kwargs):
        raise AssertionError("the n x C probability matrix was built")

    monkeypatch.setattr(base, "predict_proba_chunked", refuse)
    for measure in MEASURES:
        assert len(query_once(est, X, None, measure, 5, random_state=0).ids) == 5
    with pytest.raises(AssertionError, match="matrix was built"):
        query_once(est, X, None, "badge", 5, random_state=0)  # BADGE needs the matrix


def test_precomputed_or_cached_probabilities_are_used_as_given():
    est, X = exact_model(), exact_pool(300)
    proba = np.full((300, 3), 1 / 3)
    proba[:10] = [0.8, 0.1, 0.1]
    u = utilities_once(est, X, None, "least_confident", proba=proba)
    np.testing.assert_allclose(u, np.where(np.arange(300) < 10, 0.2, 2 / 3))


def test_row_view_with_gaps_and_a_pipeline_match_the_whole_matrix():
    rng = np.random.default_rng(6)
    base_X = rng.standard_normal((N + 500, 5)) * [1, 10, 100, 1, 1]
    positions = np.flatnonzero(np.arange(N + 500) % 7 != 3)
    view = RowView(base_X, positions)
    model = make_pipeline(SparseSafeScaler(), LogisticRegression(max_iter=300))
    model.fit(base_X[:600], rng.integers(0, 3, 600))
    kernel = probability_kernel(model, view)
    assert isinstance(kernel, _LinearKernel) and kernel.steps
    full = predict_proba_chunked(model, view)
    np.testing.assert_allclose(full, model.predict_proba(base_X[positions]), atol=1e-12)
    plain = plain_utility(full, "margin")
    for threads in (1, 2):
        with scoring_threads(threads):
            result = query_once(model, view, positions, "margin", 30, random_state=1)
        np.testing.assert_array_equal(result.utilities, plain)
        np.testing.assert_array_equal(result.ids, positions[top_k(plain, 30, 1)])


def test_decision_function_models_and_models_without_logits():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((3000, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    gb = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y)
    rf = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    assert isinstance(probability_kernel(gb, X), _DecisionKernel)
    assert isinstance(probability_kernel(rf, X), _ProbaKernel)
    for model in (gb, rf):
        plain = plain_utility(model.predict_proba(X), "entropy")
        fused = reduce_proba(model, X, entropy_block)
        np.testing.assert_allclose(fused, plain, rtol=0, atol=1e-12)
        result = query_once(model, X, None, "entropy", 20, random_state=0)
        np.testing.assert_array_equal(result.ids, top_k(fused, 20, 0))


def test_strategy_on_a_model_without_probabilities_names_the_fix():
    from sklearn.svm import LinearSVC

    X = np.random.default_rng(0).standard_normal((50, 3))
    svc = LinearSVC().fit(X, np.arange(50) % 2)
    with pytest.raises(TypeError, match="predict_proba"):
        query_once(svc, X, None, "entropy", 2)


def test_run_blocks_runs_every_block_once_and_raises_errors():
    seen = np.zeros(100, dtype=int)

    def mark(i):
        seen[i] += 1
        run_blocks(3, lambda j: None)  # nested: runs on this thread

    run_blocks(100, mark, n_jobs=2)
    assert (seen == 1).all()

    def fail(i):
        if i == 37:
            raise KeyError("block 37")

    with pytest.raises(KeyError, match="block 37"):
        run_blocks(100, fail, n_jobs=2)


def test_blas_limits_are_restored_after_scoring():
    from threadpoolctl import threadpool_info

    before = [i.get("num_threads") for i in threadpool_info() if i.get("user_api") == "blas"]
    est, X = exact_model(), exact_pool()
    with scoring_threads(2):
        query_once(est, X, None, "entropy", 3)
    after = [i.get("num_threads") for i in threadpool_info() if i.get("user_api") == "blas"]
    assert before == after


def test_scoring_threads_rejects_bad_counts():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="positive integer"):
            with scoring_threads(bad):
                pass


def test_entropy_of_zero_and_nan_probabilities():
    proba = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [np.nan, 0.5, 0.5], [0.2, 0.3, 0.5]])
    ctx = QueryContext(np.arange(4), proba=proba)
    u = get_strategy("entropy").utility(ctx)
    assert u[0] == 0.0 and u[1] == pytest.approx(np.log(2)) and np.isnan(u[2])
    assert u[3] == pytest.approx(-(0.2 * np.log(0.2) + 0.3 * np.log(0.3) + 0.5 * np.log(0.5)))
