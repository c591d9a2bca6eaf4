"""The append-only event log of a project: queries, labels, skips, undos, model versions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from . import schema as S
from .base import StoreBase

__all__ = ["EventLog"]


class EventLog(StoreBase):
    """Append to and read the event log."""

    def log_event(self, project_id: int, kind: str, payload: dict[str, Any],
                  annotator_id: int | None = None, item_id: int | None = None) -> None:
        """Append one event to the project's log."""
        with self.engine.begin() as conn:
            self._event(conn, project_id, kind, annotator_id, item_id, payload)

    def last_event(self, project_id: int, kind: str) -> dict[str, Any] | None:
        """The latest event of one kind (payload decoded), or None."""
        e = S.events
        with self.read_engine.begin() as conn:
            row = conn.execute(sa.select(e).where(e.c.project_id == project_id, e.c.kind == kind)
                               .order_by(e.c.id.desc()).limit(1)).mappings().first()
        if row is None:
            return None
        return {"id": row["id"], "ts": row["ts"], "event": row["kind"],
                **json.loads(row["payload"])}

    def iter_events(self, project_id: int, batch: int = 5000) -> Iterator[dict[str, Any]]:
        """The full event log, oldest first, as JSON-able dicts."""
        e, ann = S.events, S.annotators
        last = 0
        while True:
            with self.read_engine.begin() as conn:
                rows = conn.execute(
                    sa.select(e, ann.c.name.label("annotator"))
                    .outerjoin(ann, ann.c.id == e.c.annotator_id)
                    .where(e.c.project_id == project_id, e.c.id > last)
                    .order_by(e.c.id).limit(batch)).mappings().all()
            if not rows:
                return
            for r in rows:
                yield {"id": r["id"], "ts": r["ts"], "event": r["kind"],
                       "annotator": r["annotator"], "item_id": r["item_id"],
                       **json.loads(r["payload"])}
            last = rows[-1]["id"]

