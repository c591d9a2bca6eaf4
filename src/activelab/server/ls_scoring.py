"""Label Studio prediction scores that encode an activelab strategy.

Label Studio's "Uncertainty sampling" serves the unlabeled task whose prediction has
the *lowest* ``score`` first.  A strategy's utility is the opposite (higher = more
worth labeling), so each strategy is mapped to a confidence-like score in ``[0, 1]``
that decreases as the utility grows:

==========================  ===============================================  ============
strategy                    score                                            range
==========================  ===============================================  ============
``least_confident``         ``max_c p(c|x)`` (the top probability)           [1/C, 1]
``margin``                  ``p_best - p_second``                            [0, 1]
``entropy``                 ``1 - H(p) / log C``                             [0, 1]
``vote_entropy``            ``1 - H(votes) / log C``                         [0, 1]
``consensus_entropy``       ``1 - H(mean p) / log C``                        [0, 1]
``kl_max_disagreement``     ``exp(-mean KL(member || consensus))``           (0, 1]
``random``                  a seeded uniform draw per task id                [0, 1)
any other utility strategy  ``1 / (1 + exp(utility))``                       (0, 1)
==========================  ===============================================  ============

``C`` is the number of classes the model knows.  Multiple-choice configs (multi-label) and
``<Number>`` configs (regression) are scored by their task's strategies
(:func:`utility_scores`): ``1 - utility`` for utilities in [0, 1], ``1 / (1 + utility)``
for utilities that are never negative (distances, variances), ``1 / (1 + exp(utility))``
otherwise, and the seeded draw for ``random``.

Because each score depends on one task alone, tasks scored in different ``/predict``
requests are ranked consistently.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from ..strategies.base import Strategy, UtilityStrategy
from ..strategies.query import utilities_once
from ..strategies.registry import get_strategy

__all__ = [
    "SCORE_MAPPING",
    "check_backend_strategy",
    "task_uniform",
    "strategy_scores",
    "utility_scores",
]

#: Human-readable mapping, shown in ``/health`` and the docs.
SCORE_MAPPING: dict[str, str] = {
    "least_confident": "max_c p(c|x)",
    "margin": "p_best - p_second",
    "entropy": "1 - H(p) / log C",
    "vote_entropy": "1 - H(votes) / log C",
    "consensus_entropy": "1 - H(mean p) / log C",
    "kl_max_disagreement": "exp(-mean KL(member || consensus))",
    "random": "uniform draw seeded by (random_state, task id)",
}
_GENERIC = "1 / (1 + exp(utility))"

#: Multi-label and regression strategies whose utility lies in [0, 1]: score ``1 - utility``.
UNIT_UTILITY: frozenset[str] = frozenset({"multilabel_margin", "binary_minimum", "cvirs"})
#: Multi-label and regression strategies whose utility is never negative (a distance, a
#: variance, an expected change): score ``1 / (1 + utility)``.
NONNEGATIVE_UTILITY: frozenset[str] = frozenset({
    "coreset", "greedy_x", "greedy_io", "qbc_variance", "max_std", "emcm",
    "cardinality_inconsistency"})
#: Strategies that choose a batch as a whole but record one utility per candidate that
#: depends on that candidate alone (the greedy distances before the batch's first pick).
PER_TASK_SELECTORS: frozenset[str] = frozenset({"random", "greedy_x", "greedy_io"})
_ENTROPY_LIKE = frozenset({"entropy", "vote_entropy", "consensus_entropy"})


def check_backend_strategy(name: str, random_state: Any = None) -> Strategy:
    """The strategy object for ``name``, refusing strategies without a per-task score.

    Raises
    ------
    ValueError
        When ``name`` is unknown, or the strategy picks a batch as a whole (so it
        cannot give each task a score of its own).
    """
    strategy = get_strategy(name, random_state=random_state)
    if strategy.name not in PER_TASK_SELECTORS and not isinstance(strategy, UtilityStrategy):
        raise ValueError(
            f"strategy {name!r} chooses a whole batch and gives no per-task score, which "
            "Label Studio needs; use one of: "
            + ", ".join(sorted(SCORE_MAPPING))
            + " (or another utility strategy)."
        )
    return strategy


def describe_score(name: str) -> str:
    """The score formula used for strategy ``name``."""
    return SCORE_MAPPING.get(name, _GENERIC)


def task_uniform(task_ids: np.ndarray, seed: int = 0) -> np.ndarray:
    """A reproducible uniform number in [0, 1) per task id (SplitMix64 of id and seed).

    The same ``(task id, seed)`` always gives the same number, whatever batch the
    task arrives in.
    """
    with np.errstate(over="ignore"):
        z = np.asarray(task_ids, dtype=np.int64).astype(np.uint64)
        z = z + np.uint64(0x9E3779B97F4A7C15) * (np.uint64(seed & 0xFFFFFFFF) + np.uint64(1))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _normalised_entropy_score(utility: np.ndarray, n_classes: int) -> np.ndarray:
    if n_classes < 2:
        return np.ones_like(utility)
    return 1.0 - utility / np.log(n_classes)


def strategy_scores(
    strategy: Strategy,
    task_ids: np.ndarray,
    proba: np.ndarray,
    *,
    committee_proba: np.ndarray | None = None,
    X: Any = None,
    estimator: Any = None,
    seed: int = 0,
) -> np.ndarray:
    """One Label Studio score per task: lower = more worth labeling.

    Parameters
    ----------
    strategy : Strategy
        A strategy accepted by :func:`check_backend_strategy`.
    task_ids : ndarray of int, shape (n,)
        Label Studio task ids (seed the ``random`` strategy).
    proba : ndarray of shape (n, C)
        Class probabilities of the tasks.
    committee_proba : ndarray of shape (M, n, C), optional
        Member probabilities, for committee strategies.
    X, estimator : optional
        Features and model, for utility strategies that need them.
    seed : int, default=0
        Seed of the ``random`` strategy.

    Returns
    -------
    ndarray of float64, shape (n,)
        Scores in [0, 1], clipped.
    """
    task_ids = np.asarray(task_ids, dtype=np.int64)
    if strategy.name == "random":
        return task_uniform(task_ids, seed)
    proba = np.asarray(proba, dtype=np.float64)
    n_classes = proba.shape[1]
    utility = utilities_once(estimator, X, task_ids, strategy, proba=proba,
                             committee_proba=committee_proba)
    name = strategy.name
    if name == "least_confident":
        score = 1.0 - utility
    elif name == "margin":
        score = -utility
    elif name in _ENTROPY_LIKE:
        score = _normalised_entropy_score(utility, n_classes)
    elif name == "kl_max_disagreement":
        score = np.exp(-np.maximum(utility, 0.0))
    else:
        score = expit(-utility)
    return np.clip(np.nan_to_num(score, nan=1.0), 0.0, 1.0)


def utility_scores(strategy: Strategy, task_ids: np.ndarray, utility: np.ndarray | None,
                   *, seed: int = 0) -> np.ndarray:
    """Scores of a multi-label or regression strategy's utilities: lower = more worth labeling.

    Parameters
    ----------
    strategy : Strategy
    task_ids : ndarray of int, shape (n,)
        Label Studio task ids (seed the ``random`` strategy).
    utility : ndarray of shape (n,) or None
        The strategy's utilities (unused for ``random``).
    seed : int, default=0

    Returns
    -------
    ndarray of float64, shape (n,)
        Scores in [0, 1]: ``1 - u`` for :data:`UNIT_UTILITY`, ``1 / (1 + u)`` for
        :data:`NONNEGATIVE_UTILITY`, ``1 / (1 + exp(u))`` otherwise.
    """
    task_ids = np.asarray(task_ids, dtype=np.int64)
    if strategy.name == "random" or utility is None:
        return task_uniform(task_ids, seed)
    u = np.nan_to_num(np.asarray(utility, dtype=np.float64), nan=0.0, posinf=1e300,
                      neginf=-1e300)
    if strategy.name in UNIT_UTILITY:
        score = 1.0 - u
    elif strategy.name in NONNEGATIVE_UTILITY:
        score = 1.0 / (1.0 + np.maximum(u, 0.0))
    else:
        score = expit(-u)
    return np.clip(score, 0.0, 1.0)
