"""Reviewing as a team: your own labels (to change any of them), a comment per item, and the
admin's view of disagreements with a recorded resolution."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field

from ...store import Annotator
from ...store.review import MAX_COMMENT_CHARS
from .. import reviews
from ..options import MAX_ID, MAX_LABEL_CHARS
from ..state import LabelingState, current_admin, current_user, get_state

__all__ = ["router", "CommentIn", "ResolutionIn"]

router = APIRouter()


class CommentIn(BaseModel):
    """A comment on an item (empty: remove yours)."""

    text: str = Field(max_length=MAX_COMMENT_CHARS, description="What the admin should know.")


class ResolutionIn(BaseModel):
    """The admin's label for an item the annotators disagree on."""

    item_id: int = Field(ge=0, le=MAX_ID)
    label: str = Field(min_length=1, max_length=MAX_LABEL_CHARS)


@router.get("/api/my/labels", summary="Your labels, newest first (change one with PUT "
            "/api/labels/{item_id})")
def my_labels(limit: int = Query(50, ge=1, le=500), before: int | None = Query(
                  None, ge=0, le=MAX_ID, description="Only labels with a smaller label_id."),
              who: Annotator = Depends(current_user),
              state: LabelingState = Depends(get_state)) -> dict[str, Any]:
    """Each label with a glimpse of its item, when it was given and last changed, your
    comment, and the admin's resolution of the item if any."""
    return reviews.my_labels(state, who, limit, before)


@router.put("/api/items/{item_id}/comment", summary="Comment on an item you hold or labeled")
def put_comment(body: CommentIn, item_id: int = Path(ge=0, le=MAX_ID),
                who: Annotator = Depends(current_user),
                state: LabelingState = Depends(get_state)) -> dict[str, Any]:
    """One comment per item and person (a new one replaces yours; empty text removes it);
    404 when the item is neither leased to you nor labeled by you."""
    status = state.store.set_comment(state.project_id, who.id, item_id, body.text)
    if status is None:
        raise HTTPException(404, f"item {item_id} is neither leased to you nor labeled by you")
    return {"status": status, "item_id": item_id}


@router.get("/api/admin/comments", summary="Every comment, oldest first")
def all_comments(_: Annotator = Depends(current_admin),
                 state: LabelingState = Depends(get_state)) -> dict[str, Any]:
    """Comments with their item, author and time."""
    return {"comments": state.store.comments(state.project_id)}


@router.get("/api/admin/disagreements", summary="Items whose annotators disagree")
def disagreements(resolved: bool = Query(False, description="Include resolved items."),
                  limit: int = Query(200, ge=1, le=5000), _: Annotator = Depends(current_admin),
                  state: LabelingState = Depends(get_state)) -> dict[str, Any]:
    """Votes, comments and (with ``resolved=true``) the resolution of each item."""
    return reviews.disagreements(state, resolved, limit)


@router.post("/api/admin/resolutions", summary="Choose the label of a disputed item")
def resolve(body: ResolutionIn, who: Annotator = Depends(current_admin),
            state: LabelingState = Depends(get_state)) -> dict[str, Any]:
    """Recorded with who and when; the model learns this label from then on.  422 for a
    label the project lacks, 404 for an item nobody labeled."""
    if body.label not in state.labels:
        raise HTTPException(422, f"label {body.label!r} is not one of the project's labels: "
                            f"{', '.join(state.labels)}")
    res = state.store.resolve(state.project_id, who.id, body.item_id, body.label)
    if res is None:
        raise HTTPException(404, f"nobody has labeled item {body.item_id}")
    state.poke_scorer()
    return res | {"resolver": who.name}
