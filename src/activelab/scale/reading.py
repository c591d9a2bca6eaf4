"""Reading a pool chunk by chunk: which chunks hold candidates, and their rows.

:func:`iter_chunks` yields ``(start, stop, ids, rows)`` for every chunk that holds a
candidate.  The candidate ids of a chunk are made when the chunk is reached, so a
10⁹-row pool never has its candidate list in memory; the next chunk is read ahead
while the current one is scored (by the OS for a memory map, by a background thread
for other sources), so the disk and the processor work at the same time.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .candidates import CandidateRows
from .sources import block_offsets, fits_in_page_cache, release_rows, will_need_rows

__all__ = ["chunk_plan", "iter_chunks", "take_rows"]

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


def _in_place(arr: Any, plan: Iterator[Chunk], advise: bool) -> Iterator[Any]:
    """Chunks of an array as views; a memory map's next chunk is asked for ahead."""
    current = next(plan, None)
    while current is not None:
        upcoming = next(plan, None)
        if advise and upcoming is not None:
            will_need_rows(arr, upcoming[0], upcoming[1])
        start, stop, ids = current
        yield start, stop, ids, np.asarray(arr[start:stop])
        release_rows(arr, start, stop)
        current = upcoming


def _read_ahead(arr: Any, plan: Iterator[Chunk]) -> Iterator[Any]:
    """Chunks read by a background thread, one ahead of the caller."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="activelab-read") as pool:
        nxt = next(plan, None)
        pending = None if nxt is None else (nxt, pool.submit(_read, arr, nxt[0], nxt[1]))
        while pending is not None:
            (start, stop, ids), future = pending
            rows = future.result()
            nxt = next(plan, None)
            pending = None if nxt is None else (nxt, pool.submit(_read, arr, nxt[0], nxt[1]))
            yield start, stop, ids, rows


def _read(arr: Any, start: int, stop: int) -> np.ndarray:
    return np.asarray(arr[start:stop])


def iter_chunks(
    arr: Any, offsets: np.ndarray, candidates: CandidateRows | None, *, prefetch: bool = True
) -> Iterator[tuple[int, int, np.ndarray | None, np.ndarray]]:
    """``(start, stop, ids, rows)`` for each chunk of ``arr`` that holds candidates.

    Parameters
    ----------
    arr : array-like
        The pool (see :func:`~activelab.scale.open_pool_array`).
    offsets : ndarray of int
        Chunk boundaries.
    candidates : CandidateRows or None
    prefetch : bool, default=True
        Have the next chunk read while the caller works on this one.  A memory map is
        scored in place: the OS is asked to read the next chunk's pages ahead
        (``MADV_WILLNEED``, no copy, no thread), and each chunk's pages are handed back
        after it.  Other sources (Zarr, Parquet, URLs) are read by a background
        thread, one chunk ahead (two chunks in memory).
    """
    plan = chunk_plan(offsets, candidates)
    if not prefetch or isinstance(arr, np.ndarray):
        yield from _in_place(arr, plan, advise=prefetch and fits_in_page_cache(arr))
    else:
        yield from _read_ahead(arr, plan)


def take_rows(arr: Any, ids: Any, chunk_rows: int = 65_536) -> np.ndarray:
    """The rows of ``arr`` at the pool ids ``ids`` (in that order), read chunk by chunk.

    An in-memory array is indexed directly; a memory map chunk by chunk (only the pages
    holding those rows are read, and handed back after each chunk); other sources read
    each chunk that holds an asked-for row once (Parquet: its row groups).
    """
    ids = np.asarray(ids, dtype=np.int64)
    if type(arr) is np.ndarray:
        return np.asarray(arr[ids])
    if ids.size == 0:
        return np.empty((0, arr.shape[1]), dtype=arr.dtype)
    order = np.argsort(ids, kind="stable")
    wanted = ids[order]
    out = np.empty((ids.size, arr.shape[1]), dtype=arr.dtype)
    offsets = block_offsets(arr, chunk_rows)
    # the chunk of each wanted id, then one read per chunk that holds any
    which = np.searchsorted(offsets, wanted, side="right") - 1
    cuts = np.flatnonzero(np.diff(which)) + 1
    for part in np.split(np.arange(wanted.size), cuts):  # chunks, not rows
        b = int(which[part[0]])
        start, stop = int(offsets[b]), int(offsets[b + 1])
        if isinstance(arr, np.ndarray):  # a memory map: read only those rows' pages
            out[order[part]] = arr[wanted[part]]
            release_rows(arr, start, stop)
        else:
            out[order[part]] = np.asarray(arr[start:stop])[wanted[part] - start]
    return out
