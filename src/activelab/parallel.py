"""Blocks of work on all cores: a thread pool, per-thread buffers and BLAS pinning.

Scoring a pool is split into blocks of rows with disjoint outputs; :func:`run_blocks`
runs them on a persistent pool of threads (numpy and BLAS release the GIL), the calling
thread included, with BLAS pinned to one thread meanwhile so that the threads do not
oversubscribe the cores.  :func:`scratch` gives each thread reusable buffers, so that
blocks allocate nothing (fresh memory is slow on first touch).  :func:`scoring_threads`
sets the number of threads (default: the usable CPUs, at most 8, or the
``ACTIVELAB_SCORING_THREADS`` environment variable).

Results never depend on the thread count as long as each block's work depends only on
its block number, which is how :mod:`activelab.proba` and the strategies use it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any

import numpy as np

__all__ = ["run_blocks", "scoring_threads", "scratch"]

#: Scratch buffers larger than this many bytes are not kept between calls.
_SCRATCH_KEEP_BYTES = 8 << 20

_THREADS: ContextVar[int | None] = ContextVar("activelab_scoring_threads", default=None)
_POOL: dict[str, Any] = {"pid": None, "executor": None, "size": 0}
_POOL_LOCK = threading.Lock()
_WORKER = threading.local()
_BLAS: dict[str, Any] = {"pid": None, "controller": None, "depth": 0, "limiter": None}
_BLAS_LOCK = threading.Lock()
_SCRATCH = threading.local()


def _default_threads() -> int:
    env = os.environ.get("ACTIVELAB_SCORING_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        n_cpu = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n_cpu = os.cpu_count() or 1
    return max(1, min(n_cpu, 8))


@contextlib.contextmanager
def scoring_threads(n: int | None) -> Iterator[None]:
    """Use ``n`` threads for scoring inside the ``with`` block (``None``: the default).

    The setting belongs to the calling context (a :class:`contextvars.ContextVar`), so
    concurrent callers each keep their own.  Results do not depend on it.

    Parameters
    ----------
    n : int or None
        Threads, the calling one included; ``None`` restores the default (the usable
        CPUs, at most 8, or ``ACTIVELAB_SCORING_THREADS``).

    Raises
    ------
    ValueError
        When ``n`` is not a positive integer or None.

    Examples
    --------
    >>> from activelab.parallel import scoring_threads
    >>> with scoring_threads(1):
    ...     pass  # queries in here score on the calling thread only
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"scoring_threads needs a positive integer or None, got {n!r}.")
    token = _THREADS.set(None if n is None else int(n))
    try:
        yield
    finally:
        _THREADS.reset(token)


def _n_threads(n_jobs: int | None) -> int:
    if n_jobs is not None:
        return max(1, int(n_jobs))
    n = _THREADS.get()
    return _default_threads() if n is None else n


def _executor(n_workers: int) -> ThreadPoolExecutor:
    with _POOL_LOCK:
        if _POOL["pid"] != os.getpid() or _POOL["size"] < n_workers:
            old = _POOL["executor"]
            if old is not None and _POOL["pid"] == os.getpid():
                old.shutdown(wait=False)
            _POOL.update(
                pid=os.getpid(), size=n_workers,
                executor=ThreadPoolExecutor(n_workers, thread_name_prefix="activelab-scoring"),
            )
        return _POOL["executor"]


def _blas_controller() -> Any:
    if _BLAS["pid"] != os.getpid():
        try:
            from threadpoolctl import ThreadpoolController

            controller = ThreadpoolController()
        except Exception:  # pragma: no cover - threadpoolctl comes with scikit-learn
            controller = None
        _BLAS.update(pid=os.getpid(), controller=controller, depth=0, limiter=None)
    return _BLAS["controller"]


@contextlib.contextmanager
def _blas_pinned() -> Iterator[None]:
    """BLAS limited to one thread while any scoring runs (nesting and threads counted)."""
    with _BLAS_LOCK:
        controller = _blas_controller()
        if _BLAS["depth"] == 0 and controller is not None:
            _BLAS["limiter"] = controller.limit(limits=1, user_api="blas")
        _BLAS["depth"] += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS["depth"] -= 1
            if _BLAS["depth"] == 0 and _BLAS["limiter"] is not None:
                _BLAS["limiter"].restore_original_limits()
                _BLAS["limiter"] = None


def run_blocks(
    n_blocks: int, fn: Callable[[int], None], n_jobs: int | None = None, *, pin_blas: bool = True
) -> None:
    """Call ``fn(i)`` for every ``i`` in ``range(n_blocks)``, spread over threads.

    With more than one thread, BLAS is pinned to one thread meanwhile (so that the
    threads do not oversubscribe the cores); on one thread too unless ``pin_blas`` is
    False (a user's model that may make large products of its own).  The calling thread
    works too; a call made from inside a block runs its blocks on that thread (no nested
    pools).  Blocks must write disjoint outputs; which thread runs which block does not
    matter.

    Parameters
    ----------
    n_blocks : int
    fn : callable taking the block number
    n_jobs : int, optional
        Threads to use (default: :func:`scoring_threads`).
    pin_blas : bool, default=True
        Pin BLAS to one thread when the blocks run on the calling thread only.
    """
    n_jobs = min(_n_threads(n_jobs), n_blocks)
    if n_jobs <= 1 or getattr(_WORKER, "active", False):
        with _blas_pinned() if pin_blas else contextlib.nullcontext():
            for i in range(n_blocks):  # blocks, not rows
                fn(i)
        return
    counter = itertools.count()
    failed = threading.Event()

    def work() -> None:
        _WORKER.active = True
        try:
            while not failed.is_set() and (i := next(counter)) < n_blocks:  # blocks
                fn(i)
        except BaseException:
            failed.set()  # the other threads stop taking blocks
            raise
        finally:
            _WORKER.active = False

    with _blas_pinned():
        futures = [_executor(n_jobs - 1).submit(work) for _ in range(n_jobs - 1)]
        try:
            work()
        finally:
            errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error


def scratch(name: str, shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
    """A per-thread reusable buffer (contents undefined), so that blocks allocate nothing.

    Parameters
    ----------
    name : str
        Buffers of different names never alias; the same name in the same thread
        returns the same memory (so a block must not hold one across another call that
        takes it).
    shape : tuple of int
    dtype : numpy dtype, default=float64

    Returns
    -------
    ndarray of the given shape and dtype, C-contiguous.  Buffers over 8 MiB are not kept.
    """
    dtype = np.dtype(dtype)
    bufs = _SCRATCH.__dict__.setdefault("bufs", {})
    size = int(np.prod(shape))
    buf = bufs.get((name, dtype))
    if buf is None or buf.size < size:
        buf = np.empty(size, dtype=dtype)
        if size * dtype.itemsize <= _SCRATCH_KEEP_BYTES:
            bufs[(name, dtype)] = buf
    return buf[:size].reshape(shape)
