"""Diversity strategies: k-means, core-set, hybrid, ranked batch, information density."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist

from activelab.pool import RowView
from activelab.strategies import QueryContext, get_strategy
from activelab.strategies.density import mean_similarity
from activelab.strategies.diversity import k_center_greedy, min_sq_distances


def test_min_sq_distances_matches_brute_force_across_blocks():
    rng = np.random.RandomState(0)
    X = rng.randn(37, 5).astype(np.float32)
    C = rng.randn(11, 5).astype(np.float32)
    got = min_sq_distances(X, C, block_rows=4, block_centers=3)
    np.testing.assert_allclose(got, (cdist(X, C) ** 2).min(axis=1), rtol=1e-4, atol=1e-4)
    assert np.isinf(min_sq_distances(X, C[:0])).all()


def test_coreset_picks_the_farthest_point_then_the_next_farthest():
    # labeled at the origin; distances 1, 2, sqrt(50), sqrt(32)
    X = np.array([[1.0, 0.0], [0.0, 2.0], [5.0, 5.0], [4.0, 4.0]])
    ctx = QueryContext([10, 11, 12, 13], X, X_labeled=np.zeros((1, 2)))
    result = get_strategy("coreset").select(ctx, 2)
    # after (5, 5): (4, 4) is sqrt(2) from it, (0, 2) is 2 from the origin -> (0, 2)
    assert result.ids.tolist() == [12, 11]
    np.testing.assert_allclose(result.utilities, [1, 2, np.sqrt(50), np.sqrt(32)], rtol=1e-6)
    assert result.info["radius"] == pytest.approx(np.sqrt(2), rel=1e-5)


def test_coreset_without_labels_draws_the_first_then_goes_far():
    X = np.array([[0.0, 0.0], [0.1, 0.0], [10.0, 0.0]])
    positions, picked = k_center_greedy(X, 2, random_state=0)
    assert np.isinf(picked[0])
    other = 2 if positions[0] in (0, 1) else 0
    assert positions[1] == other


def test_coreset_handles_duplicates_and_whole_pool():
    X = np.zeros((5, 3))
    ctx = QueryContext(np.arange(5) * 2, X, X_labeled=np.zeros((1, 3)))
    result = get_strategy("coreset").select(ctx, 5)
    assert sorted(result.ids.tolist()) == [0, 2, 4, 6, 8]


def three_clusters():
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    offsets = np.array([[0.0, 0.0], [0.3, 0.0], [-0.3, 0.0], [0.0, 0.3], [0.0, -0.3]])
    X = (centres[:, None, :] + offsets[None]).reshape(-1, 2)
    return X  # rows 0, 5, 10 are the centres


def test_kmeans_picks_the_centre_of_each_cluster():
    X = three_clusters()
    ctx = QueryContext(np.arange(15) + 100, X)
    result = get_strategy("kmeans", random_state=0, n_init=3).select(ctx, 3)
    assert sorted(result.ids.tolist()) == [100, 105, 110]
    assert result.info["n_clusters"] == 3


def test_weighted_kmeans_still_one_per_cluster():
    X = three_clusters()
    proba = np.tile([0.9, 0.1], (15, 1))
    proba[5:10] = [0.5, 0.5]
    ctx = QueryContext(np.arange(15), X, proba=proba)
    result = get_strategy("kmeans", random_state=0, weighted=True, n_init=3).select(ctx, 3)
    assert sorted(result.ids.tolist()) == [0, 5, 10]
    # the most uncertain cluster carries the most weight, so comes first
    assert result.ids[0] == 5


def test_kmeans_with_duplicate_rows_still_returns_unique_ids():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]), 3, axis=0)
    ctx = QueryContext(np.arange(9), X)
    with pytest.warns(Warning):  # k-means warns about fewer distinct points than clusters
        result = get_strategy("kmeans", random_state=0).select(ctx, 5)
    assert len(set(result.ids.tolist())) == 5


def test_hybrid_prefilters_by_margin_then_spreads():
    # four uncertain items (margin 0) and four certain ones; factor 2, n 2 -> m = 4
    X = np.array(
        [[0, 0], [0, 1], [0, 8], [1, 9], [5, 5], [6, 6], [7, 7], [8, 8]], dtype=float
    )
    proba = np.array([[0.5, 0.5]] * 4 + [[0.95, 0.05]] * 4)
    ctx = QueryContext(np.arange(8) + 20, X, proba=proba, X_labeled=np.array([[0.0, 0.0]]))
    result = get_strategy("hybrid", factor=2, method="coreset").select(ctx, 2)
    # among rows 0..3 (distances 0, 1, 8, 9.06 to the labeled origin) the farthest is
    # (1,9), row 3; then (0,8) is sqrt(2) from it and (0,1) is 1 from the origin -> row 2
    assert result.ids.tolist() == [23, 22]
    assert result.info["prefilter_size"] == 4
    np.testing.assert_allclose(result.utilities, [0] * 4 + [-0.9] * 4, atol=1e-12)


def test_hybrid_kmeans_within_prefilter():
    X = three_clusters()
    proba = np.tile([0.95, 0.05], (15, 1))
    proba[:10] = [0.5, 0.5]  # clusters 0 and 1 uncertain
    ctx = QueryContext(np.arange(15), X, proba=proba)
    result = get_strategy("hybrid", factor=5, random_state=0).select(ctx, 2)
    assert sorted(result.ids.tolist()) == [0, 5]


def test_ranked_batch_by_hand():
    # labeled (0,0); alpha = 3/4 then 2/4; least-confident u = 0.5, 0.1, 0.4
    # pick 1: A (d=1):   .75*(1-1/2)     + .25*.5 = .5
    #         B (d=4):   .75*(1-1/5)     + .25*.1 = .625
    #         C (d=√17): .75*(1-1/5.123) + .25*.4 = .704   -> C
    # pick 2: A (d=1): .5*.5 + .5*.5 = .5; B (d=1, to C): .5*.5 + .5*.1 = .3 -> A, then B
    X = np.array([[1.0, 0.0], [4.0, 0.0], [4.0, 1.0]])
    proba = np.array([[0.5, 0.5], [0.9, 0.1], [0.6, 0.4]])
    ctx = QueryContext([10, 11, 12], X, proba=proba, X_labeled=np.zeros((1, 2)))
    result = get_strategy("ranked_batch").select(ctx, 3)
    assert result.ids.tolist() == [12, 10, 11]
    expected = [0.5, 0.625, 0.75 * (1 - 1 / (1 + np.sqrt(17))) + 0.1]
    np.testing.assert_allclose(result.utilities, expected, rtol=1e-5)


def clustered_pool(seed=0):
    rng = np.random.RandomState(seed)
    tight = rng.randn(50, 2) * 0.01  # the most uncertain items, all in one spot
    spread = rng.uniform(-10, 10, size=(200, 2))
    X = np.vstack([tight, spread])
    proba = np.vstack([np.tile([0.5, 0.5], (50, 1)), np.tile([0.8, 0.2], (200, 1))])
    proba[:50] += rng.uniform(0, 1e-3, size=(50, 1)) * [1, -1]
    return X, proba


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("coreset", {}),
        ("kmeans", {}),
        ("hybrid", {}),
        ("hybrid", {"method": "coreset"}),
        ("ranked_batch", {}),
        ("badge", {}),
    ],
)
def test_diverse_batch_is_more_spread_than_top_k(name, params):
    X, proba = clustered_pool()
    ids = np.arange(250)
    ctx = QueryContext(
        ids, X, proba=proba, X_labeled=np.array([[0.0, 0.0]]), extras={"embeddings": X}
    )
    top = get_strategy("margin", random_state=0).select(ctx, 10).ids
    diverse = get_strategy(name, random_state=0, **params).select(ctx, 10).ids
    assert pdist(X[diverse]).min() > 10 * pdist(X[top]).min()


def test_strategies_accept_a_row_view():
    X = three_clusters()
    base = np.vstack([np.full((3, 2), 100.0), X])
    view = RowView(base, np.arange(3, 18))
    ctx = QueryContext(np.arange(3, 18), view, X_labeled=np.zeros((1, 2)))
    direct = QueryContext(np.arange(3, 18), X, X_labeled=np.zeros((1, 2)))
    a = get_strategy("coreset").select(ctx, 4).ids
    b = get_strategy("coreset").select(direct, 4).ids
    assert a.tolist() == b.tolist()


def test_mean_similarity_by_hand():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    # cosines with the three rows: row 0 -> 1, 0, 1 -> mean 2/3 -> (1 + 2/3) / 2
    np.testing.assert_allclose(mean_similarity(X), [5 / 6, 4 / 6, 5 / 6])
    # euclidean: row 0 -> distances 0, √2, 0 -> sims 1, 1/(1+√2), 1
    s = 1 / (1 + np.sqrt(2))
    np.testing.assert_allclose(
        mean_similarity(X, metric="euclidean"), [(2 + s) / 3, (1 + 2 * s) / 3, (2 + s) / 3],
        rtol=1e-6,
    )


def test_information_density_prefers_the_dense_uncertain_item():
    # two equally uncertain items; one sits among many others, one is an outlier
    X = np.array([[1.0, 0.0]] * 5 + [[0.0, 1.0], [1.0, 0.05]])
    proba = np.array([[0.9, 0.1]] * 5 + [[0.5, 0.5], [0.5, 0.5]])
    ctx = QueryContext(np.arange(7), X, proba=proba)
    result = get_strategy("information_density").select(ctx, 1)
    assert result.ids.tolist() == [6]
    plain = get_strategy("information_density", beta=0.0, random_state=0).select(ctx, 2)
    assert sorted(plain.ids.tolist()) == [5, 6]


def test_information_density_samples_large_pools_reproducibly():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 3)
    proba = rng.dirichlet([1, 1], size=300)
    ctx = QueryContext(np.arange(300), X, proba=proba)
    s = get_strategy("information_density", sample_size=150, random_state=3)
    a, b = s.select(ctx, 5), get_strategy(
        "information_density", sample_size=150, random_state=3
    ).select(ctx, 5)
    assert a.ids.tolist() == b.ids.tolist()
    assert a.info["density_sample"] == 150
    exact = get_strategy("information_density", sample_size=None).density(ctx)
    approx = s.density(ctx)
    assert np.abs(exact - approx).max() < 0.1


@pytest.mark.parametrize(
    ("name", "params", "match"),
    [
        ("hybrid", {"method": "nope"}, "method"),
        ("hybrid", {"factor": 0}, "factor"),
        ("information_density", {"metric": "l1"}, "metric"),
        ("information_density", {"sample_size": 0}, "sample_size"),
    ],
)
def test_bad_parameters_raise_value_error(name, params, match):
    with pytest.raises(ValueError, match=match):
        get_strategy(name, **params)


def test_coreset_needs_features():
    with pytest.raises(ValueError, match="features"):
        get_strategy("coreset").select(QueryContext([0, 1]), 1)
