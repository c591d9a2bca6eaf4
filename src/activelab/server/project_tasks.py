"""A project's task options, checked: ``--multilabel`` / ``--regression`` with ``--labels``,
``--min``/``--max``, ``--hotkeys`` and ``--strategy``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["TASKS", "task_from_flags", "check_task_flags", "check_task_labels",
           "check_value_range", "reopen_task_check"]

#: The tasks a labeling project can have.
TASKS = ("classification", "multilabel", "regression")


def check_value_range(value_range: Sequence[float | None] | None
                      ) -> tuple[float | None, float | None] | None:
    """``(min, max)`` of a regression project, each finite or None, ``min < max``."""
    if value_range is None:
        return None
    low, high = (None if v is None else float(v) for v in value_range)
    for name, v in (("--min", low), ("--max", high)):
        if v is not None and not math.isfinite(v):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
    if low is not None and high is not None and not low < high:
        raise ValueError(f"--min ({low:g}) must be below --max ({high:g})")
    return None if low is None and high is None else (low, high)


def task_from_flags(multilabel: bool, regression: bool) -> str | None:
    """The task ``--multilabel`` / ``--regression`` ask for (None: neither, i.e. as stored,
    or classification for a new project)."""
    if multilabel and regression:
        raise ValueError("give --multilabel (several labels per item) or --regression (a "
                         "number per item), not both")
    return "multilabel" if multilabel else "regression" if regression else None


def check_task_flags(task: str, labels: Sequence[str] | None,
                     value_range: Sequence[float | None] | None,
                     hotkeys: Sequence[str] | None) -> tuple[float | None, float | None] | None:
    """The options that go with ``task`` (no heavy import): a regression project has no
    labels and no hotkeys; a range is for regression only.  Returns the checked range."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    value_range = check_value_range(value_range)
    if task == "regression":
        if labels:
            raise ValueError("--regression takes numbers, not --labels: drop --labels (give "
                             "--min/--max to bound the numbers)")
        if hotkeys is not None:
            raise ValueError("--regression takes numbers typed in a box: drop --hotkeys")
    elif value_range is not None:
        raise ValueError("--min/--max bound the numbers of a --regression project; "
                         "labels need no range")
    return value_range


def check_task_labels(task: str, strategy: str | None, labels: Sequence[str] | None,
                      value_range: Sequence[float | None] | None,
                      hotkeys: Sequence[str] | None
                      ) -> tuple[str, list[str] | None, tuple[float | None, float | None] | None]:
    """``(strategy, labels, value_range)`` for a project of ``task``, or ValueError.

    :func:`check_task_flags`, then: the strategy defaults to the task's and must serve it;
    a multi-label project's whole label set must fit the store's answer column.
    """
    from ..store.targets import check_set_fits
    from .tasks import APP_DEFAULT_STRATEGIES, task_strategy

    value_range = check_task_flags(task, labels, value_range, hotkeys)
    if task == "regression":
        labels = []
    if task == "multilabel" and labels:
        check_set_fits(labels)
    return task_strategy(strategy, task, defaults=APP_DEFAULT_STRATEGIES), (
        None if labels is None else list(labels)), \
        value_range


def reopen_task_check(store: Any, project_id: int, name: str, task: str | None) -> None:
    """Refuse reopening a project as another task than it was created with."""
    if task is None:
        return
    stored = store.project(project_id)["settings"].get("task") or "classification"
    if stored != task:
        store.close()
        raise ValueError(f"project {name!r} exists as a {stored} project; reopen it without "
                         f"the --{task} flag, or give a new --name")
