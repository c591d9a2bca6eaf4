"""Optional compiled scoring: the fused uncertainty kernels of the ``activelab-kernels`` add-on.

When the add-on is installed (``pip install ./kernels`` from a checkout; it needs a C
compiler) and the processor has AVX-512 (float32 and float64 pools) or AVX2 with FMA
(float32 pools), least confident, margin and entropy of a linear softmax or logistic
model on a dense pool are computed by one C loop per row: logits, softmax and the
measure stay in registers and nothing of size rows × classes is stored.  Everything else, and every machine without the add-on, keeps
the numpy path of :mod:`activelab.proba`.

The kernel's values agree with numpy's to about 1e-6 (float32 pools) or 1e-13
(float64); they are not bit-equal (another ``exp``, another order of additions).  A
query therefore re-scores with numpy every item whose compiled value is within
:func:`tolerance` of the cut-off before choosing (:func:`exact_near_cut`), so the ids
are the numpy path's ids.  Set ``ACTIVELAB_KERNELS=0`` (or ``off``; or use
:func:`kernels_off`) to keep numpy everywhere.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ._ranks import near_top
from .parallel import run_blocks
from .pool import RowView

__all__ = [
    "MEASURES",
    "compiled_utilities",
    "exact_near_cut",
    "kernels_available",
    "kernels_off",
    "tolerance",
]

#: The measures the kernel computes, by strategy name (the kernel's own codes).
MEASURES = {"entropy": 0, "margin": 1, "least_confident": 2}
#: Classes the kernel holds in one register row.
MAX_CLASSES = 16
#: Rows per kernel call (one block of the thread pool).
BLOCK_ROWS = 65_536

_STATE = threading.local()


def _module() -> Any | None:
    try:
        import activelab_kernels
    except ImportError:
        return None
    return activelab_kernels if activelab_kernels.simd() != "portable" else None


def kernels_available() -> bool:
    """Whether the compiled kernels are installed, usable here (AVX-512 or AVX2) and on."""
    setting = os.environ.get("ACTIVELAB_KERNELS", "1").strip().lower()
    if getattr(_STATE, "off", False) or setting in ("0", "false", "no", "off"):
        return False
    return _module() is not None


@contextlib.contextmanager
def kernels_off() -> Iterator[None]:
    """Keep the numpy path inside the ``with`` block (this thread only)."""
    before = getattr(_STATE, "off", False)
    _STATE.off = True
    try:
        yield
    finally:
        _STATE.off = before


def tolerance(dtype: np.dtype) -> float:
    """How far (relative to ``1 + |value|``) a compiled value may be from numpy's."""
    return 1e-4 if np.dtype(dtype) == np.float32 else 1e-9


def _affine(steps: list[Any]) -> tuple[np.ndarray | None, np.ndarray | None] | None:
    """(mean, scale) of the pipeline's transform when it is one standard scaler (both None
    with no transform), else None."""
    from sklearn.preprocessing import StandardScaler

    if not steps:
        return None, None
    if len(steps) > 1:
        return None  # two transforms in a row: rare, left to numpy
    step = getattr(steps[0], "scaler_", steps[0])  # SparseSafeScaler wraps a StandardScaler
    if type(step) is not StandardScaler:
        return None
    return (step.mean_ if step.with_mean else None), (step.scale_ if step.with_std else None)


def _weights(kernel: Any, dtype: np.dtype, n_features: int
             ) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Padded (n_features, 16) weights and (16,) bias of a linear kernel, in ``dtype``, and
    the number of classes (softmax outputs) they hold."""
    if kernel.mode not in ("softmax", "binary"):
        return None
    affine = _affine(kernel.steps)
    if affine is None:
        return None
    coef = np.asarray(kernel.coef, dtype=np.float64)
    intercept = np.asarray(kernel.intercept, dtype=np.float64)
    if kernel.mode == "binary":  # sigmoid(z) is the softmax of (0, z)
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([[0.0], intercept])
    if coef.shape[0] > MAX_CLASSES or coef.shape[1] != n_features:
        return None
    mean, scale = affine
    if scale is not None:
        coef = coef / scale
    if mean is not None:
        intercept = intercept - coef @ mean
    W = np.zeros((n_features, MAX_CLASSES), dtype=dtype)
    W[:, : coef.shape[0]] = coef.T
    b = np.zeros(MAX_CLASSES, dtype=dtype)
    b[: coef.shape[0]] = intercept
    return W, b, coef.shape[0]


def _pool(X: Any) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The dense base array of ``X`` and its row positions (None: all rows in order)."""
    base, rows = (X.base, X.positions) if isinstance(X, RowView) else (X, None)
    if not isinstance(base, np.ndarray) or base.ndim != 2 or base.dtype not in (
        np.float32, np.float64
    ) or not base.flags.c_contiguous or base.shape[1] == 0:
        return None
    if rows is not None and isinstance(X, RowView) and X._contiguous == (0, base.shape[0]):
        rows = None
    return base, None if rows is None else np.ascontiguousarray(rows, dtype=np.int64)


def compiled_utilities(estimator: Any, X: Any, measure: str) -> np.ndarray | None:
    """The compiled kernel's ``measure`` of every row of ``X``, or None when it does not apply.

    It applies when :func:`kernels_available`, ``X`` is a dense C-contiguous float32 or
    float64 array (or a :class:`~activelab.pool.RowView` of one), and the estimator's
    probabilities are the softmax or sigmoid of a linear model's logits (alone or after
    standard scaling), with at most 16 classes, as :func:`activelab.proba.probability_kernel`
    checks on a few rows.

    Parameters
    ----------
    estimator : fitted classifier
    X : array-like of shape (n, n_features)
    measure : {"entropy", "margin", "least_confident"}

    Returns
    -------
    ndarray of float64, shape (n,), or None
    """
    from .proba import _LinearKernel, probability_kernel

    if measure not in MEASURES or not kernels_available():
        return None
    pool = _pool(X)
    if pool is None:
        return None
    base, rows = pool
    if base.dtype == np.float64 and _module().simd() != "avx512":  # type: ignore[union-attr]
        return None  # the AVX2 kernels are float32 ones
    kernel = probability_kernel(estimator, X)
    if not isinstance(kernel, _LinearKernel):
        return None
    weights = _weights(kernel, base.dtype, base.shape[1])
    if weights is None:
        return None
    return _run(base, rows, weights, MEASURES[measure])


def _run(base: np.ndarray, rows: np.ndarray | None,
         weights: tuple[np.ndarray, np.ndarray, int], code: int) -> np.ndarray:
    score = _module().score  # type: ignore[union-attr]
    W, b, n_classes = weights
    n = base.shape[0] if rows is None else rows.shape[0]
    out = np.empty(n, dtype=np.float64)

    def one(i: int) -> None:
        start, stop = i * BLOCK_ROWS, min((i + 1) * BLOCK_ROWS, n)
        if rows is None:
            score(base, base.shape[1], base.itemsize, None, start, stop - start, W, b,
                  n_classes, code, out[start:stop])
        else:
            score(base, base.shape[1], base.itemsize, rows[start:stop], 0, stop - start, W, b,
                  n_classes, code, out[start:stop])

    if n:
        run_blocks(-(-n // BLOCK_ROWS), one, pin_blas=False)
    return out


def exact_near_cut(
    approx: np.ndarray, k: int, exact: Callable[[np.ndarray], np.ndarray], tol: float,
    *, n_check: int = 1024,
) -> np.ndarray:
    """``approx`` with the exact values at every position that could reach the top ``k``.

    The positions whose approximate value is within a margin of the ``k``-th largest
    one (or above it) get ``exact(positions)``; the margin starts at ``tol * (1 + |cut|)``.
    The largest difference between the two seen on those positions and on ``n_check``
    positions drawn at random is then checked against it: when it is more than half the
    margin, the margin grows to four times that difference and the new positions are
    re-scored, up to the whole pool.  Once the differences are within half the margin,
    the top ``k`` of the result are those of the exact values, ties and order included.

    Parameters
    ----------
    approx : ndarray of float64, shape (n,)
        Modified in place and returned.
    k : int
        ``1 <= k <= n``.
    exact : callable
        ``exact(positions) -> ndarray`` of the exact values at those (ascending) positions.
    tol : float
    n_check : int, default=1024
        Random positions on which the differences are checked as well.

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    n = approx.shape[0]
    cut = _kth_largest(approx, k)
    margin = tol * (1.0 + abs(cut))
    scored = np.zeros(n, dtype=bool)
    check = np.random.default_rng(0).choice(n, size=min(n, n_check), replace=False)
    positions, values = [], []
    while True:
        todo = np.union1d(np.flatnonzero(approx >= cut - margin), check)
        todo = todo[~scored[todo]]
        if todo.size:
            positions.append(todo)
            values.append(np.asarray(exact(todo), dtype=np.float64))
            scored[todo] = True
        worst = max(float(np.max(np.abs(v - approx[p]), initial=0.0))
                    for p, v in zip(positions, values, strict=True))
        if worst <= margin / 2 or scored.all():
            break
        margin = 4.0 * worst
    for p, v in zip(positions, values, strict=True):
        approx[p] = v
    return approx


def _kth_largest(u: np.ndarray, k: int) -> float:
    """The ``k``-th largest value of ``u`` (:func:`~activelab._ranks.near_top` narrows a
    large array first)."""
    near = near_top(u, k)
    return float(np.partition(u if near is None else u[near], -k)[-k])
