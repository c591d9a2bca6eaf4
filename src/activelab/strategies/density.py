"""Density-weighted sampling: information density (Settles & Craven 2008).

Uncertain outliers are poor queries: their labels tell the model little about the rest
of the pool.  Information density multiplies the uncertainty of an item by how
representative it is,

``ID(x) = u(x) · ( mean_{x' in pool} sim(x, x') ) ^ beta``,

where ``u`` is a utility mapped to non-negative values (margin becomes ``1 - gap``) and
``sim`` a similarity in ``[0, 1]``.  On large pools the mean similarity is estimated
against a random sample of ``sample_size`` pool rows, in blocks, so the cost is
``O(n_candidates × sample_size)`` and never ``O(n²)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from ._shared import BLOCK_ROWS, dense_float32, nonnegative_utility
from .base import Needs, QueryContext, UtilityStrategy
from .registry import register

__all__ = ["InformationDensity", "mean_similarity"]


def mean_similarity(
    X: Any,
    reference: Any = None,
    *,
    metric: str = "cosine",
    block_rows: int = BLOCK_ROWS,
) -> np.ndarray:
    """Mean similarity of each row of ``X`` to the rows of ``reference``.

    Parameters
    ----------
    X : array-like of shape (n, d)
    reference : array-like of shape (m, d), optional
        Defaults to ``X`` itself.
    metric : {"cosine", "euclidean"}, default="cosine"
        ``"cosine"``: cosine similarity rescaled to ``[0, 1]`` as ``(1 + cos) / 2``
        (a zero row has cosine 0 with everything);
        ``"euclidean"``: ``1 / (1 + distance)``.
    block_rows : int
        Rows of ``X`` per block (the block holds ``block_rows × m`` values).

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    Xd = dense_float32(X)
    R = Xd if reference is None else dense_float32(reference, "reference")
    out = np.empty(Xd.shape[0], dtype=np.float64)
    if metric == "cosine":
        def unit(M: np.ndarray) -> np.ndarray:
            norms = np.sqrt(np.einsum("ij,ij->i", M, M))
            return M / np.where(norms > 0, norms, 1.0)[:, None]

        Xu, Ru = unit(Xd), unit(R)
        for r0 in range(0, Xd.shape[0], block_rows):
            cos = Xu[r0 : r0 + block_rows] @ Ru.T
            out[r0 : r0 + block_rows] = (1.0 + cos.mean(axis=1, dtype=np.float64)) / 2.0
    elif metric == "euclidean":
        mean = R.mean(axis=0, dtype=np.float64).astype(np.float32)
        Xc, Rc = Xd - mean, R - mean
        r_norms = np.einsum("ij,ij->i", Rc, Rc)
        x_norms = np.einsum("ij,ij->i", Xc, Xc)
        for r0 in range(0, Xd.shape[0], block_rows):
            sq = x_norms[r0 : r0 + block_rows, None] + r_norms[None, :]
            sq -= 2.0 * (Xc[r0 : r0 + block_rows] @ Rc.T)
            np.maximum(sq, 0, out=sq)
            sim = 1.0 / (1.0 + np.sqrt(sq))
            out[r0 : r0 + block_rows] = sim.mean(axis=1, dtype=np.float64)
    else:
        raise ValueError(f"metric must be 'cosine' or 'euclidean', got {metric!r}.")
    return out


@register
class InformationDensity(UtilityStrategy):
    """Uncertainty weighted by representativeness (Settles & Craven 2008).

    Parameters
    ----------
    base : str, default="entropy"
        Base utility, mapped to non-negative values (margin becomes ``1 - gap``).
    beta : float, default=1.0
        Weight of the density term (0 gives the base utility alone).
    metric : {"cosine", "euclidean"}, default="cosine"
        Similarity, see :func:`mean_similarity`.
    sample_size : int or None, default=2000
        When the pool has more candidates than this, the mean similarity is estimated
        against this many candidates drawn at random (seeded); ``None`` always uses
        every candidate.
    random_state : int, RandomState or None
    """

    name = "information_density"
    needs = frozenset({Needs.PROBA, Needs.FEATURES})

    def __init__(
        self,
        base: str = "entropy",
        beta: float = 1.0,
        metric: str = "cosine",
        sample_size: int | None = 2000,
        random_state: Any = None,
    ) -> None:
        super().__init__(random_state=random_state)
        if metric not in ("cosine", "euclidean"):
            raise ValueError(f"metric must be 'cosine' or 'euclidean', got {metric!r}.")
        if sample_size is not None and (
            isinstance(sample_size, bool) or not isinstance(sample_size, (int, np.integer))
            or sample_size < 1
        ):
            raise ValueError(f"sample_size must be a positive integer or None, got {sample_size!r}.")
        self.base = base
        self.beta = beta
        self.metric = metric
        self.sample_size = sample_size

    def density(self, context: QueryContext) -> np.ndarray:
        """Mean similarity of every candidate to the (sampled) candidates."""
        X = dense_float32(context.X)
        n = X.shape[0]
        reference = X
        if self.sample_size is not None and n > self.sample_size:
            rng = check_random_state(self.random_state)
            reference = X[np.sort(rng.choice(n, self.sample_size, replace=False))]
        return mean_similarity(X, reference, metric=self.metric)

    def utility(self, context: QueryContext) -> np.ndarray:
        u = nonnegative_utility(self.base, context, self.random_state)
        return u * np.power(self.density(context), self.beta)

    def query_info(self, context: QueryContext) -> dict[str, Any]:
        return {
            "beta": self.beta,
            "density_sample": int(min(len(context), self.sample_size or len(context))),
        }
