"""Queries of labeling projects: leases, labels, queues, model versions and the event log.

Every change is one database transaction, and the event describing it is written in that same
transaction: a label is acknowledged only after its commit.  Double assignment and double
counting are prevented by the primary key of ``assignments`` (one holder per item slot) and the
unique constraints on ``(item, annotator)``, so they hold across threads, processes and
machines, on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from . import schema as S
from .db import make_engines

__all__ = ["Store", "Annotator", "LeaseLost", "hash_token"]

_CHUNK = 5000


class LeaseLost(Exception):
    """The annotator no longer holds the item (the lease expired and someone else took it)."""


@dataclass(frozen=True)
class Annotator:
    """An authenticated person: ``role`` is ``"admin"`` or ``"annotator"``."""

    id: int
    project_id: int
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        """Whether this person may use the admin routes."""
        return self.role == "admin"


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token (tokens are stored hashed only)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> float:
    return time.time()


class Store:
    """Labeling projects in a database (SQLite file or PostgreSQL server).

    Parameters
    ----------
    url : str
        ``sqlite:///activelab.db`` or ``postgresql://user@host/dbname``.
    create : bool, default=True
        Create the tables when missing.

    Examples
    --------
    >>> store = Store("sqlite://")  # doctest: +SKIP
    >>> pid, token = store.create_project("demo", ["spam", "ham"], [("a", "text", "hi")])
    ... # doctest: +SKIP
    """

    def __init__(self, url: str, create: bool = True) -> None:
        self.url = url
        self.engine, self.read_engine, self.bg_engine = make_engines(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        if create:
            S.metadata.create_all(self.engine)

    def close(self) -> None:
        """Release all database connections."""
        for engine in {self.engine, self.read_engine, self.bg_engine}:
            engine.dispose()

    # ------------------------------------------------------------------ projects
    def create_project(
        self,
        name: str,
        labels: Sequence[str],
        items: Iterable[tuple[str | None, str, str]],
        settings: dict[str, Any] | None = None,
        admin_name: str = "admin",
    ) -> tuple[int, str]:
        """Create a project with its items and an admin; return ``(project_id, admin_token)``.

        Parameters
        ----------
        name : str
            Unique project name.
        labels : sequence of str
            The label choices, in button order.
        items : iterable of (key, kind, content)
            One per pool id, in pool-id order; ``kind`` is ``"text"``, ``"image"`` or ``"row"``.
        settings : dict, optional
            JSON-able project settings (strategy, batch, overlap, ...).
        admin_name : str, default="admin"

        Raises
        ------
        ValueError
            A project of that name exists, labels are empty or repeated, or there are no items.
        """
        labels = [str(x) for x in labels]
        if not labels or len(set(labels)) != len(labels) or any(not x.strip() for x in labels):
            raise ValueError(f"labels must be distinct non-empty names, got {labels!r}")
        if self.find_project(name) is not None:
            raise ValueError(f"project {name!r} exists already: open it instead")
        now = _now()
        token = secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            pid = conn.execute(
                sa.insert(S.projects).values(
                    name=name, created_at=now, labels_json=json.dumps(labels),
                    settings_json=json.dumps(settings or {}), n_items=0, model_version=0,
                    queue_version=0, trainer_until=0.0,
                )
            ).inserted_primary_key[0]
            n = 0
            batch: list[dict[str, Any]] = []
            for key, kind, content in items:
                batch.append({"project_id": pid, "item_id": n, "key": key, "kind": kind,
                              "content": content})
                n += 1
                if len(batch) >= _CHUNK:
                    conn.execute(sa.insert(S.items), batch)
                    batch = []
            if batch:
                conn.execute(sa.insert(S.items), batch)
            if n == 0:
                raise ValueError("the project has no items: give data with at least one row")
            conn.execute(sa.update(S.projects).where(S.projects.c.id == pid).values(n_items=n))
            conn.execute(sa.insert(S.annotators).values(
                project_id=pid, name=admin_name, role="admin", token_hash=hash_token(token),
                created_at=now, active=True))
            self._event(conn, pid, "project_created", None, None,
                        {"name": name, "labels": labels, "n_items": n,
                         "settings": settings or {}}, now)
        return int(pid), token

    def find_project(self, name: str) -> int | None:
        """Id of the project called ``name``, or None."""
        with self.read_engine.begin() as conn:
            row = conn.execute(sa.select(S.projects.c.id).where(S.projects.c.name == name)).first()
        return None if row is None else int(row[0])

    def project(self, project_id: int) -> dict[str, Any]:
        """The project's row as a dict (labels and settings decoded)."""
        with self.read_engine.begin() as conn:
            row = conn.execute(
                sa.select(S.projects).where(S.projects.c.id == project_id)).mappings().first()
        if row is None:
            raise ValueError(f"no project with id {project_id}")
        out = dict(row)
        out["labels"] = json.loads(out.pop("labels_json"))
        out["settings"] = json.loads(out.pop("settings_json"))
        return out

    def update_settings(self, project_id: int, **changes: Any) -> dict[str, Any]:
        """Merge ``changes`` into the project's settings and return them."""
        with self.engine.begin() as conn:
            raw = conn.execute(sa.select(S.projects.c.settings_json)
                               .where(S.projects.c.id == project_id)).scalar_one()
            settings = json.loads(raw)
            settings.update(changes)
            conn.execute(sa.update(S.projects).where(S.projects.c.id == project_id)
                         .values(settings_json=json.dumps(settings)))
            self._event(conn, project_id, "settings", None, None, changes)
        return settings

    # ------------------------------------------------------------------ people
    def create_annotator(self, project_id: int, name: str, role: str = "annotator") -> str:
        """Add a person and return their token (shown once; only its hash is stored)."""
        if role not in ("admin", "annotator"):
            raise ValueError(f"role must be 'admin' or 'annotator', got {role!r}")
        name = str(name).strip()
        if not name or len(name) > 200:
            raise ValueError("name must be 1 to 200 characters")
        token = secrets.token_urlsafe(24)
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(S.annotators).values(
                    project_id=project_id, name=name, role=role, token_hash=hash_token(token),
                    created_at=_now(), active=True))
                self._event(conn, project_id, "annotator_created", None, None,
                            {"name": name, "role": role})
        except IntegrityError:
            raise ValueError(f"an annotator called {name!r} exists already: pick another "
                             "name") from None
        return token

    def revoke_annotator(self, project_id: int, annotator_id: int) -> bool:
        """Deactivate a person's token; their leases go back to the pool.  False if unknown."""
        a = S.assignments
        with self.engine.begin() as conn:
            res = conn.execute(sa.update(S.annotators).where(
                S.annotators.c.project_id == project_id, S.annotators.c.id == annotator_id,
                S.annotators.c.active.is_(True)).values(active=False))
            if res.rowcount != 1:
                return False
            conn.execute(sa.delete(a).where(a.c.project_id == project_id,
                                            a.c.annotator_id == annotator_id,
                                            a.c.state == "leased"))
            self._event(conn, project_id, "annotator_revoked", annotator_id, None, {})
        return True

    def authenticate(self, token: str | None) -> Annotator | None:
        """The active person holding ``token``, or None."""
        if not token or len(token) > 200:
            return None
        with self.read_engine.begin() as conn:
            row = conn.execute(sa.select(S.annotators).where(
                S.annotators.c.token_hash == hash_token(token),
                S.annotators.c.active.is_(True))).mappings().first()
        if row is None:
            return None
        return Annotator(int(row["id"]), int(row["project_id"]), row["name"], row["role"])

    def annotators(self, project_id: int) -> list[dict[str, Any]]:
        """All people of the project with their label counts."""
        with self.read_engine.begin() as conn:
            counts = dict(conn.execute(
                sa.select(S.labels.c.annotator_id, sa.func.count())
                .where(S.labels.c.project_id == project_id)
                .group_by(S.labels.c.annotator_id)).all())
            rows = conn.execute(sa.select(
                S.annotators.c.id, S.annotators.c.name, S.annotators.c.role,
                S.annotators.c.created_at, S.annotators.c.active)
                .where(S.annotators.c.project_id == project_id)
                .order_by(S.annotators.c.id)).mappings().all()
        return [dict(r) | {"n_labels": int(counts.get(r["id"], 0))} for r in rows]

    # ------------------------------------------------------------------ queue and leases
    def write_queue(
        self,
        project_id: int,
        item_ids: Sequence[int],
        *,
        utilities: Sequence[float] | None,
        guesses: Sequence[str | None] | None,
        confidences: Sequence[float] | None,
        model_version: int,
        strategy: str,
    ) -> int:
        """Publish a new ranked queue (rank 1 = most useful); returns its queue version.

        The rows are inserted first and the version is switched in a short final
        transaction, so readers always see one complete queue.
        """
        ids = np.asarray(item_ids, dtype=np.int64)
        n = len(ids)
        u = [None] * n if utilities is None else [
            None if not np.isfinite(x) else float(x) for x in np.asarray(utilities, float)]
        g = [None] * n if guesses is None else [None if x is None else str(x) for x in guesses]
        c = [None] * n if confidences is None else [float(x) for x in confidences]
        ids_list = ids.tolist()
        mv = int(model_version)
        with self.bg_engine.begin() as conn:
            version = self._queue_version(conn, project_id) + 1
            # reserve the version number so that concurrent writers never collide
            conn.execute(sa.update(S.projects).where(S.projects.c.id == project_id)
                         .values(queue_version=-version if n > _CHUNK else version))
            if n <= _CHUNK:  # the usual case: one short transaction
                self._insert_queue(conn, project_id, version, ids_list, u, g, c, mv, strategy, 0)
        if n > _CHUNK:
            for start in range(0, n, _CHUNK):
                with self.bg_engine.begin() as conn:
                    self._insert_queue(conn, project_id, version,
                                       ids_list[start:start + _CHUNK], u[start:start + _CHUNK],
                                       g[start:start + _CHUNK], c[start:start + _CHUNK], mv,
                                       strategy, start)
            with self.bg_engine.begin() as conn:
                conn.execute(sa.update(S.projects).where(S.projects.c.id == project_id)
                             .values(queue_version=version))
        with self.bg_engine.begin() as conn:
            conn.execute(sa.delete(S.queue).where(S.queue.c.project_id == project_id,
                                                  S.queue.c.version < version))
        return version

    @staticmethod
    def _insert_queue(conn: sa.Connection, project_id: int, version: int, ids: list[int],
                      u: list, g: list, c: list, mv: int, strategy: str, offset: int) -> None:
        if not ids:
            return
        conn.execute(sa.insert(S.queue), [
            {"project_id": project_id, "version": version, "rank": offset + i + 1,
             "item_id": ids[i], "utility": u[i], "guess": g[i], "confidence": c[i],
             "model_version": mv, "strategy": strategy} for i in range(len(ids))])

    def _queue_version(self, conn: sa.Connection, project_id: int) -> int:
        v = conn.execute(sa.select(S.projects.c.queue_version)
                         .where(S.projects.c.id == project_id)).scalar_one()
        return abs(int(v))

    def held_items(self, project_id: int, annotator_id: int) -> list[dict[str, Any]]:
        """Items currently leased to the annotator, oldest lease first."""
        with self.read_engine.begin() as conn:
            return self._held(conn, project_id, annotator_id)

    def _held(self, conn: sa.Connection, project_id: int, annotator_id: int) -> list[dict]:
        a = S.assignments
        rows = conn.execute(sa.select(a).where(
            a.c.project_id == project_id, a.c.annotator_id == annotator_id,
            a.c.state == "leased").order_by(a.c.leased_at, a.c.rank, a.c.item_id)).mappings().all()
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
        """Lease up to ``n`` items to an annotator and return their assignments.

        Items the annotator already holds come first (their lease is renewed); new ones are
        taken from the current queue in rank order, skipping items the annotator labeled or
        skipped and items whose ``overlap`` slots are all held or done.  An expired lease of
        someone else is taken over.  Each new lease is one insert guarded by the primary key
        ``(item, slot)``: of two concurrent requests for the same slot exactly one succeeds.
        """
        now = _now() if now is None else now
        expires = now + lease_seconds
        a = S.assignments
        with self.read_engine.begin() as conn:
            held = self._held(conn, project_id, annotator_id)
        if held:  # renew what the annotator holds (only when there is something to renew)
            with self.engine.begin() as conn:
                conn.execute(sa.update(a).where(
                    a.c.project_id == project_id, a.c.annotator_id == annotator_id,
                    a.c.state == "leased").values(expires_at=expires))
                held = self._held(conn, project_id, annotator_id)
        if len(held) >= n:
            return held[:n]
        want = n - len(held)
        tried: set[int] = set()
        for _attempt in range(4):
            with self.read_engine.begin() as conn:
                cands = self._candidates(conn, project_id, annotator_id, overlap, now,
                                         limit=want * 4 + 8)
            cands = [c for c in cands if c["item_id"] not in tried]
            if not cands:
                break
            for cand in cands:
                tried.add(cand["item_id"])
                got = self._try_lease(project_id, annotator_id, cand, overlap, now, expires)
                if got is not None:
                    held.append(got)
                    want -= 1
                    if want == 0:
                        return held
        return held

    def _candidates(self, conn: sa.Connection, project_id: int, annotator_id: int,
                    overlap: int, now: float, limit: int) -> list[dict[str, Any]]:
        q, a, sk = S.queue, S.assignments, S.skips
        a2 = a.alias("a2")
        version = self._queue_version(conn, project_id)
        busy = (sa.select(sa.func.count()).select_from(a2).where(
            a2.c.project_id == project_id, a2.c.item_id == q.c.item_id,
            sa.or_(a2.c.state == "done", a2.c.expires_at > now)).scalar_subquery())
        mine = sa.exists().where(a.c.project_id == project_id, a.c.item_id == q.c.item_id,
                                 a.c.annotator_id == annotator_id)
        skipped = sa.exists().where(sk.c.project_id == project_id, sk.c.item_id == q.c.item_id,
                                    sk.c.annotator_id == annotator_id)
        stmt = (sa.select(q).where(q.c.project_id == project_id, q.c.version == version,
                                   ~mine, ~skipped, busy < overlap)
                .order_by(q.c.rank).limit(limit))
        return [dict(r) for r in conn.execute(stmt).mappings().all()]

    def _try_lease(self, project_id: int, annotator_id: int, cand: dict[str, Any],
                   overlap: int, now: float, expires: float) -> dict[str, Any] | None:
        a = S.assignments
        values = {"annotator_id": annotator_id, "state": "leased", "leased_at": now,
                  "expires_at": expires, "utility": cand["utility"], "rank": cand["rank"],
                  "model_version": cand["model_version"], "strategy": cand["strategy"],
                  "guess": cand["guess"], "confidence": cand["confidence"]}
        payload = {"utility": cand["utility"], "rank": cand["rank"],
                   "model_version": cand["model_version"], "strategy": cand["strategy"]}
        for slot in range(overlap):
            try:
                with self.engine.begin() as conn:
                    res = conn.execute(sa.update(a).where(
                        a.c.project_id == project_id, a.c.item_id == cand["item_id"],
                        a.c.slot == slot, a.c.state == "leased", a.c.expires_at <= now,
                    ).values(**values))
                    if res.rowcount == 0:
                        conn.execute(sa.insert(a).values(project_id=project_id,
                                                         item_id=cand["item_id"], slot=slot,
                                                         **values))
                    self._event(conn, project_id, "query", annotator_id, cand["item_id"],
                                payload | {"slot": slot}, now)
            except IntegrityError:
                continue  # slot taken (or this person holds the item already): next slot
            return {"project_id": project_id, "item_id": cand["item_id"], "slot": slot, **values}
        return None

    # ------------------------------------------------------------------ labels
    def commit_label(
        self,
        project_id: int,
        annotator_id: int,
        item_id: int,
        label: str,
        duration_s: float | None = None,
    ) -> dict[str, Any]:
        """Record a label; returns ``{"status": "recorded"|"duplicate", "label_id": ...}``.

        The assignment flips from ``leased`` to ``done`` and the label row is inserted in one
        transaction.  Repeating the request (a retry) answers ``duplicate`` and counts nothing.

        Raises
        ------
        LeaseLost
            The annotator does not hold the item.
        """
        a, lab = S.assignments, S.labels
        now = _now()
        try:
            with self.engine.begin() as conn:
                row = conn.execute(sa.select(a).where(
                    a.c.project_id == project_id, a.c.item_id == item_id,
                    a.c.annotator_id == annotator_id)).mappings().first()
                if row is None:
                    raise LeaseLost(f"item {item_id} is not assigned to you (the lease expired "
                                    "and it went to someone else); take the next item")
                if row["state"] == "done":
                    return self._existing_label(conn, project_id, annotator_id, item_id)
                res = conn.execute(sa.update(a).where(
                    a.c.project_id == project_id, a.c.item_id == item_id, a.c.slot == row["slot"],
                    a.c.annotator_id == annotator_id, a.c.state == "leased").values(state="done"))
                if res.rowcount != 1:
                    raise _Duplicate()
                label_id = conn.execute(sa.insert(lab).values(
                    project_id=project_id, item_id=item_id, annotator_id=annotator_id,
                    label=label, created_at=now, duration_s=duration_s,
                    model_version=row["model_version"], utility=row["utility"],
                    rank=row["rank"], guess=row["guess"], confidence=row["confidence"],
                )).inserted_primary_key[0]
                self._event(conn, project_id, "label", annotator_id, item_id,
                            {"label": label, "duration_s": duration_s,
                             "model_version": row["model_version"], "utility": row["utility"],
                             "rank": row["rank"], "guess": row["guess"],
                             "label_id": int(label_id)}, now)
        except (_Duplicate, IntegrityError):
            with self.read_engine.begin() as conn:
                return self._existing_label(conn, project_id, annotator_id, item_id)
        return {"status": "recorded", "label_id": int(label_id), "item_id": item_id,
                "label": label}

    def _existing_label(self, conn: sa.Connection, project_id: int, annotator_id: int,
                        item_id: int) -> dict[str, Any]:
        lab = S.labels
        row = conn.execute(sa.select(lab.c.id, lab.c.label).where(
            lab.c.project_id == project_id, lab.c.item_id == item_id,
            lab.c.annotator_id == annotator_id)).first()
        if row is None:
            raise LeaseLost(f"item {item_id} is not assigned to you; take the next item")
        return {"status": "duplicate", "label_id": int(row[0]), "item_id": item_id,
                "label": row[1]}

    def skip(self, project_id: int, annotator_id: int, item_id: int) -> bool:
        """Give an item back without a label; it will not be offered to this person again."""
        a = S.assignments
        now = _now()
        with self.engine.begin() as conn:
            res = conn.execute(sa.delete(a).where(
                a.c.project_id == project_id, a.c.item_id == item_id,
                a.c.annotator_id == annotator_id, a.c.state == "leased"))
            if res.rowcount == 0:
                return False
            seen = conn.execute(sa.select(S.skips.c.item_id).where(
                S.skips.c.project_id == project_id, S.skips.c.item_id == item_id,
                S.skips.c.annotator_id == annotator_id)).first()
            if seen is None:
                conn.execute(sa.insert(S.skips).values(
                    project_id=project_id, item_id=item_id, annotator_id=annotator_id,
                    created_at=now))
            self._event(conn, project_id, "skip", annotator_id, item_id, {}, now)
        return True

    def undo_last(self, project_id: int, annotator_id: int,
                  lease_seconds: float = 600.0) -> dict[str, Any] | None:
        """Withdraw the annotator's latest label; the item is leased back to them.

        Returns the renewed assignment, or None when there is nothing to undo.
        """
        a, lab = S.assignments, S.labels
        now = _now()
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(lab).where(
                lab.c.project_id == project_id, lab.c.annotator_id == annotator_id)
                .order_by(lab.c.id.desc()).limit(1)).mappings().first()
            if row is None:
                return None
            conn.execute(sa.delete(lab).where(lab.c.id == row["id"]))
            first = conn.execute(sa.select(sa.func.min(a.c.leased_at)).where(
                a.c.project_id == project_id, a.c.annotator_id == annotator_id,
                a.c.state == "leased")).scalar()
            conn.execute(sa.update(a).where(
                a.c.project_id == project_id, a.c.item_id == row["item_id"],
                a.c.annotator_id == annotator_id).values(
                    state="leased", expires_at=now + lease_seconds,
                    leased_at=now if first is None else min(now, first - 1e-3)))
            self._event(conn, project_id, "undo", annotator_id, row["item_id"],
                        {"label": row["label"], "label_id": int(row["id"])}, now)
            asg = conn.execute(sa.select(a).where(
                a.c.project_id == project_id, a.c.item_id == row["item_id"],
                a.c.annotator_id == annotator_id)).mappings().first()
        return None if asg is None else dict(asg)

    # ------------------------------------------------------------------ reading
    def items(self, project_id: int, item_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Raw items by pool id."""
        if len(item_ids) == 0:
            return {}
        with self.read_engine.begin() as conn:
            rows = conn.execute(sa.select(S.items).where(
                S.items.c.project_id == project_id,
                S.items.c.item_id.in_([int(i) for i in item_ids]))).mappings().all()
        return {int(r["item_id"]): dict(r) for r in rows}

    def label_rows(self, project_id: int) -> list[dict[str, Any]]:
        """Every committed label, oldest first, with the annotator's name."""
        lab, ann = S.labels, S.annotators
        with self.read_engine.begin() as conn:
            rows = conn.execute(
                sa.select(lab, ann.c.name.label("annotator"))
                .join(ann, ann.c.id == lab.c.annotator_id)
                .where(lab.c.project_id == project_id).order_by(lab.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def label_arrays(self, project_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(item_ids, labels, annotator_ids)`` of all labels, oldest first."""
        lab = S.labels
        with self.read_engine.begin() as conn:
            rows = conn.execute(sa.select(lab.c.item_id, lab.c.label, lab.c.annotator_id)
                                .where(lab.c.project_id == project_id)
                                .order_by(lab.c.id)).all()
        if not rows:
            return (np.zeros(0, np.int64), np.zeros(0, object), np.zeros(0, np.int64))
        ids, labs, anns = zip(*rows, strict=True)
        return (np.asarray(ids, np.int64), np.asarray(labs, dtype=object),
                np.asarray(anns, np.int64))

    def consensus(self, project_id: int) -> tuple[np.ndarray, np.ndarray]:
        """One label per labeled item: the majority vote (ties: the earliest label)."""
        ids, labs, _ = self.label_arrays(project_id)
        return majority_vote(ids, labs)

    def unavailable_ids(self, project_id: int, overlap: int, now: float | None = None
                        ) -> np.ndarray:
        """Items that cannot be offered now: all ``overlap`` slots done or held."""
        now = _now() if now is None else now
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
        now = _now()
        with self.read_engine.begin() as conn:
            version = self._queue_version(conn, project_id)
            busy = (sa.select(sa.func.count()).where(
                a.c.project_id == project_id, a.c.item_id == q.c.item_id,
                sa.or_(a.c.state == "done", a.c.expires_at > now)).scalar_subquery())
            return int(conn.execute(sa.select(sa.func.count()).select_from(q).where(
                q.c.project_id == project_id, q.c.version == version,
                busy < overlap)).scalar_one())

    def count_labels(self, project_id: int, annotator_id: int | None = None) -> int:
        """Number of committed labels (of one annotator when given)."""
        lab = S.labels
        cond = [lab.c.project_id == project_id]
        if annotator_id is not None:
            cond.append(lab.c.annotator_id == annotator_id)
        with self.read_engine.begin() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(lab)
                                    .where(*cond)).scalar_one())

    def durations(self, project_id: int, annotator_id: int, last: int = 200
                  ) -> tuple[np.ndarray, np.ndarray]:
        """``(created_at, duration_s)`` of the annotator's latest labels, oldest first."""
        lab = S.labels
        with self.read_engine.begin() as conn:
            rows = conn.execute(sa.select(lab.c.created_at, lab.c.duration_s).where(
                lab.c.project_id == project_id, lab.c.annotator_id == annotator_id)
                .order_by(lab.c.id.desc()).limit(last)).all()
        rows = rows[::-1]
        t = np.asarray([r[0] for r in rows], dtype=float)
        d = np.asarray([np.nan if r[1] is None else r[1] for r in rows], dtype=float)
        return t, d

    # ------------------------------------------------------------------ models
    def try_acquire_trainer(self, project_id: int, owner: str, ttl: float = 120.0) -> bool:
        """Take (or renew) the project's trainer lease; only one process retrains at a time."""
        now = _now()
        p = S.projects
        with self.bg_engine.begin() as conn:
            res = conn.execute(sa.update(p).where(
                p.c.id == project_id,
                sa.or_(p.c.trainer_until <= now, p.c.trainer_owner == owner),
            ).values(trainer_until=now + ttl, trainer_owner=owner))
        return res.rowcount == 1

    def release_trainer(self, project_id: int, owner: str) -> None:
        """Give the trainer lease back."""
        p = S.projects
        with self.bg_engine.begin() as conn:
            conn.execute(sa.update(p).where(p.c.id == project_id, p.c.trainer_owner == owner)
                         .values(trainer_until=0.0, trainer_owner=None))

    def record_model(self, project_id: int, *, n_labels: int, cv_accuracy: float | None,
                     stop_agreement: float | None, fit_seconds: float, path: str | None,
                     stop_predictions: Sequence[Any] | None) -> int:
        """Store a new model version and make it current; returns the version."""
        p, m = S.projects, S.models
        now = _now()
        with self.bg_engine.begin() as conn:
            version = int(conn.execute(sa.select(p.c.model_version)
                                       .where(p.c.id == project_id)).scalar_one()) + 1
            conn.execute(sa.insert(m).values(
                project_id=project_id, version=version, created_at=now, n_labels=n_labels,
                cv_accuracy=cv_accuracy, stop_agreement=stop_agreement,
                fit_seconds=fit_seconds, path=path,
                stop_predictions=None if stop_predictions is None else json.dumps(
                    [str(x) for x in stop_predictions])))
            conn.execute(sa.update(p).where(p.c.id == project_id).values(model_version=version))
            self._event(conn, project_id, "model", None, None, {
                "version": version, "n_labels": n_labels, "cv_accuracy": cv_accuracy,
                "stop_agreement": stop_agreement, "fit_seconds": fit_seconds}, now)
        return version

    def model_rows(self, project_id: int) -> list[dict[str, Any]]:
        """Every model version, oldest first (without the stop-set predictions)."""
        m = S.models
        cols = [c for c in m.c if c.name != "stop_predictions"]
        with self.read_engine.begin() as conn:
            rows = conn.execute(sa.select(*cols).where(m.c.project_id == project_id)
                                .order_by(m.c.version)).mappings().all()
        return [dict(r) for r in rows]

    def last_model(self, project_id: int) -> dict[str, Any] | None:
        """The latest model version with its stop-set predictions, or None."""
        m = S.models
        with self.read_engine.begin() as conn:
            row = conn.execute(sa.select(m).where(m.c.project_id == project_id)
                               .order_by(m.c.version.desc()).limit(1)).mappings().first()
        if row is None:
            return None
        d = dict(row)
        sp = d.pop("stop_predictions")
        d["stop_predictions"] = None if sp is None else json.loads(sp)
        return d

    # ------------------------------------------------------------------ events
    def _event(self, conn: sa.Connection, project_id: int, kind: str, annotator_id: int | None,
               item_id: int | None, payload: dict[str, Any], ts: float | None = None) -> None:
        conn.execute(sa.insert(S.events).values(
            project_id=project_id, ts=_now() if ts is None else ts, kind=kind,
            annotator_id=annotator_id, item_id=None if item_id is None else int(item_id),
            payload=json.dumps(payload, default=_json_default)))

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


class _Duplicate(Exception):
    pass


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def majority_vote(item_ids: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One label per item: most votes, ties broken by the earliest label.

    Parameters
    ----------
    item_ids : ndarray of int, shape (n_labels,)
        Item of each label, in commit order.
    labels : ndarray, shape (n_labels,)

    Returns
    -------
    ids : ndarray of int64 (sorted), labels : ndarray of object
    """
    item_ids = np.asarray(item_ids, dtype=np.int64)
    labels = np.asarray(labels, dtype=object)
    if item_ids.size == 0:
        return item_ids, labels
    uniq_lab, lab_code = np.unique(labels.astype(str), return_inverse=True)
    uniq_ids, id_code = np.unique(item_ids, return_inverse=True)
    votes = np.zeros((uniq_ids.size, uniq_lab.size), dtype=np.int64)
    np.add.at(votes, (id_code, lab_code), 1)
    first = np.full((uniq_ids.size, uniq_lab.size), np.iinfo(np.int64).max)
    np.minimum.at(first, (id_code, lab_code), np.arange(item_ids.size))
    best = votes.max(axis=1, keepdims=True)
    first = np.where(votes == best, first, np.iinfo(np.int64).max)
    return uniq_ids, uniq_lab[first.argmin(axis=1)].astype(object)
