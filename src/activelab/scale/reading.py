"""Reading a pool chunk by chunk: which chunks hold candidates, and their rows.

:func:`iter_chunks` yields ``(start, stop, ids, rows)`` for every chunk that holds a
candidate.  The candidate ids of a chunk are made when the chunk is reached, so a
10⁹-row pool never has its candidate list in memory; the next chunk is read in a
background thread while the current one is scored, so the disk and the processor
work at the same time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .candidates import CandidateRows
from .sources import _memmap_spec, block_offsets, release_rows
from .spec import SourceSpec

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


class _FileReader:
    """Rows of a memory-mapped pool read with ``os.preadv`` into a fresh buffer.

    The interpreter lock is free during the read, so a reader thread overlaps the
    disk with the scoring; the pages go to the page cache, not into this process's
    memory.
    """

    def __init__(self, spec: SourceSpec) -> None:
        self.fd = os.open(spec.location, os.O_RDONLY)
        self.offset, self.dtype = spec.offset, np.dtype(spec.dtype)
        self.n_features = int(spec.shape[1])
        self.row_bytes = self.dtype.itemsize * self.n_features

    def __call__(self, start: int, stop: int) -> np.ndarray:
        rows = np.empty((stop - start, self.n_features), dtype=self.dtype)
        view = memoryview(rows).cast("B")
        first, done = self.offset + start * self.row_bytes, 0
        while done < view.nbytes:  # a long read may come back in parts
            got = os.preadv(self.fd, [view[done:]], first + done)
            if got == 0:
                raise OSError(f"the pool file ended early while reading rows {start}..{stop - 1}")
            done += got
        return rows

    def close(self) -> None:
        os.close(self.fd)


def _reader(arr: Any) -> tuple[Callable[[int, int], np.ndarray], Callable[[], None]]:
    """A function reading rows ``start..stop-1`` into memory, and how to close it."""
    if not isinstance(arr, np.memmap):
        return (lambda start, stop: np.asarray(arr[start:stop])), (lambda: None)
    spec = _memmap_spec(arr)
    if spec is not None and hasattr(os, "preadv"):
        reader = _FileReader(spec)
        return reader, reader.close

    def copy_rows(start: int, stop: int) -> np.ndarray:
        rows = np.array(arr[start:stop])
        release_rows(arr, start, stop)
        return rows

    return copy_rows, (lambda: None)


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
        Read the next chunk in a background thread while the caller works on this
        one (two chunks in memory).  Without it, a memory-mapped pool is scored in
        place and its pages are handed back to the OS after each chunk.
    """
    plan = chunk_plan(offsets, candidates)
    if not prefetch or type(arr) is np.ndarray:  # rows already in memory: nothing to read
        for start, stop, ids in plan:
            yield start, stop, ids, np.asarray(arr[start:stop])
            release_rows(arr, start, stop)
        return
    read, close = _reader(arr)
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="activelab-read") as pool:
            nxt = next(plan, None)
            pending = None if nxt is None else (nxt, pool.submit(read, nxt[0], nxt[1]))
            while pending is not None:
                (start, stop, ids), future = pending
                rows = future.result()
                nxt = next(plan, None)
                pending = None if nxt is None else (nxt, pool.submit(read, nxt[0], nxt[1]))
                yield start, stop, ids, rows
    finally:
        close()


def take_rows(arr: Any, ids: Any, chunk_rows: int = 65_536) -> np.ndarray:
    """The rows of ``arr`` at the pool ids ``ids`` (in that order), read chunk by chunk.

    An in-memory or memory-mapped array is indexed directly (only the pages holding
    those rows are read); other sources read each chunk that holds an asked-for row
    once (Parquet: its row groups).
    """
    ids = np.asarray(ids, dtype=np.int64)
    if isinstance(arr, np.ndarray):
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
        rows = np.asarray(arr[start:stop])
        out[order[part]] = rows[wanted[part] - start]
    return out
