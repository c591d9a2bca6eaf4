"""The labeling web app: one HTML page and a REST API under ``/api``.

:func:`create_app` builds the FastAPI application for one project of a :class:`Store`.  Every
``/api`` route needs a token (``Authorization: Bearer <token>``); ``/api/admin/...`` routes need
the admin's.  The page itself (``/``) holds no data: it reads its token from the URL fragment.
The routes live in :mod:`activelab.server.routes`, one router per job; what they share is the
project's :class:`~activelab.server.state.LabelingState`.

Run it with ``activelab label`` or, for several worker processes,
``ACTIVELAB_DB=... ACTIVELAB_PROJECT=name uvicorn --factory activelab.server.app:app_from_env``.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from ..store import Store
from .options import check_public_url
from .routes import ROUTERS
from .routes.page import STATIC_DIR, mount_static
from .security import (
    DEFAULT_MAX_BODY_BYTES,
    BodySizeLimit,
    SecurityHeaders,
    validation_error_response,
)
from .state import DEFAULTS, LabelingState

__all__ = ["create_app", "app_from_env", "STATIC_DIR", "DEFAULTS"]


def create_app(
    store: Store,
    project_id: int,
    *,
    scorer: Any = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES // 16,
    public_url: str | None = None,
) -> FastAPI:
    """Build the labeling app for one project.

    Parameters
    ----------
    store : Store
        The project's database.
    project_id : int
    scorer : activelab.server.scorer.Scorer, optional
        Background retraining; started with the app and stopped at shutdown.
    max_body_bytes : int, default=65536
        Larger request bodies get 413.
    public_url : str, optional
        The address people open (behind a reverse proxy, say): the links the app hands out
        use it instead of the address of the request.

    Returns
    -------
    FastAPI
        With the project's state at ``app.state.labeling``.
    """
    if public_url is not None:
        public_url = check_public_url(public_url)
    state = LabelingState.load(store, project_id, scorer, public_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        if scorer is not None:
            scorer.start()
        yield
        if scorer is not None:
            scorer.stop()

    app = FastAPI(title="activelab labeling", version="1",
                  description="Label what the model asks for next.", lifespan=lifespan)
    app.state.labeling = state
    app.state.store, app.state.project_id, app.state.scorer = store, project_id, scorer
    for router in ROUTERS:
        app.include_router(router)
    mount_static(app)
    app.add_exception_handler(RequestValidationError, validation_error_response)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app


def app_from_env() -> Any:
    """App factory for ``uvicorn --factory`` (several workers share one database).

    Reads ``ACTIVELAB_DB`` (database URL), ``ACTIVELAB_PROJECT`` (project name) and, when
    set, ``ACTIVELAB_PUBLIC_URL`` (the address people open).  Each worker
    runs a scorer process; the database lease lets only one of them retrain at a time.
    """
    from .project import scorer_options
    from .scorer import ScorerProcess

    url = os.environ.get("ACTIVELAB_DB")
    name = os.environ.get("ACTIVELAB_PROJECT")
    if not url or not name:
        raise ValueError("set ACTIVELAB_DB and ACTIVELAB_PROJECT to run the app from a factory")
    store = Store(url)
    pid = store.find_project(name)
    if pid is None:
        raise ValueError(f"no project {name!r} in {url}: create it with `activelab label`")
    settings = DEFAULTS | store.project(pid)["settings"]
    scorer = None
    if settings.get("features_path"):
        scorer = ScorerProcess(url, pid, settings["features_path"], **scorer_options(settings))
    return create_app(store, pid, scorer=scorer,
                      public_url=os.environ.get("ACTIVELAB_PUBLIC_URL") or None)
