"""Label Studio payloads read into what the backend stores: project keys, image paths, labels.

Label Studio sends annotations in webhooks (one annotation with its task, or several), in the
legacy ``/train`` body and in its JSON export.  These functions turn each into rows
``(task_id, data, choices, annotation_id)`` for :class:`activelab.store.ls_state.LSState`;
``choices=None`` means "this annotation says nothing now" (cancelled or emptied).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ...labelstudio_io import LabelConfig, choices_from_result

__all__ = [
    "ANNOTATION_EVENTS",
    "DELETE_EVENTS",
    "AnnotationRow",
    "project_key",
    "image_path_from_ls",
    "annotation_row",
    "webhook_rows",
    "export_rows",
    "ids_in",
    "as_list",
]

#: Webhook actions that carry new or changed annotations.
ANNOTATION_EVENTS = frozenset({"ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED"})
#: Webhook actions that delete annotations.
DELETE_EVENTS = frozenset({"ANNOTATIONS_DELETED", "ANNOTATION_DELETED"})

#: ``(task_id, data, choices, annotation_id)`` as :meth:`LSState.record_annotations` takes it.
AnnotationRow = tuple[int, dict[str, Any], list[str] | None, int | None]


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


def as_list(value: Any) -> list[Any]:
    """``value`` as a list: ``None`` is empty, a single object a list of one."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _int_or(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def ids_in(objects: Any) -> list[Any]:
    """The ``id`` of every object (dict) that has one."""
    return [o.get("id") for o in as_list(objects) if isinstance(o, dict) and o.get("id") is not None]


def annotation_row(config: LabelConfig, ann: dict[str, Any], task: dict[str, Any]
                   ) -> AnnotationRow | None:
    """The row of one annotation of ``task``; ``None`` when the task id is unknown."""
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


def webhook_rows(config: LabelConfig, body: dict[str, Any]
                 ) -> tuple[list[AnnotationRow], list[Any]]:
    """The rows of an annotation webhook, and the ids of annotations that came without task data.

    An annotation finds its task inline (``annotation.task`` as an object), by id among the
    body's ``task``/``tasks``, or as the body's only task.
    """
    tasks = {int(t["id"]): t for t in as_list(body.get("task")) + as_list(body.get("tasks"))
             if isinstance(t, dict) and t.get("id") is not None}
    rows: list[AnnotationRow] = []
    missing: list[Any] = []
    for ann in as_list(body.get("annotation")) + as_list(body.get("annotations")):
        if not isinstance(ann, dict):
            continue
        task_ref = ann.get("task")
        task = task_ref if isinstance(task_ref, dict) else tasks.get(_int_or(task_ref, -1))
        if task is None and len(tasks) == 1:
            task = next(iter(tasks.values()))
        if task is None or not isinstance(task.get("data"), dict):
            missing.append(ann.get("id"))
            continue
        row = annotation_row(config, ann, task)
        if row is not None:
            rows.append(row)
    return rows, missing


def _usable(ann: Any, from_name: str) -> list[str] | None:
    if not isinstance(ann, dict) or ann.get("was_cancelled"):
        return None
    return choices_from_result(ann.get("result"), from_name)


def export_rows(config: LabelConfig, tasks: list[Any]) -> list[AnnotationRow]:
    """The rows of an export: every usable annotation of every task, with its id, the
    latest last (so it is the task's label, as
    :func:`activelab.labelstudio_io.latest_annotation_choices` says).

    Keeping the ids lets a later ``ANNOTATIONS_DELETED`` or ``ANNOTATION_UPDATED`` find the
    row; deleting the latest annotation of a task leaves the one before it in force.
    """
    rows: list[AnnotationRow] = []
    for task in tasks:
        if not isinstance(task, dict) or task.get("id") is None \
                or not isinstance(task.get("data"), dict):
            continue
        found = [(str(a.get("updated_at") or ""), _int_or(a.get("id"), 0), a)
                 for a in task.get("annotations") or [] if _usable(a, config.from_name)]
        for _, _, ann in sorted(found, key=lambda f: f[:2]):
            row = annotation_row(config, ann, task)
            if row is not None:
                rows.append(row)
    return rows
