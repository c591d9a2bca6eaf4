"""Admin exports: the labels (CSV, JSONL, Label Studio JSON), the latest model, the event log."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse

from ...store import Annotator
from ..answers import decoded_answers
from ..state import LabelingState, current_admin, get_state
from ..views import EXPORT_COLUMNS, label_export_rows, labelstudio_tasks

__all__ = ["router"]

router = APIRouter()


@router.get("/api/admin/export/labels", summary="Labels as CSV, JSONL or Label Studio JSON")
def export_labels(format: str = Query("csv", pattern="^(csv|jsonl|labelstudio)$"),
                  _: Annotator = Depends(current_admin),
                  state: LabelingState = Depends(get_state)) -> Response:
    """Every committed label with why its item was asked for, the annotator's comment and
    the admin's resolution of the item."""
    rows = state.store.label_rows(state.project_id)
    items = state.store.items(state.project_id, sorted({r["item_id"] for r in rows}))
    comments = state.store.comments(state.project_id)
    if format == "labelstudio":
        return JSONResponse(labelstudio_tasks(rows, items, state.settings, comments))
    out = label_export_rows(rows, items, comments, state.store.resolutions(state.project_id))
    if format == "jsonl":  # a set of labels as a list, a number as a number
        out = decoded_answers(state.settings, out)
        text = "".join(json.dumps(r) + "\n" for r in out)
        return Response(text, media_type="application/x-ndjson")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    writer.writerows(out)
    return Response(buf.getvalue(), media_type="text/csv",
                    headers={"content-disposition": "attachment; filename=labels.csv"})


@router.get("/api/admin/export/model", summary="The latest model, saved with skops")
def export_model(_: Annotator = Depends(current_admin),
                 state: LabelingState = Depends(get_state)) -> FileResponse:
    """404 until a model has been trained (and saved)."""
    models = [m for m in state.store.model_rows(state.project_id) if m["path"]]
    if not models or not os.path.isfile(models[-1]["path"]):
        raise HTTPException(404, "no model has been trained yet: label a few more items")
    m = models[-1]
    return FileResponse(m["path"], media_type="application/octet-stream",
                        filename=f"model-v{m['version']}.skops")


@router.get("/api/admin/export/events", summary="The full event log as JSONL")
def export_events(_: Annotator = Depends(current_admin),
                  state: LabelingState = Depends(get_state)) -> StreamingResponse:
    """Streamed, oldest event first."""
    def lines() -> Iterator[str]:
        for ev in state.store.iter_events(state.project_id):
            yield json.dumps(ev) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")
