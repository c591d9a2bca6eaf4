"""Progress messages of slow loads, shown by whoever asked for them.

Loaders call :func:`report` before each step that can take more than a second (reading a
large file, featurizing texts); nothing is shown unless the caller of
:func:`activelab.load_dataset` passed ``progress=True`` (lines on stderr) or a callable.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["report", "reporting"]

_REPORTER: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "activelab_load_progress", default=None
)


def report(message: str) -> None:
    """Tell the current listener (if any) what the load does now."""
    listener = _REPORTER.get()
    if listener is not None:
        listener(message)


class _StderrLines:
    """One line per step on stderr, each with the seconds since the load started."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        elapsed = time.perf_counter() - self.started
        print(f"[{elapsed:5.1f} s] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def reporting(progress: bool | Callable[[str], None] | Any) -> Iterator[None]:
    """Send the :func:`report` messages of the block to ``progress``.

    ``True`` prints lines on stderr, a callable receives each message, ``False`` or
    ``None`` keeps whatever listener is already set (none by default).
    """
    if progress is None or progress is False:
        yield
        return
    listener = progress if callable(progress) else _StderrLines()
    token = _REPORTER.set(listener)
    try:
        yield
    finally:
        _REPORTER.reset(token)
