"""Class-balanced uncertainty sampling for imbalanced data.

Plain uncertainty sampling rarely asks about rare classes.  Here every class gets a
quota of the batch by the class the model *predicts* for each candidate, and within a
class the most uncertain candidates fill the quota (the lecture's imbalanced-data
recipe, done properly):

- the quotas always sum to the batch size ``n`` (the remainder of ``n / n_classes`` is
  not dropped);
- a class with fewer candidates than its share takes them all and passes the rest of
  its share on to the other classes, in proportion to their weights;
- leftover single items go to the classes with the fewest labeled examples first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._shared import base_utility
from .base import Needs, QueryContext, QueryResult, Strategy, check_n_instances, top_k
from .registry import register

__all__ = ["ClassBalanced", "balanced_quotas"]


def balanced_quotas(
    n: int,
    capacities: Any,
    weights: Any = None,
    priority: Any = None,
) -> np.ndarray:
    """Split ``n`` items among classes in proportion to ``weights``, within capacities.

    Parameters
    ----------
    n : int
        Items to allocate; at most ``sum(capacities)``.
    capacities : array-like of int, shape (K,)
        How many items each class can take (its number of candidates).
    weights : array-like of float, shape (K,), optional
        Positive relative shares; equal by default.
    priority : array-like, shape (K,), optional
        Lower values win single leftover items (e.g. the labeled count per class);
        ties go to the lower class index.

    Returns
    -------
    ndarray of int64, shape (K,)
        Quotas with ``0 <= quota <= capacity`` summing to ``n``.

    Examples
    --------
    >>> balanced_quotas(6, [5, 1, 4]).tolist()
    [3, 1, 2]
    """
    cap = np.asarray(capacities, dtype=np.int64)
    k = cap.shape[0]
    w = np.ones(k) if weights is None else np.asarray(weights, dtype=np.float64)
    pri = np.zeros(k) if priority is None else np.asarray(priority, dtype=np.float64)
    if w.shape != (k,) or pri.shape != (k,):
        raise ValueError("weights and priority must have one entry per class.")
    if np.any(w <= 0) or not np.all(np.isfinite(w)):
        raise ValueError("class weights must be positive and finite.")
    if n > cap.sum():
        raise ValueError(f"cannot allocate {n} items to classes holding {int(cap.sum())}.")
    quotas = np.zeros(k, dtype=np.int64)
    remaining = int(n)
    while remaining > 0:
        active = np.flatnonzero(quotas < cap)
        share = remaining * w[active] / w[active].sum()
        give = np.minimum(np.floor(share).astype(np.int64), cap[active] - quotas[active])
        if give.sum() == 0:
            order = np.lexsort((active, pri[active], -share))[:remaining]
            quotas[active[order]] += 1
            remaining -= order.size
        else:
            quotas[active] += give
            remaining -= int(give.sum())
    return quotas


@register
class ClassBalanced(Strategy):
    """Per-predicted-class quotas, filled with each class's most uncertain candidates.

    Parameters
    ----------
    utility : str, default="margin"
        Utility ranking candidates within a class.
    weighting : {"equal", "inverse_frequency"}, default="equal"
        ``"equal"``: every class gets the same share (rare classes gain most);
        ``"inverse_frequency"``: shares proportional to ``1 / (1 + labeled count)``.
    random_state : int, RandomState or None
        Tie breaking.

    Notes
    -----
    ``info["quotas"]`` maps each class to the number of items chosen for it;
    the batch is ordered by utility.
    """

    name = "class_balanced"
    needs = frozenset({Needs.PROBA, Needs.LABELED})

    def __init__(
        self, utility: str = "margin", weighting: str = "equal", random_state: Any = None
    ) -> None:
        super().__init__(random_state=random_state)
        if weighting not in ("equal", "inverse_frequency"):
            raise ValueError(
                f"weighting must be 'equal' or 'inverse_frequency', got {weighting!r}."
            )
        self.utility = utility
        self.weighting = weighting

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        proba = context.proba
        n_classes = proba.shape[1]
        classes = context.classes
        if classes is None or len(classes) != n_classes:
            classes = np.arange(n_classes)
        classes = np.asarray(classes)
        predicted = proba.argmax(axis=1)
        capacities = np.bincount(predicted, minlength=n_classes)
        labeled_counts = np.zeros(n_classes)
        if context.y_labeled is not None and context.y_labeled.size:
            y = np.asarray(context.y_labeled)
            labeled_counts = (y[None, :] == classes[:, None]).sum(axis=1).astype(np.float64)
        weights = None
        if self.weighting == "inverse_frequency":
            weights = 1.0 / (1.0 + labeled_counts)
        quotas = balanced_quotas(n_instances, capacities, weights, priority=labeled_counts)
        u = base_utility(self.utility, context, self.random_state)
        chosen = []
        for c in np.flatnonzero(quotas):
            members = np.flatnonzero(predicted == c)
            chosen.append(members[top_k(u[members], int(quotas[c]), self.random_state)])
        positions = np.concatenate(chosen)
        positions = positions[top_k(u[positions], positions.size, self.random_state)]
        return QueryResult(
            ids=context.candidate_ids[positions],
            candidate_ids=context.candidate_ids,
            utilities=u,
            strategy=self.name,
            info={
                "quotas": {str(classes[c]): int(quotas[c]) for c in range(n_classes)},
                "weighting": self.weighting,
            },
        )
