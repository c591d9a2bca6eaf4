"""The labeling app's routes, one router per job.

=============  ==================================================================
module         routes
=============  ==================================================================
``page``       ``/`` (the page) and ``/static`` (its script and style)
``project``    ``/api/me``, ``/api/project``, ``/api/progress``
``items``      ``/api/next``, ``/api/items/{item_id}/image``
``labels``     ``/api/labels``, ``/api/skip``, ``/api/undo``
``admin``      ``/api/admin/annotators...``, ``/api/admin/stats``, ``/api/admin/retrain``
``exports``    ``/api/admin/export/{labels,model,events}``
``review``     ``/api/my/labels``, ``/api/items/{item_id}/comment``,
               ``/api/admin/{comments,disagreements,resolutions}``
=============  ==================================================================

Each router takes the project's :class:`~activelab.server.state.LabelingState` and the
authenticated person through FastAPI dependencies (:mod:`activelab.server.state`).
"""

from __future__ import annotations

from fastapi import APIRouter

from . import admin, exports, items, labels, page, project, review

__all__ = ["ROUTERS", "page"]

#: The API routers, in the order they are mounted.
ROUTERS: tuple[APIRouter, ...] = (page.router, project.router, items.router, labels.router,
                                  admin.router, exports.router, review.router)
