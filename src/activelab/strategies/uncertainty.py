"""Uncertainty sampling: least confident, margin and entropy.

Each utility is a plain function of a probability matrix (n × C), so it can be used on
precomputed outputs, chunk by chunk, or by the app's background scorer.  The functions
are built from row-wise *block* kernels (``*_block(pT, out)`` on class-major blocks,
see :data:`activelab.proba.BlockFn`); the strategies hand the same kernels to
:func:`activelab.proba.reduce_proba` when the probabilities have not been computed, so
that a query scores the pool straight from the model's logits, block by block, on all
cores, without the n × C matrix — and with bit-equal utilities either way.

With the optional compiled kernels installed (:mod:`activelab.compiled`), a query of a
linear model on a dense pool is scored by them instead, and the items near the cut-off
are re-scored with the numpy kernels before choosing, so the ids are the same.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..compiled import compiled_utilities, exact_near_cut, tolerance
from ..parallel import scratch
from ..pool import RowView, take_rows
from ..proba import BlockFn, class_reduce, reduce_proba, reduce_proba_matrix
from ._shared import entropy_block, proba_utility
from .base import (
    Needs,
    QueryContext,
    QueryResult,
    UtilityStrategy,
    check_n_instances,
    select_top,
)
from .registry import register

__all__ = [
    "least_confident_utility",
    "margin_utility",
    "entropy_utility",
    "least_confident_block",
    "margin_block",
    "entropy_block",
    "LeastConfident",
    "Margin",
    "Entropy",
]

def _check_proba(proba: np.ndarray) -> np.ndarray:
    proba = np.asarray(proba)
    if proba.ndim != 2:
        raise ValueError(
            f"probabilities must be a 2-D array (n_samples, n_classes), got shape {proba.shape}."
        )
    return proba


def least_confident_block(pt: np.ndarray, out: np.ndarray) -> None:
    """``1 - max_c p(c|x)`` of class-major probabilities ``pt`` (C, b) into ``out``."""
    if pt.shape[0] == 0:
        out.fill(1.0)
        return
    class_reduce(pt, np.maximum, out)
    np.subtract(1.0, out, out=out)


def margin_block(pt: np.ndarray, out: np.ndarray) -> None:
    """``-(p_best - p_second)`` of class-major probabilities (C, b); -1 with one class."""
    c, b = pt.shape
    if c < 2:
        out.fill(-1.0)
        return
    best, low = scratch("margin_best", (b,)), scratch("margin_low", (b,))
    np.copyto(best, pt[0])
    out.fill(-np.inf)  # the running second best
    for j in range(1, c):  # classes, not rows
        np.minimum(best, pt[j], out=low)
        np.maximum(out, low, out=out)
        np.maximum(best, pt[j], out=best)
    np.subtract(out, best, out=out)


def least_confident_utility(proba: np.ndarray) -> np.ndarray:
    """``1 - max_c p(c|x)``: how unsure the model is of its best guess."""
    return reduce_proba_matrix(_check_proba(proba), least_confident_block)


def margin_utility(proba: np.ndarray) -> np.ndarray:
    """``-(p_best - p_second)``: a small gap between the two top classes is useful.

    With a single class column the margin is taken as 1 (no uncertainty).
    """
    return reduce_proba_matrix(_check_proba(proba), margin_block)


def entropy_utility(proba: np.ndarray) -> np.ndarray:
    """Shannon entropy ``-sum_c p log p`` (natural log), 0·log 0 taken as 0.

    Computed block by block in one small buffer per thread, so no temporary the size of
    ``proba`` is made.
    """
    return reduce_proba_matrix(_check_proba(proba), entropy_block)


class _UncertaintyStrategy(UtilityStrategy):
    """A utility that is a row-wise function of the probabilities, given by :attr:`block`."""

    block: ClassVar[BlockFn]

    def utility(self, context: QueryContext) -> np.ndarray:
        return proba_utility(context, type(self).block)

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        """The top ``n_instances``; through the compiled kernels when they apply."""
        fast = None
        if context.proba_if_known is None and context.estimator is not None \
                and context.X is not None:
            fast = compiled_utilities(context.estimator, context.X, self.name)
        if fast is None or np.isnan(fast).any():
            return super().select(context, n_instances)
        n_instances = check_n_instances(n_instances, len(context))
        block = type(self).block

        def exact(positions: np.ndarray) -> np.ndarray:
            return reduce_proba(context.estimator, take_rows(context.X, positions), block)

        base = context.X.base if isinstance(context.X, RowView) else context.X
        utilities = exact_near_cut(fast, n_instances, exact, tolerance(base.dtype))
        return select_top(context, utilities, n_instances, self.random_state, self.name,
                          info=self.query_info(context) or None)


@register
class LeastConfident(_UncertaintyStrategy):
    """Query the items whose most likely class has the lowest probability."""

    name = "least_confident"
    needs = frozenset({Needs.PROBA})
    block = staticmethod(least_confident_block)


@register
class Margin(_UncertaintyStrategy):
    """Query the items with the smallest gap between the two most likely classes.

    The default strategy: in a large tabular re-benchmark (Lu et al., TMLR 2025)
    margin sampling was at or above random on nearly every dataset.
    """

    name = "margin"
    needs = frozenset({Needs.PROBA})
    block = staticmethod(margin_block)


@register
class Entropy(_UncertaintyStrategy):
    """Query the items whose predicted class distribution has the highest entropy."""

    name = "entropy"
    needs = frozenset({Needs.PROBA})
    block = staticmethod(entropy_block)
