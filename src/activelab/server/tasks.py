"""What the labeling app and the Label Studio backend learn, per task.

A project (or a Label Studio config) is one :class:`~activelab.engine.tasks.Task`: one
label per item (classification), several labels per item (multi-label) or a number per
item (regression).  This module says, for each task, which model the faces train
(:func:`task_model`, built on the one model table), which strategy they query with when
none is named (:func:`task_strategy`) and what a strategy may ask of them
(:data:`PROVIDES`).
"""

from __future__ import annotations

from typing import Any

from ..engine.tasks import DEFAULT_STRATEGIES, Task
from ..strategies.base import Needs

__all__ = ["PROVIDES", "REGRESSORS", "task_of", "provides", "task_model", "task_strategy",
           "check_task_strategy"]

#: What the app's scorer and the backend give a strategy, per task: one fitted model (its
#: probabilities, per-label probabilities or predictions), the candidates' features and the
#: labeled set.  A strategy needing more (a committee, costs, embeddings) cannot rank.
PROVIDES: dict[Task, frozenset[Needs]] = {
    Task.CLASSIFICATION: frozenset({Needs.PROBA, Needs.FEATURES, Needs.ESTIMATOR,
                                    Needs.LABELED}),
    Task.MULTILABEL: frozenset({Needs.LABEL_PROBA, Needs.FEATURES, Needs.ESTIMATOR,
                                Needs.LABELED}),
    Task.REGRESSION: frozenset({Needs.PREDICTIONS, Needs.FEATURES, Needs.ESTIMATOR,
                                Needs.LABELED}),
}

#: The regressor a classifier's name stands for when a face learns numbers: the faces
#: take one ``--model`` (``logreg``, ``nb``, ``rf``, ...) for every task.
REGRESSORS: dict[str, str] = {"logreg": "ridge", "rf": "rf", "knn": "knn", "svm": "svm"}


def provides(task: Task | str, model: str = "logreg") -> frozenset[Needs]:
    """What one trained ``model`` gives a strategy for ``task``: :data:`PROVIDES`, and for a
    random forest regressor its trees' predictions and their spread too."""
    task = Task(task)
    extra = frozenset()
    if task is Task.REGRESSION and str(model).strip().lower() == "rf":
        extra = frozenset({Needs.COMMITTEE_PREDICTIONS, Needs.PREDICTIVE_STD})
    return PROVIDES[task] | extra


def task_of(value: Any) -> Task:
    """The task a stored setting names (``None`` is classification, as before tasks)."""
    return Task.CLASSIFICATION if value in (None, "") else Task(value)


def task_model(name: Any, task: Task | str, random_state: Any = None) -> Any:
    """An unfitted model for ``task`` from a model name of the model table.

    Classification: :func:`activelab.engine.models.make_model` as it is.  Multi-label: that
    classifier one-vs-rest (one yes/no model per label, ``predict_proba`` gives ``n x L``).
    Regression: the regressor of the model table the name stands for (:data:`REGRESSORS`:
    ``logreg`` is ``ridge``, the linear model) or any name of
    :data:`activelab.engine.models.REGRESSION_MODELS`.

    Raises
    ------
    ValueError
        For a name with no form for ``task``.
    """
    from ..engine.models import REGRESSION_MODELS, make_model

    task = Task(task)
    if task is Task.REGRESSION:
        key = str(name).strip().lower()
        if key not in REGRESSORS and key not in REGRESSION_MODELS:
            raise ValueError(f"model {name!r} has no regression form; for numbers use one of: "
                             f"{', '.join(sorted(set(REGRESSORS) | set(REGRESSION_MODELS)))}.")
        return make_model(REGRESSORS.get(key, key), random_state=random_state,
                          task="regression")
    model = make_model(name, random_state=random_state)
    if task is Task.MULTILABEL:
        from sklearn.multiclass import OneVsRestClassifier

        return OneVsRestClassifier(model)
    return model


def check_task_strategy(name: str, task: Task | str, option: str = "--strategy",
                        model: str = "logreg") -> str:
    """``name`` when it is a registered strategy that serves ``task`` and that one trained
    ``model`` can feed (:func:`provides`); else ValueError naming ``option`` and the ones
    that fit."""
    from ..strategies import get_strategy
    from ..strategies.base import Needs, needs_of
    from ..strategies.registry import available_strategies, check_strategy_task

    task = Task(task)
    strategy = get_strategy(name)
    try:
        check_strategy_task(strategy, task)
    except ValueError as exc:
        raise ValueError(f"{option}: {exc}") from None
    # embeddings are used when a model provides them, the features otherwise
    given = provides(task, model) | {Needs.EMBEDDINGS}
    missing = needs_of(strategy) - given
    if missing:
        fits = [s for s in available_strategies(task=task)
                if not needs_of(get_strategy(s)) - given]
        raise ValueError(f"{option} {name!r} needs {', '.join(sorted(map(str, missing)))}, "
                         f"which one trained model cannot give; for {task.value} use one of: "
                         f"{', '.join(fits)}")
    return name


#: The labeling app's strategy per task when ``--strategy`` is not given.  ``auto`` for
#: classification: on the held-out part of the label-efficiency suite (batches of 10,
#: logistic regression and random forests) it beat margin with an interval above zero and
#: no cell below random (docs/benchmarks/label-efficiency.md).  In the app it ranks with its
#: arm (:func:`ranking_strategy`) and its random share is the app's ``--random-share``.
APP_DEFAULT_STRATEGIES: dict[Task, str] = {**DEFAULT_STRATEGIES, Task.CLASSIFICATION: "auto"}


def task_strategy(name: str | None, task: Task | str, option: str = "--strategy",
                  model: str = "logreg", defaults: dict[Task, str] | None = None) -> str:
    """The strategy a face queries ``task`` with: ``name`` checked, or the task's default
    (``defaults``, by default :data:`activelab.engine.tasks.DEFAULT_STRATEGIES`)."""
    task = Task(task)
    default = (DEFAULT_STRATEGIES if defaults is None else defaults)[task]
    return check_task_strategy(default if name is None else name, task, option, model)


def ranking_strategy(name: str) -> str:
    """The strategy that ranks the app's queue for the project strategy ``name``.

    ``auto`` ranks with its arm (``cluster_margin``: the smallest margins, spread over the
    decision boundary): the app's random checks (``--random-share``) are its random share
    and its live verdict, so the selector's own random picks would be a second share.
    Every other strategy ranks as itself.
    """
    if name != "auto":
        return name
    from ..strategies import get_strategy

    return str(get_strategy("auto").arm)
