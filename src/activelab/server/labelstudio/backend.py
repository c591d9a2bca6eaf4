"""The Label Studio backend's logic, independent of the web framework.

:class:`LSBackend` answers the protocol calls (``setup``, ``predict``, ``webhook``,
``train``, ``versions``, ``health``), keeps one model per project with its version, and
retrains in the background.  Every retrain gives a new ``model_version``; labels and model
versions live in the database and survive a restart: the model is refitted on the stored
labels and keeps its version when the labels (and what the model name means) are unchanged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from ...labelstudio_io import LabelConfig
from ...store.ls_state import LabeledTask, LSState
from ...strategies.base import Strategy
from ..ls_scoring import check_backend_strategy, describe_score
from .client import LabelStudioAPI
from .config import LabelConfigs, classes_for
from .model import ProjectModel, fit_project, predict_with, training_digest
from .pushes import PredictionPusher
from .settings import LSBackendConfig
from .targets import TaskStrategies
from .tasks import (
    ANNOTATION_EVENTS,
    DELETE_EVENTS,
    annotation_row,
    export_rows,
    ids_in,
    project_key,
    webhook_rows,
)
from .worker import TrainerQueue

__all__ = ["LSBackend"]

log = logging.getLogger("activelab.labelstudio")


class LSBackend:
    """The backend's logic, independent of the web framework.

    Parameters
    ----------
    config : LSBackendConfig

    Attributes
    ----------
    state : LSState
        The database.
    errors : list of str
        The latest background errors (at most 100), newest last.
    """

    def __init__(self, config: LSBackendConfig) -> None:
        config.validate()
        self.config = config
        self.strategy = check_backend_strategy(config.strategy, random_state=config.random_state)
        self.state = LSState(config.db)
        self.strategies = TaskStrategies(config, self.strategy)
        self.configs = LabelConfigs(config, self.strategies, self.state)
        self.api = LabelStudioAPI(config, self.state)
        self._models: dict[str, ProjectModel] = {}
        self._project_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._trainer = TrainerQueue(self._work)
        self.pusher = PredictionPusher(self)
        self.errors: list[str] = []

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the background trainer."""
        self._trainer.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish queued work and stop the background trainer (waiting pushes are dropped)."""
        self._trainer.stop(timeout)
        self.pusher.stop()

    def close(self) -> None:
        """Stop the trainer and release the database."""
        self.stop()
        self.state.close()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no retrain or sync is queued or running; False on timeout."""
        return self._trainer.wait_idle(timeout)

    @property
    def busy(self) -> bool:
        """Whether a retrain or a sync is queued or running."""
        return self._trainer.busy

    def _lock_for(self, project: str) -> threading.Lock:
        with self._locks_lock:
            return self._project_locks.setdefault(project, threading.Lock())

    # --------------------------------------------------------------- config
    def label_config(self, project: str) -> LabelConfig | None:
        """The parsed labeling config of a project (from memory or the database)."""
        return self.configs.get(project)

    def classes_for(self, config: LabelConfig) -> tuple[str, ...]:
        """The classes learned for a config (``labels`` restricts them)."""
        return classes_for(self.config, config)

    def _use_config(self, project: str, xml: str | None, save: bool) -> None:
        """Make ``xml`` the project's config; a model of another config is dropped."""
        if not xml:
            return
        parsed = self.configs.set(project, xml)
        model = self._models.get(project)
        if parsed is not None and model is not None and model.config.xml != parsed.xml:
            self._models.pop(project, None)
        if save:
            self.state.save_project(project, label_config=xml)

    # ------------------------------------------------------------- models
    def cold_version(self, config: LabelConfig | None = None) -> str:
        """Version reported before the first model (tasks in seeded random order), named
        after the strategy of the config's task."""
        return f"activelab-{self.strategy_for(config).name}-v0"

    def strategy_for(self, config: LabelConfig | None) -> Strategy:
        """The strategy of a config's task (the backend's ``strategy`` for single choice,
        and while no config is known)."""
        return self.strategy if config is None else self.strategies.for_config(config)

    def model(self, project: str) -> ProjectModel | None:
        """The current model of a project, restoring it from the database if needed.

        Returns ``None`` while the project's labeling config is unknown.
        """
        found = self._models.get(project)
        if found is not None:
            return found
        with self._lock_for(project):
            found = self._models.get(project)
            if found is not None:
                return found
            config = self.label_config(project)
            if config is None:
                return None
            found = self._restore(project, config)
            self._models[project] = found
            return found

    def _restore(self, project: str, config: LabelConfig) -> ProjectModel:
        tasks = self.state.labeled_tasks(project)
        strategy = self.strategy_for(config)
        digest = training_digest(self.config, strategy, config, tasks)
        latest = self.state.latest_version(project)
        if latest is not None and latest["label_digest"] == digest:
            fitted = fit_project(self.config, strategy, config, tasks)
            if fitted is not None:
                return ProjectModel(latest["version"], config, self.classes_for(config),
                                    *fitted, digest)
        if tasks:
            trained = self._train_locked(project, config, tasks)
            if trained is not None:
                return trained
        return ProjectModel(self.cold_version(config), config, self.classes_for(config))

    def _train_locked(
        self, project: str, config: LabelConfig, tasks: list[LabeledTask]
    ) -> ProjectModel | None:
        strategy = self.strategy_for(config)
        fitted = fit_project(self.config, strategy, config, tasks)
        if fitted is None:
            return None
        digest = training_digest(self.config, strategy, config, tasks)
        version = f"activelab-{strategy.name}-v{len(self.state.versions(project)) + 1}"
        classes = self.classes_for(config)
        self.state.add_version(project, version, fitted[2], digest, list(classes))
        log.info("project %s: trained %s on %d labels", project, version, fitted[2])
        return ProjectModel(version, config, classes, *fitted, digest)

    def retrain(self, project: str) -> ProjectModel | None:
        """Retrain a project's model on its stored labels now.

        Returns the new model, or ``None`` when there is no config yet or the labels
        do not cover two classes (the previous model then stays).
        """
        with self._lock_for(project):
            config = self.label_config(project)
            if config is None:
                return None
            tasks = self.state.labeled_tasks(project)
            trained = self._train_locked(project, config, tasks)
            if trained is not None:
                self._models[project] = trained
        if trained is not None and self.config.push_predictions:
            self.pusher.after_retrain(project)
        return trained

    def current_version(self, project: str) -> str:
        """The version ``/setup`` reports for a project (with ``push_predictions``, once a
        model is trained, the one stable version of the pushed predictions)."""
        model = self.model(project)
        if model is None:
            return self.cold_version()
        if self.config.push_predictions and model.trained:
            return self.pusher.version
        return model.version

    def predict_tasks(self, project: str, tasks: Sequence[Any]) -> list[Any]:
        """One prediction per task, in order (``result``, ``score``, ``model_version``);
        ``[]`` for a task whose image cannot be read (the reasons become one error)."""
        model = self.model(project)
        if model is None:
            raise ValueError(
                "no labeling config for this project yet; Label Studio sends it in /setup "
                "and /predict (label_config)."
            )
        problems: list[tuple[int, str]] = []
        out = predict_with(self.config, self.strategy_for(model.config), model, tasks,
                           problems)
        if self.config.push_predictions and model.trained:  # one version with the pushes
            out = [p | {"model_version": self.pusher.version} if p else p for p in out]
        if problems:
            reasons = "; ".join(f"task {task_id}: {why}" for task_id, why in problems[:20])
            self._error(f"project {project}: {len(problems)} of {len(tasks)} tasks got no "
                        f"prediction, their images could not be read: {reasons}")
        return out

    # ---------------------------------------------------------- protocol calls
    def setup(self, body: dict[str, Any]) -> dict[str, Any]:
        """Handle ``/setup``: remember the connection, parse the config, report the version."""
        if not isinstance(body, dict):
            raise ValueError("setup body must be a JSON object.")
        project = project_key(body.get("project"))
        schema = body.get("schema") or body.get("label_config")
        self._use_config(project, schema, save=False)
        hostname = body.get("hostname") or None
        token = body.get("access_token") or None
        if token is not None and token.startswith("<"):
            token = None  # a redacted placeholder, not a token
        self.state.save_project(project, hostname=hostname, access_token=token,
                                label_config=schema or None)
        return {"model_version": self.current_version(project)}

    def predict(self, body: dict[str, Any]) -> dict[str, Any]:
        """Handle ``/predict``: ``{"results": [...]}``, one entry per task."""
        if not isinstance(body, dict):
            raise ValueError("predict body must be a JSON object.")
        tasks = body.get("tasks")
        if not isinstance(tasks, list):
            raise ValueError("predict body needs 'tasks': a list of Label Studio tasks.")
        project = project_key(body.get("project"))
        config_xml = body.get("label_config")
        if config_xml:
            self._use_config(project, config_xml, save=self.label_config(project) is None)
        return {"results": self.predict_tasks(project, tasks)}

    def webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        """Handle ``/webhook``: store what changed now, learn in the background."""
        if not isinstance(body, dict):
            raise ValueError("webhook body must be a JSON object.")
        action = str(body.get("action", ""))
        project_obj = body.get("project")
        project = project_key(project_obj)
        if isinstance(project_obj, dict) and project_obj.get("label_config"):
            if self.label_config(project) is None:
                self._use_config(project, project_obj["label_config"], save=True)
        if action in ANNOTATION_EVENTS:
            stored = self._record_from_webhook(project, body)
            return {"status": "ok", "action": action, "stored": self._changed(project, stored)}
        if action in DELETE_EVENTS:
            ids = ids_in(body.get("annotations") or body.get("annotation"))
            removed = self.state.delete_annotations(project, annotation_ids=ids)
            return {"status": "ok", "action": action, "removed": self._changed(project, removed)}
        if action == "TASKS_DELETED":
            removed = self.state.delete_annotations(project, task_ids=ids_in(body.get("tasks")))
            return {"status": "ok", "action": action, "removed": self._changed(project, removed)}
        if action == "START_TRAINING":
            self._trainer.schedule(project, sync=True)
            return {"status": "ok", "action": action, "queued": True}
        return {"status": "ok", "action": action, "ignored": True}

    def _changed(self, project: str, n_rows: int) -> int:
        """Schedule a retrain when labels changed; returns ``n_rows``."""
        if n_rows:
            self._trainer.schedule(project)
        return n_rows

    def train(self, body: dict[str, Any]) -> dict[str, Any]:
        """Handle the legacy ``/train``: store the labels in the body, then retrain.

        ``annotations`` may be Label Studio's annotated tasks (each with ``data`` and
        ``annotations``; they replace the stored labels) or annotations that carry
        their ``task``.  Without annotations the labels are fetched as for
        ``START_TRAINING``.
        """
        if not isinstance(body, dict):
            raise ValueError("train body must be a JSON object.")
        project = project_key(body.get("project"))
        self._use_config(project, body.get("label_config"), save=True)
        annotations = body.get("annotations")
        if isinstance(annotations, list) and annotations:
            self._store_trained_annotations(project, annotations)
            self._trainer.schedule(project)
        else:
            self._trainer.schedule(project, sync=True)
        return {"status": "ok", "queued": True}

    def _store_trained_annotations(self, project: str, annotations: list[Any]) -> None:
        config = self.label_config(project)
        if config is None:
            raise ValueError("train needs the label_config to read the annotations.")
        entries = [a for a in annotations if isinstance(a, dict)]
        if entries and all(isinstance(a.get("data"), dict) for a in entries):
            # Label Studio's legacy /train: every annotated task, each with its
            # annotations; it is the whole label set.
            self.state.replace_annotations(project, export_rows(config, entries))
            return
        found = [annotation_row(config, ann,
                                ann["task"] if isinstance(ann.get("task"), dict) else {})
                 for ann in entries]
        self.state.record_annotations(project, [r for r in found if r is not None])

    def versions(self, project: str | None = None) -> dict[str, Any]:
        """Handle ``/versions``: the model versions of one project (or of all)."""
        if project is not None:
            key = project_key(project)
            return {
                "project": key,
                "versions": [v["version"] for v in self.state.versions(key)],
                "model_version": self.current_version(key),
            }
        return {
            "versions": {p: [v["version"] for v in self.state.versions(p)]
                         for p in self.state.projects()}
        }

    def health(self) -> dict[str, Any]:
        """Handle ``/health``."""
        return {
            "status": "UP",
            "model_class": "activelab",
            "strategy": self.strategy.name,
            "score": describe_score(self.strategy.name),
            "multilabel_strategy": self.config.multilabel_strategy or "task default",
            "regression_strategy": self.config.regression_strategy or "task default",
            "model": self.config.model,
            "busy": self.busy,
            "last_error": self.errors[-1] if self.errors else None,
        }

    # ----------------------------------------------------------- background
    def _record_from_webhook(self, project: str, body: dict[str, Any]) -> int:
        config = self.label_config(project)
        if config is None:
            self._error(f"project {project}: annotation received before any labeling config")
            return 0
        rows, missing = webhook_rows(config, body)
        for annotation_id in missing:
            self._error(f"project {project}: annotation {annotation_id} came without its "
                        "task data; press Start Training to sync from Label Studio")
        if rows:
            self.state.record_annotations(project, rows)
        return len(rows)

    def _work(self, project: str, sync: bool) -> None:
        """One job of the trainer: (sync, then) retrain; errors are kept, not raised."""
        try:
            if sync:
                self.sync_from_labelstudio(project)
            self._trainer.covered(project)  # labels stored meanwhile are covered
            self.retrain(project)
        except Exception as exc:
            self._error(f"project {project}: {'sync' if sync else 'retrain'} failed: {exc}")

    def _error(self, message: str) -> None:
        log.warning(message)
        self.errors.append(message)
        del self.errors[:-100]

    # --------------------------------------------------- Label Studio's API
    def export_tasks(self, project: str, all_tasks: bool = False) -> list[dict[str, Any]]:
        """Tasks of a project from Label Studio's JSON export (annotated ones by default)."""
        return self.api.export_tasks(project, all_tasks=all_tasks)

    def sync_from_labelstudio(self, project: str) -> int:
        """Replace the stored labels by every annotation in Label Studio; returns the count."""
        config = self.label_config(project)
        if config is None:
            raise ValueError(f"project {project}: no labeling config yet; connect the backend.")
        rows = export_rows(config, self.export_tasks(project))
        self.state.replace_annotations(project, rows)
        return len(rows)

    def push_predictions(self, project: str) -> int:
        """Push the changed predictions of the unlabeled tasks now (see
        :class:`~activelab.server.labelstudio.pushes.PredictionPusher`); returns how many
        were sent."""
        return self.pusher.push(project)

    def pending_pushes(self) -> list[str]:
        """Projects whose next push waits for the end of their push interval."""
        return self.pusher.pending()

    def flush_pushes(self) -> None:
        """Do the waiting pushes now."""
        self.pusher.flush()
