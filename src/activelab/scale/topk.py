"""A top-k that can be built chunk by chunk and merged, with deterministic ties.

The order is total: higher utility first, and among equal utilities the lower pool
id first (NaN utilities rank last).  The k best items under a total order are unique,
so the top-k of a whole pool equals the merge of the top-k of its chunks, whatever
the chunking, the order the chunks arrive in, or the machine that scored them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RunningTopK", "chunk_top_k", "merge_top_k"]


def _clean(utilities: np.ndarray) -> np.ndarray:
    u = np.asarray(utilities, dtype=np.float64)
    return np.where(np.isnan(u), -np.inf, u) if np.isnan(u).any() else u


def chunk_top_k(
    utilities: np.ndarray, ids: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best ``(utility, id)`` pairs of one chunk, best first.

    Parameters
    ----------
    utilities : ndarray of shape (n,)
    ids : ndarray of int of shape (n,)
        Pool ids, unique.
    k : int
        How many to keep (all of them when ``n <= k``).

    Returns
    -------
    utilities, ids : ndarrays of shape (min(k, n),)
        Sorted by decreasing utility, ties by increasing id.
    """
    u = np.asarray(utilities, dtype=np.float64)
    ids = np.asarray(ids, dtype=np.int64)
    if u.shape != ids.shape or u.ndim != 1:
        raise ValueError(
            f"utilities {u.shape} and ids {ids.shape} must be 1-D and of the same length."
        )
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")
    key = _clean(u)
    if u.shape[0] > k:
        part = np.argpartition(-key, k - 1)[:k]
        threshold = key[part].min()
        above = np.flatnonzero(key > threshold)
        tied = np.flatnonzero(key == threshold)
        if tied.size > k - above.size:
            tied = tied[np.argsort(ids[tied], kind="stable")[: k - above.size]]
        keep = np.concatenate([above, tied])
    else:
        keep = np.arange(u.shape[0])
    order = np.lexsort((ids[keep], -key[keep]))
    keep = keep[order]
    return u[keep], ids[keep]


def merge_top_k(
    parts: list[tuple[np.ndarray, np.ndarray]], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Merge per-chunk ``(utilities, ids)`` top-k lists into the overall top-k."""
    if not parts:
        return np.empty(0), np.empty(0, dtype=np.int64)
    u = np.concatenate([np.asarray(p[0], dtype=np.float64) for p in parts])
    ids = np.concatenate([np.asarray(p[1], dtype=np.int64) for p in parts])
    if u.size == 0:
        return u, ids
    return chunk_top_k(u, ids, k)


class RunningTopK:
    """Keeps the ``k`` best items seen so far; memory stays O(k).

    Parameters
    ----------
    k : int
        Number of items to keep.

    Examples
    --------
    >>> top = RunningTopK(2)
    >>> top.push(np.array([0.1, 0.9]), np.array([0, 1]))
    >>> top.push(np.array([0.5, 0.9]), np.array([2, 3]))
    >>> top.ids.tolist(), top.utilities.tolist()
    ([1, 3], [0.9, 0.9])
    """

    def __init__(self, k: int) -> None:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}.")
        self.k = int(k)
        self.utilities = np.empty(0, dtype=np.float64)
        self.ids = np.empty(0, dtype=np.int64)
        self.n_seen = 0

    def push(self, utilities: np.ndarray, ids: np.ndarray) -> None:
        """Add one chunk of ``(utility, id)`` pairs."""
        u, i = chunk_top_k(utilities, ids, self.k) if len(ids) else (
            np.empty(0), np.empty(0, dtype=np.int64)
        )
        self.n_seen += len(ids)
        self.utilities, self.ids = merge_top_k([(self.utilities, self.ids), (u, i)], self.k)
