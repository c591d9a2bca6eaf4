"""Margin with diversity inside the batch: ``cluster_margin``.

Top-k margin sampling fills a batch with near-duplicates: the ten items closest to the
decision boundary often sit in one spot of it.  ``cluster_margin`` keeps the margin's
choice of *where* to look and spreads the batch along the boundary, in the spirit of
Cluster-Margin (Citovsky et al., NeurIPS 2021) and diverse mini-batch active learning
(Zhdanov 2019):

1. keep the ``m = factor × n`` candidates with the smallest margin;
2. cluster them into ``n`` groups by Ward's hierarchical clustering on their feature
   rows (deterministic: no seed, no restarts);
3. take from each group its smallest-margin member; the batch is ordered by margin.

When Ward's tree yields fewer than ``n`` groups (duplicated rows), the batch is filled up
with the smallest-margin candidates not yet chosen.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..pool import materialize, take_rows
from ._shared import base_utility
from .base import Needs, QueryContext, QueryResult, Strategy, check_n_instances, top_k
from .registry import register

__all__ = ["ClusterMargin", "diverse_top"]


#: Sparse candidate rows (TF-IDF, ...) are clustered in this many random dimensions.
SPARSE_DIMENSIONS = 64


def _dense_rows(X: Any) -> np.ndarray:
    """The kept candidates' rows as a dense float64 array for Ward's clustering.

    Dense rows are used as they are.  Sparse rows (a 20,000-term TF-IDF vocabulary would
    make 1,000 kept rows 160 MB dense, and Ward's distances 10 GFLOP) are first mapped
    to :data:`SPARSE_DIMENSIONS` dimensions by a fixed Gaussian random projection, which
    keeps their pairwise distances within a small factor (Johnson–Lindenstrauss); the
    projection is seeded and the same for every call, so the picks stay deterministic.
    """
    rows = materialize(X)
    if not hasattr(rows, "toarray"):
        return np.asarray(rows, dtype=np.float64)
    d = rows.shape[1]
    if d <= SPARSE_DIMENSIONS:
        return np.asarray(rows.toarray(), dtype=np.float64)
    R = np.random.default_rng(0).standard_normal((d, SPARSE_DIMENSIONS))
    R /= np.sqrt(SPARSE_DIMENSIONS)
    return np.asarray(rows.astype(np.float64) @ R)


def diverse_top(rows: np.ndarray, utilities: np.ndarray, n: int) -> np.ndarray:
    """Positions of ``n`` rows: the most useful row of each of ``n`` Ward clusters.

    Parameters
    ----------
    rows : ndarray of shape (m, d)
        Feature rows of the kept candidates.
    utilities : ndarray of shape (m,)
        Their utilities (higher = more useful); ties go to the earlier row.
    n : int
        Batch size, at most ``m``.

    Returns
    -------
    ndarray of int64, shape (n,)
        Positions into ``rows``, most useful first.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    m = rows.shape[0]
    order = np.argsort(-utilities, kind="stable")
    if n >= m:
        return order[:n].astype(np.int64)
    if n == 1:
        return order[:1].astype(np.int64)
    groups = fcluster(linkage(rows, method="ward"), t=n, criterion="maxclust")
    _, first = np.unique(groups[order], return_index=True)  # each group's most useful row
    chosen = order[np.sort(first)]
    if chosen.size < n:
        rest = order[~np.isin(order, chosen)]
        chosen = np.concatenate([chosen, rest[: n - chosen.size]])
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(m)
    return chosen[np.argsort(rank[chosen], kind="stable")].astype(np.int64)


@register
class ClusterMargin(Strategy):
    """Smallest margins, spread over the decision boundary by Ward clustering.

    Parameters
    ----------
    factor : int, default=5
        The batch is chosen among the ``factor × n`` smallest-margin candidates.
    utility : str, default="margin"
        The utility strategy that ranks the candidates.
    random_state : int, RandomState or None
        Breaks ties at the cut-off of the kept candidates.

    Notes
    -----
    ``info`` records ``prefilter_size`` (``m``) and ``n_groups`` (clusters found).
    """

    name = "cluster_margin"
    needs = frozenset({Needs.PROBA, Needs.FEATURES})

    def __init__(self, factor: int = 5, utility: str = "margin", random_state: Any = None
                 ) -> None:
        super().__init__(random_state=random_state)
        if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
            raise ValueError(f"factor must be an integer of at least 1, got {factor!r}.")
        self.factor = int(factor)
        self.utility = utility

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        if context.X is None:
            raise ValueError("cluster_margin needs the candidates' features: pass X.")
        u = base_utility(self.utility, context, self.random_state)
        m = int(min(len(context), self.factor * n_instances))
        kept = top_k(u, m, self.random_state)
        rows = _dense_rows(take_rows(context.X, kept))
        picked = kept[diverse_top(rows, u[kept], n_instances)]
        return QueryResult(
            ids=context.candidate_ids[picked],
            candidate_ids=context.candidate_ids,
            utilities=u,
            strategy=self.name,
            info={"prefilter_size": m, "utility": str(self.utility)},
        )
