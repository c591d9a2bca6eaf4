"""The statements of the claim path (``GET /api/next``), built once.

A claim runs on every next-item request, inside the SQLite writer thread that every write of
the process queues for, so its Python work is on everybody's path.  Building a SQLAlchemy
statement and its cache key costs more than running it on SQLite; these statements are built
once, with bound parameters, so that a claim only binds values (SQLAlchemy memoizes the cache
key of a statement object and reuses its compiled form).

Parameters: ``pid`` (project), ``ann`` (annotator), ``now``, ``overlap``, ``lim`` (rows);
the ``w_`` ones are the conditions of the takeover of an expired lease, whose other values
are the new lease's columns.
"""

from __future__ import annotations

import sqlalchemy as sa

from . import schema as S

__all__ = ["HELD", "RENEW", "CANDIDATES", "ITEM_COLUMNS", "INSERT_LEASE", "TAKE_EXPIRED"]

_a, _q, _sk = S.assignments, S.queue, S.skips
_pid, _ann = sa.bindparam("pid"), sa.bindparam("ann")

#: The leases the annotator holds, oldest first.
HELD = (sa.select(_a).where(_a.c.project_id == _pid, _a.c.annotator_id == _ann,
                            _a.c.state == "leased")
        .order_by(_a.c.leased_at, _a.c.rank, _a.c.item_id))

#: Renew them: ``expires``.
RENEW = (sa.update(_a).where(_a.c.project_id == _pid, _a.c.annotator_id == _ann,
                             _a.c.state == "leased")
         .values(expires_at=sa.bindparam("expires")))

_a2 = _a.alias("a2")
_busy = (sa.select(sa.func.count()).select_from(_a2).where(
    _a2.c.project_id == _pid, _a2.c.item_id == _q.c.item_id,
    sa.or_(_a2.c.state == "done", _a2.c.expires_at > sa.bindparam("now"))).scalar_subquery())
_mine = sa.exists().where(_a.c.project_id == _pid, _a.c.item_id == _q.c.item_id,
                          _a.c.annotator_id == _ann)
_skipped = sa.exists().where(_sk.c.project_id == _pid, _sk.c.item_id == _q.c.item_id,
                             _sk.c.annotator_id == _ann)
# the current queue version (negative while a long queue is being written: its number)
_version = (sa.select(sa.func.abs(S.projects.c.queue_version))
            .where(S.projects.c.id == _pid).scalar_subquery())

_it = S.items

#: The next rows of the current queue the annotator may lease, in rank order, with their
#: items' ``key``, ``kind`` and ``content`` (the answer shows them: no second read).
CANDIDATES = (sa.select(_q, _it.c.key, _it.c.kind, _it.c.content)
              .join(_it, sa.and_(_it.c.project_id == _q.c.project_id,
                                 _it.c.item_id == _q.c.item_id))
              .where(_q.c.project_id == _pid, _q.c.version == _version,
                     ~_mine, ~_skipped, _busy < sa.bindparam("overlap"))
              .order_by(_q.c.rank).limit(sa.bindparam("lim")))

#: The item columns a new lease carries along (see :data:`CANDIDATES`).
ITEM_COLUMNS = ("key", "kind", "content")

#: A new lease (one row of ``assignments``; the primary key decides who gets the slot).
INSERT_LEASE = sa.insert(_a)

#: Take over the slot's lease when it has expired (values: the new lease's columns).
TAKE_EXPIRED = sa.update(_a).where(
    _a.c.project_id == sa.bindparam("w_pid"), _a.c.item_id == sa.bindparam("w_item"),
    _a.c.slot == sa.bindparam("w_slot"), _a.c.state == "leased",
    _a.c.expires_at <= sa.bindparam("w_now"))

