"""Chunks are read ahead while the current one is scored; same ids either way."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from _scale_data import fitted_learner, in_memory_ids, pool_data
from activelab.scale import reading, score_out_of_core
from activelab.scale.candidates import CandidateRows
from activelab.scale.reading import iter_chunks, take_rows
from activelab.scale.sources import block_offsets


class LoggedRows:
    """An array-like pool that logs each read (which rows, which thread)."""

    def __init__(self, X: np.ndarray) -> None:
        self.X, self.shape, self.dtype = X, X.shape, X.dtype
        self.log: list[tuple[str, int, str]] = []
        self.read_of: dict[int, threading.Event] = {}

    def __getitem__(self, key: slice) -> np.ndarray:
        self.log.append(("read", key.start, threading.current_thread().name))
        self.read_of.setdefault(key.start, threading.Event()).set()
        return self.X[key]


@pytest.mark.parametrize("prefetch", [True, False])
def test_same_ids_with_and_without_prefetch(tmp_path, prefetch):
    np.save(tmp_path / "pool.npy", pool_data()[2])
    labeled = np.array([7, 100, 2000])
    result = score_out_of_core(fitted_learner(), tmp_path / "pool.npy", 20, exclude_ids=labeled,
                               chunk_rows=256, prefetch=prefetch)
    np.testing.assert_array_equal(result.ids, in_memory_ids("entropy", 20, exclude=labeled))


def test_the_next_chunk_is_read_while_this_one_is_scored():
    pool = LoggedRows(pool_data()[2][:1000])
    pool.read_of[500] = threading.Event()
    seen = []

    def progress(n_scored: int, n_candidates: int) -> None:
        if n_scored == 500:  # chunk 0 scored; the reader thread must be at chunk 1 already
            seen.append(pool.read_of[500].wait(timeout=30))

    result = score_out_of_core(fitted_learner(), pool, 5, chunk_rows=500, progress=progress)
    assert seen == [True]
    assert [entry[1] for entry in pool.log] == [0, 500]
    assert all(name.startswith("activelab-read") for _, _, name in pool.log)
    assert result.info["n_scored"] == 1000


def test_without_prefetch_reads_wait_for_the_scoring():
    pool = LoggedRows(pool_data()[2][:1000])
    score_out_of_core(fitted_learner(), pool, 5, chunk_rows=500, prefetch=False,
                      progress=lambda n, total: pool.log.append(("scored", n, "")))
    assert [entry[:2] for entry in pool.log] == [
        ("read", 0), ("scored", 500), ("read", 500), ("scored", 1000)]


def test_a_memmap_asks_for_the_next_chunk_ahead_and_gives_pages_back(tmp_path, monkeypatch):
    X = pool_data()[2]
    np.save(tmp_path / "pool.npy", X)
    view = np.load(tmp_path / "pool.npy", mmap_mode="r")[300:]
    log = []
    monkeypatch.setattr(reading, "will_need_rows", lambda a, s, e: log.append(("ahead", s, e)))
    monkeypatch.setattr(reading, "release_rows", lambda a, s, e: log.append(("done", s, e)))
    chunks = []
    for start, stop, ids, rows in iter_chunks(view, block_offsets(view, 999),
                                              CandidateRows(2200, exclude_ids=[5])):
        log.append(("scored", start, stop))
        chunks.append((start, stop, ids, np.array(rows)))
    assert log == [("ahead", 999, 1998), ("scored", 0, 999), ("done", 0, 999),
                   ("ahead", 1998, 2200), ("scored", 999, 1998), ("done", 999, 1998),
                   ("scored", 1998, 2200), ("done", 1998, 2200)]
    assert chunks[0][2].tolist() == [i for i in range(999) if i != 5]
    np.testing.assert_array_equal(np.concatenate([c[3] for c in chunks]), X[300:])


def test_take_rows_reads_only_what_it_is_asked(tmp_path):
    X = pool_data()[2]
    np.save(tmp_path / "pool.npy", X)
    ids = np.array([2499, 3, 1000, 3, 64])
    mm = np.load(tmp_path / "pool.npy", mmap_mode="r")
    np.testing.assert_array_equal(take_rows(mm, ids, chunk_rows=100), X[ids])
    np.testing.assert_array_equal(take_rows(LoggedRows(X), ids, chunk_rows=100), X[ids])
    pool = LoggedRows(X)
    take_rows(pool, ids, chunk_rows=100)
    assert [entry[1] for entry in pool.log] == [0, 1000, 2400]  # one read per chunk needed


def test_a_read_error_surfaces_at_its_chunk():
    class Broken(LoggedRows):
        def __getitem__(self, key: slice) -> np.ndarray:
            if key.start == 400:
                raise ValueError("rows 400..599 are unreadable")
            return super().__getitem__(key)

    pool = Broken(pool_data()[2][:1000])
    scored = []
    with pytest.raises(ValueError, match="rows 400..599 are unreadable"):
        score_out_of_core(fitted_learner(), pool, 5, chunk_rows=200,
                          progress=lambda n, total: scored.append(n))
    assert scored == [200, 400]


def test_a_memmap_larger_than_the_free_memory_is_not_asked_for_ahead(tmp_path, monkeypatch):
    from activelab.scale import sources

    X = pool_data()[2]
    np.save(tmp_path / "pool.npy", X)
    mm = np.load(tmp_path / "pool.npy", mmap_mode="r")
    asked = []
    monkeypatch.setattr(reading, "will_need_rows", lambda a, s, e: asked.append(s))
    monkeypatch.setattr(sources, "available_memory", lambda: mm.nbytes - 1)
    rows = [np.array(r) for _, _, _, r in iter_chunks(mm, block_offsets(mm, 1000), None)]
    assert asked == []
    np.testing.assert_array_equal(np.concatenate(rows), X)
    monkeypatch.setattr(sources, "available_memory", lambda: mm.nbytes)
    list(iter_chunks(mm, block_offsets(mm, 1000), None))
    assert asked == [1000, 2000]


def test_available_memory_is_read_from_the_os():
    import sys

    from activelab.scale.sources import available_memory

    free = available_memory()
    if sys.platform.startswith("linux"):  # /proc/meminfo is there
        assert free is not None
        with open("/proc/meminfo") as f:
            total = int(next(ln for ln in f if ln.startswith("MemTotal:")).split()[1]) * 1024
        assert 0 < free <= total
    else:
        assert free is None or free > 0
