"""Labeling projects in a database: the :class:`Store`, assembled from one part per job.

=====================  ==============================================================
part                   job
=====================  ==============================================================
:class:`Store`         projects: create, find, read, settings; their raw items
``AnnotatorAccess``    people and their tokens (:mod:`activelab.store.people`)
``QueueLeases``        ranked queues and leases (:mod:`activelab.store.queue`)
``LabelRecords``       labels, skips, undo and consensus (:mod:`activelab.store.labels`)
``Reviews``            own labels, comments, resolutions (:mod:`activelab.store.review`)
``ModelVersions``      model versions and the trainer lease (:mod:`activelab.store.versions`)
``EventLog``           the event log (:mod:`activelab.store.events`)
``ItemFields``         the columns annotators see (:mod:`activelab.store.fields`)
``ProbeRecords``       random checks: served counts, label history, outcomes
                       (:mod:`activelab.store.probes`)
=====================  ==============================================================

Every change is one database transaction, and the event describing it is written in that same
transaction: a label is acknowledged only after its commit.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from . import schema as S
from .base import CHUNK, clock
from .events import EventLog
from .fields import ItemFields
from .labels import majority_vote
from .people import Annotator, AnnotatorAccess, hash_token
from .probes import ProbeRecords
from .queue import LeaseLost, QueueLeases
from .review import Reviews
from .versions import ModelVersions

__all__ = ["Store", "Annotator", "LeaseLost", "hash_token", "majority_vote"]


#: Items by pool id (built once: every next-item answer reads its items).
_ITEMS = sa.select(S.items).where(S.items.c.project_id == sa.bindparam("pid"),
                                  S.items.c.item_id.in_(sa.bindparam("ids", expanding=True)))


class Store(AnnotatorAccess, QueueLeases, Reviews, ModelVersions, EventLog, ItemFields,
            ProbeRecords):
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

    def create_project(
        self,
        name: str,
        labels: Sequence[str],
        items: Iterable[tuple[str | None, str, str]],
        settings: dict[str, Any] | None = None,
        admin_name: str = "admin",
        fields: Sequence[Sequence[Sequence[str]]] | None = None,
    ) -> tuple[int, str]:
        """Create a project with its items and an admin; return ``(project_id, admin_token)``.

        Parameters
        ----------
        name : str
            Unique project name.
        labels : sequence of str
            The label choices, in button order (none for a regression project, whose
            ``settings`` say ``"task": "regression"``).
        items : iterable of (key, kind, content)
            One per pool id, in pool-id order; ``kind`` is ``"text"``, ``"image"`` or ``"row"``.
        settings : dict, optional
            JSON-able project settings (strategy, batch, overlap, ...).
        admin_name : str, default="admin"
        fields : sequence, optional
            Per item, ``[[column, value], ...]``: the columns annotators see
            (``--show-columns``), stored in the same transaction.

        Raises
        ------
        ValueError
            A project of that name exists, labels are empty or repeated, or there are no items.
        """
        labels = [str(x) for x in labels]
        numbers = (settings or {}).get("task") == "regression"  # answers are numbers: no labels
        if (not labels and not numbers) or len(set(labels)) != len(labels) \
                or any(not x.strip() for x in labels):
            raise ValueError(f"labels must be distinct non-empty names, got {labels!r}")
        if self.find_project(name) is not None:
            raise ValueError(f"project {name!r} exists already: open it instead")
        now = clock()
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
                if len(batch) >= CHUNK:
                    conn.execute(sa.insert(S.items), batch)
                    batch = []
            if batch:
                conn.execute(sa.insert(S.items), batch)
            if n == 0:
                raise ValueError("the project has no items: give data with at least one row")
            if fields is not None:
                if len(fields) != n:
                    raise ValueError(f"fields must have one entry per item ({n}), got "
                                     f"{len(fields)}")
                self._insert_fields(conn, pid, fields)
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

    def items(self, project_id: int, item_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Raw items by pool id."""
        if len(item_ids) == 0:
            return {}
        with self.read_engine.begin() as conn:
            rows = conn.execute(_ITEMS, {"pid": project_id,
                                         "ids": [int(i) for i in item_ids]}).mappings().all()
        return {int(r["item_id"]): dict(r) for r in rows}

