"""The columns of each item that annotators see (``activelab label --show-columns``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from . import schema as S
from .base import CHUNK, StoreBase

__all__ = ["ItemFields"]


class ItemFields(StoreBase):
    """Store and read the shown columns of items."""

    @staticmethod
    def _insert_fields(conn: sa.Connection, project_id: int,
                       fields: Sequence[Sequence[Sequence[str]]]) -> None:
        """Write one row per item (pool id = position in ``fields``) inside ``conn``."""
        for start in range(0, len(fields), CHUNK):
            conn.execute(sa.insert(S.item_fields), [
                {"project_id": project_id, "item_id": start + i,
                 "fields_json": json.dumps([list(f) for f in row])}
                for i, row in enumerate(fields[start:start + CHUNK])])

    def item_fields(self, project_id: int, item_ids: Sequence[int]
                    ) -> dict[int, list[dict[str, Any]]]:
        """Pool id -> ``[{"name": column, "value": text}, ...]`` (items without: absent)."""
        if len(item_ids) == 0:
            return {}
        f = S.item_fields
        with self.read_engine.begin() as conn:
            rows = conn.execute(sa.select(f.c.item_id, f.c.fields_json).where(
                f.c.project_id == project_id,
                f.c.item_id.in_([int(i) for i in item_ids]))).all()
        return {int(i): [{"name": n, "value": v} for n, v in json.loads(text)]
                for i, text in rows}
