"""Query strategies: utilities plus selectors, registered by name.

Importing the package registers the built-in families (:mod:`._families`); the
contract is in :mod:`.base`, the name table in :mod:`.registry`, one query in
:mod:`.query`, and the helpers the families share in :mod:`._shared`.
"""

from . import _families  # noqa: F401  (registers the built-in strategies)
from .base import Needs, QueryContext, QueryResult, Strategy, UtilityStrategy, needs_of, top_k
from .committee import (
    consensus_entropy_utility,
    kl_max_disagreement_utility,
    vote_entropy_utility,
)
from .registry import available_strategies, get_strategy, register
from .uncertainty import entropy_utility, least_confident_utility, margin_utility

__all__ = [
    "Needs",
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
    "needs_of",
    "register",
    "top_k",
    "vote_entropy_utility",
]
