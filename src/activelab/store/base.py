"""What every part of the :class:`~activelab.store.Store` shares: its engines and the event log.

Every change is one database transaction, and the event describing it is written in that same
transaction (:meth:`StoreBase._event`): a label is acknowledged only after its commit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import sqlalchemy as sa

from . import schema as S
from .db import make_engines
from .writer import WriteBatcher

T = TypeVar("T")

__all__ = ["StoreBase"]

#: One row of the event log (built once: every change writes one).
_INSERT_EVENT = sa.insert(S.events)

#: Rows per insert statement when writing many rows.
CHUNK = 5000


def clock() -> float:
    """Seconds since the epoch: the clock of every timestamp the store writes."""
    return time.time()


class StoreBase:
    """The engines of a labeling database and the event writer every change uses.

    Parameters
    ----------
    url : str
        ``sqlite:///activelab.db`` or ``postgresql://user@host/dbname``.
    create : bool, default=True
        Create the tables when missing.
    """

    def __init__(self, url: str, create: bool = True) -> None:
        self.url = url
        self.engine, self.read_engine, self.bg_engine = make_engines(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # a SQLite file has one write lock: the writes of labels and leases queue on one
        # thread and commit together (PostgreSQL's row locks need no such help)
        self.writer = (WriteBatcher(self.engine)
                       if self.is_sqlite and self.engine is not self.bg_engine else None)
        if create:
            S.metadata.create_all(self.engine)

    def close(self) -> None:
        """Release all database connections."""
        if self.writer is not None:
            self.writer.close()
        for engine in {self.engine, self.read_engine, self.bg_engine}:
            engine.dispose()

    def _write(self, op: Callable[[sa.Connection], T], durable: bool = True) -> T:
        """Run ``op(conn)`` in a write transaction and return its result once it is
        committed: batched with other requests' writes on SQLite (see
        :class:`~activelab.store.writer.WriteBatcher`), alone on PostgreSQL.  What ``op``
        raises is raised here, and ``op``'s writes are then undone.  ``durable=False`` (a
        lease, which a power cut may lose without harm): on SQLite the result comes as soon
        as ``op`` has run under the write lock, and a batch of such writes skips the fsync."""
        if self.writer is not None:
            return self.writer.submit(op, durable)
        with self.engine.begin() as conn:
            return op(conn)

    def _event(self, conn: sa.Connection, project_id: int, kind: str, annotator_id: int | None,
               item_id: int | None, payload: dict[str, Any], ts: float | None = None) -> None:
        conn.execute(_INSERT_EVENT, {
            "project_id": project_id, "ts": clock() if ts is None else ts, "kind": kind,
            "annotator_id": annotator_id, "item_id": None if item_id is None else int(item_id),
            "payload": json.dumps(payload, default=_json_default)})


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
