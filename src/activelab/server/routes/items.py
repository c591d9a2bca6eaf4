"""Items to label: the next ones (leased to the asker) and the images of image items."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import FileResponse, JSONResponse

from ...featurize import resolve_inside
from ...store import Annotator
from ..options import MAX_ID
from ..state import LabelingState, current_user, get_state
from ..views import item_payloads

__all__ = ["router"]

router = APIRouter()


@router.get("/api/next", summary="The next items to label (leased to you)",
            response_model=None)
def next_items(n: int = Query(3, ge=1, le=20), who: Annotator = Depends(current_user),
               state: LabelingState = Depends(get_state)) -> JSONResponse:
    """Lease up to n items; the scorer is asked to refill a queue that ran short.

    ``status`` is ``"items"``, or with no item ``"done"`` (nothing is left for you: every
    item is labeled, by you or by enough others, or skipped) or ``"waiting"`` (the rest is
    with other annotators or not yet ranked: ask again soon).

    The answer is built as JSON here (no response model to validate it against and encode
    it through: it is asked for after every label)."""
    asgs = state.store.claim(state.project_id, who.id, n, lease_seconds=state.lease,
                             overlap=state.overlap)
    if len(asgs) < n:
        state.poke_scorer()
    status = "items"
    if not asgs:
        left = state.store.open_for(state.project_id, who.id, state.overlap)
        status = "waiting" if left else "done"
    return JSONResponse({"items": item_payloads(state, asgs), "lease_seconds": state.lease,
                         "status": status})


@router.get("/api/items/{item_id}/image", summary="The image of an item")
def item_image(item_id: int = Path(ge=0, le=MAX_ID), who: Annotator = Depends(current_user),
               state: LabelingState = Depends(get_state)) -> FileResponse:
    """The image file, only from inside the project's folder."""
    item = state.store.items(state.project_id, [item_id]).get(item_id)
    if item is None or item["kind"] != "image":
        raise HTTPException(404, "no image item with that id")
    root = state.root
    if root is None:
        raise HTTPException(404, "this project has no image folder")
    try:
        path = resolve_inside(root, item["content"])
    except ValueError:
        raise HTTPException(403, "image path is outside the project folder") from None
    if not path.is_file():
        raise HTTPException(404, "image file missing")
    return FileResponse(path)
