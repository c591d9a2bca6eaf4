"""Resuming a run from its JSONL event log.

A run that was interrupted (Ctrl-C, a crash, a killed process) leaves a log of the events
it finished: ``run_start`` with the initial set, one ``round`` event per finished round,
and perhaps a ``run_end`` with ``stop_kind="error"``.  :func:`read_resume_log` reads the
latest run of such a log and checks it was written with the same arguments;
:class:`LoggedRound` hands a :class:`~activelab.engine.session.Session` the answers a
logged round got, so the session can replay the round without asking the oracle again.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..events import read_events, split_runs
from .records import STOP_ERROR, RoundRecord, to_jsonable

__all__ = ["ResumeLog", "LoggedRound", "read_resume_log", "log_mismatch", "is_new_log"]

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def is_new_log(path: str | os.PathLike[str]) -> bool:
    """True when nothing is logged at ``path`` yet (no file, or an empty one).

    ``run(..., resume=path)`` then starts a fresh run that writes its log there, so one
    script serves the first run and every restart after an interrupt.
    """
    p = Path(path)
    return not p.exists() or (p.is_file() and not p.read_bytes().strip())


def log_mismatch(path: str | os.PathLike[str], what: str) -> ValueError:
    """The error raised when replaying a log shows it belongs to another run."""
    return ValueError(
        f"the log {str(path)!r} does not match this run: {what}; resume with the data, "
        "estimator, oracle and arguments of the logged run, or start a new log."
    )


@dataclass
class ResumeLog:
    """What the log of an interrupted run holds about its labels.

    Attributes
    ----------
    path : Path
    initial_asked : ndarray of int64
        The initial ids the run asked about.
    initial_ids, initial_labels, initial_skipped : ndarray
        The initial ids labeled, their labels, and the ids skipped.
    rounds : list of RoundRecord
        Every finished round, in order.
    """

    path: Path
    initial_asked: np.ndarray
    initial_ids: np.ndarray
    initial_labels: np.ndarray
    initial_skipped: np.ndarray
    rounds: list[RoundRecord]


def read_resume_log(path: str | os.PathLike[str], config: dict[str, Any]) -> ResumeLog:
    """Read the latest run of a log, to be continued by a run with settings ``config``.

    A last line cut off mid-write is ignored and removed from the file, so that the
    events the resumed run appends start on a line of their own.

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path``.
    ValueError
        When the log holds no run, its latest run finished, or it was written by a run
        with other settings.
    """
    path = Path(path)
    runs = split_runs(read_events(path, ignore_cut_off=True))
    if not runs:
        raise ValueError(
            f"the log {str(path)!r} holds no run (no 'run_start' event); resume needs the "
            "event log of an interrupted run."
        )
    events = runs[-1]
    _check_unfinished(events, path)
    _check_same_config(dict(events[0].get("config") or {}), to_jsonable(config), path)
    rounds = [RoundRecord.from_dict(e) for e in events if e.get("event") == "round"]
    if [r.round for r in rounds] != list(range(len(rounds))):
        raise log_mismatch(path, "its rounds are not numbered 0, 1, 2, ...")
    _drop_cut_off_line(path)
    start = events[0]
    return ResumeLog(
        path=path,
        initial_asked=_ids(start.get("initial_asked")),
        initial_ids=_ids(start.get("initial_ids")),
        initial_labels=np.asarray(start.get("initial_labels") or [], dtype=object),
        initial_skipped=_ids(start.get("initial_skipped")),
        rounds=rounds,
    )


def _ids(values: Any) -> np.ndarray:
    return np.asarray(values or [], dtype=np.int64)


def _check_unfinished(events: list[dict[str, Any]], path: Path) -> None:
    end = next((e for e in reversed(events) if e.get("event") == "run_end"), None)
    if end is not None and end.get("stop_kind") != STOP_ERROR:
        raise ValueError(
            f"the run in the log {str(path)!r} is complete ({end.get('stopped_by')}); "
            "there is nothing to resume: read it with activelab.replay(path)."
        )


def _comparable(value: Any) -> Any:
    """A config value with memory addresses (``<... at 0x7f...>``) taken out of reprs."""
    return _ADDRESS.sub("", value) if isinstance(value, str) else value


def _check_same_config(logged: dict[str, Any], now: dict[str, Any], path: Path) -> None:
    keys = sorted(set(logged) | set(now))
    differ = [k for k in keys if _comparable(logged.get(k)) != _comparable(now.get(k))]
    if not differ:
        return
    shown = "; ".join(
        f"{k}: {logged.get(k)!r} in the log, {now.get(k)!r} now" for k in differ[:4]
    )
    raise ValueError(
        f"the log {str(path)!r} was written by a run with other arguments ({shown}); "
        "resume with the arguments of the logged run, or start a new log."
    )


def _drop_cut_off_line(path: Path) -> None:
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        os.truncate(path, end)


class LoggedRound:
    """The answers one logged round got, handed out in the order the round asks.

    Parameters
    ----------
    record : RoundRecord
        The round as the log holds it.
    path : path-like
        The log (for error messages).
    """

    def __init__(self, record: RoundRecord, path: str | os.PathLike[str]) -> None:
        self.record = record
        self.path = path
        self._n_asked = 0

    def answer(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The labeled ids, labels and skipped ids the round got for ``ids``.

        Raises
        ------
        ValueError
            When ``ids`` are not the ids the logged round asked next.
        """
        logged = self.record.query_ids[self._n_asked : self._n_asked + ids.size]
        if not np.array_equal(logged, ids):
            raise log_mismatch(
                self.path,
                f"round {self.record.round} chose ids {ids[:5].tolist()} where the log has "
                f"{logged[:5].tolist()}",
            )
        self._n_asked += int(ids.size)
        got = np.isin(self.record.labeled_ids, ids)
        labels = np.asarray(self.record.labels, dtype=object)[got]
        skipped = self.record.skipped_ids[np.isin(self.record.skipped_ids, ids)]
        return self.record.labeled_ids[got], labels, skipped

    def check_done(self) -> None:
        """Raise ValueError unless the round asked every id the log says it asked."""
        if self._n_asked != self.record.query_ids.size:
            raise log_mismatch(
                self.path,
                f"round {self.record.round} asked {self._n_asked} ids where the log has "
                f"{self.record.query_ids.size}",
            )
