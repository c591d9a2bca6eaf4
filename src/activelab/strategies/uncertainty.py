"""Uncertainty sampling: least confident, margin and entropy.

Each utility is a plain function of a probability matrix (n × C), so it can be
used on precomputed outputs, chunk by chunk, or by the app's background scorer.
"""

from __future__ import annotations

import numpy as np
from scipy.special import entr

from ..proba import row_reduce
from .base import Needs, QueryContext, UtilityStrategy
from .registry import register

__all__ = [
    "least_confident_utility",
    "margin_utility",
    "entropy_utility",
    "LeastConfident",
    "Margin",
    "Entropy",
]

#: Rows per block when a utility needs a temporary per probability.
_BLOCK_ROWS = 4096


def _check_proba(proba: np.ndarray) -> np.ndarray:
    proba = np.asarray(proba)
    if proba.ndim != 2:
        raise ValueError(
            f"probabilities must be a 2-D array (n_samples, n_classes), got shape {proba.shape}."
        )
    return proba


def least_confident_utility(proba: np.ndarray) -> np.ndarray:
    """``1 - max_c p(c|x)``: how unsure the model is of its best guess."""
    proba = _check_proba(proba)
    n, c = proba.shape
    if c == 0 or c > 32 or n == 0:
        return 1.0 - proba.max(axis=1)
    out = np.empty(n, dtype=np.float64)
    for start in range(0, n, _BLOCK_ROWS):  # blocks of rows, not single rows
        stop = min(start + _BLOCK_ROWS, n)
        row_reduce(proba[start:stop], np.maximum, out=out[start:stop])
    return np.subtract(1.0, out, out=out)


def margin_utility(proba: np.ndarray) -> np.ndarray:
    """``-(p_best - p_second)``: a small gap between the two top classes is useful.

    With a single class column the margin is taken as 1 (no uncertainty).
    """
    proba = _check_proba(proba)
    if proba.shape[1] < 2:
        return np.full(proba.shape[0], -1.0)
    n, c = proba.shape
    if c > 32:
        top2 = np.partition(proba, c - 2, axis=1)[:, -2:]
        return top2[:, 0] - top2[:, 1]
    # walk the few columns keeping the best and second best, block by block (the same
    # values as a partition, without sorting every row)
    out = np.empty(n, dtype=np.float64)
    block = max(1, min(n, _BLOCK_ROWS))
    best, second, low = (np.empty(block) for _ in range(3))
    for start in range(0, n, block):  # blocks of rows, not single rows
        stop = min(start + block, n)
        b, s2, t = best[: stop - start], second[: stop - start], low[: stop - start]
        np.copyto(b, proba[start:stop, 0])
        s2.fill(-np.inf)
        for j in range(1, c):
            col = proba[start:stop, j]
            np.minimum(b, col, out=t)
            np.maximum(s2, t, out=s2)
            np.maximum(b, col, out=b)
        np.subtract(s2, b, out=out[start:stop])
    return out


def entropy_utility(proba: np.ndarray) -> np.ndarray:
    """Shannon entropy ``-sum_c p log p`` (natural log), 0·log 0 taken as 0.

    Computed block by block in one small buffer, so no temporary the size of
    ``proba`` is made.
    """
    proba = _check_proba(proba)
    n, c = proba.shape
    out = np.empty(n, dtype=np.float64)
    block = max(1, min(n, _BLOCK_ROWS))
    buf = np.empty((block, c), dtype=np.float64)
    for start in range(0, n, block):  # blocks of rows, not single rows
        stop = min(start + block, n)
        terms = buf[: stop - start]
        entr(proba[start:stop], out=terms)
        row_reduce(terms, np.add, out=out[start:stop])
    return out


@register
class LeastConfident(UtilityStrategy):
    """Query the items whose most likely class has the lowest probability."""

    name = "least_confident"
    needs = frozenset({Needs.PROBA})

    def utility(self, context: QueryContext) -> np.ndarray:
        return least_confident_utility(context.proba)


@register
class Margin(UtilityStrategy):
    """Query the items with the smallest gap between the two most likely classes.

    The default strategy: in a large tabular re-benchmark (Lu et al., TMLR 2025)
    margin sampling was at or above random on nearly every dataset.
    """

    name = "margin"
    needs = frozenset({Needs.PROBA})

    def utility(self, context: QueryContext) -> np.ndarray:
        return margin_utility(context.proba)


@register
class Entropy(UtilityStrategy):
    """Query the items whose predicted class distribution has the highest entropy."""

    name = "entropy"
    needs = frozenset({Needs.PROBA})

    def utility(self, context: QueryContext) -> np.ndarray:
        return entropy_utility(context.proba)
