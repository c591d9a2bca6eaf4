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
    """Name, labels with their keys (``hotkeys``, one per label), budget, batch, strategy, overlap and item kind."""
    p = state.store.project(state.project_id)
    settings, labels = state.settings, state.labels
    return {"name": p["name"], "labels": labels, "n_items": p["n_items"],
            "hotkeys": state.hotkeys,
            "shortcuts": {k: lab for k, lab in zip(state.hotkeys, labels, strict=True) if k},
            "budget": settings.get("budget"), "batch": settings.get("batch"),
            "strategy": settings.get("strategy"), "overlap": state.overlap,
            "kind": settings.get("kind"), "public_url": state.public_url,
            "guess": "when the model beats chance" if state.show_guess else "off"}


@router.get("/api/progress", summary="Labels vs budget, learning curve, stop signal, speed")
def progress(who: Annotator = Depends(current_user),
             state: LabelingState = Depends(get_state)) -> dict[str, Any]:
    """Labels vs budget, the learning curve, the stop signal, speed and break reminders."""
    return views.progress(state, who)
