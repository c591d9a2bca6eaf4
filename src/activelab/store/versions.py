"""Model versions of a project and the trainer lease (one retraining process at a time)."""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from . import schema as S
from .base import StoreBase, clock

__all__ = ["ModelVersions", "trainer_owner_id", "owner_is_gone"]


def _host() -> str:
    return socket.gethostname()[:40] or "host"


def trainer_owner_id(pid: int | None = None) -> str:
    """A trainer's name in the lease: ``host:pid:random`` (at most 64 characters).

    The host and process id let another process on the same machine see that the owner is
    gone (:func:`owner_is_gone`) and take its lease at once.
    """
    return f"{_host()}:{os.getpid() if pid is None else int(pid)}:{uuid.uuid4().hex[:12]}"


def owner_is_gone(owner: str | None) -> bool:
    """Whether the trainer ``owner`` (see :func:`trainer_owner_id`) is a process of this
    machine that no longer runs.  Owners on other machines cannot be checked: False."""
    host, _, rest = (owner or "").partition(":")
    pid_text = rest.partition(":")[0]
    if host != _host() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    try:  # a zombie has ended too
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


class ModelVersions(StoreBase):
    """Record and read model versions; hold the trainer lease."""

    def try_acquire_trainer(self, project_id: int, owner: str, ttl: float = 120.0) -> bool:
        """Take (or renew) the project's trainer lease; only one process retrains at a time.

        The lease is free when it has expired, or at once when its owner was a process of
        this machine that has ended (killed, crashed): see :func:`owner_is_gone`.
        """
        now = clock()
        p = S.projects
        with self.bg_engine.begin() as conn:
            res = conn.execute(sa.update(p).where(
                p.c.id == project_id,
                sa.or_(p.c.trainer_until <= now, p.c.trainer_owner == owner),
            ).values(trainer_until=now + ttl, trainer_owner=owner))
            if res.rowcount == 1:
                return True
            holder = conn.execute(sa.select(p.c.trainer_owner)
                                  .where(p.c.id == project_id)).scalar()
            if not owner_is_gone(holder):
                return False
            res = conn.execute(sa.update(p).where(p.c.id == project_id,
                                                  p.c.trainer_owner == holder)
                               .values(trainer_until=now + ttl, trainer_owner=owner))
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
        now = clock()
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

