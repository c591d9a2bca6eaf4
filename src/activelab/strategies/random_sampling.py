"""The random baseline."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from .base import Needs, QueryContext, QueryResult, Strategy, check_n_instances
from .registry import register


@register
class RandomSampling(Strategy):
    """Uniformly random choice: the baseline every strategy must beat.

    The utility recorded for each candidate is the uniform draw that ranked it.
    """

    name = "random"
    needs: frozenset[Needs] = frozenset()  # the candidate ids alone
    tasks = frozenset({"classification", "multilabel", "regression"})

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        rng = check_random_state(self.random_state)
        draws = rng.random_sample(len(context))
        positions = np.argpartition(-draws, n_instances - 1)[:n_instances]
        positions = positions[np.argsort(-draws[positions])]
        return QueryResult(
            ids=context.candidate_ids[positions],
            candidate_ids=context.candidate_ids,
            utilities=draws,
            strategy=self.name,
        )
