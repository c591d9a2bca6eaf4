"""The JSON of the review views: an annotator's own labels, and the admin's disagreements."""

from __future__ import annotations

import json
from typing import Any

from ..store import Annotator
from .state import LabelingState

__all__ = ["preview", "my_labels", "disagreements", "PREVIEW_CHARS"]

#: Characters of an item shown in a review list.
PREVIEW_CHARS = 160


def preview(item: dict[str, Any] | None, fields: list[dict[str, Any]] | None = None) -> str:
    """A one-line glimpse of an item: its shown columns, text, image path or row."""
    if item is None:
        return ""
    if fields:
        text = " · ".join(f"{f['name']}: {f['value']}" for f in fields)
    elif item["kind"] == "row":
        text = ", ".join(f"{k}={v}" for k, v in json.loads(item["content"]).items())
    else:
        text = item["content"]
    text = " ".join(str(text).split())
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"


def _previews(state: LabelingState, ids: list[int]) -> dict[int, str]:
    items = state.store.items(state.project_id, ids)
    fields = (state.store.item_fields(state.project_id, ids)
              if state.settings.get("show_columns") else {})
    return {i: preview(items.get(i), fields.get(i)) for i in ids}


def my_labels(state: LabelingState, who: Annotator, limit: int, before: int | None
              ) -> dict[str, Any]:
    """The person's labels, newest first, with a glimpse of each item and its resolution."""
    rows = state.store.my_labels(state.project_id, who.id, limit=limit, before=before)
    ids = [r["item_id"] for r in rows]
    shown = _previews(state, ids)
    keys = {i: it["key"] for i, it in state.store.items(state.project_id, ids).items()}
    resolved = state.store.resolutions(state.project_id)
    out = [r | {"key": keys.get(r["item_id"]), "preview": shown[r["item_id"]],
                "resolved_label": resolved.get(r["item_id"], {}).get("label")} for r in rows]
    return {"labels": out, "more": len(rows) == limit,
            "n_labels": state.store.count_labels(state.project_id, who.id)}


def disagreements(state: LabelingState, include_resolved: bool, limit: int) -> dict[str, Any]:
    """Items whose annotators disagree: votes, comments, the resolution when there is one."""
    store, pid = state.store, state.project_id
    resolved = store.resolutions(pid)
    ids = store.disagreement_ids(pid)
    n_open = sum(i not in resolved for i in ids)
    if not include_resolved:
        ids = [i for i in ids if i not in resolved]
    ids = ids[:limit]
    votes: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for r in store.label_rows_of(pid, ids):
        votes[r["item_id"]].append({"annotator": r["annotator"], "label": r["label"],
                                    "created_at": r["created_at"]})
    notes: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for c in store.comments(pid, ids):
        notes[c["item_id"]].append({"annotator": c["annotator"], "text": c["text"]})
    shown = _previews(state, ids)
    keys = {i: it["key"] for i, it in store.items(pid, ids).items()}
    items = [{"item_id": i, "key": keys.get(i), "preview": shown[i], "votes": votes[i],
              "comments": notes[i], "resolution": resolved.get(i)} for i in ids]
    return {"items": items, "n_open": n_open, "n_resolved": len(resolved)}
