"""Query strategies: utilities plus selectors, registered by name."""

from . import _families  # noqa: F401  (registers the built-in strategies)
from .base import QueryContext, QueryResult, Strategy, UtilityStrategy, top_k
from .committee import (
    consensus_entropy_utility,
    kl_max_disagreement_utility,
    vote_entropy_utility,
)
from .registry import available_strategies, get_strategy, register
from .uncertainty import entropy_utility, least_confident_utility, margin_utility

__all__ = [
    "QueryContext",
    "QueryResult",
    "Strategy",
    "UtilityStrategy",
    "available_strategies",
    "consensus_entropy_utility",
    "entropy_utility",
    "get_strategy",
    "kl_max_disagreement_utility",
    "least_confident_utility",
    "margin_utility",
    "register",
    "top_k",
    "vote_entropy_utility",
]
