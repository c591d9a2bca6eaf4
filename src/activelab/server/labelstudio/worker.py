"""The backend's background trainer: projects waiting for a retrain, worked off one at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["TrainerQueue"]


class TrainerQueue:
    """Projects to retrain (or to sync from Label Studio, then retrain), and the thread doing it.

    Scheduling a project that is already waiting does nothing more: one retrain covers every
    label stored before it starts.  Without :meth:`start` (library use) the work runs inline.

    Parameters
    ----------
    work : callable
        ``work(project, sync)``: does the job; it must handle its own errors.
    """

    def __init__(self, work: Callable[[str, bool], None]) -> None:
        self._work = work
        self._cond = threading.Condition()
        self._dirty: set[str] = set()
        self._syncs: set[str] = set()
        self._busy = False
        self._stop = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the background thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="ls-trainer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the queued work and stop the thread."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def schedule(self, project: str, sync: bool = False) -> None:
        """Queue a retrain of ``project`` (after a sync from Label Studio when ``sync``)."""
        with self._cond:
            (self._syncs if sync else self._dirty).add(project)
            self._cond.notify_all()
        if self._thread is None:
            self._drain()

    def covered(self, project: str) -> None:
        """The retrain starting now covers every label stored so far: drop a waiting one."""
        with self._cond:
            self._dirty.discard(project)

    @property
    def busy(self) -> bool:
        """Whether a retrain or a sync is queued or running."""
        with self._cond:
            return bool(self._dirty or self._syncs or self._busy)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until nothing is queued or running; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._dirty or self._syncs or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while not (self._dirty or self._syncs or self._stop):
                    self._cond.wait()
                if self._stop and not (self._dirty or self._syncs):
                    return
            self._drain()

    def _next(self) -> tuple[str, bool] | None:
        with self._cond:
            if self._syncs:
                job = (self._syncs.pop(), True)
            elif self._dirty:
                job = (self._dirty.pop(), False)
            else:
                self._busy = False
                self._cond.notify_all()
                return None
            self._busy = True
            return job

    def _drain(self) -> None:
        while (job := self._next()) is not None:
            self._work(*job)
