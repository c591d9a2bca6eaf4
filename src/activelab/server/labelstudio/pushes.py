"""Predictions pushed to Label Studio, so that its Uncertainty sampling follows activelab.

Label Studio's ``/next`` serves the lowest-score unlabeled task among the predictions whose
``model_version`` is the project's.  :class:`PredictionPusher` keeps one prediction per
unlabeled task there, under one stable version (``activelab-<strategy>-ranked``):

- the first push of a process replaces every prediction of the unlabeled tasks;
- later pushes send again only the tasks whose label changed or whose score moved by more
  than ``push_tolerance``, deleting each one's previous prediction first;
- pushes are debounced: at most one per project every ``push_interval`` seconds, the last
  retrain of an interval being pushed when it ends.
"""

from __future__ import annotations

import json
import math
import threading
import time
from typing import Any

from ...labelstudio_io import latest_annotation_choices

__all__ = ["PredictionPusher"]


class PredictionPusher:
    """Pushes a backend's predictions to Label Studio.

    Parameters
    ----------
    backend : LSBackend
        Gives the model, the labels, the predictions, Label Studio's API and the error log.
    """

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.interval = float(backend.config.push_interval)
        self.tolerance = float(backend.config.push_tolerance)
        self._sent: dict[str, dict[int, tuple[str, float]]] = {}
        self._last: dict[str, float] = {}
        self._patched: set[str] = set()
        self._timers: dict[str, threading.Timer] = {}
        self._lock = threading.Lock()
        self._push_lock = threading.Lock()

    @property
    def version(self) -> str:
        """The one model version the pushed predictions (and ``/setup``) carry."""
        return f"activelab-{self.backend.strategy.name}-ranked"

    # ------------------------------------------------------------ scheduling
    def after_retrain(self, project: str) -> None:
        """Push now, or when the project's push interval is over."""
        with self._lock:
            wait = self._last.get(project, -math.inf) + self.interval - time.monotonic()
            if wait > 0:
                if project not in self._timers:
                    timer = threading.Timer(wait, self._timed, args=(project,))
                    timer.daemon = True
                    self._timers[project] = timer
                    timer.start()
                return
        self._safe_push(project)

    def pending(self) -> list[str]:
        """Projects with a push waiting for their interval to end."""
        with self._lock:
            return sorted(self._timers)

    def flush(self) -> None:
        """Do the waiting pushes now."""
        with self._lock:
            projects = list(self._timers)
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()
        for project in projects:
            self._safe_push(project)

    def stop(self) -> None:
        """Drop the waiting pushes."""
        with self._lock:
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()

    def _timed(self, project: str) -> None:
        with self._lock:
            self._timers.pop(project, None)
        self._safe_push(project)

    def _safe_push(self, project: str) -> None:
        try:
            self.push(project)
        except Exception as exc:  # network trouble must not stop the trainer
            self.backend._error(f"project {project}: pushing predictions failed: {exc}")

    # ------------------------------------------------------------ the push
    def push(self, project: str) -> int:
        """Send the predictions that changed; returns how many were sent."""
        backend = self.backend
        model = backend.model(project)
        if model is None or not model.trained:
            return 0
        with self._push_lock:
            labeled = {t.task_id for t in backend.state.labeled_tasks(project)}
            tasks = [t for t in backend.export_tasks(project, all_tasks=True)
                     if t.get("id") is not None and int(t["id"]) not in labeled
                     and latest_annotation_choices(t, model.config.from_name) is None]
            predictions = backend.predict_tasks(project, tasks) if tasks else []
            now = {int(t["id"]): (json.dumps(p["result"], sort_keys=True), float(p["score"]))
                   for t, p in zip(tasks, predictions, strict=True) if p}
            before = self._sent.get(project)
            send = sorted(now) if before is None else sorted(
                t for t, (result, score) in now.items()
                if t not in before or before[t][0] != result
                or abs(before[t][1] - score) > self.tolerance)
            replaced = send if before is None else [t for t in send if t in before]
            if replaced:
                backend.api.delete_predictions(project, replaced)
            if send:
                by_task = {int(t["id"]): p for t, p in zip(tasks, predictions, strict=True)}
                backend.api.import_predictions(project, [
                    {"task": t, "result": by_task[t]["result"], "score": by_task[t]["score"],
                     "model_version": self.version} for t in send])
            if project not in self._patched:
                backend.api.set_model_version(project, self.version)
                self._patched.add(project)
            self._sent[project] = {**(before or {}), **{t: now[t] for t in send}}
            self._last[project] = time.monotonic()
        return len(send)
