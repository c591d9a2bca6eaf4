"""Cold start: the first items to label when no label is known yet.

Three ways to pick ``n`` items from the pool:

- ``"random"``: a seeded uniform sample.
- ``"kmeans"``: k-means with ``n`` clusters, then in each cluster the item nearest its
  centre.  Covers the pool's regions, so rare-but-separate groups get a label.
- ``"typiclust"``: TypiClust (Hacohen, Dekel & Weinshall 2022, "Active learning on a
  budget: opposite strategies suit high and low budgets").  Cluster into ``n`` plus the
  number of already-labeled items, take the largest clusters that hold no labeled item,
  and in each pick the most *typical* item: the inverse of its mean distance to its
  ``k`` nearest neighbours in the cluster.  Typical items are dense-region items, which
  is what a model trained on very few labels learns best from.

Examples
--------
>>> import numpy as np
>>> X = np.r_[np.zeros((5, 2)), np.full((5, 2), 10.0)] + np.arange(10)[:, None] * 0.01
>>> ids = cold_start(X, 2, method="kmeans", random_state=0)
>>> sorted(ids.tolist())
[2, 7]
"""

from __future__ import annotations

import numbers
import sys
import types
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils.extmath import row_norms

from .pool import check_features, materialize

__all__ = ["cold_start", "COLD_START_METHODS", "typicality"]

COLD_START_METHODS = ("random", "kmeans", "typiclust")

#: Above this many rows k-means runs as MiniBatchKMeans.
MINIBATCH_ROWS = 20_000

_CHUNK_ROWS = 16_384


def _check_ids(ids: Any, n_samples: int) -> np.ndarray:
    if ids is None:
        return np.empty(0, dtype=np.int64)
    arr = np.asarray(ids)
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"labeled_ids must be integer row positions, got dtype {arr.dtype}.")
    arr = np.unique(arr.astype(np.int64).ravel())
    if arr[0] < 0 or arr[-1] >= n_samples:
        raise ValueError(
            f"labeled_ids must be between 0 and {n_samples - 1}; got {arr[0]}..{arr[-1]}."
        )
    return arr


def _sq_dist_to_assigned(X: Any, centers: np.ndarray, assign: np.ndarray) -> np.ndarray:
    """Squared distance of each row to its own cluster centre (no n x k matrix)."""
    n = X.shape[0]
    x_sq = row_norms(X, squared=True)
    c_sq = row_norms(centers, squared=True)[assign]
    if sp.issparse(X):
        X = X.tocsr()
        rows = np.repeat(np.arange(n), np.diff(X.indptr))
        dots = np.bincount(rows, weights=X.data * centers[assign[rows], X.indices], minlength=n)
    else:
        dots = np.empty(n, dtype=np.float64)
        for start in range(0, n, _CHUNK_ROWS):
            stop = min(start + _CHUNK_ROWS, n)
            dots[start:stop] = np.einsum(
                "ij,ij->i", np.asarray(X[start:stop], dtype=np.float64),
                centers[assign[start:stop]],
            )
    return np.maximum(x_sq + c_sq - 2.0 * dots, 0.0)


def _kmeans(X: Any, n_clusters: int, random_state: Any) -> Any:
    if X.shape[0] > MINIBATCH_ROWS:
        model = MiniBatchKMeans(
            n_clusters=n_clusters, n_init=3, random_state=random_state,
            batch_size=max(2048, 4 * n_clusters),
        )
    else:
        model = KMeans(n_clusters=n_clusters, n_init=3, random_state=random_state)
    return model.fit(X)


def _first_per_group(groups: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Row positions of the smallest ``score`` in each group (ties: smallest position)."""
    order = np.lexsort((np.arange(groups.size), score, groups))
    g = groups[order]
    first = np.r_[True, g[1:] != g[:-1]]
    return order[first]


def _fill(chosen: np.ndarray, candidates: np.ndarray, n: int, rng: np.random.RandomState
          ) -> np.ndarray:
    """Top ``chosen`` up to ``n`` ids with a random sample of the other candidates."""
    if chosen.size >= n:
        return chosen[:n]
    rest = np.setdiff1d(candidates, chosen)
    extra = rng.choice(rest, n - chosen.size, replace=False)
    return np.r_[chosen, extra].astype(np.int64)


def typicality(X: Any, k: int = 20) -> np.ndarray:
    """Typicality of each row among the rows of ``X``.

    ``1 / mean distance to the k nearest other rows`` (``k`` is capped at
    ``n_rows - 1``); ``inf`` for a row with ``k`` exact duplicates, ``1.0`` for a lone
    row (a cluster of one is as typical as it gets).

    Parameters
    ----------
    X : ndarray or sparse matrix, shape (n_rows, n_features)
    k : int, default=20

    Returns
    -------
    ndarray of shape (n_rows,)
    """
    n = X.shape[0]
    if n == 1:
        return np.ones(1)
    k_eff = min(k, n - 1)
    nn = NearestNeighbors(n_neighbors=k_eff + 1).fit(X)
    dist, _ = nn.kneighbors(X)
    # each row is its own nearest neighbour at distance 0: drop that column
    mean = dist[:, 1:].mean(axis=1)
    with np.errstate(divide="ignore"):
        return 1.0 / mean


def cold_start(
    X: Any,
    n: int,
    method: str = "random",
    random_state: Any = None,
    *,
    labeled_ids: Any = None,
    k: int = 20,
    max_cluster_rows: int | None = 3000,
) -> np.ndarray:
    """Choose ``n`` items to label first.

    Parameters
    ----------
    X : ndarray, sparse matrix or RowView, shape (n_samples, n_features)
        Features of the pool (positions are pool ids when ``X`` is the pool matrix).
    n : int
        Number of items, ``1 <= n <= n_samples - len(labeled_ids)``.
    method : {"random", "kmeans", "typiclust"}, default="random"
    random_state : int, RandomState or None
        Seed of the sample / the clustering.
    labeled_ids : array-like of int, optional
        Positions already labeled: never chosen.  TypiClust also counts them when sizing
        its clustering and skips the clusters they cover; random and k-means choose among
        the other rows.
    k : int, default=20
        Neighbours used for typicality (``"typiclust"`` only).
    max_cluster_rows : int or None, default=3000
        ``"typiclust"`` only: in a cluster larger than this, typicality is measured on a
        seeded random sample of this many of its rows (neighbours searched within the
        sample), which bounds the quadratic neighbour search; ``None`` uses every row.

    Returns
    -------
    ndarray of int64, shape (n,)
        Distinct row positions.  For ``"kmeans"`` and ``"typiclust"`` they are ordered
        from the largest cluster to the smallest.  When the clustering finds fewer
        distinct clusters than asked (duplicate rows), the remainder is a seeded random
        sample.

    Raises
    ------
    ValueError
        For ``n`` out of range or an unknown method.
    """
    if method not in COLD_START_METHODS:
        raise ValueError(
            f"method must be one of {', '.join(COLD_START_METHODS)}; got {method!r}."
        )
    X = check_features(materialize(X), "X")
    n_samples = X.shape[0]
    labeled = _check_ids(labeled_ids, n_samples)
    n_free = n_samples - labeled.size
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n must be an integer number of items, got {n!r}.")
    if n < 1 or n > n_free:
        where = f"{n_samples} rows" + (f", {labeled.size} already labeled" if labeled.size else "")
        raise ValueError(f"n must be between 1 and {n_free} ({where}); got {n}.")
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"k must be a positive integer number of neighbours, got {k!r}.")
    if max_cluster_rows is not None and (
        isinstance(max_cluster_rows, bool) or not isinstance(max_cluster_rows, numbers.Integral)
        or max_cluster_rows < 2
    ):
        raise ValueError(
            f"max_cluster_rows must be an integer >= 2 or None, got {max_cluster_rows!r}."
        )
    n = int(n)
    rng = check_random_state(random_state)
    candidates = np.setdiff1d(np.arange(n_samples, dtype=np.int64), labeled)
    if method == "random":
        return rng.choice(candidates, n, replace=False).astype(np.int64)
    if method == "kmeans":
        return _kmeans_start(X, n, candidates, rng)
    return _typiclust_start(X, n, labeled, candidates, rng, k, max_cluster_rows)


def _sizes_order(assign: np.ndarray, clusters: np.ndarray, n_clusters: int) -> np.ndarray:
    """``clusters`` sorted by size, largest first (ties: lower cluster index)."""
    sizes = np.bincount(assign, minlength=n_clusters)
    return clusters[np.lexsort((clusters, -sizes[clusters]))]


def _kmeans_start(X: Any, n: int, candidates: np.ndarray, rng: np.random.RandomState
                  ) -> np.ndarray:
    Xc = X[candidates] if candidates.size < X.shape[0] else X
    model = _kmeans(Xc, n, rng)
    assign = model.labels_.astype(np.int64)
    d = _sq_dist_to_assigned(Xc, model.cluster_centers_, assign)
    best = _first_per_group(assign, d)  # one row per non-empty cluster: distinct
    order = _sizes_order(assign, assign[best], n)
    by_cluster = np.empty(n, dtype=np.int64)
    by_cluster[assign[best]] = best
    chosen = candidates[by_cluster[order]]
    return _fill(chosen, candidates, n, rng)


def _typiclust_start(X: Any, n: int, labeled: np.ndarray, candidates: np.ndarray,
                     rng: np.random.RandomState, k: int, max_rows: int | None
                     ) -> np.ndarray:
    n_clusters = n + labeled.size
    model = _kmeans(X, n_clusters, rng)
    assign = model.labels_.astype(np.int64)
    covered = np.zeros(n_clusters, dtype=bool)
    covered[assign[labeled]] = True
    present = np.zeros(n_clusters, dtype=bool)
    present[assign] = True
    uncovered = np.flatnonzero(present & ~covered)
    targets = _sizes_order(assign, uncovered, n_clusters)[:n]
    # rows of every target cluster, grouped by cluster (one sort, no per-row loop)
    order = np.argsort(assign, kind="stable")
    starts = np.searchsorted(assign[order], np.arange(n_clusters + 1))
    chosen = np.empty(targets.size, dtype=np.int64)
    for i, c in enumerate(targets.tolist()):
        members = order[starts[c]:starts[c + 1]]
        if max_rows is not None and members.size > max_rows:
            members = np.sort(rng.choice(members, max_rows, replace=False))
        typ = typicality(X[members], k=k)
        chosen[i] = members[np.argmax(typ)]  # first maximum: lowest position on ties
    return _fill(chosen, candidates, n, rng)


class _CallableModule(types.ModuleType):
    """This module, callable as its own ``cold_start`` function.

    ``activelab.cold_start`` names both this module and the function; once the module
    is imported, the package attribute is the module, so calling it calls the function.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        return cold_start(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
