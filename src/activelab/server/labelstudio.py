"""Label Studio ML backend: activelab's strategies inside Label Studio.

Speaks Label Studio's ML backend protocol (as sent by Label Studio 1.23) directly
with FastAPI:

- ``GET /health`` (and ``GET /``): ``{"status": "UP", ...}``.
- ``POST /setup``: parses the labeling config (``<Choices>`` over ``<Text>`` or
  ``<Image>``, single or multiple choice), remembers Label Studio's URL and token,
  returns the current ``model_version``.
- ``POST /predict``: one prediction per task, in order, each with ``result``,
  ``score`` and ``model_version``.  The score encodes the strategy so that Label
  Studio's ascending sort puts the most informative task first (see
  :mod:`activelab.server.ls_scoring`).
- ``POST /webhook``: acknowledged at once; annotations are stored before the reply
  and the model is retrained in the background.  ``START_TRAINING`` fetches every
  annotation from Label Studio's export API with the token from ``/setup``.
- ``GET /versions``; legacy ``POST /train``.

Every retrain gives a new ``model_version``.  With ``push_predictions`` the backend
then imports fresh predictions for every unlabeled task into Label Studio and sets
the project's model version, so that Label Studio's "Uncertainty sampling" follows
activelab's ranking.

Labels and model versions live in a database (:class:`activelab.store.ls_state.LSState`)
and survive a restart: the model is refitted on the stored labels and keeps its
version when the labels are unchanged.
"""


import base64
import binascii
import hmac
import ipaddress
import logging
import threading
import time
from collections.abc import Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np

from ..labelstudio_io import (
    LabelConfig,
    choices_from_result,
    latest_annotation_choices,
    parse_label_config,
)
from ..store.ls_state import LabeledTask, LSState, label_digest
from .ls_scoring import (
    COMMITTEE_STRATEGIES,
    MULTILABEL_STRATEGIES,
    check_backend_strategy,
    describe_score,
    multilabel_scores,
    strategy_scores,
    task_uniform,
)

__all__ = [
    "LSBackendConfig",
    "LSBackend",
    "ProjectModel",
    "create_app",
    "make_estimator",
    "project_key",
    "image_path_from_ls",
    "ESTIMATORS",
    "SECRET_HEADER",
]

log = logging.getLogger("activelab.labelstudio")

#: Header that carries the shared webhook secret.
SECRET_HEADER = "X-Activelab-Secret"

#: Largest request body accepted (Label Studio sends a whole batch of tasks to /predict).
MAX_BODY_BYTES = 256 << 20

#: Model names accepted by ``--model``.
ESTIMATORS = ("logreg", "nb", "rf")

ANNOTATION_EVENTS = frozenset({"ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED"})
DELETE_EVENTS = frozenset({"ANNOTATIONS_DELETED", "ANNOTATION_DELETED"})


def make_estimator(name: str, random_state: int | None = 0) -> Any:
    """A fresh classifier for ``--model``: ``logreg``, ``nb`` or ``rf``.

    Raises
    ------
    ValueError
        When the name is unknown.
    """
    if name == "logreg":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=1000, random_state=random_state)
    if name == "nb":
        from sklearn.naive_bayes import ComplementNB

        return ComplementNB()
    if name == "rf":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=200, random_state=random_state, n_jobs=1)
    raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(ESTIMATORS)}.")


@dataclass
class LSBackendConfig:
    """Settings of the Label Studio backend.

    Attributes
    ----------
    labels : tuple of str, optional
        The classes to learn; must be choices of the labeling config.  All of the
        config's choices when omitted.
    strategy : str, default="entropy"
        A strategy with a per-task utility (see :mod:`activelab.server.ls_scoring`).
    model : str, default="logreg"
        One of :data:`ESTIMATORS`.
    db : str, default="sqlite:///ls-backend.db"
        SQLAlchemy URL of the state database.
    text_method : str, default="tfidf"
        ``"tfidf"`` or ``"minilm"`` (see :func:`activelab.featurize.text_features`).
    image_root : str, optional
        Folder that image tasks are read from; Label Studio's ``/data/upload/...``
        maps to ``image_root/upload/...`` and ``/data/local-files/?d=p`` to
        ``image_root/p``.  Remote URLs are never fetched.
    image_size : (int, int), default=(16, 16)
    basic_auth : (str, str), optional
        User and password required on ``/setup``, ``/predict``, ``/versions`` and ``/train``.
    webhook_secret : str, optional
        Value required in the :data:`SECRET_HEADER` header of ``/webhook``.
    push_predictions : bool, default=False
        After each retrain, import predictions for all unlabeled tasks into Label
        Studio and set the project's model version.
    ls_url, ls_token : str, optional
        Label Studio URL and legacy API token, overriding what ``/setup`` sends.
    committee_size : int, default=5
        Members of the bagging committee of committee strategies.
    random_state : int, default=0
    ls_timeout : float, default=30.0
        Seconds allowed for each call to Label Studio's API.
    """

    labels: tuple[str, ...] | None = None
    strategy: str = "entropy"
    model: str = "logreg"
    db: str = "sqlite:///ls-backend.db"
    text_method: str = "tfidf"
    image_root: str | None = None
    image_size: tuple[int, int] = (16, 16)
    basic_auth: tuple[str, str] | None = None
    webhook_secret: str | None = None
    push_predictions: bool = False
    ls_url: str | None = None
    ls_token: str | None = None
    committee_size: int = 5
    random_state: int = 0
    ls_timeout: float = 30.0

    def validate(self) -> None:
        """Check the settings; raises ValueError/TypeError naming the bad one."""
        if self.labels is not None:
            labels = tuple(str(x).strip() for x in self.labels if str(x).strip())
            if not labels:
                raise ValueError("labels is empty; give the classes, e.g. --labels Pos,Neg.")
            if len(set(labels)) != len(labels):
                raise ValueError("labels lists a class twice; give each class once.")
            self.labels = labels
        if self.model not in ESTIMATORS:
            raise ValueError(f"unknown model {self.model!r}; choose one of: {', '.join(ESTIMATORS)}.")
        if self.text_method not in ("tfidf", "minilm"):
            raise ValueError(f"text_method must be 'tfidf' or 'minilm', got {self.text_method!r}.")
        check_backend_strategy(self.strategy)
        if self.basic_auth is not None and (
            len(self.basic_auth) != 2 or not self.basic_auth[0] or ":" in self.basic_auth[0]
        ):
            raise ValueError("basic_auth must be (user, password) with a user without ':'.")
        if self.webhook_secret is not None and not self.webhook_secret:
            raise ValueError("webhook_secret is empty; give a long random string or leave it out.")
        if self.image_root is not None and not Path(self.image_root).is_dir():
            raise FileNotFoundError(
                f"image_root {self.image_root!r} is not a folder; give the folder that holds "
                "Label Studio's media (or local files)."
            )
        if isinstance(self.committee_size, bool) or int(self.committee_size) < 2:
            raise ValueError(f"committee_size must be at least 2, got {self.committee_size}.")


def project_key(value: Any) -> str:
    """The project id as a string key.

    ``/setup`` and ``/predict`` send ``"<id>.<timestamp>"``; webhooks send the
    project object with ``"id"``.
    """
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or value == "":
        return "default"
    text = str(value)
    head = text.split(".", 1)[0]
    return head or "default"


def image_path_from_ls(value: str) -> str:
    """Map an image reference as Label Studio sends it to a path under the image root.

    ``/data/upload/3/a.png`` -> ``upload/3/a.png``;
    ``/data/local-files/?d=images/a.png`` -> ``images/a.png``; plain paths are kept.

    Raises
    ------
    ValueError
        For remote (http, https, s3, ...) URLs: the backend reads local files only.
    """
    if not isinstance(value, str) or not value:
        raise ValueError(f"image reference must be a non-empty string, got {value!r}.")
    parts = urlsplit(value)
    path = unquote(parts.path)
    if parts.scheme and parts.scheme not in ("file",) and len(parts.scheme) > 1:
        if not path.startswith("/data/"):
            raise ValueError(
                f"image {value!r} is a remote URL; the backend reads local files only: store "
                "the images under --image-root (Label Studio upload or local-files storage)."
            )
    if path.startswith("/data/local-files"):
        found = parse_qs(parts.query).get("d")
        if not found:
            raise ValueError(f"image {value!r} has no ?d=<path>; cannot locate the local file.")
        return found[0]
    if path.startswith("/data/"):
        return path[len("/data/"):]
    return path


class ProjectModel:
    """A fitted model for one Label Studio project, with its version.

    Attributes
    ----------
    version : str
        The ``model_version`` reported to Label Studio.
    config : LabelConfig
    classes : tuple of str
        Class names in probability column order.
    estimator : fitted classifier, Committee, or None
        ``None`` before there are labels of two classes (cold start).
    featurizer : TextFeaturizer or None
    n_labels : int
    """

    def __init__(
        self,
        version: str,
        config: LabelConfig,
        classes: tuple[str, ...],
        estimator: Any = None,
        featurizer: Any = None,
        n_labels: int = 0,
        digest: str = "",
    ) -> None:
        self.version = version
        self.config = config
        self.classes = classes
        self.estimator = estimator
        self.featurizer = featurizer
        self.n_labels = n_labels
        self.digest = digest

    @property
    def trained(self) -> bool:
        return self.estimator is not None


class LSBackend:
    """The backend's logic, independent of the web framework.

    Parameters
    ----------
    config : LSBackendConfig

    Attributes
    ----------
    state : LSState
        The database.
    """

    def __init__(self, config: LSBackendConfig) -> None:
        config.validate()
        self.config = config
        self.strategy = check_backend_strategy(config.strategy, random_state=config.random_state)
        self.state = LSState(config.db)
        self._models: dict[str, ProjectModel] = {}
        self._configs: dict[str, LabelConfig] = {}
        self._project_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._cond = threading.Condition()
        self._dirty: set[str] = set()
        self._syncs: set[str] = set()
        self._busy = False
        self._stop = False
        self._worker: threading.Thread | None = None
        self.errors: list[str] = []

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the background trainer."""
        if self._worker is not None and self._worker.is_alive():
            return
        self._stop = False
        self._worker = threading.Thread(target=self._run_worker, name="ls-trainer", daemon=True)
        self._worker.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish queued work and stop the background trainer."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join(timeout)
        self._worker = None

    def close(self) -> None:
        """Stop the trainer and release the database."""
        self.stop()
        self.state.close()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no retrain or sync is queued or running; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._dirty or self._syncs or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _lock_for(self, project: str) -> threading.Lock:
        with self._locks_lock:
            return self._project_locks.setdefault(project, threading.Lock())

    # --------------------------------------------------------------- config
    def _set_label_config(self, project: str, xml: str | None) -> LabelConfig | None:
        if not xml:
            return self._configs.get(project)
        current = self._configs.get(project)
        if current is not None and current.xml == xml:
            return current
        parsed = parse_label_config(xml)
        self._check_config(parsed)
        self._configs[project] = parsed
        model = self._models.get(project)
        if model is not None and model.config.xml != xml:
            self._models.pop(project, None)
        return parsed

    def _check_config(self, config: LabelConfig) -> None:
        if self.config.labels is not None:
            unknown = [x for x in self.config.labels if x not in config.labels]
            if unknown:
                raise ValueError(
                    f"--labels names {unknown} which the labeling config does not offer "
                    f"(its choices: {', '.join(config.labels)}); fix --labels or the config."
                )
        if config.multiple and self.strategy.name not in MULTILABEL_STRATEGIES:
            raise ValueError(
                f"the labeling config allows multiple choices, which strategy "
                f"{self.strategy.name!r} does not handle; start the backend with --strategy "
                "one of " + ", ".join(sorted(MULTILABEL_STRATEGIES)) + "."
            )
        if not config.is_text and self.config.image_root is None:
            raise ValueError(
                "the labeling config labels images; start the backend with --image-root "
                "pointing at the folder that holds them (Label Studio's media folder)."
            )

    def label_config(self, project: str) -> LabelConfig | None:
        """The parsed labeling config of a project (from memory or the database)."""
        found = self._configs.get(project)
        if found is None:
            stored = self.state.project(project)
            if stored and stored.get("label_config"):
                found = self._set_label_config(project, stored["label_config"])
        return found

    def classes_for(self, config: LabelConfig) -> tuple[str, ...]:
        """The classes learned for a config (``labels`` restricts them)."""
        if self.config.labels is None:
            return config.labels
        return tuple(x for x in config.labels if x in self.config.labels)

    # ------------------------------------------------------------- features
    def _items(self, config: LabelConfig, datas: Sequence[dict[str, Any]]) -> list[Any]:
        key = config.value_key
        return [d.get(key, "") if isinstance(d, dict) else "" for d in datas]

    def _features(self, model: ProjectModel, datas: Sequence[dict[str, Any]]) -> Any:
        items = self._items(model.config, datas)
        if model.config.is_text:
            return model.featurizer.transform(items)
        return self._image_matrix(items)

    def _image_matrix(self, items: list[Any]) -> np.ndarray:
        from ..featurize import image_features

        if self.config.image_root is None:
            raise ValueError("image tasks need --image-root (the folder holding the images).")
        paths = [image_path_from_ls(str(v)) for v in items]
        return image_features(paths, self.config.image_root, size=tuple(self.config.image_size))

    # ------------------------------------------------------------- training
    def _settings_key(self) -> str:
        c = self.config
        return f"{self.strategy.name}|{c.model}|{c.text_method}|{c.random_state}|{c.labels}"

    def _digest(self, config: LabelConfig, tasks: list[LabeledTask]) -> str:
        """Fingerprint of what a model is trained from: labels, classes and settings."""
        key = "|".join([label_digest(tasks), config.from_name, config.value_key,
                        ",".join(self.classes_for(config)), str(config.multiple),
                        self._settings_key()])
        return _short(key)

    def _fit(
        self, config: LabelConfig, tasks: list[LabeledTask]
    ) -> tuple[Any, Any, int] | None:
        """Fit a model on labeled tasks; ``None`` when the labels cannot train one yet."""
        classes = self.classes_for(config)
        known = set(classes)
        if config.multiple:
            rows = [(t, [c for c in t.choices if c in known]) for t in tasks]
            rows = [(t, ch) for t, ch in rows if ch]
        else:
            rows = [(t, [t.choices[0]]) for t in tasks if t.choices and t.choices[0] in known]
        if not rows:
            return None
        used = [t for t, _ in rows]
        if config.multiple:
            from sklearn.preprocessing import MultiLabelBinarizer

            y: Any = MultiLabelBinarizer(classes=list(classes)).fit_transform(
                [ch for _, ch in rows]
            )
            if len({tuple(r) for r in y.tolist()}) < 2:
                return None
        else:
            index = {c: i for i, c in enumerate(classes)}
            y = np.array([index[ch[0]] for _, ch in rows], dtype=np.int64)
            if np.unique(y).size < 2:
                return None
        datas = [t.data for t in used]
        featurizer = None
        if config.is_text:
            from ..featurize import text_features

            X, featurizer = text_features(self._items(config, datas), method=self.config.text_method)
        else:
            X = self._image_matrix(self._items(config, datas))
        base = make_estimator(self.config.model, self.config.random_state)
        if config.multiple:
            from sklearn.multiclass import OneVsRestClassifier

            estimator: Any = OneVsRestClassifier(base).fit(X, y)
        elif self.strategy.name in COMMITTEE_STRATEGIES:
            from ..learners import Committee

            estimator = Committee.bagging(
                base,
                n_members=int(self.config.committee_size),
                X_training=X,
                y_training=y,
                query_strategy=self.strategy.name,
                random_state=self.config.random_state,
            )
        else:
            from sklearn.base import clone

            estimator = clone(base).fit(X, y)
        return estimator, featurizer, len(used)

    def _new_version_name(self, project: str) -> str:
        n = len(self.state.versions(project)) + 1
        return f"activelab-{self.strategy.name}-v{n}"

    def cold_version(self) -> str:
        """Version reported before the first model (tasks in seeded random order)."""
        return f"activelab-{self.strategy.name}-v0"

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
        digest = self._digest(config, tasks)
        latest = self.state.latest_version(project)
        if latest is not None and latest["label_digest"] == digest:
            fitted = self._fit(config, tasks)
            if fitted is not None:
                estimator, featurizer, n = fitted
                return ProjectModel(latest["version"], config, self.classes_for(config),
                                    estimator, featurizer, n, digest)
        if tasks:
            trained = self._train_locked(project, config, tasks)
            if trained is not None:
                return trained
        return ProjectModel(self.cold_version(), config, self.classes_for(config))

    def _train_locked(
        self, project: str, config: LabelConfig, tasks: list[LabeledTask]
    ) -> ProjectModel | None:
        fitted = self._fit(config, tasks)
        if fitted is None:
            return None
        estimator, featurizer, n = fitted
        digest = self._digest(config, tasks)
        version = self._new_version_name(project)
        classes = self.classes_for(config)
        self.state.add_version(project, version, n, digest, list(classes))
        log.info("project %s: trained %s on %d labels", project, version, n)
        return ProjectModel(version, config, classes, estimator, featurizer, n, digest)

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
            try:
                self.push_predictions(project)
            except Exception as exc:  # network trouble must not stop the trainer
                self._error(f"project {project}: pushing predictions failed: {exc}")
        return trained

    # ------------------------------------------------------------ prediction
    def current_version(self, project: str) -> str:
        """The version ``/setup`` reports for a project."""
        model = self.model(project)
        return model.version if model is not None else self.cold_version()

    def predict_tasks(
        self, project: str, tasks: Sequence[Any]
    ) -> list[dict[str, Any]]:
        """One prediction per task, in order (``result``, ``score``, ``model_version``)."""
        model = self.model(project)
        if model is None:
            raise ValueError(
                "no labeling config for this project yet; Label Studio sends it in /setup "
                "and /predict (label_config)."
            )
        n = len(tasks)
        task_ids = np.array(
            [int(t.get("id", -1)) if isinstance(t, dict) else -1 for t in tasks], dtype=np.int64
        )
        if n == 0:
            return []
        if not model.trained:
            scores = task_uniform(task_ids, self.config.random_state)
            return [
                {"result": [], "score": float(s), "model_version": model.version}
                for s in scores
            ]
        datas = [t.get("data", {}) if isinstance(t, dict) else {} for t in tasks]
        X = self._features(model, datas)
        config = model.config
        if config.multiple:
            marginals = np.asarray(model.estimator.predict_proba(X), dtype=np.float64)
            scores = multilabel_scores(self.strategy, task_ids, marginals,
                                       seed=self.config.random_state)
            chosen = marginals >= 0.5
            chosen[np.arange(n), marginals.argmax(axis=1)] = True
            classes = np.asarray(model.classes, dtype=object)
            labels = [list(classes[row]) for row in chosen]
        else:
            committee_proba = None
            est_classes = np.asarray(_classes_of(model.estimator))
            if self.strategy.name in COMMITTEE_STRATEGIES:
                committee_proba = model.estimator.committee_proba(X)
                proba = committee_proba.mean(axis=0)
            else:
                proba = np.asarray(model.estimator.predict_proba(X), dtype=np.float64)
            scores = strategy_scores(
                self.strategy, task_ids, proba, committee_proba=committee_proba,
                X=X, estimator=model.estimator, seed=self.config.random_state,
            )
            names = np.asarray(model.classes, dtype=object)[est_classes]
            labels = [[label] for label in names[proba.argmax(axis=1)]]
        return [
            {"result": config.result(label), "score": float(score),
             "model_version": model.version}
            for label, score in zip(labels, scores, strict=True)
        ]

    # ---------------------------------------------------------- protocol calls
    def setup(self, body: dict[str, Any]) -> dict[str, Any]:
        """Handle ``/setup``: remember the connection, parse the config, report the version."""
        if not isinstance(body, dict):
            raise ValueError("setup body must be a JSON object.")
        project = project_key(body.get("project"))
        schema = body.get("schema") or body.get("label_config")
        self._set_label_config(project, schema)
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
        if config_xml and self.label_config(project) is None:
            self._set_label_config(project, config_xml)
            self.state.save_project(project, label_config=config_xml)
        elif config_xml:
            self._set_label_config(project, config_xml)
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
                self._set_label_config(project, project_obj["label_config"])
                self.state.save_project(project, label_config=project_obj["label_config"])
        if action in ANNOTATION_EVENTS:
            stored = self._record_from_webhook(project, body)
            if stored:
                self._schedule(project)
            return {"status": "ok", "action": action, "stored": stored}
        if action in DELETE_EVENTS:
            ids = [a.get("id") for a in _as_list(body.get("annotations") or body.get("annotation"))
                   if isinstance(a, dict) and a.get("id") is not None]
            removed = self.state.delete_annotations(project, annotation_ids=ids)
            if removed:
                self._schedule(project)
            return {"status": "ok", "action": action, "removed": removed}
        if action == "TASKS_DELETED":
            ids = [t.get("id") for t in _as_list(body.get("tasks"))
                   if isinstance(t, dict) and t.get("id") is not None]
            removed = self.state.delete_annotations(project, task_ids=ids)
            if removed:
                self._schedule(project)
            return {"status": "ok", "action": action, "removed": removed}
        if action == "START_TRAINING":
            self._schedule(project, sync=True)
            return {"status": "ok", "action": action, "queued": True}
        return {"status": "ok", "action": action, "ignored": True}

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
        config_xml = body.get("label_config")
        if config_xml:
            self._set_label_config(project, config_xml)
            self.state.save_project(project, label_config=config_xml)
        annotations = body.get("annotations")
        if isinstance(annotations, list) and annotations:
            config = self.label_config(project)
            if config is None:
                raise ValueError("train needs the label_config to read the annotations.")
            entries = [a for a in annotations if isinstance(a, dict)]
            if entries and all(isinstance(a.get("data"), dict) for a in entries):
                # Label Studio's legacy /train: every annotated task, each with its
                # annotations; it is the whole label set.
                rows = []
                for task in entries:
                    choices = latest_annotation_choices(task, config.from_name)
                    if choices is not None and task.get("id") is not None:
                        rows.append((int(task["id"]), dict(task["data"]), choices, None))
                self.state.replace_annotations(project, rows)
            else:
                found = [
                    _annotation_row(config, ann,
                                    ann["task"] if isinstance(ann.get("task"), dict) else {})
                    for ann in entries
                ]
                self.state.record_annotations(project, [r for r in found if r is not None])
            self._schedule(project)
        else:
            self._schedule(project, sync=True)
        return {"status": "ok", "queued": True}

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
            "model": self.config.model,
            "busy": self.busy,
            "last_error": self.errors[-1] if self.errors else None,
        }

    @property
    def busy(self) -> bool:
        """Whether a retrain or a sync is queued or running."""
        with self._cond:
            return bool(self._dirty or self._syncs or self._busy)

    # ----------------------------------------------------------- background
    def _record_from_webhook(self, project: str, body: dict[str, Any]) -> int:
        config = self.label_config(project)
        if config is None:
            self._error(f"project {project}: annotation received before any labeling config")
            return 0
        tasks = {int(t["id"]): t for t in _as_list(body.get("task")) + _as_list(body.get("tasks"))
                 if isinstance(t, dict) and t.get("id") is not None}
        rows = []
        for ann in _as_list(body.get("annotation")) + _as_list(body.get("annotations")):
            if not isinstance(ann, dict):
                continue
            task_ref = ann.get("task")
            task = task_ref if isinstance(task_ref, dict) else tasks.get(_int_or(task_ref, -1))
            if task is None and len(tasks) == 1:
                task = next(iter(tasks.values()))
            if task is None or not isinstance(task.get("data"), dict):
                self._error(f"project {project}: annotation {ann.get('id')} came without its "
                            "task data; press Start Training to sync from Label Studio")
                continue
            row = _annotation_row(config, ann, task)
            if row is not None:
                rows.append(row)
        if rows:
            self.state.record_annotations(project, rows)
        return len(rows)

    def _schedule(self, project: str, sync: bool = False) -> None:
        with self._cond:
            (self._syncs if sync else self._dirty).add(project)
            self._cond.notify_all()
        if self._worker is None:  # not started (library use): work inline
            self._drain()

    def _run_worker(self) -> None:
        while True:
            with self._cond:
                while not (self._dirty or self._syncs or self._stop):
                    self._cond.wait()
                if self._stop and not (self._dirty or self._syncs):
                    return
            self._drain()

    def _drain(self) -> None:
        while True:
            with self._cond:
                if self._syncs:
                    project, sync = self._syncs.pop(), True
                elif self._dirty:
                    project, sync = self._dirty.pop(), False
                else:
                    self._busy = False
                    self._cond.notify_all()
                    return
                self._busy = True
            try:
                if sync:
                    self.sync_from_labelstudio(project)
                with self._cond:  # labels stored meanwhile are covered by this retrain
                    self._dirty.discard(project)
                self.retrain(project)
            except Exception as exc:
                self._error(f"project {project}: {'sync' if sync else 'retrain'} failed: {exc}")

    def _error(self, message: str) -> None:
        log.warning(message)
        self.errors.append(message)
        del self.errors[:-100]

    # --------------------------------------------------- Label Studio's API
    def _connection(self, project: str) -> tuple[str, str]:
        stored = self.state.project(project) or {}
        url = self.config.ls_url or stored.get("hostname")
        token = self.config.ls_token or stored.get("access_token")
        if not url or not token:
            raise ValueError(
                f"project {project}: Label Studio's URL and API token are unknown; they come "
                "with /setup (set LABEL_STUDIO_HOST in Label Studio) or --ls-url/--ls-token."
            )
        return url.rstrip("/"), token

    def _ls_request(self, method: str, project: str, path: str, **kwargs: Any) -> Any:
        import httpx

        url, token = self._connection(project)
        headers = {"Authorization": f"Token {token}"}
        with httpx.Client(timeout=self.config.ls_timeout, follow_redirects=False) as client:
            response = client.request(method, url + path, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise ValueError(
                f"Label Studio answered {response.status_code} to {method} {path}: "
                f"{response.text[:200]}"
            )
        return response.json() if response.content else None

    def export_tasks(self, project: str, all_tasks: bool = False) -> list[dict[str, Any]]:
        """Tasks of a project from Label Studio's JSON export (annotated ones by default)."""
        params = {"exportType": "JSON", "download_all_tasks": "true" if all_tasks else "false"}
        exported = self._ls_request("GET", project, f"/api/projects/{project}/export",
                                    params=params)
        if not isinstance(exported, list):
            raise ValueError("Label Studio's export is not a list of tasks.")
        return [t for t in exported if isinstance(t, dict)]

    def sync_from_labelstudio(self, project: str) -> int:
        """Replace the stored labels by every annotation in Label Studio; returns the count."""
        config = self.label_config(project)
        if config is None:
            raise ValueError(f"project {project}: no labeling config yet; connect the backend.")
        rows = []
        for task in self.export_tasks(project):
            choices = latest_annotation_choices(task, config.from_name)
            if choices is None or not isinstance(task.get("data"), dict):
                continue
            rows.append((int(task["id"]), dict(task["data"]), choices, None))
        self.state.replace_annotations(project, rows)
        return len(rows)

    def push_predictions(self, project: str) -> int:
        """Import predictions for every unlabeled task and set the project's model version.

        Returns the number of predictions sent.
        """
        model = self.model(project)
        if model is None or not model.trained:
            return 0
        labeled = {t.task_id for t in self.state.labeled_tasks(project)}
        tasks = [
            t for t in self.export_tasks(project, all_tasks=True)
            if t.get("id") is not None and int(t["id"]) not in labeled
            and latest_annotation_choices(t, model.config.from_name) is None
        ]
        predictions = self.predict_tasks(project, tasks) if tasks else []
        payload = [
            {"task": int(t["id"]), **p} for t, p in zip(tasks, predictions, strict=True)
        ]
        if payload:
            self._ls_request("POST", project, f"/api/projects/{project}/import/predictions",
                             json=payload)
        self._ls_request("PATCH", project, f"/api/projects/{project}",
                         json={"model_version": model.version})
        return len(payload)


def _short(digest: str) -> str:
    import hashlib

    return hashlib.sha256(digest.encode("utf-8")).hexdigest()[:32]


def _classes_of(estimator: Any) -> np.ndarray:
    return np.asarray(estimator.classes_, dtype=np.int64)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _int_or(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _annotation_row(
    config: LabelConfig, ann: dict[str, Any], task: dict[str, Any]
) -> tuple[int, dict[str, Any], list[str] | None, int | None] | None:
    task_id = _int_or(task.get("id", ann.get("task")), -1)
    if task_id < 0:
        return None
    choices = None
    if not ann.get("was_cancelled"):
        choices = choices_from_result(ann.get("result"), config.from_name)
    annotation_id = ann.get("id")
    return (
        task_id,
        dict(task.get("data") or {}),
        choices,
        None if annotation_id is None else _int_or(annotation_id, 0),
    )


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _basic_ok(header: str | None, expected: tuple[str, str]) -> bool:
    if not header or not header.lower().startswith("basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, _, password = decoded.partition(":")
    ok_user = hmac.compare_digest(user.encode(), expected[0].encode())
    ok_pass = hmac.compare_digest(password.encode(), expected[1].encode())
    return ok_user and ok_pass


def create_app(config: LSBackendConfig | None = None, backend: LSBackend | None = None) -> Any:
    """The FastAPI application serving Label Studio's ML backend protocol.

    Parameters
    ----------
    config : LSBackendConfig, optional
        Settings (defaults when omitted).
    backend : LSBackend, optional
        An existing backend to serve (its ``config`` is used).

    Returns
    -------
    fastapi.FastAPI
        With the backend at ``app.state.backend``; the background trainer runs for
        the application's lifetime.
    """
    try:
        from fastapi import FastAPI, HTTPException, Request
        from fastapi.responses import JSONResponse
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "the Label Studio backend needs the app extra: pip install 'activelab[app]'."
        ) from exc

    if backend is None:
        backend = LSBackend(config or LSBackendConfig())
    settings = backend.config

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        backend.start()
        try:
            yield
        finally:
            backend.stop()

    app = FastAPI(title="activelab Label Studio ML backend", lifespan=lifespan)
    app.state.backend = backend
    from .security import BodySizeLimit

    # /predict carries whole batches of tasks; the limit only stops runaway bodies
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)

    def require_basic(request: Request) -> None:
        if settings.basic_auth is None:
            return
        if not _basic_ok(request.headers.get("authorization"), settings.basic_auth):
            raise HTTPException(
                status_code=401,
                detail="basic authentication required",
                headers={"WWW-Authenticate": 'Basic realm="activelab"'},
            )

    def require_secret(request: Request) -> None:
        if settings.webhook_secret is None:
            return
        given = request.headers.get(SECRET_HEADER, "")
        if hmac.compare_digest(given.encode(), settings.webhook_secret.encode()):
            return
        if settings.basic_auth is not None and _basic_ok(
            request.headers.get("authorization"), settings.basic_auth
        ):
            return
        raise HTTPException(status_code=401, detail=f"missing or wrong {SECRET_HEADER} header")

    async def json_body(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise HTTPException(status_code=400, detail="the body must be JSON") from None
        if not isinstance(body, dict):
            raise HTTPException(status_code=400, detail="the body must be a JSON object")
        return body

    def run(func: Any, *args: Any) -> Any:
        try:
            return func(*args)
        except (ValueError, TypeError, FileNotFoundError) as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc

    @app.get("/")
    @app.get("/health")
    def health() -> dict[str, Any]:
        return backend.health()

    @app.post("/setup")
    async def setup(request: Request) -> Any:
        require_basic(request)
        body = await json_body(request)
        return await _in_thread(run, backend.setup, body)

    @app.post("/predict")
    async def predict(request: Request) -> Any:
        require_basic(request)
        body = await json_body(request)
        return await _in_thread(run, backend.predict, body)

    @app.post("/webhook")
    async def webhook(request: Request) -> Any:
        require_secret(request)
        body = await json_body(request)
        return JSONResponse(await _in_thread(run, backend.webhook, body), status_code=201)

    @app.post("/train")
    async def train(request: Request) -> Any:
        require_basic(request)
        body = await json_body(request)
        return JSONResponse(await _in_thread(run, backend.train, body), status_code=201)

    @app.get("/versions")
    async def versions(request: Request, project: str | None = None) -> Any:
        require_basic(request)
        return await _in_thread(run, backend.versions, project)

    return app


async def _in_thread(func: Any, *args: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(func, *args)


def serve(config: LSBackendConfig, host: str = "127.0.0.1", port: int = 9090) -> None:
    """Run the backend with uvicorn until interrupted.

    Binding to a non-loopback address without basic auth is refused: the backend
    would accept labels and serve predictions to anyone on the network.
    """
    if not _is_loopback(host) and config.basic_auth is None:
        raise ValueError(
            f"host {host!r} is reachable from other machines; give --basic-auth USER:PASSWORD "
            "(and --webhook-secret) or bind to 127.0.0.1."
        )
    import uvicorn

    app = create_app(config)
    uvicorn.run(app, host=host, port=port, log_level="info")
