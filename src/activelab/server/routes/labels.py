"""Labels: commit one (acknowledged only once stored), change one, skip an item, undo the
latest label."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ...store import Annotator, LeaseLost
from ..answers import encode_answer
from ..options import MAX_ID, MAX_LABEL_CHARS
from ..state import LabelingState, current_user, get_state
from ..views import item_payloads

__all__ = ["router", "LabelIn", "RelabelIn", "SkipIn"]

router = APIRouter()


class AnswerFields(BaseModel):
    """The answer: ``label`` (classification), ``labels`` (multi-label) or ``value``
    (regression), as the project's task says."""

    label: str | None = Field(default=None, min_length=1, max_length=MAX_LABEL_CHARS,
                              description="One of the project's labels (classification).")
    labels: list[str] | None = Field(default=None, max_length=1000,
                                     description="The labels that apply, possibly none "
                                     "(multi-label projects).")
    value: float | None = Field(default=None, allow_inf_nan=False, strict=True,
                                description="A finite number within the project's range "
                                "(regression projects).")


class LabelIn(AnswerFields):
    """A label for one item."""

    item_id: int = Field(ge=0, le=MAX_ID, description="Pool id of the item.")
    duration_s: float | None = Field(default=None, ge=0, le=86400, allow_inf_nan=False,
                                     description="Seconds the annotator spent on the item.")


class SkipIn(BaseModel):
    """An item given back without a label."""

    item_id: int = Field(ge=0, le=MAX_ID)


@router.post("/api/labels", summary="Commit a label (acknowledged only once stored)",
             response_model=None)
def post_label(body: LabelIn, who: Annotator = Depends(current_user),
               state: LabelingState = Depends(get_state)) -> JSONResponse:
    """422 for a label the project lacks, 409 when the lease was lost or when the item was
    labeled differently already (change it with ``PUT /api/labels/{item_id}``).  Sending the
    same label again (a retry) answers ``duplicate`` and counts nothing.  The answer is
    built as JSON here (sent after every label: no response model to pass it through)."""
    label = _answer(state, body)
    try:
        res = state.store.commit_label(state.project_id, who.id, body.item_id, label,
                                       body.duration_s)
    except LeaseLost as exc:
        raise HTTPException(409, str(exc)) from None
    if res["status"] == "duplicate" and res["label"] != label:
        raise HTTPException(409, f"you labeled item {body.item_id} {res['label']!r} already; "
                            f"to change it, send PUT /api/labels/{body.item_id} or undo it")
    state.poke_scorer()
    return JSONResponse(res | {"n_labels": state.store.count_labels(state.project_id)})


class RelabelIn(AnswerFields):
    """A new label for an item labeled before."""


def _answer(state: LabelingState, body: AnswerFields) -> str:
    """The stored form of the answer; 422 when it does not fit the project."""
    try:
        return encode_answer(state.settings, state.labels, label=body.label,
                             chosen=body.labels, value=body.value)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


@router.put("/api/labels/{item_id}", summary="Change your label of an item")
def put_label(body: RelabelIn, item_id: int = Path(ge=0, le=MAX_ID),
              who: Annotator = Depends(current_user),
              state: LabelingState = Depends(get_state)) -> dict[str, Any]:
    """404 when you have not labeled the item; the change is a ``relabel`` event."""
    res = state.store.relabel(state.project_id, who.id, item_id, _answer(state, body))
    if res is None:
        raise HTTPException(404, f"you have not labeled item {item_id}")
    state.poke_scorer()
    return res


@router.post("/api/skip", summary="Give an item back without a label")
def post_skip(body: SkipIn, who: Annotator = Depends(current_user),
              state: LabelingState = Depends(get_state)) -> dict[str, Any]:
    """409 when the item is not leased to the asker."""
    if not state.store.skip(state.project_id, who.id, body.item_id):
        raise HTTPException(409, f"item {body.item_id} is not leased to you")
    return {"status": "skipped", "item_id": body.item_id}


@router.post("/api/undo", summary="Withdraw your latest label; the item comes back to you")
def post_undo(who: Annotator = Depends(current_user),
              state: LabelingState = Depends(get_state)) -> dict[str, Any]:
    """409 when there is nothing to undo."""
    asg = state.store.undo_last(state.project_id, who.id, lease_seconds=state.lease)
    if asg is None:
        raise HTTPException(409, "nothing to undo")
    return {"status": "undone", "item": item_payloads(state, [asg])[0],
            "n_labels": state.store.count_labels(state.project_id)}
