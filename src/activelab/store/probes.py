"""Random checks of the queue: how many were served, the label history, their outcomes.

A *random check* (a *probe*) is a queue row whose item was drawn uniformly at random from the
items nobody held or labeled; its strategy is :data:`PROBE_STRATEGY`, and the lease and the
label of the item carry it.  The trainer turns the labeled checks into the live verdict
(:mod:`activelab.server.verdict`) and keeps each check's outcome in ``al_probe_outcomes``,
so that a restart or a second server does not compute it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa

from . import schema as S
from .base import StoreBase, clock

__all__ = ["ProbeRecords", "PROBE_STRATEGY", "RANDOM_STRATEGIES"]

#: The strategy of a queue row drawn at random as a check.
PROBE_STRATEGY = "random_probe"

#: Strategies whose items are uniform draws: the seeded first queue and the random order of
#: a cold-start queue (``"random"``), and the checks.
RANDOM_STRATEGIES = ("random", PROBE_STRATEGY)


class ProbeRecords(StoreBase):
    """Count the checks served, read the label history, keep the checks' outcomes."""

    def served_counts(self, project_id: int, now: float | None = None) -> tuple[int, int]:
        """``(served, checks)``: items served since ranking began and the checks among them.

        An item counts when one of its leases is held or done and came from a ranked queue
        (not from the first random queue or a cold-start queue).
        """
        now = clock() if now is None else now
        a = S.assignments
        live = sa.or_(a.c.state == "done", a.c.expires_at > now)
        ranked = sa.and_(a.c.strategy != "random", ~a.c.strategy.like("cold_start:%"))
        count = sa.func.count(sa.distinct(a.c.item_id))
        with self.read_engine.begin() as conn:
            served = conn.execute(sa.select(count).where(
                a.c.project_id == project_id, live, ranked)).scalar_one()
            checks = conn.execute(sa.select(count).where(
                a.c.project_id == project_id, live,
                a.c.strategy == PROBE_STRATEGY)).scalar_one()
        return int(served), int(checks)

    def check_signal(self, project_id: int) -> tuple[int, int]:
        """A cheap sign that the checks' outcomes may have changed: the items with a done
        lease that came from a check, and the id of the latest relabel, undo or resolution."""
        a, e = S.assignments, S.events
        with self.read_engine.begin() as conn:
            done = conn.execute(sa.select(sa.func.count(sa.distinct(a.c.item_id))).where(
                a.c.project_id == project_id, a.c.state == "done",
                a.c.strategy == PROBE_STRATEGY)).scalar_one()
            change = conn.execute(sa.select(sa.func.max(e.c.id)).where(
                e.c.project_id == project_id,
                e.c.kind.in_(["relabel", "undo", "resolve"]))).scalar()
        return int(done), int(change or 0)

    def label_history(self, project_id: int) -> dict[str, np.ndarray]:
        """Every label with what its lease says, in the order the labels were created.

        Returns
        -------
        dict of ndarray
            ``label_id``, ``item_id``, ``label`` (object), ``created_at``, ``guess`` (object;
            the guess of the item's queue row, None when none was stored), ``strategy`` (str;
            the strategy of the queue row the lease came from, ``""`` when unknown) and
            ``leased_at`` (NaN when unknown).
        """
        lab, a = S.labels, S.assignments
        joined = lab.outerjoin(a, sa.and_(a.c.project_id == lab.c.project_id,
                                          a.c.item_id == lab.c.item_id,
                                          a.c.annotator_id == lab.c.annotator_id))
        with self.read_engine.begin() as conn:
            rows = conn.execute(
                sa.select(lab.c.id, lab.c.item_id, lab.c.label, lab.c.created_at,
                          lab.c.guess, a.c.strategy, a.c.leased_at)
                .select_from(joined).where(lab.c.project_id == project_id)
                .order_by(lab.c.created_at, lab.c.id)).all()
        cols = list(zip(*rows, strict=True)) if rows else [()] * 7
        return {
            "label_id": np.asarray(cols[0], dtype=np.int64),
            "item_id": np.asarray(cols[1], dtype=np.int64),
            "label": np.asarray(cols[2], dtype=object),
            "created_at": np.asarray(cols[3], dtype=float),
            "guess": np.asarray(cols[4], dtype=object),
            "strategy": np.asarray(["" if s is None else s for s in cols[5]], dtype=object),
            "leased_at": np.asarray([np.nan if t is None else t for t in cols[6]], dtype=float),
        }

    def probe_outcomes(self, project_id: int) -> list[dict[str, Any]]:
        """The stored outcomes of the checks, by item id."""
        po = S.probe_outcomes
        with self.read_engine.begin() as conn:
            rows = conn.execute(sa.select(po).where(po.c.project_id == project_id)
                                .order_by(po.c.item_id)).mappings().all()
        return [dict(r) for r in rows]

    def save_probe_outcomes(self, project_id: int, rows: Sequence[dict[str, Any]],
                            drop: Sequence[int] = ()) -> None:
        """Store (replace) outcomes and remove those of items in ``drop``, in one transaction.

        Each row has ``item_id``, ``k``, ``n_labels``, ``label``, ``active_correct``,
        ``random_correct`` (None: nothing to compare) and ``model_version``.
        """
        po = S.probe_outcomes
        gone = sorted({int(i) for i in drop} | {int(r["item_id"]) for r in rows})
        if not gone:
            return
        now = clock()
        values = [{"project_id": project_id, "item_id": int(r["item_id"]), "k": int(r["k"]),
                   "n_labels": int(r["n_labels"]), "label": str(r["label"]),
                   "active_correct": _flag(r["active_correct"]),
                   "random_correct": _flag(r["random_correct"]),
                   "model_version": int(r["model_version"]), "created_at": now} for r in rows]
        with self.bg_engine.begin() as conn:
            conn.execute(sa.delete(po).where(po.c.project_id == project_id,
                                             po.c.item_id.in_(gone)))
            if values:
                conn.execute(sa.insert(po), values)


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)
