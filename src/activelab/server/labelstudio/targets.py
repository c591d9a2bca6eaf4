"""Multiple-choice and numeric configs: what the backend learns and predicts for them.

A config's :class:`~activelab.engine.tasks.Task` follows from its control
(:func:`config_task`): single ``<Choices>`` is classification (see
:mod:`activelab.server.labelstudio.model`), ``<Choices choice="multiple">`` is multi-label
and ``<Number>`` is regression.  For the two latter:

* each task's latest annotation is one target: the choices it lists become one ``n x L``
  0/1 row (an edit replaces the row, a delete removes it), a number one float;
* the model is an :class:`activelab.ActiveLearner` over ``--model`` in the task's form
  (:func:`activelab.server.tasks.task_model`: one-vs-rest for multi-label, its
  regression form for numbers), queried with the task's strategy
  (``--multilabel-strategy`` / ``--regression-strategy``, the task's default otherwise);
* a prediction lists the labels whose probability is above 0.5 (the likeliest one when
  none is), or the predicted number (within the ``<Number>``'s ``min``/``max``), and its score is a confidence derived from the
  strategy's utility (:func:`activelab.server.ls_scoring.utility_scores`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...engine.tasks import Task
from ...labelstudio_io import LabelConfig
from ...store.ls_state import LabeledTask
from ...strategies.base import Strategy
from ..ls_scoring import check_backend_strategy, utility_scores

if TYPE_CHECKING:
    from .settings import LSBackendConfig

__all__ = ["config_task", "task_strategy_for", "TaskStrategies", "task_targets", "fit_task_learner",
           "task_predictions"]


def config_task(config: LabelConfig) -> Task:
    """The task a labeling config asks for."""
    if config.is_number:
        return Task.REGRESSION
    return Task.MULTILABEL if config.multiple else Task.CLASSIFICATION


_OPTIONS = {Task.MULTILABEL: ("multilabel_strategy", "--multilabel-strategy"),
            Task.REGRESSION: ("regression_strategy", "--regression-strategy")}


def task_strategy_for(settings: LSBackendConfig, task: Task) -> Strategy:
    """The strategy that scores ``task``'s configs: the one set for it, or the default.

    Raises
    ------
    ValueError
        When that strategy does not serve the task, gives no per-task score, or needs
        what one trained model cannot give; the message names the option to change.
    """
    from ..tasks import task_strategy

    attribute, option = _OPTIONS[task]
    name = task_strategy(getattr(settings, attribute), task, option, settings.model)
    try:
        return check_backend_strategy(name, random_state=settings.random_state)
    except ValueError as exc:
        raise ValueError(f"{option}: {exc}") from None


class TaskStrategies:
    """The strategy of each task, built once: classification's is the backend's own."""

    def __init__(self, settings: LSBackendConfig, classification: Strategy) -> None:
        self.settings = settings
        self._built: dict[Task, Strategy] = {Task.CLASSIFICATION: classification}

    def get(self, task: Task) -> Strategy:
        """The strategy for ``task`` (ValueError as :func:`task_strategy_for`)."""
        if task not in self._built:
            self._built[task] = task_strategy_for(self.settings, task)
        return self._built[task]

    def for_config(self, config: LabelConfig) -> Strategy:
        """The strategy for a config's task."""
        return self.get(config_task(config))


def task_targets(config: LabelConfig, classes: tuple[str, ...], tasks: list[LabeledTask]
                 ) -> tuple[list[LabeledTask], Any] | None:
    """The tasks that teach something and their targets (an ``n x L`` 0/1 matrix, or
    floats); ``None`` below two distinct targets."""
    if config.is_number:
        rows = [(t, float(t.choices[0])) for t in tasks if t.choices and _is_number(t.choices[0])]
        y: Any = np.asarray([v for _, v in rows], dtype=np.float64)
        distinct = np.unique(y).size
    else:
        index = {c: j for j, c in enumerate(classes)}
        rows = [(t, [index[c] for c in t.choices if c in index]) for t in tasks]
        rows = [(t, cols) for t, cols in rows if cols]
        y = np.zeros((len(rows), len(classes)), dtype=np.int8)
        for i, (_, cols) in enumerate(rows):
            y[i, cols] = 1
        distinct = len({r.tobytes() for r in y})
    if distinct < 2:
        return None
    return [t for t, _ in rows], y


def _is_number(text: str) -> bool:
    try:
        return bool(np.isfinite(float(text)))
    except (TypeError, ValueError):
        return False


def fit_task_learner(settings: LSBackendConfig, strategy: Strategy, config: LabelConfig,
                     X: Any, y: Any) -> Any:
    """An :class:`activelab.ActiveLearner` for the config's task, fitted on ``X, y``."""
    from ...learners import ActiveLearner
    from ..tasks import task_model

    model = task_model(settings.model, config_task(config), settings.random_state)
    return ActiveLearner(model, query_strategy=strategy, X_training=X, y_training=y,
                         random_state=settings.random_state)


def task_predictions(settings: LSBackendConfig, strategy: Strategy, learner: Any,
                     classes: tuple[str, ...], config: LabelConfig, task_ids: np.ndarray,
                     X: Any) -> tuple[list[list[Any]], np.ndarray]:
    """What each task is predicted to be (its choices, or ``[number]``) and its score."""
    from ...outputs import label_marginals, predict_values
    from ...strategies.query import utilities_once

    utility = None
    if strategy.name != "random":
        utility = utilities_once(learner.estimator_, X, task_ids, strategy,
                                 X_labeled=learner.X_training_, y_labeled=learner.y_training_)
    scores = utility_scores(strategy, task_ids, utility, seed=settings.random_state)
    if config.is_number:
        values = predict_values(learner.estimator_, X)
        low, high = config.min_value, config.max_value  # what the config lets one enter
        values = np.clip(values, -np.inf if low is None else low, np.inf if high is None else high)
        return [[float(v)] for v in values], scores
    marginals = label_marginals(learner.estimator_, X)
    chosen = marginals > 0.5
    chosen[np.arange(marginals.shape[0]), marginals.argmax(axis=1)] = True
    names = np.asarray(classes, dtype=object)
    return [list(names[row]) for row in chosen], scores
