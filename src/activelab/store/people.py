"""People of a project: annotators and admins, their hashed tokens, their label counts."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from . import schema as S
from .base import StoreBase, clock

__all__ = ["Annotator", "AnnotatorAccess", "hash_token"]


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



class AnnotatorAccess(StoreBase):
    """Create, revoke, authenticate and list the people of a project."""

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
                    created_at=clock(), active=True))
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

