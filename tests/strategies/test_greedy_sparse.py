"""``greedy_x`` and ``greedy_io`` on a sparse (CSR) pool: distances without densifying.

The sparse path computes ``||x - c||^2 = ||x||^2 + ||c||^2 - 2 x.c``; the dense path
takes differences for the per-pick updates and the centroid.  On small-integer data
(and a pool of 2^k rows, so the centroid is exact too) both are exact, so the ids agree
even on ties; on continuous data they agree where no two candidates nearly tie.
"""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from activelab.strategies import get_strategy
from activelab.strategies.query import query_context

IDS = np.array([10, 11, 12, 13], dtype=np.int64)


def _select(name, n, X, ids=IDS, **context):
    ctx = query_context(None, X, ids[: X.shape[0]], **context)
    return get_strategy(name, random_state=0).select(ctx, n)


def test_greedy_x_on_csr_points_by_hand():
    X = sp.csr_matrix(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0], [4.0, 4.0]]))
    # to the labeled (0, 0): 0, 1, 3, sqrt(32) -> (4, 4) first; to (4, 4): sqrt(32), 5,
    # sqrt(17), so the minima stay 0, 1, 3 -> (0, 3); to (0, 3): 3, sqrt(10) -> 0, 1 -> (1, 0)
    result = _select("greedy_x", 3, X, X_labeled=sp.csr_matrix(np.zeros((1, 2))))
    assert result.ids.tolist() == [13, 12, 11]
    assert result.utilities.tolist() == [0.0, 1.0, 3.0, np.sqrt(32.0)]
    # the labeled rows may come dense
    assert _select("greedy_x", 3, X, X_labeled=np.zeros((1, 2))).ids.tolist() == [13, 12, 11]


def test_greedy_x_on_csr_without_labels_starts_nearest_the_centroid():
    X = sp.csr_matrix(np.array([[0.0], [1.0], [2.0], [10.0]]))  # centroid 3.25: 2 is nearest
    # then to {2}: 2, 1, -, 8 -> 10; then to {2, 10}: 2, 1 -> 0
    assert _select("greedy_x", 3, X).ids.tolist() == [12, 13, 10]


def test_greedy_io_on_csr_points_by_hand():
    X = sp.csr_matrix(np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0], [3.0, 4.0]]))
    f = np.array([1.0, 2.0, 5.0, 1.0])  # the model's predictions
    # labeled ((0, 0), y=1): |dx| 0, 3, 4, 5 times |f - 1| 0, 1, 4, 0 -> 0, 3, 16, 0: (0, 4).
    # with ((0, 4), f=5): |dx| 4, 5, -, 3 times |f - 5| 4, 3, -, 4 -> 16, 15, -, 12;
    # minima 0, 3, -, 0 -> (3, 0).  With ((3, 0), f=2): |dx| 3, -, -, 4 times |f - 2| 1, -,
    # -, 1 -> 3, 4; minima 0, 0: a tie -> the earlier, (0, 0).
    result = _select("greedy_io", 3, X, X_labeled=sp.csr_matrix((1, 2)),
                     y_labeled=np.array([1.0]), extras={"predictions": f})
    assert result.ids.tolist() == [12, 11, 10]
    assert result.utilities.tolist() == [0.0, 3.0, 16.0, 0.0]


def _integer_pool(seed, n=256, d=30, density=0.2):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=rng,
                  data_rvs=lambda k: rng.integers(1, 6, k).astype(np.float64))
    return X, rng


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_labeled", [0, 5])
def test_csr_and_dense_pools_pick_the_same_ids_on_exact_data(seed, n_labeled):
    X, rng = _integer_pool(seed)
    XL = _integer_pool(seed + 100, n=max(n_labeled, 1))[0][:n_labeled]
    yL = rng.integers(0, 10, n_labeled).astype(np.float64)
    f = rng.integers(0, 10, X.shape[0]).astype(np.float64)
    ids = np.arange(1000, 1000 + X.shape[0])
    for name in ("greedy_x", "greedy_io"):
        extra = {"y_labeled": yL, "extras": {"predictions": f}} if name == "greedy_io" else {}
        sparse = _select(name, 25, X, ids=ids, X_labeled=XL, **extra)
        dense = _select(name, 25, X.toarray(), ids=ids, X_labeled=XL.toarray(), **extra)
        assert sparse.ids.tolist() == dense.ids.tolist()
        assert np.array_equal(sparse.utilities, dense.utilities, equal_nan=True)
        assert sparse.info == dense.info


@pytest.mark.parametrize("seed", [3, 4])
def test_csr_and_dense_pools_pick_the_same_ids_on_continuous_data(seed):
    rng = np.random.default_rng(seed)
    X = sp.random(300, 40, density=0.1, format="csr", random_state=rng)
    XL = sp.random(8, 40, density=0.1, format="csr", random_state=rng)
    yL, f = rng.normal(size=8), rng.normal(size=300)
    for name in ("greedy_x", "greedy_io"):
        extra = {"y_labeled": yL, "extras": {"predictions": f}} if name == "greedy_io" else {}
        sparse = _select(name, 20, X, ids=np.arange(300), X_labeled=XL, **extra)
        dense = _select(name, 20, X.toarray(), ids=np.arange(300), X_labeled=XL.toarray(),
                        **extra)
        assert sparse.ids.tolist() == dense.ids.tolist()
        assert np.allclose(sparse.utilities, dense.utilities, rtol=1e-12, atol=1e-12)


def test_a_wide_csr_pool_is_never_densified():
    n, d, per_row = 20_000, 200_000, 20
    rng = np.random.default_rng(0)
    X = sp.csr_matrix((rng.random(n * per_row), rng.integers(0, d, n * per_row),
                       np.arange(0, n * per_row + 1, per_row)), shape=(n, d))
    XL = X[:50].copy()
    tracemalloc.start()
    try:
        result = _select("greedy_x", 10, X, ids=np.arange(n), X_labeled=XL)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(set(result.ids.tolist())) == 10
    assert peak < 100 * 2**20  # a dense n x d float64 copy would be 32 GB (3.2e10 bytes)


def test_csr_labeled_rows_with_other_columns_are_refused():
    X = sp.csr_matrix(np.eye(4))
    with pytest.raises(ValueError, match="X_labeled has 3 features but the candidates have 4"):
        _select("greedy_x", 1, X, X_labeled=sp.csr_matrix((1, 3)))
