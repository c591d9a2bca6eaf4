"""Reviewing labels as a team: an annotator's own labels with their changes, a comment per item
and person, and the admin's resolution of items whose annotators disagree.

A resolution is the admin's label for an item: the model then learns that label, whatever
the votes say (:meth:`Reviews.consensus`).  Every comment and resolution is an event of the
log, written in the same transaction (who, when, what).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa

from . import schema as S
from .base import clock
from .labels import LabelRecords

__all__ = ["Reviews", "MAX_COMMENT_CHARS"]

#: Longest comment stored.
MAX_COMMENT_CHARS = 2000


class Reviews(LabelRecords):
    """Own labels with their history, comments, disagreements and their resolutions."""

    def my_labels(self, project_id: int, annotator_id: int, limit: int = 50,
                  before: int | None = None) -> list[dict[str, Any]]:
        """The annotator's labels, newest first (``before``: label ids below it only).

        Each row has ``label_id``, ``item_id``, ``label``, ``created_at``, ``changed_at``
        (the latest change by ``PUT /api/labels``, or None) and the person's ``comment``.
        """
        lab, e, cm = S.labels, S.events, S.comments
        cond = [lab.c.project_id == project_id, lab.c.annotator_id == annotator_id]
        if before is not None:
            cond.append(lab.c.id < before)
        with self.read_engine.begin() as conn:
            rows = conn.execute(sa.select(lab.c.id, lab.c.item_id, lab.c.label,
                                          lab.c.created_at).where(*cond)
                                .order_by(lab.c.id.desc()).limit(limit)).all()
            ids = [int(r[1]) for r in rows]
            changed = dict(conn.execute(sa.select(e.c.item_id, sa.func.max(e.c.ts)).where(
                e.c.project_id == project_id, e.c.kind == "relabel",
                e.c.annotator_id == annotator_id, e.c.item_id.in_(ids))
                .group_by(e.c.item_id)).all()) if ids else {}
            notes = dict(conn.execute(sa.select(cm.c.item_id, cm.c.text).where(
                cm.c.project_id == project_id, cm.c.annotator_id == annotator_id,
                cm.c.item_id.in_(ids))).all()) if ids else {}
        return [{"label_id": int(r[0]), "item_id": int(r[1]), "label": r[2],
                 "created_at": r[3], "changed_at": changed.get(int(r[1])),
                 "comment": notes.get(int(r[1]))} for r in rows]

    def set_comment(self, project_id: int, annotator_id: int, item_id: int, text: str
                    ) -> str | None:
        """Store (or, with empty ``text``, remove) the person's comment on an item.

        Returns ``"saved"`` or ``"removed"``; None when the person neither holds nor
        labeled the item.  The change is a ``comment`` event.
        """
        a, cm = S.assignments, S.comments
        text = str(text).strip()[:MAX_COMMENT_CHARS]
        now = clock()
        key = (cm.c.project_id == project_id, cm.c.item_id == item_id,
               cm.c.annotator_id == annotator_id)
        with self.engine.begin() as conn:
            mine = conn.execute(sa.select(a.c.slot).where(
                a.c.project_id == project_id, a.c.item_id == item_id,
                a.c.annotator_id == annotator_id)).first()
            if mine is None:
                return None
            conn.execute(sa.delete(cm).where(*key))
            if text:
                conn.execute(sa.insert(cm).values(project_id=project_id, item_id=item_id,
                                                  annotator_id=annotator_id, text=text,
                                                  updated_at=now))
            self._event(conn, project_id, "comment", annotator_id, item_id, {"text": text}, now)
        return "saved" if text else "removed"

    def comments(self, project_id: int, item_ids: Sequence[int] | None = None
                 ) -> list[dict[str, Any]]:
        """Comments (all, or on ``item_ids``), oldest first, with the author's name."""
        cm, ann = S.comments, S.annotators
        cond = [cm.c.project_id == project_id]
        if item_ids is not None:
            cond.append(cm.c.item_id.in_([int(i) for i in item_ids]))
        with self.read_engine.begin() as conn:
            rows = conn.execute(sa.select(cm.c.item_id, cm.c.annotator_id, cm.c.text,
                                          cm.c.updated_at, ann.c.name.label("annotator"))
                                .join(ann, ann.c.id == cm.c.annotator_id).where(*cond)
                                .order_by(cm.c.updated_at)).mappings().all()
        return [dict(r) for r in rows]

    def resolve(self, project_id: int, admin_id: int, item_id: int, label: str
                ) -> dict[str, Any] | None:
        """Record the admin's label for an item; None when nobody has labeled the item.

        A later resolution replaces the earlier one; each is a ``resolve`` event.
        """
        lab, res = S.labels, S.resolutions
        now = clock()
        with self.engine.begin() as conn:
            votes = conn.execute(sa.select(lab.c.annotator_id, lab.c.label).where(
                lab.c.project_id == project_id, lab.c.item_id == item_id)).all()
            if not votes:
                return None
            conn.execute(sa.delete(res).where(res.c.project_id == project_id,
                                              res.c.item_id == item_id))
            conn.execute(sa.insert(res).values(project_id=project_id, item_id=item_id,
                                               label=label, resolved_by=admin_id,
                                               resolved_at=now))
            self._event(conn, project_id, "resolve", admin_id, item_id,
                        {"label": label, "votes": {str(a): v for a, v in votes}}, now)
        return {"status": "resolved", "item_id": item_id, "label": label,
                "resolved_by": admin_id, "resolved_at": now}

    def resolutions(self, project_id: int) -> dict[int, dict[str, Any]]:
        """Item -> ``{"label", "resolved_by", "resolver", "resolved_at"}``."""
        res, ann = S.resolutions, S.annotators
        with self.read_engine.begin() as conn:
            rows = conn.execute(sa.select(res.c.item_id, res.c.label, res.c.resolved_by,
                                          res.c.resolved_at, ann.c.name.label("resolver"))
                                .join(ann, ann.c.id == res.c.resolved_by)
                                .where(res.c.project_id == project_id)).mappings().all()
        return {int(r["item_id"]): {k: r[k] for k in ("label", "resolved_by", "resolver",
                                                       "resolved_at")} for r in rows}

    def label_rows_of(self, project_id: int, item_ids: Sequence[int]) -> list[dict[str, Any]]:
        """The labels of some items, oldest first, with the annotator's name."""
        lab, ann = S.labels, S.annotators
        if len(item_ids) == 0:
            return []
        with self.read_engine.begin() as conn:
            rows = conn.execute(
                sa.select(lab, ann.c.name.label("annotator"))
                .join(ann, ann.c.id == lab.c.annotator_id)
                .where(lab.c.project_id == project_id,
                       lab.c.item_id.in_([int(i) for i in item_ids]))
                .order_by(lab.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def disagreement_ids(self, project_id: int) -> list[int]:
        """Items whose annotators gave more than one distinct label, by item id."""
        lab = S.labels
        with self.read_engine.begin() as conn:
            rows = conn.execute(sa.select(lab.c.item_id).where(lab.c.project_id == project_id)
                                .group_by(lab.c.item_id)
                                .having(sa.func.count(sa.distinct(lab.c.label)) > 1)
                                .order_by(lab.c.item_id)).all()
        return [int(r[0]) for r in rows]

    def consensus(self, project_id: int) -> tuple[np.ndarray, np.ndarray]:
        """One label per labeled item: the admin's resolution where there is one, else the
        majority vote (ties: the earliest label).  What the model learns from."""
        ids, labs = super().consensus(project_id)
        resolved = self.resolutions(project_id)
        if resolved and ids.size:
            labs = labs.copy()
            pos = np.searchsorted(ids, np.fromiter(resolved, dtype=np.int64))
            for p, (item, r) in zip(pos, resolved.items(), strict=True):
                if p < ids.size and ids[p] == item:
                    labs[p] = r["label"]
        return ids, labs
