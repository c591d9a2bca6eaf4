"""Where the recorded Label Studio 1.23.2 fixtures live (``shared/fixtures``), if present.

``FIXTURES`` is the folder, or None when it is absent; ``needs_fixtures`` skips a test (or,
as ``pytestmark``, a module) in that case.
"""

from __future__ import annotations

from pathlib import Path

import pytest

__all__ = ["FIXTURES", "needs_fixtures"]


def _fixtures() -> Path | None:
    for base in (Path(__file__).resolve().parents[2] / "shared", Path("/work/shared")):
        folder = base / "fixtures" / "labelstudio-1.23.2"
        if folder.is_dir():
            return folder
    return None


FIXTURES = _fixtures()
needs_fixtures = pytest.mark.skipif(
    FIXTURES is None, reason="the recorded Label Studio fixtures (shared/fixtures) are absent"
)
