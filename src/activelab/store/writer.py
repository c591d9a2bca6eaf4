"""One writer thread that commits the writes of many requests together (group commit).

SQLite has one write lock.  When ten annotators label at once, each label transaction waits
for the lock in SQLite's busy handler, which sleeps in growing steps (up to 100 ms): the tail
of the latency is those sleeps.  :class:`WriteBatcher` instead queues the writes of all
request threads of the process and commits those waiting in **one** transaction: each write
runs in its own savepoint (a failing one is rolled back alone and its caller gets the error),
and every caller is answered only after the commit, so a label is acknowledged only once it is
durable (``synchronous=FULL``).  One fsync then serves a whole batch.

Writes that may be lost without harm (a lease: the item is simply offered again, and a
label for it is refused, never acknowledged) are submitted with ``durable=False``: their
caller is answered as soon as the write has run inside the batch's transaction — the
constraints have been checked under the write lock, so the answer holds — without waiting
for the commit; and a batch of such writes only commits without the fsync
(``synchronous=NORMAL``; a process crash still keeps it, the next durable commit syncs it too).
A batch with one durable write is durable as a whole.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import sqlalchemy as sa

__all__ = ["WriteBatcher"]

#: Most writes committed in one transaction.
MAX_BATCH = 64

_STOP = object()


class WriteBatcher:
    """Run write functions ``fn(conn) -> result`` on one thread, many per transaction.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The durable write engine.
    max_batch : int, default=64
    """

    def __init__(self, engine: sa.Engine, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[sa.Connection], Any], durable: bool = True) -> Any:
        """Run ``fn`` inside the next batch; return its result once the batch is committed.

        ``durable=False``: the write may skip the fsync (when no write of its batch needs
        one).  Raises what ``fn`` raised (its savepoint is rolled back, the others commit),
        or the error of the commit itself.
        """
        if self._thread is None or not self._thread.is_alive():
            self._start()
        fut: Future[Any] = Future()
        self._queue.put((fn, fut, durable))
        return fut.result()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="activelab-writer",
                                                daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Finish the queued writes and stop the thread."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(30)
        self._thread = None

    def _take(self) -> tuple[list[tuple[Callable, Future, bool]], bool]:
        first = self._queue.get()
        if first is _STOP:
            return [], True
        batch, stop = [first], False
        while len(batch) < self.max_batch:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is _STOP:
                stop = True
                break
            batch.append(more)
        return batch, stop

    def _run(self) -> None:
        while True:
            batch, stop = self._take()
            if batch:
                self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[Callable, Future, bool]]) -> None:
        outcomes: list[tuple[Future, Any, BaseException | None]] = []
        durable = any(d for _, _, d in batch)
        try:
            with self.engine.connect() as conn:
                raw = conn.connection.dbapi_connection
                if not durable:  # no fsync at this commit: no write of the batch needs it
                    raw.execute("PRAGMA synchronous=NORMAL")
                try:
                    with conn.begin():
                        self._run_batch(conn, batch, outcomes)
                finally:  # the connection goes back to the pool as it came: durable
                    if not durable:
                        raw.execute("PRAGMA synchronous=FULL")
        except Exception as exc:  # the commit failed: no write of the batch happened
            for _, fut, _ in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for fut, result, exc in outcomes:  # committed: now the callers may be answered
            if fut.done():
                continue
            if exc is None:
                fut.set_result(result)
            else:
                fut.set_exception(exc)

    @staticmethod
    def _run_batch(conn: sa.Connection, batch: list[tuple[Callable, Future, bool]],
                   outcomes: list[tuple[Future, Any, BaseException | None]]) -> None:
        for fn, fut, durable in batch:
            savepoint = conn.begin_nested()
            try:
                result = fn(conn)
            except Exception as exc:  # this write only: the others go on
                savepoint.rollback()
                outcomes.append((fut, None, exc))
            else:
                savepoint.commit()
                outcomes.append((fut, result, None))
                if not durable:  # it ran under the write lock: its answer holds already
                    fut.set_result(result)
