"""What the lab (``simulate``, ``benchmark``) decides per task: which task a dataset is,
its default model and metrics, and what does not apply to it.

* :func:`resolve_task` -- the task asked for, else a regressor model means regression,
  else the dataset's own task (``Dataset.task``), else :func:`infer_task` of the labels.
* :func:`default_model` / :func:`check_model` -- ``logreg`` for classification, ``ridge``
  for regression (:data:`activelab.engine.models.DEFAULT_MODELS`).
* :func:`primary_and_metrics` -- the higher-is-better metric the curves, AULC and
  labels-to-target use, and every metric recorded beside it (error metrics such as RMSE
  are recorded, never primary).
* :func:`check_noise` -- a noisy oracle flips class labels: classification only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine.models import DEFAULT_MODELS, MODELS, REGRESSION_MODELS, make_model
from ..engine.tasks import Task, infer_task
from ..evaluation.metrics import (
    TASK_METRICS,
    check_metric_task,
    get_metric,
    metrics_for,
    primary_metric,
)

__all__ = [
    "resolve_task",
    "default_model",
    "check_model",
    "primary_and_metrics",
    "check_noise",
    "check_task_name",
    "check_task_fits",
]


def check_task_name(task: Any) -> Task | None:
    """``None`` or a :class:`Task`; ValueError naming the tasks for anything else."""
    if task is None:
        return None
    try:
        return Task(str(task).strip().lower().replace("-", ""))
    except ValueError:
        raise ValueError(
            f"unknown task {task!r}; choose one of: {', '.join(t.value for t in Task)}."
        ) from None


def _is_regressor_model(model: Any) -> bool:
    if model is None:
        return False
    if isinstance(model, str):
        key = model.strip().lower()
        if key in REGRESSION_MODELS and key not in MODELS:
            return True
        if key in MODELS or not any(c in key for c in ":."):
            return False
        model = make_model(model.strip())
    return infer_task(None, model) is Task.REGRESSION


def check_task_fits(task: Task, y: Any) -> None:
    """Refuse a requested task that the targets cannot be: ValueError naming the fix."""
    if y is None:
        return
    arr = y if hasattr(y, "ndim") else np.asarray(y, dtype=object)
    table = arr.ndim == 2 and arr.shape[1] > 1
    if task is Task.MULTILABEL and not table:
        raise ValueError(
            "--task multilabel needs an n x L 0/1 label table, but this data has one target "
            "per row; leave --task out (the task is read from the targets) or give "
            "multi-label data."
        )
    if task is not Task.MULTILABEL and table:
        raise ValueError(
            f"--task {task.value} needs one target per row, but this data has a table of "
            f"{arr.shape[1]} labels per row (multi-label); leave --task out or use "
            "--task multilabel."
        )
    if task is Task.REGRESSION and arr.dtype.kind not in "biuf":
        raise ValueError(
            "--task regression needs numeric targets, but this data's targets are "
            f"{arr.dtype} (class names); leave --task out or give numbers."
        )


def resolve_task(requested: Any, dataset_task: Any, y: Any, model: Any) -> Task:
    """The task of a simulation or benchmark run (see the module notes)."""
    task = check_task_name(requested)
    if task is not None:
        check_task_fits(task, y)
        return task
    if _is_regressor_model(model):
        return Task.REGRESSION
    if dataset_task is not None:
        return Task(dataset_task)
    return infer_task(y)


def default_model(model: Any, task: Task | str) -> Any:
    """``model``, or the task's default model name when it is None."""
    return DEFAULT_MODELS[Task(task).value] if model is None else model


def check_model(model: Any, task: Task | str) -> Any:
    """Build the model once for ``task`` (fails early on a bad name); returns the spec."""
    model = default_model(model, task)
    make_model(model, task=Task(task))
    return model


def primary_and_metrics(metric: str | None, task: Task | str) -> tuple[str, tuple[str, ...]]:
    """The primary metric and every metric a run of ``task`` records.

    Classification keeps its behaviour: ``(metric,)`` for accuracy, else
    ``("accuracy", metric)``.  Other tasks record the task's metrics
    (:data:`~activelab.evaluation.metrics.TASK_METRICS`), the primary first.

    Raises
    ------
    ValueError
        For a metric of another task, or an error metric (lower is better) as primary.
    """
    task = Task(task)
    metric = primary_metric(task) if metric is None else metric
    get_metric(metric)
    check_metric_task(metric, task)
    if not get_metric(metric).higher_is_better:
        better = [m for m in metrics_for(task) if get_metric(m).higher_is_better]
        raise ValueError(
            f"metric {metric!r} is an error (lower is better); learning curves, AULC and "
            f"labels-to-target need a score where higher is better: use one of "
            f"{', '.join(better)} ({metric} is recorded beside it)."
        )
    if task is Task.CLASSIFICATION:
        return metric, (metric,) if metric == "accuracy" else ("accuracy", metric)
    return metric, (metric, *(m for m in TASK_METRICS[task] if m != metric))


def check_noise(noise: Any, task: Task | str) -> None:
    """A noisy oracle (wrong class labels) applies to classification only."""
    noises = np.atleast_1d(np.asarray(noise, dtype=np.float64))
    if Task(task) is not Task.CLASSIFICATION and np.any(noises > 0):
        raise ValueError(
            f"label noise gives wrong class labels, which {Task(task).value} does not have; "
            "leave noise at 0."
        )
