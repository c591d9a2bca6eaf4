"""Event sinks: where the loop reports what it does.

:func:`activelab.loop.run` emits three kinds of events, each a JSON-able dict with an
``"event"`` key:

``run_start``
    the run's config, the initial ids asked, the ids labeled and their labels;
``round``
    everything in a :class:`~activelab.loop.RoundRecord` (n_labeled, metrics, queried
    ids with their utilities, labels, skipped ids, timings, strategy facts);
``run_end``
    why the run stopped, the label count, the oracle's facts about its answers.

A sink is any object with ``emit(event) -> None`` and ``close() -> None``.  The log of a
:class:`JSONLSink` is enough to rebuild the run's labeled set and learning curve
(:func:`replay`), so nothing opaque is needed on disk.

Examples
--------
>>> import tempfile, os
>>> from sklearn.datasets import load_iris
>>> from sklearn.linear_model import LogisticRegression
>>> from activelab.loop import run
>>> X, y = load_iris(return_X_y=True)
>>> path = os.path.join(tempfile.mkdtemp(), "run.jsonl")
>>> result = run(LogisticRegression(max_iter=500), X, y, X_test=X, y_test=y, initial=10,
...              budget=30, batch_size=10, random_state=0, sinks=[JSONLSink(path)])
>>> [e["event"] for e in read_events(path)]
['run_start', 'round', 'round', 'round', 'run_end']
>>> replay(path).labeled_ids.tolist() == result.labeled_ids.tolist()
True
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np

from .engine.records import RoundRecord, RunResult, to_jsonable

__all__ = [
    "EVENT_KINDS",
    "Sink",
    "JSONLSink",
    "ProgressSink",
    "CallbackSink",
    "read_events",
    "split_runs",
    "replay",
    "to_jsonable",
]

#: The event kinds the loop emits, in the order they occur.
EVENT_KINDS = ("run_start", "round", "run_end")


# --------------------------------------------------------------------------- sinks
class Sink:
    """Base class of event sinks (subclassing is optional: any emit/close pair works)."""

    def emit(self, event: dict[str, Any]) -> None:
        """Receive one event."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the sink holds; it may be used again afterwards."""


class JSONLSink(Sink):
    """Append events to a JSON Lines file, one strict-JSON object per line.

    The file is opened on the first event (so a run that fails its checks leaves no
    file behind) in append mode, and flushed after every line, so the log is complete
    up to the last finished event even when the process dies.  numpy values are
    converted; NaN becomes ``null``.

    Parameters
    ----------
    path : str or path-like
        The log file.  Its folder must exist: create it first (e.g.
        ``Path(path).parent.mkdir(parents=True, exist_ok=True)``).

    Raises
    ------
    FileNotFoundError
        When the folder of ``path`` does not exist.
    ValueError
        When ``path`` is a folder.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"path {str(self.path)!r} is a folder; give a file name for the log.")
        parent = self.path.parent
        if not parent.is_dir():
            raise FileNotFoundError(
                f"the folder {str(parent)!r} for the event log does not exist; create it "
                "first (Path(path).parent.mkdir(parents=True))."
            )
        self._file: IO[str] | None = None
        self.n_written_ = 0

    def emit(self, event: dict[str, Any]) -> None:
        """Write ``event`` as one line and flush it."""
        line = json.dumps(to_jsonable(event), allow_nan=False, ensure_ascii=False)
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        self._file.write(line + "\n")
        self._file.flush()
        self.n_written_ += 1

    def close(self) -> None:
        """Close the file (a later :meth:`emit` reopens it and appends)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> JSONLSink:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"JSONLSink({str(self.path)!r})"


class CallbackSink(Sink):
    """Call a function with every event (or only some kinds).

    Parameters
    ----------
    fn : callable
        ``fn(event)``; its return value is ignored.
    events : iterable of str, optional
        Event kinds to pass on (e.g. ``["round"]``); all when omitted.
    on_close : callable, optional
        Called without arguments by :meth:`close`.

    Examples
    --------
    >>> seen = []
    >>> sink = CallbackSink(seen.append, events=["round"])
    >>> sink.emit({"event": "run_start"}); sink.emit({"event": "round", "round": 0})
    >>> seen
    [{'event': 'round', 'round': 0}]
    """

    def __init__(
        self,
        fn: Callable[[dict[str, Any]], Any],
        events: Iterable[str] | None = None,
        on_close: Callable[[], Any] | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be callable as fn(event), got {type(fn).__name__}.")
        kinds = None if events is None else frozenset(events)
        if kinds is not None and not kinds <= set(EVENT_KINDS):
            unknown = sorted(kinds - set(EVENT_KINDS))
            raise ValueError(
                f"unknown event kinds {unknown} in events; choose from {list(EVENT_KINDS)}."
            )
        self.fn = fn
        self.events = kinds
        self.on_close = on_close

    def emit(self, event: dict[str, Any]) -> None:
        """Pass ``event`` to the function when its kind was asked for."""
        if self.events is None or event.get("event") in self.events:
            self.fn(event)

    def close(self) -> None:
        """Call ``on_close`` when one was given."""
        if self.on_close is not None:
            self.on_close()


class ProgressSink(Sink):
    """Show the run's progress: labels so far against the budget, and the accuracy.

    With ``rich`` installed and a terminal as the stream, a progress bar; otherwise one
    plain line per round, e.g. ``round 3: 50/100 labels, accuracy 0.912``.

    Parameters
    ----------
    stream : file-like, default=sys.stderr
    metric : str, default="accuracy"
        The metric shown next to the label count.
    use_rich : bool, optional
        Force the bar on or off; by default it is used when ``rich`` can be imported
        and ``stream.isatty()`` is true.
    """

    def __init__(
        self, stream: IO[str] | None = None, *, metric: str = "accuracy",
        use_rich: bool | None = None,
    ) -> None:
        self.stream = stream
        self.metric = metric
        self.use_rich = use_rich
        self._progress: Any = None
        self._task: Any = None
        self._total: int | None = None
        self._name = ""

    def _out(self) -> IO[str]:
        return self.stream if self.stream is not None else sys.stderr

    def _want_rich(self) -> bool:
        if self.use_rich is not None:
            return self.use_rich
        isatty = getattr(self._out(), "isatty", None)
        if not (callable(isatty) and isatty()):
            return False
        try:
            import rich  # noqa: F401
        except ImportError:
            return False
        return True

    def emit(self, event: dict[str, Any]) -> None:
        """Update the bar or write a line."""
        kind = event.get("event")
        if kind == "run_start":
            self._start(event)
        elif kind == "round":
            self._round(event)
        elif kind == "run_end":
            self._end(event)

    def _start(self, event: dict[str, Any]) -> None:
        config = event.get("config") or {}
        budget = config.get("budget")
        self._total = int(budget) if budget is not None else config.get("n_samples")
        self._name = str(event.get("run_name") or config.get("strategy") or "active learning")
        if self._want_rich():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("labels"),
                console=Console(file=self._out()),
            )
            self._progress.start()
            n0 = len(event.get("initial_ids") or [])
            self._task = self._progress.add_task(self._name, total=self._total, completed=n0)

    def _round(self, event: dict[str, Any]) -> None:
        n_so_far = int(event.get("n_labeled", 0)) + len(event.get("labeled_ids") or [])
        value = (event.get("metrics") or {}).get(self.metric)
        shown = "" if value is None else f"{self.metric} {value:.3f}"
        if self._progress is not None:
            desc = f"{self._name} (round {event.get('round')}{', ' + shown if shown else ''})"
            self._progress.update(self._task, completed=n_so_far, description=desc)
            return
        total = "?" if self._total is None else str(self._total)
        line = f"round {event.get('round')}: {n_so_far}/{total} labels"
        if shown:
            line += f", {shown}"
        self._out().write(line + "\n")
        self._out().flush()

    def _end(self, event: dict[str, Any]) -> None:
        self.close()
        self._out().write(
            f"stopped after {event.get('n_labeled')} labels: {event.get('stopped_by')}\n"
        )
        self._out().flush()

    def close(self) -> None:
        """Stop the progress bar (if one is shown)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None


# --------------------------------------------------------------------------- reading logs
def read_events(
    path: str | os.PathLike[str], *, ignore_cut_off: bool = False
) -> list[dict[str, Any]]:
    """Read a JSON Lines event log.

    Parameters
    ----------
    path : str or path-like
    ignore_cut_off : bool, default=False
        Ignore a last line that does not end in a newline: the write of an event cut off
        when the process was killed.  By default such a line is read like any other.

    Returns
    -------
    list of dict
        The events in the order written (blank lines are ignored).

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When a line is not a JSON object with an ``"event"`` key (the message gives the
        line number).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no event log at {str(path)!r}; check the path.")
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    if ignore_cut_off and lines and not lines[-1].endswith("\n"):
        lines.pop()
    return [
        _parse_event(line, number, path)
        for number, line in enumerate(lines, start=1)
        if line.strip()
    ]


def _parse_event(line: str, number: int, path: Path) -> dict[str, Any]:
    try:
        event = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path}: line {number} is not valid JSON ({exc.msg}); the log may have "
            "been cut off or edited."
        ) from exc
    if not isinstance(event, dict) or "event" not in event:
        raise ValueError(
            f"{path}: line {number} is not an event (a JSON object with an 'event' key)."
        )
    return event


def split_runs(events: Iterable[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Group a log's events by run: each group starts with a ``run_start`` event.

    Events before the first ``run_start`` are ignored.
    """
    runs: list[list[dict[str, Any]]] = []
    for event in events:
        if event.get("event") == "run_start":
            runs.append([event])
        elif runs:
            runs[-1].append(event)
    return runs


def replay(
    events: str | os.PathLike[str] | Iterable[dict[str, Any]], run: int = -1
) -> RunResult:
    """Rebuild a run from its events alone.

    Parameters
    ----------
    events : path or iterable of dict
        A JSONL log (read with :func:`read_events`) or the events themselves.
    run : int, default=-1
        Which run of the log, when several were appended to one file (in order; -1 is
        the latest).

    Returns
    -------
    RunResult
        With the rounds, config, initial set, stop reason and oracle facts of the run;
        ``pool`` and ``learner`` are ``None``.  ``labeled_ids``, ``labels``, ``curve()``
        and ``to_records()`` give the same values as the live run did.  A log that ends
        without ``run_end`` (an interrupted run) gives ``stop_kind="incomplete"``.

    Raises
    ------
    ValueError
        When the log holds no run.
    """
    if isinstance(events, (str, os.PathLike)):
        events = read_events(events)
    runs = split_runs(events)
    if not runs:
        raise ValueError("the events hold no run (no 'run_start' event); is this a run log?")
    try:
        chosen = runs[run]
    except IndexError:
        raise ValueError(
            f"run={run} is out of range: the log holds {len(runs)} run(s)."
        ) from None
    start = chosen[0]
    rounds = [RoundRecord.from_dict(e) for e in chosen if e.get("event") == "round"]
    end = next((e for e in reversed(chosen) if e.get("event") == "run_end"), None)
    if end is None:
        stopped_by, stop_kind, total, oracle_info = "incomplete: the log has no run_end", (
            "incomplete"
        ), 0.0, {}
    else:
        stopped_by = str(end.get("stopped_by", ""))
        stop_kind = str(end.get("stop_kind", ""))
        total = float(end.get("total_seconds") or 0.0)
        oracle_info = dict(end.get("oracle_info") or {})
    return RunResult(
        rounds=rounds,
        stopped_by=stopped_by,
        pool=None,
        learner=None,
        config=dict(start.get("config") or {}),
        initial_ids=np.asarray(start.get("initial_ids") or [], dtype=np.int64),
        initial_labels=np.asarray(start.get("initial_labels") or []),
        oracle_info=oracle_info,
        stop_kind=stop_kind,
        total_seconds=total,
    )
