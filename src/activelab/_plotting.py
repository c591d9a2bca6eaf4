"""matplotlib, imported on demand (it is the optional ``plot`` extra).

The non-interactive ``Agg`` backend is chosen when no backend is configured (``MPLBACKEND``
unset), so the plots work on machines without a display.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["import_pyplot"]


def import_pyplot() -> Any:
    """``matplotlib.pyplot``, with a clear ImportError when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plotting needs matplotlib; install it with `pip install 'activelab[plot]'`."
        ) from exc
    if not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt
