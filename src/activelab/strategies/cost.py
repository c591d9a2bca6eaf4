"""Cost-aware querying: utility per unit of labeling cost.

Some items cost more to label than others (a long document, a hard image, an expert's
time).  :class:`CostAware` divides any utility by the item's labeling cost, so that
the strategy asks for the most information per unit spent (the lecture's cost
analysis made part of the query).

Utilities are not all non-negative: :func:`~activelab.strategies.margin_utility` is
*minus* the gap between the two most likely classes, so it lies in ``[-1, 0]``.
Dividing a negative number by a larger cost would make a costly item look *better*.
Every utility is therefore mapped to a non-negative score first (see
:func:`~activelab.strategies._shared.nonnegative_utility`): margin becomes ``1 + margin = 1 - gap`` in ``[0, 1]``;
utilities that are already non-negative (least confident, entropy, the committee
measures) are kept as they are; any other utility with negative values is shifted by
its minimum over the candidates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._shared import nonnegative_utility
from .base import Needs, QueryContext, UtilityStrategy
from .registry import register

__all__ = ["CostAware", "cost_weighted"]


def cost_weighted(utilities: Any, costs: Any) -> np.ndarray:
    """Utility per unit of cost, ``utilities / costs``.

    Parameters
    ----------
    utilities : array-like of shape (n,)
        Non-negative utilities (see :func:`~activelab.strategies._shared.nonnegative_utility`).
    costs : array-like of shape (n,)
        Positive, finite labeling costs.

    Returns
    -------
    ndarray of float64, shape (n,)

    Raises
    ------
    ValueError
        When the shapes differ, a cost is not positive and finite, or a utility is negative.
    """
    u = np.asarray(utilities, dtype=np.float64)
    c = np.asarray(costs, dtype=np.float64)
    if c.shape != u.shape:
        raise ValueError(
            f"costs has shape {c.shape} but there are {u.shape[0]} utilities; "
            "give one cost per candidate."
        )
    if not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise ValueError("costs must be positive and finite; give every item a cost above 0.")
    if np.any(u < 0):
        raise ValueError(
            "cost weighting needs non-negative utilities; map them first with "
            "nonnegative_utility (margin becomes 1 - gap)."
        )
    return u / c


@register
class CostAware(UtilityStrategy):
    """Most utility per unit of labeling cost: ``nonnegative(utility) / cost``.

    Parameters
    ----------
    base : str or UtilityStrategy, default="margin"
        The utility to weigh.  ``margin`` is mapped to ``1 - gap`` first (see
        :func:`~activelab.strategies._shared.nonnegative_utility`).
    costs : None, array-like, int or str, default=None
        Where the labeling costs come from:

        - ``None``: ``context.costs`` (one cost per candidate, as the loop passes them);
        - an array indexed by pool id (``costs[candidate_ids]`` is used);
        - an int: the feature column of ``X`` that holds the cost;
        - a str: a key of ``context.extras`` holding one cost per candidate.
    power : float, default=1.0
        Costs are raised to this power (0 ignores them, 1 divides by them).
    random_state : int, RandomState or None

    Examples
    --------
    >>> import numpy as np
    >>> from activelab.strategies import QueryContext
    >>> ctx = QueryContext([0, 1], proba=np.array([[0.5, 0.5], [0.6, 0.4]]),
    ...                    costs=np.array([10.0, 1.0]))
    >>> CostAware(base="margin").select(ctx, 1).ids.tolist()
    [1]
    """

    name = "cost_aware"
    needs = frozenset({Needs.PROBA, Needs.COSTS})

    def __init__(
        self,
        base: Any = "margin",
        costs: Any = None,
        power: float = 1.0,
        random_state: Any = None,
    ) -> None:
        super().__init__(random_state=random_state)
        self.base = base
        self.costs = costs
        self.power = power

    def _costs(self, context: QueryContext) -> np.ndarray:
        spec = self.costs
        if spec is None:
            if context.costs is None:
                raise ValueError(
                    "cost_aware needs labeling costs: pass costs= to the query or loop, "
                    "or give the strategy costs=<array by pool id | column | extras key>."
                )
            return context.costs
        if isinstance(spec, str):
            if spec not in context.extras:
                raise ValueError(
                    f"costs={spec!r} names no entry of context.extras; "
                    f"available: {sorted(context.extras) or 'none'}."
                )
            return np.asarray(context.extras[spec], dtype=np.float64).ravel()
        if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
            if context.X is None:
                raise ValueError("costs=<column> needs the candidates' features X.")
            X = np.asarray(context.X)
            if not -X.shape[1] <= spec < X.shape[1]:
                raise ValueError(
                    f"costs column {spec} is out of range for X with {X.shape[1]} columns."
                )
            return X[:, spec].astype(np.float64)
        arr = np.asarray(spec, dtype=np.float64).ravel()
        if context.candidate_ids.size and context.candidate_ids.max() >= arr.shape[0]:
            raise ValueError(
                f"costs has {arr.shape[0]} entries but candidate id "
                f"{int(context.candidate_ids.max())} was asked for; give one cost per pool id."
            )
        return arr[context.candidate_ids]

    def utility(self, context: QueryContext) -> np.ndarray:
        u = nonnegative_utility(self.base, context, self.random_state)
        costs = self._costs(context)
        cost_weighted(u, costs)  # validates the costs before the power is applied
        return cost_weighted(u, np.power(costs, self.power))

    def query_info(self, context: QueryContext) -> dict[str, Any]:
        return {"base": str(getattr(self.base, "name", self.base)), "power": self.power}
