"""Cold start: random, k-means and TypiClust on hand-built pools."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import activelab
import activelab.cold_start as cold_start_module
from activelab.cold_start import cold_start, typicality
from activelab.pool import Pool

CROSS = np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [-1, -1], [1, -1], [-1, 1]])


def blobs_with_known_centres():
    """Three far-apart symmetric blobs of 9, 5 and 5 points, rows shuffled.

    Each blob is its centre plus offsets that cancel out, so the k-means centre is the
    centre point itself, the item nearest it.
    """
    a = CROSS * 1.0 + [0, 0]
    b = CROSS[:5] * 2.0 + [100, 0]
    c = CROSS[:5] * 3.0 + [0, 100]
    X = np.r_[a, b, c]
    perm = np.random.RandomState(0).permutation(X.shape[0])
    X = X[perm]
    where = {tuple(p): int(np.flatnonzero((X == p).all(axis=1))[0])
             for p in ([0, 0], [100, 0], [0, 100])}
    return X, where


def test_kmeans_picks_the_item_nearest_each_blob_centre_largest_first():
    X, where = blobs_with_known_centres()
    ids = cold_start(X, 3, method="kmeans", random_state=0)
    assert ids.dtype == np.int64
    assert ids[0] == where[(0, 0)]  # the 9-point blob comes first
    assert sorted(ids.tolist()) == sorted(where.values())


def test_kmeans_sparse_input_gives_the_same_items():
    X, where = blobs_with_known_centres()
    ids = cold_start(sp.csr_matrix(X), 3, method="kmeans", random_state=0)
    assert sorted(ids.tolist()) == sorted(where.values())


def test_kmeans_minibatch_path(monkeypatch):
    monkeypatch.setattr(cold_start_module, "MINIBATCH_ROWS", 10)
    X, where = blobs_with_known_centres()
    ids = cold_start(X, 3, method="kmeans", random_state=0)
    assert sorted(ids.tolist()) == sorted(where.values())


def test_kmeans_skips_labeled_rows():
    X, where = blobs_with_known_centres()
    centre = where[(100, 0)]
    ids = cold_start(X, 3, method="kmeans", random_state=0, labeled_ids=[centre])
    assert centre not in ids.tolist() and np.unique(ids).size == 3
    # without its centre, the blob's item nearest the centre is one of the 4 at distance 2
    blob = np.flatnonzero(np.abs(X - [100, 0]).sum(axis=1) <= 2)
    assert len(set(ids.tolist()) & set(blob.tolist())) == 1


def line_clusters():
    """Two 1-D clusters far apart; in each the densest point is not the mean's neighbour.

    With k=2 the mean distance to the two nearest neighbours is, in cluster A
    (0, 0.1, 0.25, 0.45, 3, 5): 0.175, 0.125, 0.175, 0.275, 2.275, 3.275 -> 0.1 is densest,
    while the item nearest A's mean (1.467) is 0.45.  In cluster B (offset 1000:
    0, 0.3, 0.35, 0.6, 2, 4, 6): 0.325, 0.175, 0.15, 0.275, ... -> 1000.35 is densest.
    """
    a = np.array([0.0, 0.1, 0.25, 0.45, 3.0, 5.0])
    b = 1000.0 + np.array([0.0, 0.3, 0.35, 0.6, 2.0, 4.0, 6.0])
    x = np.r_[a, b]
    perm = np.random.RandomState(1).permutation(x.size)
    X = np.column_stack([x[perm], np.zeros(x.size)])
    pos = {float(v): int(np.flatnonzero(np.isclose(X[:, 0], v))[0]) for v in (0.1, 0.45, 1000.35)}
    return X, pos


def test_typiclust_picks_the_densest_point_of_each_cluster():
    X, pos = line_clusters()
    ids = cold_start(X, 2, method="typiclust", random_state=0, k=2)
    assert ids.tolist() == [pos[1000.35], pos[0.1]]  # larger cluster (7 items) first
    # k-means instead takes the item nearest the mean
    km = cold_start(X, 2, method="kmeans", random_state=0)
    assert pos[0.45] in km.tolist() and pos[0.1] not in km.tolist()


def test_typiclust_skips_clusters_covered_by_labels_and_accepts_sparse():
    X, pos = line_clusters()
    covered = cold_start(X, 1, method="typiclust", random_state=0, k=2,
                         labeled_ids=[pos[0.45]])
    # the label in cluster A leaves cluster B, the only uncovered one
    assert covered.tolist() == [pos[1000.35]]
    in_b = int(np.flatnonzero(X[:, 0] == 1006.0)[0])
    other = cold_start(sp.csr_matrix(X), 1, method="typiclust", random_state=0, k=2,
                       labeled_ids=[in_b])
    assert other.tolist() == [pos[0.1]]


def test_typiclust_large_clusters_are_measured_on_a_seeded_sample():
    rng = np.random.RandomState(0)
    core = rng.normal(0.0, 0.01, size=(30, 2))
    spread = rng.uniform(2.0, 6.0, size=(10, 2)) * rng.choice([-1, 1], size=(10, 2))
    X = np.r_[core, spread]
    exact = cold_start(X, 1, method="typiclust", random_state=0, k=3, max_cluster_rows=None)
    assert np.array_equal(
        cold_start(X, 1, method="typiclust", random_state=0, k=3, max_cluster_rows=40), exact
    )
    assert exact[0] < 30
    a = cold_start(X, 1, method="typiclust", random_state=1, k=3, max_cluster_rows=10)
    b = cold_start(X, 1, method="typiclust", random_state=1, k=3, max_cluster_rows=10)
    assert np.array_equal(a, b) and a[0] < 30  # still a point of the dense core


def test_typicality_values():
    X = np.array([[0.0], [0.1], [0.25], [0.45], [3.0], [5.0]])
    expected = 1.0 / np.array([0.175, 0.125, 0.175, 0.275, 2.275, 3.275])
    assert np.allclose(typicality(X, k=2), expected)
    assert np.allclose(typicality(X, k=20), 1.0 / np.abs(X - X.T).sum(axis=1) * 5)
    assert typicality(np.array([[1.0, 2.0]])).tolist() == [1.0]


def test_random_is_seeded_unique_and_skips_labeled():
    X = np.random.RandomState(0).normal(size=(50, 3))
    a = cold_start(X, 20, random_state=3, labeled_ids=np.arange(10))
    b = cold_start(X, 20, random_state=3, labeled_ids=np.arange(10))
    assert np.array_equal(a, b) and a.dtype == np.int64
    assert np.unique(a).size == 20 and a.min() >= 10 and a.max() < 50
    assert sorted(cold_start(X, 50, random_state=0).tolist()) == list(range(50))


@pytest.mark.parametrize("method", ["kmeans", "typiclust"])
def test_duplicate_rows_still_give_distinct_ids(method):
    X = np.repeat(np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]), 4, axis=0)
    with pytest.warns(Warning):  # k-means reports fewer distinct clusters than asked
        ids = cold_start(X, 5, method=method, random_state=0)
    assert np.unique(ids).size == 5
    assert {tuple(r) for r in X[ids]} == {(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)}


def test_works_from_zero_labels_on_a_pool_view():
    X, where = blobs_with_known_centres()
    pool = Pool(X)
    ids = cold_start(pool.unlabeled_view(), 3, method="typiclust", random_state=0)
    assert np.unique(ids).size == 3
    # one item per blob
    blob_of = np.where(X[ids, 0] > 50, 1, np.where(X[ids, 1] > 50, 2, 0))
    assert sorted(blob_of.tolist()) == [0, 1, 2]


def test_package_attribute_is_callable_after_the_module_is_imported():
    X, where = blobs_with_known_centres()
    ids = activelab.cold_start(X, 3, method="kmeans", random_state=0)
    assert sorted(ids.tolist()) == sorted(where.values())


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(n=0), ValueError, "n must be between 1 and 19"),
        (dict(n=20), ValueError, "n must be between 1 and 19"),
        (dict(n=19, labeled_ids=[0]), ValueError, r"between 1 and 18 \(19 rows, 1 already"),
        (dict(n=True), TypeError, "n must be an integer"),
        (dict(n=2, method="coreset"), ValueError, "method must be one of random, kmeans"),
        (dict(n=2, labeled_ids=[25]), ValueError, "labeled_ids must be between 0 and 18"),
        (dict(n=2, method="typiclust", k=0), ValueError, "k must be a positive integer"),
        (dict(n=2, max_cluster_rows=1), ValueError, "max_cluster_rows must be an integer"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    X, _ = blobs_with_known_centres()
    with pytest.raises(error, match=message):
        cold_start(X, **kwargs)
