"""The page: ``/`` serves ``index.html``, ``/static`` its script and style.

The page holds no data; it reads its token from the URL fragment.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["router", "mount_static", "STATIC_DIR"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter()


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    """The labeling page."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


def mount_static(app: FastAPI) -> None:
    """Serve the page's files under ``/static`` (a mount: routers cannot carry one)."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
