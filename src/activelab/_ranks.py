"""The top of a large array of scores, found without partitioning all of it."""

from __future__ import annotations

import numpy as np

__all__ = ["SAMPLED_ROWS", "near_top"]

#: Arrays longer than this are narrowed by a strided sample first.
SAMPLED_ROWS = 65_536


def near_top(u: np.ndarray, k: int) -> np.ndarray | None:
    """Positions (ascending) of ``u`` at or above a lower bound of its ``k``-th largest value.

    The bound is the ``k``-th largest value of a strided sample of ``u`` (a subset's
    ``k``-th largest is at most the whole array's), so the positions hold the top ``k``
    and typically a few times ``k`` more.  None when ``u`` is too short for a sample to
    pay (partition the whole array then).  ``u`` must hold no NaN.
    """
    n = u.shape[0]
    stride = min(16, n // (4 * k)) if n > SAMPLED_ROWS else 1
    if stride < 2:
        return None
    return np.flatnonzero(u >= np.partition(u[::stride], -k)[-k])
