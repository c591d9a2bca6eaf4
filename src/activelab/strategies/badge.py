"""BADGE: batch active learning by diverse gradient embeddings (Ash et al. 2020).

Each candidate is embedded as the gradient of the log-loss with respect to the last
linear layer, taking the model's own prediction ``ŷ`` as the label:

``g(x) = (p - e_ŷ) ⊗ h̃``,

where ``h̃`` is the layer's input (with a 1 appended for the bias).  Its norm is large
for uncertain items and its direction says which classes and which features the
update would touch; k-means++ seeding over the embeddings then picks a batch that is
both uncertain and diverse.

The embeddings are never formed: with ``g_i = a_i ⊗ h_i``,

``|g_i - g_j|² = |a_i|²|h_i|² + |a_j|²|h_j|² - 2 (a_i·a_j)(h_i·h_j)``,

so each k-means++ step costs one pass over the ``n × (C + d)`` factors instead of the
``n × C·d`` embedding matrix.  Works for linear scikit-learn models now and for networks
through ``context.extras["embeddings"]`` (the last hidden layer), the same hook as
:mod:`~activelab.strategies.model_change`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from ..parallel import run_blocks, scratch
from ._shared import linear_head
from .base import Needs, QueryContext, QueryResult, Strategy, check_n_instances, top_k
from .registry import register

__all__ = ["Badge", "gradient_embedding_factors", "kmeans_pp_factored"]

#: Rows per block of the running-minimum updates (a fixed partition).
GREEDY_ROWS = 16_384


def gradient_embedding_factors(
    proba: np.ndarray, H: np.ndarray, *, intercept: bool = True, binary_sigmoid: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The two factors ``a`` and ``h̃`` of the gradient embeddings ``g = a ⊗ h̃``.

    Parameters
    ----------
    proba : ndarray of shape (n, C)
    H : ndarray of shape (n, d)
    intercept : bool, default=True
    binary_sigmoid : bool, default=False
        One weight vector with a sigmoid output: ``a = p_1 - [ŷ = 1]`` (one column).

    Returns
    -------
    A : ndarray of shape (n, C) or (n, 1)
    Ht : ndarray of shape (n, d + intercept)
    """
    p = np.asarray(proba, dtype=np.float64)
    yhat = p.argmax(axis=1)
    if binary_sigmoid:
        A = (p[:, 1] - (yhat == 1))[:, None]
    else:
        A = p.copy()
        A[np.arange(p.shape[0]), yhat] -= 1.0
    Ht = np.hstack([H, np.ones((H.shape[0], 1))]) if intercept else np.asarray(H, np.float64)
    return A, Ht


def kmeans_pp_factored(
    A: np.ndarray, Ht: np.ndarray, n: int, random_state: Any = None
) -> np.ndarray:
    """k-means++ seeding over the rows ``a_i ⊗ h_i``, without forming them.

    The first row is the one of largest norm (ties broken at random); each further
    row is drawn with probability proportional to its squared distance to the
    nearest row chosen so far (uniformly among the rest when all distances are 0).
    The running minimum is updated in place, block by block on all cores.

    Returns
    -------
    ndarray of int64, shape (n,)
        Positions, in the order chosen.
    """
    rng = check_random_state(random_state)
    running = _FactoredMin(A, Ht)
    n_rows = A.shape[0]
    positions = np.empty(n, dtype=np.int64)
    chosen = np.zeros(n_rows, dtype=bool)
    for i in range(n):  # picks, not rows
        if i == 0:
            p = int(top_k(running.g_sq, 1, rng)[0])
        else:
            weights = np.where(chosen, 0.0, running.mind)
            total = weights.sum()
            if total > 0 and np.isfinite(total):
                p = _draw(weights / total, rng)
            else:
                p = int(rng.choice(np.flatnonzero(~chosen)))
        positions[i] = p
        chosen[p] = True
        running.add(p)
    return positions


def _draw(p: np.ndarray, rng: np.random.RandomState) -> int:
    """``rng.choice(len(p), p=p)`` for valid ``p``: the same draw, without re-checking ``p``.

    ``RandomState`` (whose stream numpy keeps frozen) draws by the cumulative sum,
    normalised by its last value, searched with one uniform sample.
    """
    cdf = np.cumsum(p, out=p)
    cdf /= cdf[-1]
    return int(cdf.searchsorted(rng.random_sample(), side="right"))


class _FactoredMin:
    """Running minimum of ``|g_i - g_p|²`` over the chosen ``p``, for ``g = a ⊗ h̃``."""

    def __init__(self, A: np.ndarray, Ht: np.ndarray) -> None:
        self.A, self.Ht = A, Ht
        self.g_sq = np.einsum("ij,ij->i", A, A) * np.einsum("ij,ij->i", Ht, Ht)
        self.mind = np.full(A.shape[0], np.inf)
        self.n_blocks = -(-A.shape[0] // GREEDY_ROWS)

    def add(self, p: int) -> None:
        """Fold in ``|g_i - g_p|² = |g_i|² + |g_p|² - 2 (a_i·a_p)(h_i·h_p)``."""
        A, Ht, g_sq, mind = self.A, self.Ht, self.g_sq, self.mind
        a_p, h_p, g_p = A[p].copy(), Ht[p].copy(), g_sq[p]

        def one(i: int) -> None:
            r0, r1 = i * GREEDY_ROWS, min((i + 1) * GREEDY_ROWS, A.shape[0])
            aa = scratch("badge_aa", (r1 - r0,))
            hh = scratch("badge_hh", (r1 - r0,))
            np.matmul(A[r0:r1], a_p, out=aa)
            np.matmul(Ht[r0:r1], h_p, out=hh)
            aa *= 2.0
            aa *= hh
            d = np.add(g_sq[r0:r1], g_p, out=hh)
            d -= aa
            np.maximum(d, 0.0, out=d)
            np.minimum(mind[r0:r1], d, out=mind[r0:r1])

        run_blocks(self.n_blocks, one)


@register
class Badge(Strategy):
    """BADGE: k-means++ seeding over last-layer gradient embeddings.

    Parameters
    ----------
    intercept : bool, default=True
        Whether a network's last layer has a bias (for ``extras["embeddings"]``).
    random_state : int, RandomState or None

    Notes
    -----
    The utility of each candidate is the norm of its gradient embedding.  A model with
    an ``embed`` hook (a network's last hidden layer, e.g. a ``TorchClassifier``) gets
    its embeddings used through ``Needs.EMBEDDINGS``, or pass
    ``context.extras["embeddings"]`` (n × d) with the probabilities; otherwise the
    model must be linear (have ``coef_``) and its inputs are the features.
    """

    name = "badge"
    needs = frozenset({Needs.PROBA, Needs.ESTIMATOR, Needs.FEATURES, Needs.EMBEDDINGS})

    def __init__(self, intercept: bool = True, random_state: Any = None) -> None:
        super().__init__(random_state=random_state)
        self.intercept = intercept

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        H, has_intercept, binary = linear_head(context, self.intercept)
        proba = context.proba
        A, Ht = gradient_embedding_factors(
            proba, H, intercept=has_intercept, binary_sigmoid=binary and proba.shape[1] == 2
        )
        positions = kmeans_pp_factored(A, Ht, n_instances, self.random_state)
        norms = np.sqrt(np.einsum("ij,ij->i", A, A) * np.einsum("ij,ij->i", Ht, Ht))
        return QueryResult(
            ids=context.candidate_ids[positions],
            candidate_ids=context.candidate_ids,
            utilities=norms,
            strategy=self.name,
            info={"embedding": "extras" if "embeddings" in context.extras else "linear"},
        )
