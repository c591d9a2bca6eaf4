"""What an annotator may answer, per task, and its stored form.

A classification project takes one ``label``; a multi-label project a list ``labels`` (the
set of labels that apply, possibly empty); a regression project a finite ``value`` within
the project's range.  :func:`encode_answer` checks an answer against the project and
returns the string the store keeps (:mod:`activelab.store.targets`); :func:`decode_answer`
turns a stored string back into what the API and the exports show.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..store.targets import encode_set, encode_value

__all__ = ["task_name", "value_range", "encode_answer", "decode_answer", "decoded_answers"]

_FIELD = {"classification": "label", "multilabel": "labels", "regression": "value"}


def task_name(settings: dict[str, Any]) -> str:
    """The project's task: ``"classification"`` (also for projects made before tasks),
    ``"multilabel"`` or ``"regression"``."""
    return settings.get("task") or "classification"


def value_range(settings: dict[str, Any]) -> tuple[float | None, float | None]:
    """The ``(min, max)`` a regression project accepts (None: unbounded)."""
    low, high = settings.get("value_range") or (None, None)
    return low, high


def encode_answer(settings: dict[str, Any], labels: Sequence[str], *, label: str | None = None,
                  chosen: Sequence[str] | None = None, value: Any = None) -> str:
    """The stored form of an answer, checked against the project.

    Raises
    ------
    ValueError
        When the answer has the wrong field for the task (the message names the right
        one), or a label the project lacks, or a number out of range.
    """
    task = task_name(settings)
    given = {"label": label is not None, "labels": chosen is not None,
             "value": value is not None}
    want = _FIELD[task]
    extra = [k for k, v in given.items() if v and k != want]
    if not given[want] or extra:
        what = {"label": "one label", "labels": "the list of labels that apply (possibly "
                "empty)", "value": "a number"}[want]
        raise ValueError(f"this is a {task} project: send {want!r} ({what})"
                         + (f", not {', '.join(map(repr, extra))}" if extra else ""))
    if task == "multilabel":
        return encode_set(chosen, labels)
    if task == "regression":
        return encode_value(value, *value_range(settings))
    if label not in labels:
        raise ValueError(f"label {label!r} is not one of the project's labels: "
                         f"{', '.join(labels)}")
    return str(label)


def decode_answer(settings: dict[str, Any], stored: str | None) -> Any:
    """A stored answer as the API shows it: the label, the list of labels, or the number."""
    if stored is None:
        return None
    task = task_name(settings)
    if task == "multilabel":
        return json.loads(stored)
    if task == "regression":
        return float(stored)
    return stored


def decoded_answers(settings: dict[str, Any], rows: list[dict[str, Any]]
                    ) -> list[dict[str, Any]]:
    """Export rows with ``label`` and ``guess`` decoded (:func:`decode_answer`)."""
    if task_name(settings) == "classification":
        return rows
    return [r | {"label": decode_answer(settings, r.get("label")),
                 "guess": decode_answer(settings, r.get("guess"))} for r in rows]
