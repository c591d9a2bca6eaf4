"""Diversity and batch-aware strategies: k-means, core-set, hybrid and ranked batch.

Uncertainty sampling with top-k tends to fill a batch with near-duplicates (the
lecture's "over-querying similar examples").  The strategies here choose a *set*:

- :class:`KMeansSampling` (``"kmeans"``): cluster the candidates into ``n`` clusters and
  take the item nearest each centroid, optionally weighting the clustering by
  uncertainty.
- :class:`CoreSet` (``"coreset"``): greedy k-center (Sener & Savarese 2018) from the
  labeled set.  A running minimum-distance vector is updated with one
  matrix-vector product per pick; the distances to the labeled set are computed in
  float32 blocks, never as the full N × N (or N × L) matrix.
- :class:`Hybrid` (``"hybrid"``): keep the top ``factor × n`` candidates by a utility,
  then run k-means or k-center on those.
- :class:`RankedBatch` (``"ranked_batch"``): ranked batch-mode sampling (Cardoso et
  al. 2017), which trades uncertainty against similarity to the labeled set and to
  the items already ranked, again with a running minimum-distance vector.

Distances are Euclidean on the feature rows (computed on mean-centred float32 copies
of the rows, which keeps the ``|a|² + |b|² - 2ab`` expansion accurate).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state

from ..parallel import run_blocks, scratch
from ..pool import materialize, n_rows
from ._shared import (
    BLOCK_ROWS,
    PrefilterDiverse,
    base_utility,
    dense_float32,
    nonnegative_utility,
)
from .base import Needs, QueryContext, QueryResult, Strategy, check_n_instances, top_k
from .registry import register

__all__ = [
    "CoreSet",
    "Hybrid",
    "KMeansSampling",
    "RankedBatch",
    "k_center_greedy",
    "min_sq_distances",
]

#: Centers per block: a block of distances is at most BLOCK_ROWS × BLOCK_CENTERS floats.
BLOCK_CENTERS = 2048
#: Rows per block of the greedy updates (one matrix-vector product each).
GREEDY_ROWS = 16_384


def _n_features(X: Any) -> int:
    """Number of columns of the candidates' features (which are needed here)."""
    if X is None:
        raise ValueError(
            "this strategy needs the candidates' features: pass X to the query context."
        )
    shape = getattr(X, "shape", None)
    return int((np.shape(X) if shape is None else shape)[1])


def _labeled_rows(context: QueryContext, n_features: int) -> np.ndarray:
    if context.X_labeled is None:
        return np.empty((0, n_features), dtype=np.float32)
    XL = dense_float32(context.X_labeled, "X_labeled")
    if XL.ndim != 2 or (XL.shape[0] and XL.shape[1] != n_features):
        raise ValueError(
            f"X_labeled has shape {XL.shape} but the candidates have {n_features} features; "
            "pass labeled rows with the same columns."
        )
    return XL


def _space(context: QueryContext) -> tuple[Any, np.ndarray, str]:
    """The rows distances are measured in: the model's embeddings when the context has
    them (``extras["embeddings"]``, and ``extras["labeled_embeddings"]`` when anything is
    labeled), otherwise the features.  Returns (candidates, labeled rows, which)."""
    extras = context.extras
    H = extras.get("embeddings")
    labeled = context.X_labeled is not None and n_rows(context.X_labeled) > 0
    if H is None or (labeled and extras.get("labeled_embeddings") is None):
        return context.X, _labeled_rows(context, _n_features(context.X)), "features"
    H = dense_float32(H, "extras['embeddings']")
    if H.ndim != 2 or H.shape[0] != len(context):
        raise ValueError(f"extras['embeddings'] has shape {H.shape}; expected "
                         f"({len(context)}, d), one embedding row per candidate.")
    if not labeled:
        return H, np.empty((0, H.shape[1]), dtype=np.float32), "embeddings"
    HL = dense_float32(extras["labeled_embeddings"], "extras['labeled_embeddings']")
    if HL.ndim != 2 or HL.shape[1] != H.shape[1]:
        raise ValueError(f"extras['labeled_embeddings'] has shape {HL.shape}; expected "
                         f"(n_labeled, {H.shape[1]}) like extras['embeddings'].")
    return H, HL, "embeddings"


def _centred(X: Any, XL: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The candidates as mean-centred float32 rows, and the labeled rows centred alike.

    The candidates are centred in place when :func:`dense_float32` had to copy them
    anyway (another dtype, sparse, scattered rows), so there is one copy at most.
    """
    raw = materialize(X)
    Xd = dense_float32(raw)
    mean = Xd.mean(axis=0, dtype=np.float64).astype(np.float32)
    if isinstance(raw, np.ndarray) and np.may_share_memory(Xd, raw):
        Xd = Xd - mean
    else:
        Xd -= mean
    return Xd, XL - mean


def _sq_norms(X: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", X, X)


def min_sq_distances(
    X: np.ndarray,
    centers: np.ndarray,
    *,
    X_norms: np.ndarray | None = None,
    block_rows: int = BLOCK_ROWS,
    block_centers: int = BLOCK_CENTERS,
) -> np.ndarray:
    """Squared Euclidean distance from each row of ``X`` to its nearest center.

    Computed block by block (``block_rows × block_centers`` values at a time, one row
    block per task on all cores) in the dtype of ``X``, so memory stays bounded whatever
    the sizes: ``min_c (|c|² - 2 x·c)`` per block from one matrix product with the
    centers scaled by -2 (exact), then ``|x|²`` added to the minimum (adding after the
    minimum gives the same value as before it: rounding is monotone).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    centers : ndarray of shape (m, d)
    X_norms : ndarray of shape (n,), optional
        Precomputed ``(X ** 2).sum(axis=1)``.

    Returns
    -------
    ndarray of shape (n,)
        ``inf`` everywhere when there are no centers.
    """
    n = X.shape[0]
    out = np.full(n, np.inf, dtype=X.dtype)
    if centers.shape[0] == 0 or n == 0:
        return out
    norms = _sq_norms(X) if X_norms is None else X_norms
    c_norms = _sq_norms(centers)
    scaled = np.multiply(centers, -2, dtype=X.dtype)

    def one(i: int) -> None:
        r0, r1 = i * block_rows, min((i + 1) * block_rows, n)
        acc = out[r0:r1]
        low = scratch("mind_low", (r1 - r0,), X.dtype)
        for c0 in range(0, centers.shape[0], block_centers):  # blocks of centers
            c1 = min(c0 + block_centers, centers.shape[0])
            block = scratch("mind_block", (r1 - r0, c1 - c0), X.dtype)
            np.matmul(X[r0:r1], scaled[c0:c1].T, out=block)
            block += c_norms[c0:c1]
            np.minimum.reduce(block, axis=1, out=low)
            np.minimum(acc, low, out=acc)
        acc += norms[r0:r1]

    run_blocks(-(-n // block_rows), one)
    np.maximum(out, 0, out=out)
    return out


class _RunningMin:
    """The squared distance of every row to its nearest chosen row, updated in place.

    Each pick folds the distances to the new row into the running minimum, block by
    block on all cores (one matrix-vector product per block of :data:`GREEDY_ROWS`
    rows, a fixed partition, so the result does not depend on the thread count), and
    returns the next farthest row (the first one on ties, as ``np.argmax``).
    """

    def __init__(self, X: np.ndarray, norms: np.ndarray, mind: np.ndarray) -> None:
        self.X, self.norms, self.mind = X, norms, mind
        self.n_blocks = -(-X.shape[0] // GREEDY_ROWS)
        self.block_max = np.empty(self.n_blocks, dtype=mind.dtype)
        self.block_arg = np.empty(self.n_blocks, dtype=np.int64)

    def add(self, p: int) -> int:
        """Fold in row ``p`` (then marked chosen: -inf) and return the farthest row."""
        X, norms, mind = self.X, self.norms, self.mind
        xp, norm_p = X[p].copy(), norms[p]

        def one(i: int) -> None:
            r0, r1 = i * GREEDY_ROWS, min((i + 1) * GREEDY_ROWS, X.shape[0])
            d = scratch("greedy_d", (r1 - r0,), X.dtype)
            np.matmul(X[r0:r1], xp, out=d)
            d *= -2
            d += norms[r0:r1]
            d += norm_p
            np.maximum(d, 0, out=d)
            block = mind[r0:r1]
            np.minimum(block, d, out=block)
            if r0 <= p < r1:
                block[p - r0] = -np.inf  # chosen rows stay at -inf: np.minimum keeps them
            j = int(np.argmax(block))
            self.block_arg[i], self.block_max[i] = r0 + j, block[j]

        run_blocks(self.n_blocks, one)
        return int(self.block_arg[int(np.argmax(self.block_max))])


def k_center_greedy(
    X: Any,
    n: int,
    X_labeled: Any = None,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-center: repeatedly take the row farthest from everything chosen so far.

    Parameters
    ----------
    X : array-like of shape (n_candidates, d)
    n : int
        Number of rows to choose.
    X_labeled : array-like of shape (n_labeled, d), optional
        Rows already covered.  Without them the first row is drawn at random.
    random_state : int, RandomState or None

    Returns
    -------
    positions : ndarray of int64, shape (n,)
        Chosen rows of ``X``, in the order they were chosen.
    distances : ndarray of float64, shape (n,)
        Distance of each chosen row to its nearest covered row at the time it was
        chosen (``inf`` for a first row chosen with nothing covered).
    """
    n = check_n_instances(n, n_rows(X))
    XL = (
        np.empty((0, _n_features(X)), np.float32)
        if X_labeled is None
        else dense_float32(X_labeled, "X_labeled")
    )
    Xd, XL = _centred(X, XL)
    norms = _sq_norms(Xd)
    mind = min_sq_distances(Xd, XL, X_norms=norms)
    positions, picked, _ = _greedy(Xd, norms, mind, n, random_state)
    return positions, picked


def _greedy(
    X: np.ndarray, norms: np.ndarray, mind: np.ndarray, n: int, random_state: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """k-center greedy from the running minimum ``mind`` (copied): positions, the
    distance of each pick when picked, and the final running minimum (-inf at picks)."""
    mind = mind.copy()
    positions = np.empty(n, dtype=np.int64)
    picked = np.empty(n, dtype=np.float64)
    running = _RunningMin(X, norms, mind)
    if n and np.isinf(mind).all():
        p = int(check_random_state(random_state).randint(X.shape[0]))
    else:
        p = int(np.argmax(mind))
    for i in range(n):  # picks, not rows
        positions[i] = p
        picked[i] = float(np.sqrt(mind[p])) if np.isfinite(mind[p]) else np.inf
        p = running.add(p)
    return positions, picked, mind


@register
class CoreSet(Strategy):
    """Core-set selection by greedy k-center (Sener & Savarese 2018).

    Each pick is the candidate farthest (Euclidean) from the labeled set and from the
    candidates already picked, so the batch covers the pool.  Cost: one blocked pass
    over candidates × labeled rows, then one matrix-vector product per pick; memory
    O(n_candidates).

    Distances are measured between the model's embeddings when it provides them
    (``Needs.EMBEDDINGS``: a network's penultimate layer through its ``embed`` hook, or
    ``extras["embeddings"]`` and ``extras["labeled_embeddings"]`` given by the caller),
    and between the features otherwise.

    Parameters
    ----------
    random_state : int, RandomState or None
        Used only to draw the first item when there is no labeled set.

    Notes
    -----
    The utility of each candidate is its distance to the nearest labeled row
    (NaN when nothing is labeled).  ``info["radius"]`` is the covering radius after
    the batch: the largest distance of any candidate to its nearest labeled or
    chosen row; ``info["space"]`` is ``"embeddings"`` or ``"features"``.
    """

    name = "coreset"
    needs = frozenset({Needs.FEATURES, Needs.LABELED, Needs.EMBEDDINGS})
    tasks = frozenset({"classification", "multilabel", "regression"})

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        rows, XL, space = _space(context)
        X, XL = _centred(rows, XL)
        norms = _sq_norms(X)
        mind0 = min_sq_distances(X, XL, X_norms=norms)
        positions, picked, after = _greedy(X, norms, mind0, n_instances, self.random_state)
        utilities = np.sqrt(mind0.astype(np.float64))
        utilities[np.isinf(utilities)] = np.nan
        # covering radius after the batch: the picks are at distance 0 of themselves
        radius = float(np.sqrt(max(float(after.max()), 0.0)))
        return QueryResult(
            ids=context.candidate_ids[positions],
            candidate_ids=context.candidate_ids,
            utilities=utilities,
            strategy=self.name,
            info={
                "radius": radius,
                "picked_distances": [float(d) for d in picked],
                "space": space,
            },
        )


def _nearest_per_cluster(
    X: np.ndarray, labels: np.ndarray, centers: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The member nearest its centroid in each non-empty cluster, and all distances."""
    diff = X - centers[labels]
    d = np.sqrt(_sq_norms(diff).astype(np.float64))
    order = np.lexsort((d, labels))
    _, first = np.unique(labels[order], return_index=True)
    return order[first].astype(np.int64), d


@register
class KMeansSampling(Strategy):
    """Cluster the candidates into ``n`` clusters and take the item nearest each centroid.

    Parameters
    ----------
    weighted : bool, default=False
        Weight the clustering by uncertainty (``utility``, mapped to non-negative
        values), so that centroids move towards uncertain regions (Zhdanov 2019).
    utility : str, default="entropy"
        The utility used as weight when ``weighted``.
    n_init : int, default=1
        K-means restarts.
    max_iter : int, default=100
    random_state : int, RandomState or None

    Notes
    -----
    The batch is ordered by cluster weight (number of members, or summed uncertainty
    when weighted), largest first.  The utility of a candidate is minus its distance to
    its cluster's centroid.  Should a cluster come out empty (duplicate rows), the
    batch is completed by greedy k-center from the items already chosen.
    """

    name = "kmeans"
    needs = frozenset({Needs.FEATURES})
    tasks = frozenset({"classification", "multilabel", "regression"})

    def __init__(
        self,
        weighted: bool = False,
        utility: str = "entropy",
        n_init: int = 1,
        max_iter: int = 100,
        random_state: Any = None,
    ) -> None:
        super().__init__(random_state=random_state)
        self.weighted = weighted
        self.utility = utility
        self.n_init = n_init
        self.max_iter = max_iter

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        X, _ = _centred(context.X, np.empty((0, _n_features(context.X)), np.float32))
        weights = None
        if self.weighted:
            weights = nonnegative_utility(self.utility, context, self.random_state)
            weights = weights + 1e-9 * max(float(weights.max()), 1.0)
        km = KMeans(
            n_clusters=n_instances,
            n_init=self.n_init,
            max_iter=self.max_iter,
            random_state=self.random_state,
        ).fit(X, sample_weight=weights)
        labels = km.labels_
        centers = km.cluster_centers_.astype(np.float32)
        positions, d = _nearest_per_cluster(X, labels, centers)
        cluster_weight = np.bincount(
            labels, weights=weights, minlength=n_instances
        )[labels[positions]]
        positions = positions[np.argsort(-cluster_weight, kind="stable")]
        n_filled = positions.size
        if n_filled < n_instances:
            norms = _sq_norms(X)
            mind = min_sq_distances(X, X[positions], X_norms=norms)
            mind[positions] = -np.inf
            extra, _, _ = _greedy(X, norms, mind, n_instances - n_filled, self.random_state)
            positions = np.concatenate([positions, extra])
        return QueryResult(
            ids=context.candidate_ids[positions],
            candidate_ids=context.candidate_ids,
            utilities=-d,
            strategy=self.name,
            info={
                "n_clusters": n_instances,
                "weighted": bool(self.weighted),
                "inertia": float(km.inertia_),
                "n_filled_by_k_center": int(n_instances - n_filled),
            },
        )


@register
class Hybrid(PrefilterDiverse):
    """Pre-filter by a utility, then choose a diverse batch among the survivors.

    The top ``m = factor × n`` candidates by ``utility`` are kept; then k-means
    (``method="kmeans"``) or greedy k-center (``method="coreset"``) chooses ``n`` of them.

    Parameters
    ----------
    utility : str, default="margin"
        Utility strategy used for the pre-filter.
    factor : int, default=10
        Pre-filter size as a multiple of the batch size (capped at the number of
        candidates).
    method : {"kmeans", "coreset"}, default="kmeans"
    weighted : bool, default=False
        With ``method="kmeans"``: weight the clustering by the (non-negative) utility.
    random_state : int, RandomState or None

    Notes
    -----
    The utilities recorded are those of the pre-filter utility for every candidate;
    ``info["prefilter_size"]`` is ``m``.
    """

    name = "hybrid"
    needs = frozenset({Needs.PROBA, Needs.FEATURES, Needs.LABELED})

    def __init__(
        self,
        utility: str = "margin",
        factor: int = 10,
        method: str = "kmeans",
        weighted: bool = False,
        random_state: Any = None,
    ) -> None:
        super().__init__(utility, factor, method, weighted, random_state=random_state)

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        u = base_utility(self.utility, context, self.random_state)
        m = int(min(len(context), self.factor * n_instances))
        kept = top_k(u, m, self.random_state)
        inner: Strategy
        if self.method == "kmeans":
            inner = KMeansSampling(
                weighted=self.weighted, utility=self.utility, random_state=self.random_state
            )
        else:
            inner = CoreSet(random_state=self.random_state)
        chosen = inner.select(context.subset(kept), n_instances)
        return QueryResult(
            ids=chosen.ids,
            candidate_ids=context.candidate_ids,
            utilities=u,
            strategy=self.name,
            info={"prefilter_size": m, "method": self.method, "utility": str(self.utility)},
        )


def _dissimilarity(sq: np.ndarray) -> np.ndarray:
    return 1.0 - 1.0 / (1.0 + np.sqrt(sq.astype(np.float64)))


class _RankedScores:
    """Ranked batch scores ``alpha (1 - sim) + (1 - alpha) u``, one pick at a time.

    Each step folds the distances to the previous pick into the running minimum (only
    rows that got closer change), scores the rows and returns the best unchosen one,
    block by block on all cores (a fixed partition of :data:`GREEDY_ROWS` rows).
    """

    def __init__(self, X: np.ndarray, norms: np.ndarray, mind: np.ndarray, u: np.ndarray):
        self.X, self.norms, self.mind, self.u = X, norms, mind, u
        self.dis = _dissimilarity(mind)
        self.chosen = np.zeros(X.shape[0], dtype=bool)
        self.n_blocks = -(-X.shape[0] // GREEDY_ROWS)
        self.block_max = np.empty(self.n_blocks)
        self.block_arg = np.empty(self.n_blocks, dtype=np.int64)

    def _fold(self, q: int, r0: int, r1: int) -> None:
        X, mind, dis = self.X, self.mind[r0:r1], self.dis[r0:r1]
        d = scratch("ranked_d", (r1 - r0,), X.dtype)
        np.matmul(X[r0:r1], X[q], out=d)
        d *= -2
        d += self.norms[r0:r1]
        d += self.norms[q]
        closer = np.flatnonzero(d < mind)
        mind[closer] = np.maximum(d[closer], 0)
        dis[closer] = _dissimilarity(mind[closer])

    def step(self, previous: int, alpha: float, scores_out: np.ndarray | None) -> int:
        """Fold in ``previous`` (unless -1), then return the best row under ``alpha``."""
        if previous >= 0:
            self.chosen[previous] = True

        def one(i: int) -> None:
            r0, r1 = i * GREEDY_ROWS, min((i + 1) * GREEDY_ROWS, self.X.shape[0])
            if previous >= 0:
                self._fold(previous, r0, r1)
            score = scratch("ranked_score", (r1 - r0,))
            np.multiply(self.dis[r0:r1], alpha, out=score)
            score += (1.0 - alpha) * self.u[r0:r1]
            if scores_out is not None:
                scores_out[r0:r1] = score
            score[self.chosen[r0:r1]] = -np.inf
            j = int(np.argmax(score))
            self.block_arg[i], self.block_max[i] = r0 + j, score[j]

        run_blocks(self.n_blocks, one)
        return int(self.block_arg[int(np.argmax(self.block_max))])


@register
class RankedBatch(Strategy):
    """Ranked batch-mode sampling (Cardoso et al. 2017).

    Items are ranked one at a time by

    ``score(x) = alpha · (1 - sim(x)) + (1 - alpha) · u(x)``,

    where ``u`` is the uncertainty (``utility``, mapped to non-negative values),
    ``sim(x) = 1 / (1 + d(x))`` with ``d(x)`` the Euclidean distance from ``x`` to the
    nearest labeled or already-ranked item, and ``alpha = |U| / (|U| + |L|)`` weighs
    diversity most while few items are labeled.  After each pick ``|U|`` shrinks and
    ``|L|`` grows by one, and ``d`` is updated with the distances to the new pick only
    (one matrix-vector product), never recomputing all pairwise distances.

    Parameters
    ----------
    utility : str, default="least_confident"
    random_state : int, RandomState or None

    Notes
    -----
    The utilities recorded are the scores of the first pick (before any item is ranked).
    """

    name = "ranked_batch"
    needs = frozenset({Needs.PROBA, Needs.FEATURES, Needs.LABELED})

    def __init__(self, utility: str = "least_confident", random_state: Any = None) -> None:
        super().__init__(random_state=random_state)
        self.utility = utility

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        u = nonnegative_utility(self.utility, context, self.random_state)
        XL = _labeled_rows(context, _n_features(context.X))
        X, XL = _centred(context.X, XL)
        norms = _sq_norms(X)
        mind = min_sq_distances(X, XL, X_norms=norms)
        n_unlabeled, n_labeled = len(context), XL.shape[0]
        ranking = _RankedScores(X, norms, mind, u)
        positions = np.empty(n_instances, dtype=np.int64)
        first_scores = np.empty(len(context), dtype=np.float64)
        p = -1
        for i in range(n_instances):  # picks, not rows
            alpha = (n_unlabeled - i) / (n_unlabeled + n_labeled)
            p = ranking.step(p, alpha, first_scores if i == 0 else None)
            positions[i] = p
        return QueryResult(
            ids=context.candidate_ids[positions],
            candidate_ids=context.candidate_ids,
            utilities=first_scores,
            strategy=self.name,
            info={"alpha_first": n_unlabeled / (n_unlabeled + n_labeled)},
        )
