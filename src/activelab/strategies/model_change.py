"""Expected model change: expected gradient length (EGL, Settles, Craven & Ray 2008).

An item is worth labeling when learning its label would change the model a lot.  For
a linear softmax (multinomial logistic) model with weights ``W`` (C × d) and bias
``b``, the gradient of the log-loss of one example ``(x, y)`` is

``dL/dW = (p - e_y) h^T``,   ``dL/db = p - e_y``,

where ``h`` is the model's input (``x``, or the output of a pipeline's transformers, or a
network's last hidden layer) and ``p`` the predicted distribution.  Its Frobenius norm
is exactly ``|p - e_y| · |h̃|`` with ``h̃ = [h, 1]`` when the model has a bias.  EGL
takes the expectation over the model's own predicted label distribution:

``EGL(x) = sum_y p(y|x) · |p - e_y| · |h̃|``.

For a binary scikit-learn logistic regression (one weight vector, sigmoid output) the
gradient is ``(p_1 - [y = 1]) h̃`` and ``EGL(x) = 2 p_0 p_1 |h̃|``.  The regularisation
term and the factor ``C`` of scikit-learn's objective scale every gradient alike, so the
ranking is unaffected; they are left out.

The same hook serves neural networks: pass the last hidden layer as
``context.extras["embeddings"]`` (n_candidates × d) together with the probabilities.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._shared import linear_head
from .base import Needs, QueryContext, UtilityStrategy
from .registry import register

__all__ = ["ExpectedGradientLength", "expected_gradient_length"]


def expected_gradient_length(
    proba: np.ndarray, H: np.ndarray, *, intercept: bool = True, binary_sigmoid: bool = False
) -> np.ndarray:
    """Expected norm of the last-layer log-loss gradient, per item.

    Parameters
    ----------
    proba : ndarray of shape (n, C)
        Predicted class distribution.
    H : ndarray of shape (n, d)
        Inputs of the last linear layer.
    intercept : bool, default=True
        Whether the layer has a bias (adds 1 to ``|h|²``).
    binary_sigmoid : bool, default=False
        One weight vector with a sigmoid output (scikit-learn's binary logistic
        regression) instead of a softmax over ``C`` outputs.

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    p = np.asarray(proba, dtype=np.float64)
    h_norm = np.sqrt(np.einsum("ij,ij->i", H, H) + (1.0 if intercept else 0.0))
    if binary_sigmoid:
        if p.shape[1] != 2:
            raise ValueError("a binary sigmoid model needs two probability columns.")
        return 2.0 * p[:, 0] * p[:, 1] * h_norm
    # |p - e_y|^2 = sum_c p_c^2 - 2 p_y + 1, for every y at once
    sq = (p**2).sum(axis=1, keepdims=True) - 2.0 * p + 1.0
    residual_norm = (p * np.sqrt(np.maximum(sq, 0.0))).sum(axis=1)
    return residual_norm * h_norm


@register
class ExpectedGradientLength(UtilityStrategy):
    """Expected gradient length of a linear (logistic / softmax) last layer.

    Exact for scikit-learn's binary and multinomial logistic regression (and other
    linear models with ``coef_`` whose probabilities are a softmax or sigmoid of the
    linear scores), and for networks through ``context.extras["embeddings"]``.

    Parameters
    ----------
    intercept : bool, default=True
        Whether a network's last layer has a bias (only used with
        ``extras["embeddings"]``; scikit-learn models report ``fit_intercept``).
    random_state : int, RandomState or None
        Tie breaking.
    """

    name = "expected_gradient_length"
    needs = frozenset({Needs.PROBA, Needs.ESTIMATOR, Needs.FEATURES})

    def __init__(self, intercept: bool = True, random_state: Any = None) -> None:
        super().__init__(random_state=random_state)
        self.intercept = intercept

    def utility(self, context: QueryContext) -> np.ndarray:
        H, has_intercept, binary = linear_head(context, self.intercept)
        proba = context.proba
        return expected_gradient_length(
            proba, H, intercept=has_intercept, binary_sigmoid=binary and proba.shape[1] == 2
        )
