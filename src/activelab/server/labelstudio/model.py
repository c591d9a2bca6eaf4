"""The model of one Label Studio project: fitted on its labels, predicting and scoring tasks.

Models come from the one model table (:func:`activelab.server.labelstudio.settings.
make_estimator`, i.e. :func:`activelab.engine.models.make_model`).  A strategy that reads a
committee's probabilities (``Needs.COMMITTEE_PROBA in needs_of(strategy)``) gets a bagging
committee of ``committee_size`` such models.  Multiple-choice and ``<Number>`` configs get
the library's multi-label or regression learner (:mod:`activelab.server.labelstudio.targets`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...labelstudio_io import LabelConfig
from ...proba import predict_proba_chunked
from ...store.ls_state import LabeledTask, label_digest
from ...strategies.base import Needs, Strategy, needs_of
from ..ls_scoring import strategy_scores, task_uniform
from .config import classes_for, task_items
from .settings import LSBackendConfig, make_estimator, model_meaning
from .targets import fit_task_learner, task_predictions, task_targets
from .tasks import image_path_from_ls

__all__ = ["ProjectModel", "fit_project", "predict_with", "training_digest", "uses_committee"]


class ProjectModel:
    """A fitted model for one Label Studio project, with its version.

    Attributes
    ----------
    version : str
        The ``model_version`` reported to Label Studio.
    config : LabelConfig
    classes : tuple of str
        Class names in probability column order.
    estimator : fitted classifier, Committee, ActiveLearner, or None
        ``None`` before there are labels of two classes, or two distinct label sets or
        numbers (cold start).  An :class:`activelab.ActiveLearner` for multiple-choice and
        ``<Number>`` configs.
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
        """Whether a classifier has been fitted (labels of two classes were seen)."""
        return self.estimator is not None


def uses_committee(strategy: Strategy) -> bool:
    """Whether the strategy reads a committee's member probabilities."""
    return Needs.COMMITTEE_PROBA in needs_of(strategy)


def training_digest(settings: LSBackendConfig, strategy: Strategy, config: LabelConfig,
                    tasks: list[LabeledTask]) -> str:
    """Fingerprint of what a model is trained from: labels, classes and settings.

    It includes what the model name means in the model table, so a model whose meaning
    changed is retrained (and gets a new version) rather than restored under its old one.
    """
    key = "|".join([
        label_digest(tasks), config.from_name, config.value_key,
        ",".join(classes_for(settings, config)), str(config.multiple), config.kind,
        f"{strategy.name}|{settings.model}|{settings.text_method}|{settings.random_state}|"
        f"{settings.labels}|{model_meaning(settings.model)}",
    ])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _image_matrix(settings: LSBackendConfig, items: list[Any]) -> np.ndarray:
    from ...featurize import image_features

    if settings.image_root is None:
        raise ValueError("image tasks need --image-root (the folder holding the images).")
    paths = [image_path_from_ls(str(v)) for v in items]
    return image_features(paths, settings.image_root, size=tuple(settings.image_size))


def _targets(config: LabelConfig, classes: tuple[str, ...], tasks: list[LabeledTask]
             ) -> tuple[list[LabeledTask], Any] | None:
    """The tasks that teach something and their targets; ``None`` below two distinct targets."""
    if config.multiple or config.is_number:
        return task_targets(config, classes, tasks)
    known = set(classes)
    rows = [(t, [t.choices[0]]) for t in tasks if t.choices and t.choices[0] in known]
    if not rows:
        return None
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[ch[0]] for _, ch in rows], dtype=np.int64)
    if np.unique(y).size < 2:
        return None
    return [t for t, _ in rows], y


def _fitted_estimator(settings: LSBackendConfig, strategy: Strategy, config: LabelConfig,
                      X: Any, y: Any) -> Any:
    if config.multiple or config.is_number:
        return fit_task_learner(settings, strategy, config, X, y)
    base = make_estimator(settings.model, settings.random_state)
    if uses_committee(strategy):
        from ...learners import Committee

        return Committee.bagging(
            base,
            n_members=int(settings.committee_size),
            X_training=X,
            y_training=y,
            query_strategy=strategy.name,
            random_state=settings.random_state,
        )
    return base.fit(X, y)


def fit_project(settings: LSBackendConfig, strategy: Strategy, config: LabelConfig,
                tasks: list[LabeledTask]) -> tuple[Any, Any, int] | None:
    """Fit a model on labeled tasks: ``(estimator, featurizer, n_labels)``.

    ``None`` when the labels cannot train one yet (fewer than two classes).
    """
    found = _targets(config, classes_for(settings, config), tasks)
    if found is None:
        return None
    used, y = found
    items = task_items(config, [t.data for t in used])
    featurizer = None
    if config.is_text:
        from ...featurize import text_features

        X, featurizer = text_features(items, method=settings.text_method)
    else:
        X = _image_matrix(settings, items)
    return _fitted_estimator(settings, strategy, config, X, y), featurizer, len(used)


def _features(settings: LSBackendConfig, model: ProjectModel, datas: Sequence[Any],
              task_ids: np.ndarray, problems: list[tuple[int, str]] | None
              ) -> tuple[Any, np.ndarray]:
    """Features of the tasks that can be read, and which those are.

    Without ``problems`` any unreadable image fails the whole batch; with it, each failing
    task is left out and ``(task_id, reason)`` appended.
    """
    items = task_items(model.config, datas)
    ok = np.ones(len(items), dtype=bool)
    if model.config.is_text:
        return model.featurizer.transform(items), ok
    try:
        return _image_matrix(settings, items), ok
    except (ValueError, OSError) as exc:
        if problems is None or settings.image_root is None:
            raise
        if len(items) == 1:
            problems.append((int(task_ids[0]), str(exc)))
            return None, ~ok
    # find the unreadable ones, one image at a time
    for i, item in enumerate(items):
        try:
            _image_matrix(settings, [item])
        except (ValueError, OSError) as exc:
            ok[i] = False
            problems.append((int(task_ids[i]), str(exc)))
    good = [item for item, keep in zip(items, ok, strict=True) if keep]
    return (_image_matrix(settings, good) if good else None), ok


def _labels_and_scores(settings: LSBackendConfig, strategy: Strategy, model: ProjectModel,
                       task_ids: np.ndarray, X: Any) -> tuple[list[list[str]], np.ndarray]:
    """Predicted choices (or ``[number]``) of each task and its Label Studio score."""
    seed = settings.random_state
    classes = np.asarray(model.classes, dtype=object)
    if model.config.multiple or model.config.is_number:
        return task_predictions(settings, strategy, model.estimator, model.classes,
                                model.config, task_ids, X)
    committee_proba = None
    if uses_committee(strategy):
        committee_proba = model.estimator.committee_proba(X)
        proba = committee_proba.mean(axis=0)
    else:  # the fused block kernel of activelab.proba (linear heads: straight from logits)
        proba = predict_proba_chunked(model.estimator, X)
    scores = strategy_scores(strategy, task_ids, proba, committee_proba=committee_proba,
                             X=X, estimator=model.estimator, seed=seed)
    names = classes[np.asarray(model.estimator.classes_, dtype=np.int64)]
    return [[label] for label in names[proba.argmax(axis=1)]], scores


def predict_with(settings: LSBackendConfig, strategy: Strategy, model: ProjectModel,
                 tasks: Sequence[Any], problems: list[tuple[int, str]] | None = None
                 ) -> list[Any]:
    """One prediction per task, in order (``result``, ``score``, ``model_version``).

    Before a model is trained the result is empty and the score a seeded random draw.
    With a ``problems`` list, a task whose image cannot be read gets ``[]`` (no prediction:
    Label Studio asks again later) and ``(task_id, reason)`` is appended to the list;
    without one, it fails the batch.
    """
    task_ids = np.array(
        [int(t.get("id", -1)) if isinstance(t, dict) else -1 for t in tasks], dtype=np.int64
    )
    if len(tasks) == 0:
        return []
    if not model.trained:
        scores = task_uniform(task_ids, settings.random_state)
        return [{"result": [], "score": float(s), "model_version": model.version}
                for s in scores]
    datas = [t.get("data", {}) if isinstance(t, dict) else {} for t in tasks]
    X, ok = _features(settings, model, datas, task_ids, problems)
    out: list[Any] = [[] for _ in tasks]
    if X is None:
        return out
    labels, scores = _labels_and_scores(settings, strategy, model, task_ids[ok], X)
    for i, label, score in zip(np.flatnonzero(ok), labels, scores, strict=True):
        out[i] = {"result": model.config.result(label), "score": float(score),
                  "model_version": model.version}
    return out
