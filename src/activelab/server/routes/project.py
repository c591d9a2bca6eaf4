"""Who is asking, what the project is, and how far labeling has come."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from ...store import Annotator
from .. import views
from ..state import LabelingState, current_user, get_state

__all__ = ["router"]

router = APIRouter()


@router.get("/api/me", summary="Who the token belongs to")
def me(who: Annotator = Depends(current_user)) -> dict[str, Any]:
    """The person's id, name and role."""
    return {"id": who.id, "name": who.name, "role": who.role}


@router.get("/api/project", summary="Labels, shortcuts and settings of the project")
def project_info(who: Annotator = Depends(current_user),
                 state: LabelingState = Depends(get_state)) -> dict[str, Any]:
    """Name, labels with their keys (``hotkeys``, one per label), budget, batch, strategy,
    overlap, item kind, and the task (``classification``, ``multilabel`` or ``regression``,
    with the numbers' ``min``/``max``)."""
    p = state.store.project(state.project_id)
    settings, labels = state.settings, state.labels
    return {"name": p["name"], "labels": labels, "n_items": p["n_items"],
            "hotkeys": state.hotkeys,
            "shortcuts": {k: lab for k, lab in zip(state.hotkeys, labels, strict=True) if k},
            "budget": settings.get("budget"), "batch": settings.get("batch"),
            "strategy": settings.get("strategy"), "overlap": state.overlap,
            "kind": settings.get("kind"), "public_url": state.public_url,
            "guess": "when the model beats chance" if state.show_guess else "off",
            **_task_fields(state)}


def _task_fields(state: LabelingState) -> dict[str, Any]:
    """What the page needs to know of the task: the answer kind, a number's range, the
    name of the cross-validated score."""
    from ..answers import value_range
    from ..task_scoring import METRIC_NAMES

    low, high = value_range(state.settings)
    return {"task": state.task, "min": low, "max": high, "metric": METRIC_NAMES[state.task]}


@router.get("/api/progress", summary="Labels vs budget, learning curve, stop signal, speed")
def progress(who: Annotator = Depends(current_user),
             state: LabelingState = Depends(get_state)) -> dict[str, Any]:
    """Labels vs budget, the learning curve, the stop signal, speed and break reminders."""
    return views.progress(state, who)
