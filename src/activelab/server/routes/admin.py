"""Admin routes: annotators and their tokens, agreement statistics, a retrain on request."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from ...store import Annotator
from .. import views
from ..options import MAX_ID
from ..state import LabelingState, current_admin, get_state

__all__ = ["router", "AnnotatorIn"]

router = APIRouter()


class AnnotatorIn(BaseModel):
    """A new annotator (or admin)."""

    name: str = Field(min_length=1, max_length=200)
    role: str = Field(default="annotator", pattern="^(annotator|admin)$")


@router.post("/api/admin/annotators", summary="Create an annotator and their token")
def create_annotator(body: AnnotatorIn, request: Request, _: Annotator = Depends(current_admin),
                     state: LabelingState = Depends(get_state)) -> dict[str, Any]:
    """The token is shown once (only its hash is stored); 409 for a name in use.

    ``url`` is the link to send: at ``--public-url`` when the server has one."""
    try:
        token = state.store.create_annotator(state.project_id, body.name, body.role)
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None
    return {"name": body.name, "role": body.role, "token": token,
            "url_fragment": f"#token={token}", "url": state.link(request, token)}


@router.post("/api/admin/annotators/{annotator_id}/revoke",
             summary="Revoke an annotator's token; their leased items return to the pool")
def revoke_annotator(annotator_id: int = Path(ge=0, le=MAX_ID), who: Annotator = Depends(current_admin),
                     state: LabelingState = Depends(get_state)) -> dict[str, Any]:
    """409 for the admin's own token, 404 for an unknown or revoked annotator."""
    if annotator_id == who.id:
        raise HTTPException(409, "you cannot revoke your own token")
    if not state.store.revoke_annotator(state.project_id, annotator_id):
        raise HTTPException(404, "no active annotator with that id")
    state.tokens.clear()
    return {"status": "revoked", "annotator_id": annotator_id}


@router.get("/api/admin/annotators", summary="Annotators with label counts")
def list_annotators(_: Annotator = Depends(current_admin),
                    state: LabelingState = Depends(get_state)) -> dict[str, Any]:
    """Every person of the project with their number of labels."""
    return {"annotators": state.store.annotators(state.project_id)}


@router.get("/api/admin/stats", summary="Agreement and label quality over time")
def admin_stats(block: int = Query(20, ge=1, le=10000), _: Annotator = Depends(current_admin),
                state: LabelingState = Depends(get_state)) -> dict[str, Any]:
    """Agreement between annotators, label quality per block, the scorer's last error."""
    return views.admin_stats(state, block)


@router.post("/api/admin/retrain", summary="Ask the background scorer to look now")
def retrain(_: Annotator = Depends(current_admin),
            state: LabelingState = Depends(get_state)) -> dict[str, Any]:
    """409 when this process runs no scorer."""
    if state.scorer is None:
        raise HTTPException(409, "no background scorer runs in this process")
    state.poke_scorer()
    return {"status": "requested"}
