"""Random checks in the labeling app's ranked queue (``--random-share``).

A share ``S`` of the items the app serves once a model ranks the queue are **random
checks**: items drawn uniformly at random from those nobody holds or labeled and that are
not in the ranked part of the queue.  They are what the live verdict
(:mod:`activelab.server.verdict`) is measured on, and they cost ``S`` of the labels.

Where they sit is a running share over everything served since ranking began, so that it
holds however far down each queue the annotators get before the next model replaces it
(with a retrain every five labels they never reach rank 10 of a queue): with ``served``
items served so far, ``checks`` of them checks, rank ``r`` of the new queue is a check when
``floor(S × (served + r))`` grows there, counting only checks still owed.  A fresh start
(``served = 0``) with ``S = 0.1`` puts them at ranks 10, 20, 30, ...; after 7 served items,
at ranks 3, 13, 23, ...
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from ..store.probes import PROBE_STRATEGY

__all__ = ["QueueRows", "probe_ranks", "draw_probes", "DEFAULT_RANDOM_SHARE"]

#: ``--random-share`` when none is given.
DEFAULT_RANDOM_SHARE = 0.1

_EPS = 1e-9  # 10 × 0.1 must count as 1


def probe_ranks(n_ranked: int, share: float, served: int = 0, checks: int = 0) -> np.ndarray:
    """The ranks (1-based) that checks take in a queue with ``n_ranked`` ranked items.

    Parameters
    ----------
    n_ranked : int
        Ranked items of the queue (all of them keep their order).
    share : float in [0, 1)
    served, checks : int
        Items served since ranking began, and the checks among them.

    Returns
    -------
    ndarray of int64
        Increasing ranks, each followed by at least one ranked item.

    Examples
    --------
    >>> probe_ranks(25, 0.1).tolist()
    [10, 20]
    >>> probe_ranks(25, 0.1, served=7).tolist()
    [3, 13, 23]
    """
    if share <= 0 or n_ranked <= 0:
        return np.zeros(0, dtype=np.int64)
    extra = int(np.ceil((share * n_ranked + 1) / (1 - share))) + 2
    r = np.arange(n_ranked + extra + 1)
    owed = np.maximum(np.floor(share * (served + r) + _EPS).astype(np.int64) - checks, 0)
    ranks = np.flatnonzero(np.diff(owed) > 0).astype(np.int64) + 1
    ranked_before = ranks - np.arange(1, ranks.size + 1)
    return ranks[ranked_before < n_ranked]


def draw_probes(pool: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` items (fewer when the pool is smaller) drawn uniformly without replacement
    from ``pool``, in the order drawn."""
    pool = np.sort(np.asarray(pool, dtype=np.int64))
    n = int(min(n, pool.size))
    return rng.choice(pool, n, replace=False).astype(np.int64) if n else pool[:0]


@dataclass(frozen=True)
class QueueRows:
    """The rows of a queue to publish, in rank order.

    ``utilities`` holds NaN where there is none; ``guesses`` and ``confidences`` hold None
    where none is stored; ``strategy`` names what chose each row.
    """

    ids: np.ndarray
    utilities: np.ndarray
    guesses: np.ndarray
    confidences: np.ndarray
    strategy: np.ndarray

    def take(self, rows: Any) -> QueueRows:
        """The rows selected by ``rows`` (a slice or a boolean mask), in order."""
        return replace(self, ids=self.ids[rows], utilities=self.utilities[rows],
                       guesses=self.guesses[rows], confidences=self.confidences[rows],
                       strategy=self.strategy[rows])

    def then(self, more: QueueRows) -> QueueRows:
        """These rows followed by those of ``more`` whose items are not among them."""
        more = more.take(~np.isin(more.ids, self.ids))
        return QueueRows(*(np.concatenate([getattr(self, f.name), getattr(more, f.name)])
                           for f in fields(self)))

    def with_probes(self, probe_ids: np.ndarray, ranks: np.ndarray, guesses: np.ndarray,
                    confidences: np.ndarray) -> QueueRows:
        """These rows with the checks put at ``ranks`` (the first ``len(probe_ids)``)."""
        k = int(len(probe_ids))
        n = self.ids.size + k
        at = np.zeros(n, dtype=bool)
        at[np.asarray(ranks[:k], dtype=np.int64) - 1] = True

        def merged(ranked: np.ndarray, probes: np.ndarray, dtype: type) -> np.ndarray:
            out = np.empty(n, dtype=dtype)
            out[~at], out[at] = ranked, probes
            return out

        return replace(
            self, ids=merged(self.ids, probe_ids, np.int64),
            utilities=merged(self.utilities, np.full(k, np.nan), float),
            guesses=merged(self.guesses, np.asarray(guesses, dtype=object), object),
            confidences=merged(self.confidences, np.asarray(confidences, dtype=object), object),
            strategy=merged(self.strategy, np.full(k, PROBE_STRATEGY, dtype=object), object))
