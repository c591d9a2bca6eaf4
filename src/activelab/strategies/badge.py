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

from ._shared import GREEDY_ROWS, badge_batch, kmeans_pp_factored, linear_head
from .base import Needs, QueryContext, QueryResult, Strategy, check_n_instances
from .registry import register

__all__ = ["Badge", "GREEDY_ROWS", "gradient_embedding_factors", "kmeans_pp_factored"]

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
        return badge_batch(context, A, Ht, n_instances, self.random_state, self.name, "linear")
