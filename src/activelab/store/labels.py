"""Committed labels: commit (exactly once), skip, undo, and the reads the model learns from.

A label is never counted twice: the unique constraint on ``(item, annotator)`` of ``labels``
turns a retried request into a ``duplicate`` answer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from . import schema as S
from .base import StoreBase, clock
from .queue import LeaseLost

__all__ = ["LabelRecords", "majority_vote"]


class _Duplicate(Exception):
    pass


# the statements of a commit, built once (a label is committed on every POST /api/labels)
_a = S.assignments
_LEASE_OF = sa.select(_a).where(_a.c.project_id == sa.bindparam("pid"),
                                _a.c.item_id == sa.bindparam("item"),
                                _a.c.annotator_id == sa.bindparam("ann"))
_MARK_DONE = sa.update(_a).where(
    _a.c.project_id == sa.bindparam("w_pid"), _a.c.item_id == sa.bindparam("w_item"),
    _a.c.slot == sa.bindparam("w_slot"), _a.c.annotator_id == sa.bindparam("w_ann"),
    _a.c.state == "leased").values(state="done")
_INSERT_LABEL = sa.insert(S.labels)
_COUNT = sa.select(sa.func.count()).select_from(S.labels).where(
    S.labels.c.project_id == sa.bindparam("pid"))


class LabelRecords(StoreBase):
    """Commit, skip and undo labels; read them back."""

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
        now = clock()
        try:
            return self._write(lambda conn: self._commit_in(
                conn, project_id, annotator_id, item_id, label, duration_s, now))
        except (_Duplicate, IntegrityError):
            with self.read_engine.begin() as conn:
                return self._existing_label(conn, project_id, annotator_id, item_id)

    def _commit_in(self, conn: sa.Connection, project_id: int, annotator_id: int,
                   item_id: int, label: str, duration_s: float | None, now: float
                   ) -> dict[str, Any]:
        """The writes of :meth:`commit_label`, inside ``conn``'s transaction."""
        row = conn.execute(_LEASE_OF, {"pid": project_id, "item": item_id,
                                       "ann": annotator_id}).mappings().first()
        if row is None:
            raise LeaseLost(f"item {item_id} is not assigned to you (the lease expired "
                            "and it went to someone else); take the next item")
        if row["state"] == "done":
            return self._existing_label(conn, project_id, annotator_id, item_id)
        res = conn.execute(_MARK_DONE, {"w_pid": project_id, "w_item": item_id,
                                        "w_slot": row["slot"], "w_ann": annotator_id})
        if res.rowcount != 1:
            raise _Duplicate()
        label_id = conn.execute(_INSERT_LABEL, {
            "project_id": project_id, "item_id": item_id, "annotator_id": annotator_id,
            "label": label, "created_at": now, "duration_s": duration_s,
            "model_version": row["model_version"], "utility": row["utility"],
            "rank": row["rank"], "guess": row["guess"], "confidence": row["confidence"],
        }).inserted_primary_key[0]
        self._event(conn, project_id, "label", annotator_id, item_id,
                    {"label": label, "duration_s": duration_s,
                     "model_version": row["model_version"], "utility": row["utility"],
                     "rank": row["rank"], "guess": row["guess"],
                     "label_id": int(label_id)}, now)
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

    def relabel(self, project_id: int, annotator_id: int, item_id: int, label: str
                ) -> dict[str, Any] | None:
        """Change the annotator's own label of an item; None when they have not labeled it.

        Returns ``{"status": "relabeled", "label_id", "item_id", "label", "previous"}``; the
        change is a ``relabel`` event.
        """
        lab = S.labels
        now = clock()
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(lab.c.id, lab.c.label).where(
                lab.c.project_id == project_id, lab.c.item_id == item_id,
                lab.c.annotator_id == annotator_id)).first()
            if row is None:
                return None
            conn.execute(sa.update(lab).where(lab.c.id == row[0]).values(label=label))
            self._event(conn, project_id, "relabel", annotator_id, item_id,
                        {"label": label, "previous": row[1], "label_id": int(row[0])}, now)
        return {"status": "relabeled", "label_id": int(row[0]), "item_id": item_id,
                "label": label, "previous": row[1]}

    def skip(self, project_id: int, annotator_id: int, item_id: int) -> bool:
        """Give an item back without a label; it will not be offered to this person again."""
        a = S.assignments
        now = clock()
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
        now = clock()
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

    def count_labels(self, project_id: int, annotator_id: int | None = None) -> int:
        """Number of committed labels (of one annotator when given)."""
        lab = S.labels
        if annotator_id is None:  # the count every label's answer carries: built once
            with self.read_engine.begin() as conn:
                return int(conn.execute(_COUNT, {"pid": project_id}).scalar_one())
        cond = [lab.c.project_id == project_id, lab.c.annotator_id == annotator_id]
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
