"""Query-by-committee disagreement measures.

Each works on member probabilities of shape (n_members, n_samples, n_classes) that
are aligned on one class order (see :class:`activelab.Committee`).  Like the
uncertainty measures they are built from row-wise block kernels (``*_block(mp, out)`` on
member-major blocks of shape (n_members, n_classes, b)).  When a strategy's context has
no member probabilities yet and the model is an :class:`activelab.Committee`, each
member's probabilities are computed block by block with that member's fast kernel
(:func:`activelab.proba.probability_kernel`), the measure is taken per block on all
cores, and the (members × n × C) tensor is never made; the values are bit-equal to the
measure of ``Committee.committee_proba``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..parallel import run_blocks, scratch
from ..pool import n_rows
from ..proba import class_reduce, kernel_rows, probability_kernel
from ._shared import TINY, entropy_block
from .base import Needs, QueryContext, UtilityStrategy
from .registry import register

__all__ = [
    "vote_entropy_utility",
    "consensus_entropy_utility",
    "kl_max_disagreement_utility",
    "vote_entropy_block",
    "consensus_entropy_block",
    "kl_max_disagreement_block",
    "committee_utility",
    "VoteEntropy",
    "ConsensusEntropy",
    "KLMaxDisagreement",
]

#: ``fn(mp, out)``: one value per column of member-major probabilities ``mp``
#: (n_members, n_classes, b), float64, written into ``out`` (b,).
CommitteeBlockFn = Callable[[np.ndarray, np.ndarray], None]


def _check_committee(committee_proba: np.ndarray) -> np.ndarray:
    committee_proba = np.asarray(committee_proba, dtype=np.float64)
    if committee_proba.ndim != 3:
        raise ValueError(
            "committee probabilities must have shape (n_members, n_samples, n_classes), "
            f"got {committee_proba.shape}."
        )
    return committee_proba


# ----------------------------------------------------------------- block kernels
def _consensus(mp: np.ndarray) -> np.ndarray:
    """The members' mean distribution (C, b), summed in member order."""
    q = scratch("committee_consensus", mp.shape[1:])
    class_reduce(mp, np.add, q)
    q /= mp.shape[0]
    return q


def vote_entropy_block(mp: np.ndarray, out: np.ndarray) -> None:
    """Entropy of the fraction of members voting each class (a vote is a member's argmax)."""
    n_members, n_classes, b = mp.shape
    counts = scratch("vote_counts", (n_classes, b))
    counts.fill(0.0)
    if n_classes == 0:
        out.fill(0.0)
        return
    votes = scratch("vote_votes", (b,), np.int64)
    best = scratch("vote_best", (b,))
    better = scratch("vote_better", (b,), bool)
    flat = counts.reshape(-1)
    columns = np.arange(b)
    for m in range(n_members):  # members, not rows
        votes.fill(0)
        np.copyto(best, mp[m, 0])
        for j in range(1, n_classes):  # the first class of largest probability wins
            np.greater(mp[m, j], best, out=better)
            np.copyto(votes, j, where=better)
            np.maximum(best, mp[m, j], out=best)
        votes *= b
        votes += columns
        flat[votes] += 1.0
    counts /= n_members
    entropy_block(counts, out)


def consensus_entropy_block(mp: np.ndarray, out: np.ndarray) -> None:
    """Entropy of the members' average class distribution."""
    entropy_block(_consensus(mp), out)


def kl_max_disagreement_block(mp: np.ndarray, out: np.ndarray) -> None:
    """Largest KL divergence ``sum_c p log(p / q)`` of a member ``p`` from the consensus ``q``."""
    q = _consensus(mp)
    np.maximum(q, TINY, out=q)
    terms = scratch("kl_terms", q.shape)
    kl = scratch("kl_member", out.shape)
    out.fill(-np.inf)
    for m in range(mp.shape[0]):  # members, not rows
        np.divide(mp[m], q, out=terms)
        np.maximum(terms, TINY, out=terms)
        np.log(terms, out=terms)
        terms *= mp[m]
        class_reduce(terms, np.add, kl)
        np.maximum(out, kl, out=out)


# ----------------------------------------------------------------- drivers
def _reduce_committee_matrix(committee_proba: np.ndarray, block_fn: CommitteeBlockFn) -> np.ndarray:
    m, n, c = committee_proba.shape
    out = np.empty(n, dtype=np.float64)
    rows = kernel_rows(c)

    def one(i: int) -> None:
        start, stop = i * rows, min((i + 1) * rows, n)
        mp = scratch("committee_block", (m, c, stop - start))
        np.copyto(mp, committee_proba[:, start:stop].transpose(0, 2, 1))
        block_fn(mp, out[start:stop])

    if n:
        run_blocks(-(-n // rows), one, None)
    return out


def _member_kernels(committee: Any, X: Any) -> list[tuple[Any, np.ndarray | None]] | None:
    """Each member's probability kernel and the committee columns of its classes."""
    members = getattr(committee, "learner_list", None)
    try:
        classes = np.asarray(committee.classes_)
        fitted = [(m.estimator_, np.asarray(m.classes_)) for m in members]
    except Exception:  # not an activelab Committee: use its committee_proba
        return None
    out: list[tuple[Any, np.ndarray | None]] = []
    for estimator, member_classes in fitted:
        if member_classes.shape == classes.shape and np.array_equal(member_classes, classes):
            columns = None
        else:
            columns = np.searchsorted(classes, member_classes)
            if np.any(columns >= len(classes)) or not np.array_equal(
                classes[columns], member_classes
            ):
                return None
        out.append((probability_kernel(estimator, X), columns))
    return out or None


def _reduce_committee_model(
    kernels: list[tuple[Any, np.ndarray | None]], n_classes: int, X: Any,
    block_fn: CommitteeBlockFn,
) -> np.ndarray:
    n = n_rows(X)
    out = np.empty(n, dtype=np.float64)
    rows = max(k.block_rows for k, _ in kernels)  # each member's blocks nest in these

    def one(i: int) -> None:
        start, stop = i * rows, min((i + 1) * rows, n)
        mp = scratch("committee_block", (len(kernels), n_classes, stop - start))
        for m, (kernel, columns) in enumerate(kernels):  # members, not rows
            for lo in range(start, stop, kernel.block_rows):  # that member's blocks
                hi = min(lo + kernel.block_rows, stop)
                dst = mp[m, :, lo - start : hi - start]
                if columns is None:
                    np.copyto(dst, kernel.block(X, lo, hi))
                else:
                    dst.fill(0.0)
                    dst[columns] = kernel.block(X, lo, hi)
        block_fn(mp, out[start:stop])

    if n:
        threadsafe = all(k.threadsafe for k, _ in kernels)
        run_blocks(-(-n // rows), one, None if threadsafe else 1,
                   pin_blas=all(k.small_products for k, _ in kernels))
    return out


def committee_utility(context: QueryContext, block_fn: CommitteeBlockFn) -> np.ndarray:
    """A row-wise measure of the members' probabilities, one value per candidate.

    From ``context.committee_proba`` when the context has it; otherwise, for an
    :class:`activelab.Committee`, member by member and block by block without the
    (members × n × C) tensor.  Both give bit-equal values.
    """
    known = context.committee_proba_if_known
    model = context.estimator
    if known is None and model is not None and context.X is not None and n_rows(context.X):
        kernels = _member_kernels(model, context.X)
        if kernels is not None:
            return _reduce_committee_model(kernels, len(model.classes_), context.X, block_fn)
    return _reduce_committee_matrix(context.committee_proba if known is None else known, block_fn)


# ----------------------------------------------------------------- plain functions
def vote_entropy_utility(committee_proba: np.ndarray) -> np.ndarray:
    """Entropy of the members' hard votes (fraction of members voting each class)."""
    return _reduce_committee_matrix(_check_committee(committee_proba), vote_entropy_block)


def consensus_entropy_utility(committee_proba: np.ndarray) -> np.ndarray:
    """Entropy of the members' average class distribution."""
    return _reduce_committee_matrix(_check_committee(committee_proba), consensus_entropy_block)


def kl_max_disagreement_utility(committee_proba: np.ndarray) -> np.ndarray:
    """Largest KL divergence of any member's distribution from the consensus."""
    return _reduce_committee_matrix(_check_committee(committee_proba), kl_max_disagreement_block)


@register
class VoteEntropy(UtilityStrategy):
    """Query where the committee's hard votes are most split."""

    name = "vote_entropy"
    needs = frozenset({Needs.COMMITTEE_PROBA})

    def utility(self, context: QueryContext) -> np.ndarray:
        return committee_utility(context, vote_entropy_block)


@register
class ConsensusEntropy(UtilityStrategy):
    """Query where the committee's averaged prediction is most uncertain."""

    name = "consensus_entropy"
    needs = frozenset({Needs.COMMITTEE_PROBA})

    def utility(self, context: QueryContext) -> np.ndarray:
        return committee_utility(context, consensus_entropy_block)


@register
class KLMaxDisagreement(UtilityStrategy):
    """Query where some member disagrees most (in KL divergence) with the consensus."""

    name = "kl_max_disagreement"
    needs = frozenset({Needs.COMMITTEE_PROBA})

    def utility(self, context: QueryContext) -> np.ndarray:
        return committee_utility(context, kl_max_disagreement_block)
