"""Query-by-committee disagreement measures.

Each works on member probabilities of shape (n_members, n_samples, n_classes) that
are aligned on one class order (see :class:`activelab.Committee`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import entr, rel_entr

from .base import Needs, QueryContext, UtilityStrategy
from .registry import register

__all__ = [
    "vote_entropy_utility",
    "consensus_entropy_utility",
    "kl_max_disagreement_utility",
    "VoteEntropy",
    "ConsensusEntropy",
    "KLMaxDisagreement",
]


def _check_committee(committee_proba: np.ndarray) -> np.ndarray:
    committee_proba = np.asarray(committee_proba, dtype=np.float64)
    if committee_proba.ndim != 3:
        raise ValueError(
            "committee probabilities must have shape (n_members, n_samples, n_classes), "
            f"got {committee_proba.shape}."
        )
    return committee_proba


def vote_entropy_utility(committee_proba: np.ndarray) -> np.ndarray:
    """Entropy of the members' hard votes (fraction of members voting each class)."""
    committee_proba = _check_committee(committee_proba)
    n_members, n_samples, n_classes = committee_proba.shape
    votes = committee_proba.argmax(axis=2)  # (M, n)
    counts = np.zeros((n_samples, n_classes))
    rows = np.broadcast_to(np.arange(n_samples), votes.shape)
    np.add.at(counts, (rows.ravel(), votes.ravel()), 1.0)
    return entr(counts / n_members).sum(axis=1)


def consensus_entropy_utility(committee_proba: np.ndarray) -> np.ndarray:
    """Entropy of the members' average class distribution."""
    committee_proba = _check_committee(committee_proba)
    return entr(committee_proba.mean(axis=0)).sum(axis=1)


def kl_max_disagreement_utility(committee_proba: np.ndarray) -> np.ndarray:
    """Largest KL divergence of any member's distribution from the consensus."""
    committee_proba = _check_committee(committee_proba)
    consensus = committee_proba.mean(axis=0)
    kl = rel_entr(committee_proba, consensus[None]).sum(axis=2)  # (M, n)
    return kl.max(axis=0)


@register
class VoteEntropy(UtilityStrategy):
    """Query where the committee's hard votes are most split."""

    name = "vote_entropy"
    needs = frozenset({Needs.COMMITTEE_PROBA})

    def utility(self, context: QueryContext) -> np.ndarray:
        return vote_entropy_utility(context.committee_proba)


@register
class ConsensusEntropy(UtilityStrategy):
    """Query where the committee's averaged prediction is most uncertain."""

    name = "consensus_entropy"
    needs = frozenset({Needs.COMMITTEE_PROBA})

    def utility(self, context: QueryContext) -> np.ndarray:
        return consensus_entropy_utility(context.committee_proba)


@register
class KLMaxDisagreement(UtilityStrategy):
    """Query where some member disagrees most (in KL divergence) with the consensus."""

    name = "kl_max_disagreement"
    needs = frozenset({Needs.COMMITTEE_PROBA})

    def utility(self, context: QueryContext) -> np.ndarray:
        return kl_max_disagreement_utility(context.committee_proba)
