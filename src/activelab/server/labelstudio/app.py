"""The Label Studio backend over HTTP: the FastAPI application and the uvicorn server.

Routes: ``GET /`` and ``GET /health`` (open), ``POST /setup``, ``POST /predict``,
``GET /versions`` and the legacy ``POST /train`` (basic auth when configured), and
``POST /webhook`` (the shared secret header, or basic auth, when configured).  The blocking
work runs in a worker thread, so the event loop keeps answering ``/health``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any

try:
    from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "the Label Studio backend needs the app extra: pip install 'activelab[app]'."
    ) from exc

from ..security import BodySizeLimit
from .backend import LSBackend
from .settings import LSBackendConfig

__all__ = ["create_app", "serve", "SECRET_HEADER", "MAX_BODY_BYTES"]

log = logging.getLogger("activelab.labelstudio")

#: Header that carries the shared webhook secret.
SECRET_HEADER = "X-Activelab-Secret"

#: Largest request body accepted (Label Studio sends a whole batch of tasks to /predict).
MAX_BODY_BYTES = 256 << 20


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _basic_ok(header: str | None, expected: tuple[str, str]) -> bool:
    if not header or not header.lower().startswith("basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, _, password = decoded.partition(":")
    ok_user = hmac.compare_digest(user.encode(), expected[0].encode())
    ok_pass = hmac.compare_digest(password.encode(), expected[1].encode())
    return ok_user and ok_pass


# ------------------------------------------------------------------ dependencies
def backend_of(request: Request) -> LSBackend:
    """The backend an application serves (``app.state.backend``)."""
    return request.app.state.backend


def require_basic(request: Request, backend: LSBackend = Depends(backend_of)) -> None:
    """401 unless the request carries the configured basic auth (when there is one)."""
    expected = backend.config.basic_auth
    if expected is None:
        return
    if not _basic_ok(request.headers.get("authorization"), expected):
        raise HTTPException(
            status_code=401,
            detail="basic authentication required",
            headers={"WWW-Authenticate": 'Basic realm="activelab"'},
        )


def require_secret(request: Request, backend: LSBackend = Depends(backend_of)) -> None:
    """401 unless a webhook carries the shared secret (or valid basic auth), when configured."""
    settings = backend.config
    if settings.webhook_secret is None:
        return
    given = request.headers.get(SECRET_HEADER, "")
    if hmac.compare_digest(given.encode(), settings.webhook_secret.encode()):
        return
    if settings.basic_auth is not None and _basic_ok(
        request.headers.get("authorization"), settings.basic_auth
    ):
        return
    raise HTTPException(status_code=401, detail=f"missing or wrong {SECRET_HEADER} header")


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; 400 for anything else."""
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(status_code=400, detail="the body must be JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(status_code=400, detail="the body must be a JSON object")
    return body


def _call(func: Callable[..., Any], *args: Any) -> Any:
    try:
        return func(*args)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc


async def _in_thread(func: Callable[..., Any], *args: Any) -> Any:
    """Run a backend call in a worker thread; bad input becomes a 400 with its message."""
    return await run_in_threadpool(_call, func, *args)


# ------------------------------------------------------------------ routes
router = APIRouter()


@router.get("/")
@router.get("/health")
def health(backend: LSBackend = Depends(backend_of)) -> dict[str, Any]:
    """``{"status": "UP", ...}``: Label Studio polls it."""
    return backend.health()


@router.post("/setup", dependencies=[Depends(require_basic)])
async def setup(request: Request, backend: LSBackend = Depends(backend_of)) -> Any:
    """Parse the labeling config, remember the connection, report the model version."""
    return await _in_thread(backend.setup, await json_body(request))


@router.post("/predict", dependencies=[Depends(require_basic)])
async def predict(request: Request, backend: LSBackend = Depends(backend_of)) -> Any:
    """One prediction per task, scored by the strategy."""
    return await _in_thread(backend.predict, await json_body(request))


@router.post("/webhook", dependencies=[Depends(require_secret)])
async def webhook(request: Request, backend: LSBackend = Depends(backend_of)) -> Any:
    """Store annotation changes now; retrain in the background."""
    return JSONResponse(await _in_thread(backend.webhook, await json_body(request)),
                        status_code=201)


@router.post("/train", dependencies=[Depends(require_basic)])
async def train(request: Request, backend: LSBackend = Depends(backend_of)) -> Any:
    """The legacy training call."""
    return JSONResponse(await _in_thread(backend.train, await json_body(request)),
                        status_code=201)


@router.get("/versions", dependencies=[Depends(require_basic)])
async def versions(project: str | None = None, backend: LSBackend = Depends(backend_of)) -> Any:
    """The model versions of one project (or of all)."""
    return await _in_thread(backend.versions, project)


async def _logged_http_error(request: Request, exc: HTTPException) -> Any:
    """Log why a request was refused: Label Studio shows the status but drops the body."""
    if exc.status_code >= 400:
        log.warning("%s %s answered %d: %s", request.method, request.url.path,
                    exc.status_code, exc.detail)
    return await http_exception_handler(request, exc)


# ------------------------------------------------------------------ application
def create_app(config: LSBackendConfig | None = None, backend: LSBackend | None = None) -> Any:
    """The FastAPI application serving Label Studio's ML backend protocol.

    Parameters
    ----------
    config : LSBackendConfig, optional
        Settings (defaults when omitted).
    backend : LSBackend, optional
        An existing backend to serve (its ``config`` is used).

    Returns
    -------
    fastapi.FastAPI
        With the backend at ``app.state.backend``; the background trainer runs for
        the application's lifetime.
    """
    if backend is None:
        backend = LSBackend(config or LSBackendConfig())

    @asynccontextmanager
    async def lifespan(_app: Any) -> Any:
        backend.start()
        try:
            yield
        finally:
            backend.stop()

    app = FastAPI(title="activelab Label Studio ML backend", lifespan=lifespan)
    app.state.backend = backend
    app.add_exception_handler(HTTPException, _logged_http_error)
    # /predict carries whole batches of tasks; the limit only stops runaway bodies
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    app.include_router(router)
    return app


def serve(config: LSBackendConfig, host: str = "127.0.0.1", port: int = 9090) -> None:
    """Run the backend with uvicorn until interrupted.

    Binding to a non-loopback address without basic auth is refused: the backend
    would accept labels and serve predictions to anyone on the network.
    """
    if not _is_loopback(host) and config.basic_auth is None:
        raise ValueError(
            f"host {host!r} is reachable from other machines; give --basic-auth USER:PASSWORD "
            "(and --webhook-secret) or bind to 127.0.0.1."
        )
    import uvicorn

    app = create_app(config)
    uvicorn.run(app, host=host, port=port, log_level="info")
