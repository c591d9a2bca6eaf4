"""Durable state of the Label Studio ML backend: connections, labels seen, model versions.

Three tables of their own (prefixed ``ls_``) so they can live in the same database as
the labeling app's tables without touching them:

- ``ls_projects``: per Label Studio project, the URL and access token sent by
  ``/setup`` (needed to fetch annotations on "Start Training") and the labeling config.
- ``ls_annotations``: every annotation received, one row per annotation id; the label
  of a task is its most recently written annotation.
- ``ls_model_versions``: one row per retrain, with the label set it was trained on.

SQLite is the default (``sqlite:///ls-backend.db``), PostgreSQL by URL
(``postgresql://...``); the engines come from :func:`activelab.store.db.make_engines`, as
the labeling app's do.  Writes are serialised by a lock, so concurrent webhooks never lose
an annotation.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from .db import make_engines

__all__ = ["LSState", "LabeledTask", "label_digest"]

metadata = MetaData()

ls_projects = Table(
    "ls_projects",
    metadata,
    Column("project", String(64), primary_key=True),
    Column("hostname", String(512), nullable=True),
    Column("access_token", String(512), nullable=True),
    Column("label_config", Text, nullable=True),
    Column("updated_at", Float, nullable=False),
)

ls_annotations = Table(
    "ls_annotations",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("project", String(64), nullable=False, index=True),
    Column("annotation_id", BigInteger, nullable=True),
    Column("task_id", BigInteger, nullable=False),
    Column("data", JSON, nullable=False),
    Column("choices", JSON, nullable=False),
    Column("written", BigInteger, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("project", "annotation_id", name="uq_ls_annotation"),
)

ls_model_versions = Table(
    "ls_model_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project", String(64), nullable=False, index=True),
    Column("version", String(128), nullable=False),
    Column("n_labels", Integer, nullable=False),
    Column("label_digest", String(64), nullable=False),
    Column("classes", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("project", "version", name="uq_ls_model_version"),
)


@dataclass(frozen=True)
class LabeledTask:
    """The current label of one Label Studio task.

    Attributes
    ----------
    task_id : int
        Label Studio's task id.
    data : dict
        The task's ``data`` (the item lives under the config's value key).
    choices : list of str
        The chosen labels (one for single choice).
    """

    task_id: int
    data: dict[str, Any]
    choices: list[str]


def label_digest(tasks: list[LabeledTask]) -> str:
    """A short fingerprint of a label set (same labels, same digest)."""
    payload = json.dumps(
        sorted((t.task_id, sorted(t.choices)) for t in tasks), separators=(",", ":")
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


class LSState:
    """Read and write the backend's tables.

    Parameters
    ----------
    url : str, default="sqlite:///ls-backend.db"
        ``sqlite:///file.db`` or ``postgresql://user@host/dbname``; the tables are created
        when missing.

    Raises
    ------
    ValueError, TypeError
        When ``url`` is not a database URL of a supported kind.
    """

    def __init__(self, url: str = "sqlite:///ls-backend.db") -> None:
        self.url = url
        self._engines = make_engines(url)
        self.engine, self.read_engine, _ = self._engines
        metadata.create_all(self.engine)
        self._lock = threading.Lock()
        with self.read_engine.connect() as conn:
            last = conn.execute(select(func.max(ls_annotations.c.written))).scalar()
        self._written = int(last or 0)

    def close(self) -> None:
        """Release the database connections."""
        for engine in set(self._engines):
            engine.dispose()

    def _next_written(self) -> int:
        self._written = max(self._written + 1, time.time_ns())
        return self._written

    # ----------------------------------------------------------------- projects
    def save_project(
        self,
        project: str,
        *,
        hostname: str | None = None,
        access_token: str | None = None,
        label_config: str | None = None,
    ) -> None:
        """Remember what ``/setup`` told about a project (``None`` keeps the old value)."""
        values = {
            k: v
            for k, v in (
                ("hostname", hostname),
                ("access_token", access_token),
                ("label_config", label_config),
            )
            if v is not None
        }
        now = time.time()
        with self._lock, self.engine.begin() as conn:
            found = conn.execute(
                select(ls_projects.c.project).where(ls_projects.c.project == project)
            ).first()
            if found is None:
                conn.execute(insert(ls_projects).values(project=project, updated_at=now, **values))
            else:
                conn.execute(
                    update(ls_projects)
                    .where(ls_projects.c.project == project)
                    .values(updated_at=now, **values)
                )

    def project(self, project: str) -> dict[str, Any] | None:
        """What is known about a project: hostname, access_token, label_config."""
        with self.read_engine.connect() as conn:
            row = conn.execute(
                select(ls_projects).where(ls_projects.c.project == project)
            ).mappings().first()
        return dict(row) if row is not None else None

    def projects(self) -> list[str]:
        """Every project that has a connection, annotations or model versions."""
        with self.read_engine.connect() as conn:
            names: set[str] = set()
            for table in (ls_projects, ls_annotations, ls_model_versions):
                names.update(conn.execute(select(table.c.project).distinct()).scalars())
        return sorted(names)

    # -------------------------------------------------------------- annotations
    def record_annotation(
        self,
        project: str,
        task_id: int,
        data: dict[str, Any],
        choices: list[str] | None,
        annotation_id: int | None = None,
    ) -> None:
        """Store (or replace) one annotation; ``choices=None`` removes it.

        Parameters
        ----------
        project : str
            Project key.
        task_id : int
            Label Studio task id.
        data : dict
            The task's data.
        choices : list of str or None
            The labels given; ``None`` for a cancelled (skipped) or empty annotation,
            which removes what that annotation said before.
        annotation_id : int, optional
            Label Studio's annotation id; without one the task's label is replaced.
        """
        self.record_annotations(project, [(task_id, data, choices, annotation_id)])

    def record_annotations(
        self,
        project: str,
        rows: list[tuple[int, dict[str, Any], list[str] | None, int | None]],
    ) -> None:
        """Store many ``(task_id, data, choices, annotation_id)`` in one transaction."""
        with self._lock, self.engine.begin() as conn:
            self._write_annotations(conn, project, rows)

    def _write_annotations(
        self,
        conn: Connection,
        project: str,
        rows: list[tuple[int, dict[str, Any], list[str] | None, int | None]],
    ) -> None:
        now = time.time()
        t = ls_annotations.c
        for task_id, data, choices, annotation_id in rows:
            if annotation_id is None:
                where = (t.project == project) & (t.task_id == int(task_id)) & (
                    t.annotation_id.is_(None)
                )
            else:
                where = (t.project == project) & (t.annotation_id == int(annotation_id))
            conn.execute(delete(ls_annotations).where(where))
            if choices is None:
                continue
            conn.execute(
                insert(ls_annotations).values(
                    project=project,
                    annotation_id=None if annotation_id is None else int(annotation_id),
                    task_id=int(task_id),
                    data=data,
                    choices=[str(c) for c in choices],
                    written=self._next_written(),
                    updated_at=now,
                )
            )

    def delete_annotations(
        self,
        project: str,
        annotation_ids: list[int] | tuple[int, ...] = (),
        task_ids: list[int] | tuple[int, ...] = (),
    ) -> int:
        """Forget annotations by id, and all annotations of some tasks; returns rows removed."""
        t = ls_annotations.c
        removed = 0
        with self._lock, self.engine.begin() as conn:
            if annotation_ids:
                removed += conn.execute(
                    delete(ls_annotations).where(
                        (t.project == project)
                        & t.annotation_id.in_([int(a) for a in annotation_ids])
                    )
                ).rowcount
            if task_ids:
                removed += conn.execute(
                    delete(ls_annotations).where(
                        (t.project == project) & t.task_id.in_([int(a) for a in task_ids])
                    )
                ).rowcount
        return int(removed)

    def replace_annotations(
        self,
        project: str,
        rows: list[tuple[int, dict[str, Any], list[str] | None, int | None]],
    ) -> None:
        """Make ``rows`` the project's whole label set (a full sync from an export).

        One transaction: a reader sees the old label set or the new one, never a mix.
        """
        with self._lock, self.engine.begin() as conn:
            conn.execute(delete(ls_annotations).where(ls_annotations.c.project == project))
            self._write_annotations(conn, project, rows)

    def n_annotations(self, project: str) -> int:
        """Number of stored annotations of a project."""
        with self.read_engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(ls_annotations).where(
                        ls_annotations.c.project == project
                    )
                ).scalar()
                or 0
            )

    def labeled_tasks(self, project: str) -> list[LabeledTask]:
        """The current label of every labeled task, ordered by task id.

        A task labeled several times (several annotators, or updates) takes the
        annotation written last.
        """
        t = ls_annotations.c
        with self.read_engine.connect() as conn:
            rows = conn.execute(
                select(t.task_id, t.data, t.choices)
                .where(t.project == project)
                .order_by(t.written)
            ).all()
        latest = {int(r.task_id): r for r in rows}
        return [
            LabeledTask(task_id=k, data=dict(latest[k].data), choices=list(latest[k].choices))
            for k in sorted(latest)
        ]

    # ----------------------------------------------------------- model versions
    def add_version(
        self, project: str, version: str, n_labels: int, digest: str, classes: list[str]
    ) -> None:
        """Record a new model version trained on ``n_labels`` labels."""
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                insert(ls_model_versions).values(
                    project=project,
                    version=version,
                    n_labels=int(n_labels),
                    label_digest=digest,
                    classes=list(classes),
                    created_at=time.time(),
                )
            )

    def versions(self, project: str) -> list[dict[str, Any]]:
        """Every model version of a project, oldest first."""
        v = ls_model_versions.c
        with self.read_engine.connect() as conn:
            rows = conn.execute(
                select(v.version, v.n_labels, v.label_digest, v.classes, v.created_at)
                .where(v.project == project)
                .order_by(v.id)
            ).mappings().all()
        return [dict(r) for r in rows]

    def latest_version(self, project: str) -> dict[str, Any] | None:
        """The newest model version of a project, or ``None``."""
        found = self.versions(project)
        return found[-1] if found else None
