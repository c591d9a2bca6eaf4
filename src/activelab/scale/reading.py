"""Reading a pool chunk by chunk: which chunks hold candidates, and their rows.

:func:`iter_chunks` yields ``(start, stop, ids, rows)`` for every chunk that holds a
candidate.  The candidate ids of a chunk are made when the chunk is reached, so a
10⁹-row pool never has its candidate list in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .candidates import CandidateRows
from .sources import release_rows

__all__ = ["chunk_plan", "iter_chunks"]

Chunk = tuple[int, int, "np.ndarray | None"]


def chunk_plan(offsets: np.ndarray, candidates: CandidateRows | None) -> Iterator[Chunk]:
    """``(start, stop, ids)`` per chunk that holds candidates, one at a time.

    Parameters
    ----------
    offsets : ndarray of int
        Chunk boundaries ``[0, ..., n_rows]``.
    candidates : CandidateRows or None
        None: every row.

    Yields
    ------
    start, stop, ids
        ``ids`` is None when every row of the chunk is a candidate.
    """
    bounds = np.asarray(offsets, dtype=np.int64).tolist()
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):  # chunks, not rows
        if candidates is None:
            yield start, stop, None
        elif candidates.count(start, stop):
            yield start, stop, candidates.ids_in(start, stop)


def _read(arr: Any, start: int, stop: int) -> np.ndarray:
    return np.asarray(arr[start:stop])


def iter_chunks(
    arr: Any, offsets: np.ndarray, candidates: CandidateRows | None
) -> Iterator[tuple[int, int, np.ndarray | None, np.ndarray]]:
    """``(start, stop, ids, rows)`` for each chunk of ``arr`` that holds candidates.

    The pages of a memory-mapped pool are handed back to the OS once the caller has
    taken the next chunk (see :func:`~activelab.scale.sources.release_rows`).
    """
    for start, stop, ids in chunk_plan(offsets, candidates):
        rows = _read(arr, start, stop)
        yield start, stop, ids, rows
        release_rows(arr, start, stop)
