"""Which rows of a pool are candidates, chunk by chunk, without listing them all.

A pool of 10⁹ rows has 8 GB of int64 ids; the labeled ids to leave out are a few
thousand.  :class:`CandidateRows` keeps only what it was given — a sorted list of
candidate ids, or a small sorted list of ids to exclude — and answers, for one chunk
of rows ``[start, stop)``, which pool ids in it are candidates (a boolean mask over
the chunk; ``None`` when all of them are).  The full candidate list is never built.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["CandidateRows", "block_ids", "sorted_unique_ids"]

#: Ids checked for order per step (bounds the temporary of the check).
_CHECK_STEP = 1 << 22


def _strictly_increasing(ids: np.ndarray) -> bool:
    for s in range(0, max(ids.size - 1, 0), _CHECK_STEP):  # steps of ids, not rows
        part = ids[s : s + _CHECK_STEP + 1]
        if not bool(np.all(part[1:] > part[:-1])):
            return False
    return True


def sorted_unique_ids(ids: Any, n_rows: int, name: str) -> np.ndarray:
    """``ids`` as a sorted int64 array without repeats, each in ``[0, n_rows)``.

    Ids already strictly increasing (the usual case: ``np.flatnonzero`` of a mask, an
    ``np.arange``) are checked in one pass and not sorted again.

    Raises
    ------
    TypeError
        When the ids are not integers.
    ValueError
        When an id is outside the pool.
    """
    arr = np.asarray(ids)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be integer pool ids, got dtype {arr.dtype}.")
    arr = arr.astype(np.int64, copy=False).ravel()
    if not _strictly_increasing(arr):
        arr = np.unique(arr)
    if arr.size and (arr[0] < 0 or arr[-1] >= n_rows):
        raise ValueError(
            f"{name} must be pool ids between 0 and {n_rows - 1}; got {arr[0]}..{arr[-1]} "
            "(were they made for another pool?)."
        )
    return arr


def _remove_sorted(ids: np.ndarray, drop: np.ndarray) -> np.ndarray:
    """``ids`` without the members of ``drop`` (both sorted, unique)."""
    if drop.size == 0 or ids.size == 0:
        return ids
    pos = np.minimum(np.searchsorted(drop, ids), drop.size - 1)
    return ids[drop[pos] != ids]


def block_ids(
    start: int, stop: int, include: np.ndarray | None, exclude: np.ndarray | None
) -> np.ndarray | None:
    """Candidate ids in rows ``[start, stop)``; None when every row is one.

    Parameters
    ----------
    start, stop : int
        The chunk's rows.
    include : ndarray of int64 or None
        The sorted candidate ids inside the chunk, or None for "every row but
        ``exclude``".
    exclude : ndarray of int64 or None
        The sorted excluded ids inside the chunk (used when ``include`` is None).
    """
    if include is not None:
        return None if include.size == stop - start else include
    if exclude is None or exclude.size == 0:
        return None
    keep = np.ones(stop - start, dtype=bool)
    keep[exclude - start] = False
    return np.flatnonzero(keep).astype(np.int64) + start


class CandidateRows:
    """The candidate rows of a pool: every row, a list of ids, or all but a few.

    Parameters
    ----------
    n_rows : int
        Rows in the pool.
    candidate_ids : array-like of int, optional
        The pool ids to score.  Default: every row.
    exclude_ids : array-like of int, optional
        Pool ids to leave out (typically the labeled ones).  Only this array is kept
        (sorted); memory does not grow with the pool.

    Attributes
    ----------
    n_candidates : int
        How many rows will be scored.

    Raises
    ------
    ValueError
        When an id is outside the pool, or nothing is left to score.
    """

    def __init__(self, n_rows: int, candidate_ids: Any = None, exclude_ids: Any = None) -> None:
        self.n_rows = int(n_rows)
        exclude = None if exclude_ids is None else sorted_unique_ids(
            exclude_ids, self.n_rows, "exclude_ids"
        )
        include = None
        if candidate_ids is not None:
            include = sorted_unique_ids(candidate_ids, self.n_rows, "candidate_ids")
            if include.size == 0:
                raise ValueError("candidate_ids is empty; give at least one pool id to score.")
            if exclude is not None:
                include, exclude = _remove_sorted(include, exclude), None
        self.include, self.exclude = include, exclude
        if include is not None:
            self.n_candidates = int(include.size)
        else:
            self.n_candidates = self.n_rows - (0 if exclude is None else int(exclude.size))
        if self.n_candidates == 0:
            raise ValueError(
                "no candidates are left: every pool id is excluded; label fewer items or "
                "pass another pool."
            )

    def _slice(self, ids: np.ndarray | None, start: int, stop: int) -> np.ndarray | None:
        if ids is None:
            return None
        lo, hi = np.searchsorted(ids, [start, stop])
        return ids[lo:hi]

    def selector(self, start: int, stop: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The small ``(include, exclude)`` pair for rows ``[start, stop)``.

        This pair is what travels to a worker; :func:`block_ids` turns it into ids.
        """
        return self._slice(self.include, start, stop), self._slice(self.exclude, start, stop)

    def count(self, start: int, stop: int) -> int:
        """Number of candidates in rows ``[start, stop)``."""
        include, exclude = self.selector(start, stop)
        if include is not None:
            return int(include.size)
        return (stop - start) - (0 if exclude is None else int(exclude.size))

    def ids_at(self, positions: Any) -> np.ndarray:
        """Pool ids of the candidates at ``positions`` (ranks in increasing id order)."""
        positions = np.asarray(positions, dtype=np.int64)
        if self.include is not None:
            return self.include[positions]
        if self.exclude is None or self.exclude.size == 0:
            return positions
        # e_j - j non-excluded ids come before the j-th excluded id
        before = self.exclude - np.arange(self.exclude.size)
        return positions + np.searchsorted(before, positions, side="right")

    def ids_in(self, start: int, stop: int) -> np.ndarray | None:
        """Candidate ids in rows ``[start, stop)`` (None: all of them)."""
        return block_ids(start, stop, *self.selector(start, stop))
