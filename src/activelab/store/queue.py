"""The ranked queue each model version publishes, and the leases that hand items out.

Double assignment is prevented by the primary key of ``assignments`` (one holder per item
slot) and the unique constraint on ``(item, annotator)``, so it holds across threads,
processes and machines, on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from . import claim_sql as Q
from . import schema as S
from .base import CHUNK, StoreBase, clock

__all__ = ["LeaseLost", "QueueLeases"]


class LeaseLost(Exception):
    """The annotator no longer holds the item (the lease expired and someone else took it)."""


class _SlotHeld(Exception):
    """The slot is leased to someone whose lease has not expired."""


class QueueLeases(StoreBase):
    """Publish ranked queues; lease their items to annotators."""

    def write_queue(
        self,
        project_id: int,
        item_ids: Sequence[int],
        *,
        utilities: Sequence[float] | None,
        guesses: Sequence[str | None] | None,
        confidences: Sequence[float] | None,
        model_version: int,
        strategy: str | Sequence[str],
    ) -> int:
        """Publish a new ranked queue (rank 1 = most useful); returns its queue version.

        ``strategy`` names what chose the items: one name for all, or one per item.  A
        guess or confidence may be None for some items only.

        The rows are inserted first and the version is switched in a short final
        transaction, so readers always see one complete queue.
        """
        ids = np.asarray(item_ids, dtype=np.int64)
        n = len(ids)
        u = [None] * n if utilities is None else [
            None if not np.isfinite(x) else float(x) for x in np.asarray(utilities, float)]
        g = [None] * n if guesses is None else [None if x is None else str(x) for x in guesses]
        c = [None] * n if confidences is None else [
            None if x is None else float(x) for x in confidences]
        ids_list = ids.tolist()
        mv = int(model_version)
        strategy = [strategy] * n if isinstance(strategy, str) else [str(x) for x in strategy]
        if len(strategy) != n:
            raise ValueError(f"strategy must be one name or one per item ({n}), got "
                             f"{len(strategy)}")
        with self.bg_engine.begin() as conn:
            version = self._queue_version(conn, project_id) + 1
            # reserve the version number so that concurrent writers never collide
            conn.execute(sa.update(S.projects).where(S.projects.c.id == project_id)
                         .values(queue_version=-version if n > CHUNK else version))
            if n <= CHUNK:  # the usual case: one short transaction
                self._insert_queue(conn, project_id, version, ids_list, u, g, c, mv, strategy, 0)
        if n > CHUNK:
            for start in range(0, n, CHUNK):
                with self.bg_engine.begin() as conn:
                    self._insert_queue(conn, project_id, version,
                                       ids_list[start:start + CHUNK], u[start:start + CHUNK],
                                       g[start:start + CHUNK], c[start:start + CHUNK], mv,
                                       strategy[start:start + CHUNK], start)
            with self.bg_engine.begin() as conn:
                conn.execute(sa.update(S.projects).where(S.projects.c.id == project_id)
                             .values(queue_version=version))
        with self.bg_engine.begin() as conn:
            conn.execute(sa.delete(S.queue).where(S.queue.c.project_id == project_id,
                                                  S.queue.c.version < version))
        return version

    @staticmethod
    def _insert_queue(conn: sa.Connection, project_id: int, version: int, ids: list[int],
                      u: list, g: list, c: list, mv: int, strategy: list[str],
                      offset: int) -> None:
        if not ids:
            return
        conn.execute(sa.insert(S.queue), [
            {"project_id": project_id, "version": version, "rank": offset + i + 1,
             "item_id": ids[i], "utility": u[i], "guess": g[i], "confidence": c[i],
             "model_version": mv, "strategy": strategy[i]} for i in range(len(ids))])

    def _queue_version(self, conn: sa.Connection, project_id: int) -> int:
        v = conn.execute(sa.select(S.projects.c.queue_version)
                         .where(S.projects.c.id == project_id)).scalar_one()
        return abs(int(v))

    def held_items(self, project_id: int, annotator_id: int) -> list[dict[str, Any]]:
        """Items currently leased to the annotator, oldest lease first."""
        with self.read_engine.begin() as conn:
            return self._held(conn, project_id, annotator_id)

    def _held(self, conn: sa.Connection, project_id: int, annotator_id: int) -> list[dict]:
        rows = conn.execute(Q.HELD, {"pid": project_id, "ann": annotator_id}).mappings().all()
        return [dict(r) for r in rows]

    def claim(
        self,
        project_id: int,
        annotator_id: int,
        n: int = 3,
        *,
        lease_seconds: float = 600.0,
        overlap: int = 1,
        now: float | None = None,
    ) -> list[dict[str, Any]]:
        """Lease up to ``n`` items to an annotator and return their assignments (a new
        lease also carries its item's ``key``, ``kind`` and ``content``).

        Items the annotator already holds come first (their lease is renewed); new ones are
        taken from the current queue in rank order, skipping items the annotator labeled or
        skipped and items whose ``overlap`` slots are all held or done.  An expired lease of
        someone else is taken over.  Each new lease is one insert guarded by the primary key
        ``(item, slot)``: of two concurrent requests for the same slot exactly one succeeds.
        """
        now = clock() if now is None else now
        # the whole claim runs in one write transaction (on SQLite: in the writer thread,
        # after the claims before it), so it sees every lease written before it
        return self._write(lambda conn: self._claim_in(
            conn, project_id, annotator_id, n, overlap, now, now + lease_seconds),
            durable=False)

    def _claim_in(self, conn: sa.Connection, project_id: int, annotator_id: int, n: int,
                  overlap: int, now: float, expires: float) -> list[dict[str, Any]]:
        """The reads and writes of :meth:`claim`, inside ``conn``'s transaction."""
        held = self._held(conn, project_id, annotator_id)
        if held:  # renew what the annotator holds (only when there is something to renew)
            conn.execute(Q.RENEW, {"pid": project_id, "ann": annotator_id,
                                   "expires": expires})
            for h in held:
                h["expires_at"] = expires
        if len(held) >= n:
            return held[:n]
        want = n - len(held)
        tried: set[int] = set()
        for _attempt in range(4):
            cands = [c for c in self._candidates(conn, project_id, annotator_id, overlap, now,
                                                 limit=want * 4 + 8)
                     if c["item_id"] not in tried]
            if not cands:
                break
            tried.update(c["item_id"] for c in cands)
            got = self._lease_some(conn, project_id, annotator_id, cands, want, overlap, now,
                                   expires)
            held.extend(got)
            want -= len(got)
            if want == 0:
                break
        return held

    def _lease_some(self, conn: sa.Connection, project_id: int, annotator_id: int,
                    cands: list[dict[str, Any]], want: int, overlap: int, now: float,
                    expires: float) -> list[dict[str, Any]]:
        """Lease up to ``want`` of the candidates, in rank order, in one transaction."""
        got = []
        for cand in cands:
            lease = self._try_lease(conn, project_id, annotator_id, cand, overlap, now, expires)
            if lease is not None:
                got.append(lease)
                if len(got) == want:
                    break
        return got

    def _candidates(self, conn: sa.Connection, project_id: int, annotator_id: int,
                    overlap: int, now: float, limit: int) -> list[dict[str, Any]]:
        rows = conn.execute(Q.CANDIDATES, {"pid": project_id, "ann": annotator_id, "now": now,
                                           "overlap": overlap, "lim": limit}).mappings().all()
        return [dict(r) for r in rows]

    def _try_lease(self, conn: sa.Connection, project_id: int, annotator_id: int,
                   cand: dict[str, Any], overlap: int, now: float, expires: float
                   ) -> dict[str, Any] | None:
        """Lease the first free slot of the candidate: a new row, or an expired lease taken
        over; None when every slot is held (or the item is being leased on PostgreSQL)."""
        values = {"annotator_id": annotator_id, "state": "leased", "leased_at": now,
                  "expires_at": expires, "utility": cand["utility"], "rank": cand["rank"],
                  "model_version": cand["model_version"], "strategy": cand["strategy"],
                  "guess": cand["guess"], "confidence": cand["confidence"]}
        if not self._lock_item(conn, project_id, cand["item_id"]):
            return None  # another claim is leasing it right now: take the next one
        item = cand["item_id"]
        for slot in range(overlap):
            row = {"project_id": project_id, "item_id": item, "slot": slot, **values}
            if self._take_slot(conn, row, now):
                self._event(conn, project_id, "query", annotator_id, item,
                            {"utility": cand["utility"], "rank": cand["rank"],
                             "model_version": cand["model_version"],
                             "strategy": cand["strategy"], "slot": slot}, now)
                return row | {k: cand[k] for k in Q.ITEM_COLUMNS if k in cand}
        return None

    def _take_slot(self, conn: sa.Connection, row: dict[str, Any], now: float) -> bool:
        """Insert the lease ``row``; when its slot has a row already, take it over if that
        lease expired.  False when the slot is held (or the person holds the item in another
        slot): nothing was written.

        The insert comes first (the usual case: nobody ever held the slot).  On SQLite a
        failed statement undoes itself and leaves the transaction as it was, so no
        savepoint is needed; on PostgreSQL an error spoils the transaction, so each try runs
        in a savepoint.
        """
        savepoint = None if self.is_sqlite else conn.begin_nested()
        try:
            try:
                conn.execute(Q.INSERT_LEASE, row)
            except IntegrityError:
                if savepoint is not None:
                    savepoint.rollback()
                    savepoint = conn.begin_nested()
                values = {k: v for k, v in row.items()
                          if k not in ("project_id", "item_id", "slot")}
                res = conn.execute(Q.TAKE_EXPIRED, {
                    "w_pid": row["project_id"], "w_item": row["item_id"],
                    "w_slot": row["slot"], "w_now": now, **values})
                if res.rowcount == 0:
                    raise _SlotHeld() from None
        except (IntegrityError, _SlotHeld):
            if savepoint is not None:
                savepoint.rollback()
            return False
        if savepoint is not None:
            savepoint.commit()
        return True

    def _lock_item(self, conn: sa.Connection, project_id: int, item_id: int) -> bool:
        """On PostgreSQL, take the item's transaction lock if nobody holds it (no waiting).

        Concurrent claims read the same top of the queue; without this, each would insert
        the same ``(item, slot)`` and wait on the unique index for the first claim's commit,
        so ten annotators at once queue behind one another (PostgreSQL 15, ten annotators
        with no think time: next-item p99 587 ms).  With it a claim that finds the item
        being leased skips to the next one at once; the primary key still decides.  SQLite
        runs claims one at a time in its writer, so there is nothing to skip.
        """
        if self.is_sqlite:
            return True
        return bool(conn.execute(sa.select(
            sa.func.pg_try_advisory_xact_lock(int(project_id), int(item_id)))).scalar())

    def unavailable_ids(self, project_id: int, overlap: int, now: float | None = None
                        ) -> np.ndarray:
        """Items that cannot be offered now: all ``overlap`` slots done or held."""
        now = clock() if now is None else now
        a = S.assignments
        with self.read_engine.begin() as conn:
            rows = conn.execute(sa.select(a.c.item_id).where(
                a.c.project_id == project_id,
                sa.or_(a.c.state == "done", a.c.expires_at > now))
                .group_by(a.c.item_id).having(sa.func.count() >= overlap)).all()
        return np.asarray([r[0] for r in rows], dtype=np.int64)

    def queue_remaining(self, project_id: int, overlap: int) -> int:
        """How many items of the current queue can still be offered (to anyone)."""
        q, a = S.queue, S.assignments
        now = clock()
        with self.read_engine.begin() as conn:
            version = self._queue_version(conn, project_id)
            busy = (sa.select(sa.func.count()).where(
                a.c.project_id == project_id, a.c.item_id == q.c.item_id,
                sa.or_(a.c.state == "done", a.c.expires_at > now)).scalar_subquery())
            return int(conn.execute(sa.select(sa.func.count()).select_from(q).where(
                q.c.project_id == project_id, q.c.version == version,
                busy < overlap)).scalar_one())

    def open_for(self, project_id: int, annotator_id: int, overlap: int) -> int:
        """How many items could still come to this annotator: not yet labeled by
        ``overlap`` people, and neither labeled, held nor skipped by this one.

        Counted as the project's items less those ruled out, which are read from the
        assignments and skips only: the cost grows with the labels, not with the pool (a
        ``"waiting"`` answer on a 100,000-item pool would otherwise scan every item)."""
        a, sk = S.assignments, S.skips
        full = (sa.select(a.c.item_id).where(a.c.project_id == project_id, a.c.state == "done")
                .group_by(a.c.item_id).having(sa.func.count() >= overlap))
        mine = sa.select(a.c.item_id).where(a.c.project_id == project_id,
                                            a.c.annotator_id == annotator_id)
        skipped = sa.select(sk.c.item_id).where(sk.c.project_id == project_id,
                                                sk.c.annotator_id == annotator_id)
        out = sa.union(full, mine, skipped).subquery()
        with self.read_engine.begin() as conn:
            n_items = conn.execute(sa.select(S.projects.c.n_items).where(
                S.projects.c.id == project_id)).scalar_one()
            gone = conn.execute(sa.select(sa.func.count()).select_from(out)).scalar_one()
        return int(n_items) - int(gone)
