"""Model outputs computed fast: class probabilities of a pool, block by block.

Every strategy that reads class probabilities gets them from here: either the whole
matrix (:func:`predict_proba_chunked`, behind
:attr:`~activelab.strategies.QueryContext.proba`) or, for a utility that is a function
of each row's probabilities (entropy, margin, ...), the utility itself, computed block
by block without ever holding the n × C matrix (:func:`reduce_proba`).  What makes it
fast on large pools:

- a fitted linear classifier (``LogisticRegression``, ``SGDClassifier(loss="log_loss")``,
  ..., alone or as the last step of a pipeline) on a dense float or CSR pool is evaluated
  from its weights in the pool's own dtype (softmax, sigmoid or one-vs-rest of
  ``X @ coef_.T + intercept_``), skipping scikit-learn's validation pass and float64
  copy; another model with ``decision_function`` is evaluated through it the same way.
  The formula is first checked against the estimator's own ``predict_proba`` on a few
  rows; whenever they disagree, the estimator's method is used;
- the pool is read in blocks of :func:`kernel_rows` rows; each block's logits, link
  function and utility stay in cache, in class-major layout (one contiguous row per
  class), and blocks run in a pool of threads (numpy and BLAS release the GIL) with BLAS
  pinned to one thread (:func:`activelab.parallel.run_blocks`), so a query uses every
  core without oversubscribing them;
- models without logits keep scikit-learn's ``predict_proba``, called on chunks of
  :data:`~activelab.pool.DEFAULT_CHUNK_ROWS` rows.

The block partition depends only on the number of rows and classes, never on the thread
count, and the whole matrix is computed by the same block kernel as the fused utilities,
so both give bit-equal values (and the same query ids) with any number of threads.
:func:`activelab.parallel.scoring_threads` sets the thread count (default: the usable
CPUs, at most 8, or the ``ACTIVELAB_SCORING_THREADS`` environment variable).

:func:`predict_proba_checked` is ``estimator.predict_proba`` with an error message that
says what to do when the model has no probabilities.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from .parallel import run_blocks, scratch
from .pool import DEFAULT_CHUNK_ROWS, RowView, materialize, n_rows, take_rows

try:
    from sklearn.linear_model._base import LinearClassifierMixin
except ImportError:  # pragma: no cover - private path moved; the fast path is then off
    LinearClassifierMixin = None

__all__ = [
    "KERNEL_ROWS",
    "BlockFn",
    "class_reduce",
    "kernel_rows",
    "predict_proba_checked",
    "predict_proba_chunked",
    "probability_kernel",
    "reduce_proba",
    "reduce_proba_matrix",
    "row_reduce",
]

#: Rows per block of the probability kernel (a power of two dividing DEFAULT_CHUNK_ROWS).
KERNEL_ROWS = 8192
#: Rows of the pool on which a fast formula is checked against ``predict_proba``.
_PROBE_ROWS = 32

#: A row-wise reduction of class-major probabilities: ``fn(pT, out)`` with ``pT`` of
#: shape (n_classes, b), float32 or float64, C-contiguous, and ``out`` of shape (b,),
#: float64.  It must compute in float64 (float32 values are exact in float64, so the
#: result is that of the float64 probability matrix :func:`predict_proba_chunked` makes).
BlockFn = Callable[[np.ndarray, np.ndarray], None]


def kernel_rows(n_classes: int) -> int:
    """Rows per kernel block for ``n_classes`` outputs (smaller blocks for many classes)."""
    rows = KERNEL_ROWS
    while rows > 256 and rows * max(int(n_classes), 1) > 262_144:
        rows //= 2
    return rows


# ----------------------------------------------------------------- reductions
def row_reduce(values: np.ndarray, op: Any, out: np.ndarray | None = None) -> np.ndarray:
    """Reduce a 2-D block over its columns with ``op`` (``np.add`` or ``np.maximum``).

    With few columns this walks the columns (fast, and the same order of operations
    for every row, so equal rows give bit-equal results); with many it uses
    ``op.reduce``.
    """
    n, c = values.shape
    if c > 32 or c == 0:
        return op.reduce(values, axis=1, out=out)
    if out is None:
        out = np.empty(n, dtype=values.dtype)
    np.copyto(out, values[:, 0])
    for j in range(1, c):
        op(out, values[:, j], out=out)
    return out


def class_reduce(values_t: np.ndarray, op: Any, out: np.ndarray) -> np.ndarray:
    """Reduce class-major values (C, b) over their first axis, in order, into ``out``.

    ``out = values_t[0]; out = op(out, values_t[1]); ...``: the same order of operations
    for every column, whatever the block, so equal columns give bit-equal results.
    """
    np.copyto(out, values_t[0])
    for j in range(1, values_t.shape[0]):  # classes, not rows
        op(out, values_t[j], out=out)
    return out


# ----------------------------------------------------------------- kernels
class _Link:
    """Softmax, sigmoid or one-vs-rest normalisation of class-major logits, in place."""

    def __init__(self, mode: str, n_classes: int) -> None:
        self.mode = mode  # "binary", "softmax" or "ovr"
        self.n_classes = n_classes

    def __call__(self, zt: np.ndarray) -> np.ndarray:
        """Probabilities (C, b) from logits (n_outputs, b), which are overwritten.

        Softmax and one-vs-rest stay in the logits' dtype; binary probabilities are
        float64 (``1 - p`` is taken in float64).
        """
        b = zt.shape[1]
        if self.mode == "binary":
            expit(zt, out=zt)
            p = scratch("link_p", (2, b))
            np.copyto(p[1], zt[0])
            np.subtract(1.0, p[1], out=p[0])
            return p
        tmp = scratch("link_tmp", (b,), zt.dtype)
        if self.mode == "softmax":
            class_reduce(zt, np.maximum, tmp)
            zt -= tmp
            np.exp(zt, out=zt)
            class_reduce(zt, np.add, tmp)
            zt /= tmp
        else:
            expit(zt, out=zt)
            class_reduce(zt, np.add, tmp)
            zero = tmp == 0
            if zero.any():
                zt[:, zero] = 1.0
                tmp[zero] = zt.shape[0]
            zt /= tmp
        return zt


class _Kernel:
    """Class-major probabilities (float64, or float32 for a float32 pool) of blocks of rows."""

    block_rows: int = KERNEL_ROWS
    threadsafe: bool = True
    #: Whether the kernel's own products are small (BLAS is then pinned to one thread).
    small_products: bool = False
    n_classes: int = 0

    def proba_rows(self, rows: Any) -> np.ndarray:
        raise NotImplementedError

    def block(self, X: Any, start: int, stop: int) -> np.ndarray:
        """Probabilities (C, stop - start) of rows ``start:stop`` of ``X``."""
        return self.proba_rows(take_rows(X, slice(start, stop)))


def _threadsafe(objects: list[Any]) -> bool:
    return all(type(o).__module__.startswith(("sklearn.", "activelab.")) for o in objects)


class _LinearKernel(_Kernel):
    """``link(transform(rows) @ coef_.T + intercept_)`` in the rows' dtype."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, mode: str, steps: list[Any]):
        self.coef = coef  # float64, (n_outputs, n_features)
        self.intercept = intercept
        self.steps = steps
        self.n_classes = 2 if coef.shape[0] == 1 else coef.shape[0]
        self.link = _Link(mode, self.n_classes)
        self.block_rows = kernel_rows(self.n_classes)
        self.threadsafe = _threadsafe(steps)
        self.small_products = True
        self._by_dtype: dict[np.dtype, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def mode(self) -> str:
        """``"binary"``, ``"softmax"`` or ``"ovr"``."""
        return self.link.mode

    def _weights(self, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        weights = self._by_dtype.get(dtype)
        if weights is None:  # a benign race: two threads may both build the same arrays
            weights = (
                np.ascontiguousarray(self.coef.T, dtype=dtype),
                np.asarray(self.intercept, dtype=dtype)[:, None],
            )
            self._by_dtype[dtype] = weights
        return weights

    def proba_rows(self, rows: Any) -> np.ndarray:
        for step in self.steps:
            rows = step.transform(rows)
        if sp.issparse(rows):
            dtype = rows.dtype if rows.dtype in (np.float32, np.float64) else np.dtype(np.float64)
            W, b = self._weights(np.dtype(dtype))
            z = np.asarray(rows.astype(dtype, copy=False) @ W)
        else:
            rows = np.asarray(rows)
            if rows.dtype not in (np.float32, np.float64):
                rows = rows.astype(np.float64)
            W, b = self._weights(rows.dtype)
            z = scratch("lin_z", (rows.shape[0], W.shape[1]), rows.dtype)
            np.matmul(rows, W, out=z)
        zt = scratch("lin_zt", (z.shape[1], z.shape[0]), z.dtype)
        np.add(z.T, b, out=zt)  # class-major logits: one contiguous row per output
        return self.link(zt)


class _DecisionKernel(_Kernel):
    """``link(estimator.decision_function(rows))``: a model whose probabilities are that.

    Run on chunks of the pool, on one thread (the model may use threads of its own).
    """

    threadsafe = False

    def __init__(self, estimator: Any, mode: str, n_classes: int) -> None:
        self.estimator = estimator
        self.n_classes = n_classes
        self.link = _Link(mode, n_classes)
        self.block_rows = DEFAULT_CHUNK_ROWS

    def proba_rows(self, rows: Any) -> np.ndarray:
        dec = np.asarray(self.estimator.decision_function(rows), dtype=np.float64)
        dec = dec.reshape(dec.shape[0], -1)
        zt = scratch("dec_zt", (dec.shape[1], dec.shape[0]))
        np.copyto(zt, dec.T)
        return self.link(zt)


class _ProbaKernel(_Kernel):
    """The estimator's own ``predict_proba``, on chunks of the pool (one thread)."""

    threadsafe = False

    def __init__(self, estimator: Any, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> None:
        self.estimator = estimator
        self.block_rows = chunk_rows

    def proba_rows(self, rows: Any) -> np.ndarray:
        proba = predict_proba_checked(self.estimator, rows)
        pt = scratch("proba_t", (proba.shape[1], proba.shape[0]))
        np.copyto(pt, proba.T)
        return pt


# ----------------------------------------------------------------- choosing a kernel
def _final_step(estimator: Any) -> tuple[Any, list[Any]]:
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list) and steps and hasattr(estimator, "named_steps"):
        transforms = [s for _, s in steps[:-1] if s is not None and s != "passthrough"]
        return steps[-1][1], transforms
    return estimator, []


def _fast_input(X: Any) -> bool:
    base = X.base if isinstance(X, RowView) else X
    if sp.issparse(base):
        return base.format == "csr"
    return isinstance(base, np.ndarray) and base.ndim == 2 and base.dtype.kind in "fiub"


def _linear_candidates(model: Any, steps: list[Any]) -> list[_Kernel]:
    if LinearClassifierMixin is None or not isinstance(model, LinearClassifierMixin):
        return []
    coef = getattr(model, "coef_", None)
    intercept = getattr(model, "intercept_", None)
    classes = getattr(model, "classes_", None)
    if sp.issparse(coef):
        coef = coef.toarray()
    if not isinstance(coef, np.ndarray) or coef.ndim != 2 or classes is None:
        return []
    n_out = coef.shape[0]
    intercept = np.zeros(n_out) if np.isscalar(intercept) else np.asarray(intercept, dtype=float)
    if intercept.shape != (n_out,) or len(classes) != (2 if n_out == 1 else n_out):
        return []
    modes = ("binary",) if n_out == 1 else ("softmax", "ovr")
    coef = coef.astype(np.float64)
    return [_LinearKernel(coef, intercept, mode, steps) for mode in modes]


def _decision_candidates(estimator: Any) -> list[_Kernel]:
    classes = getattr(estimator, "classes_", None)
    if not hasattr(estimator, "decision_function") or classes is None or len(classes) < 2:
        return []
    c = len(classes)
    modes = ("binary",) if c == 2 else ("softmax", "ovr")
    return [_DecisionKernel(estimator, mode, c) for mode in modes]


def probability_kernel(estimator: Any, X: Any) -> _Kernel:
    """The fastest kernel whose probabilities match ``estimator.predict_proba`` on ``X``.

    The kernel has ``block(X, start, stop) -> ndarray (n_classes, stop - start)``
    (class-major, float64 or the float32 of a float32 pool, a per-thread buffer valid
    until the thread's next block),
    ``block_rows`` (the rows per block that :func:`predict_proba_chunked` uses: results
    are only guaranteed bit-equal on that partition) and ``threadsafe``.
    """
    if not hasattr(estimator, "predict_proba") or not _fast_input(X):
        return _ProbaKernel(estimator)
    model, steps = _final_step(estimator)
    candidates = _linear_candidates(model, steps) or _decision_candidates(estimator)
    n = n_rows(X)
    if not candidates or n == 0:
        return _ProbaKernel(estimator)
    positions = np.unique(np.linspace(0, n - 1, min(n, _PROBE_ROWS)).astype(np.int64))
    probe = take_rows(X, positions)
    try:
        expected = np.asarray(estimator.predict_proba(probe), dtype=np.float64)
        kernels_out = [(k, k.proba_rows(probe).T.copy()) for k in candidates]
    except Exception:
        return _ProbaKernel(estimator)
    base = X.base if isinstance(X, RowView) else X
    tol = 1e-4 if base.dtype == np.float32 else 1e-9
    for kernel, got in kernels_out:
        if got.shape == expected.shape and np.allclose(got, expected, rtol=0.0, atol=tol):
            return kernel
    return _ProbaKernel(estimator)


def _linear_proba_model(estimator: Any, X: Any) -> _Kernel | None:
    """The fast kernel chosen for ``estimator`` on ``X``, or None when there is none."""
    kernel = probability_kernel(estimator, X)
    return None if isinstance(kernel, _ProbaKernel) else kernel


# ----------------------------------------------------------------- public entry points
def predict_proba_chunked(
    estimator: Any, X: Any, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> np.ndarray:
    """``predict_proba`` over ``X`` block by block, into one preallocated array.

    For a fitted linear classifier (possibly the last step of a pipeline) or a model
    whose probabilities are a link of its ``decision_function``, on a dense or CSR
    pool, the probabilities come from the block kernel described in the module
    docstring (in :func:`kernel_rows` blocks, on all cores); the
    formula is first checked against the estimator's own ``predict_proba`` on a few
    rows, and the estimator's method is used whenever they disagree.  Other models are
    asked for ``predict_proba`` on chunks of ``chunk_rows`` rows.

    Parameters
    ----------
    estimator : fitted classifier with ``predict_proba``
    X : array-like, sparse matrix, RowView or DataFrame of shape (n, n_features)
    chunk_rows : int, default=DEFAULT_CHUNK_ROWS
        Rows per ``predict_proba`` call for models without a fast kernel.

    Returns
    -------
    ndarray of float64, shape (n, n_classes)

    Raises
    ------
    TypeError
        When the estimator cannot give probabilities (see :func:`predict_proba_checked`).
    """
    n = n_rows(X)
    kernel = probability_kernel(estimator, X)
    if isinstance(kernel, _ProbaKernel):
        return _proba_by_chunks(estimator, X, n, chunk_rows)
    out = np.empty((n, kernel.n_classes), dtype=np.float64)
    rows = kernel.block_rows

    def one(i: int) -> None:
        start, stop = i * rows, min((i + 1) * rows, n)
        np.copyto(out[start:stop], kernel.block(X, start, stop).T)

    _run_kernel(kernel, -(-n // rows), one, None)
    return out


def _run_kernel(kernel: _Kernel, n_blocks: int, fn: Callable[[int], None],
                n_jobs: int | None) -> None:
    run_blocks(n_blocks, fn, n_jobs if kernel.threadsafe else 1,
               pin_blas=kernel.small_products)


def _proba_by_chunks(estimator: Any, X: Any, n: int, chunk_rows: int) -> np.ndarray:
    if n <= chunk_rows:
        return predict_proba_checked(estimator, materialize(X))
    chunks = X.iter_chunks(chunk_rows) if isinstance(X, RowView) else (
        (start, min(start + chunk_rows, n), take_rows(X, slice(start, start + chunk_rows)))
        for start in range(0, n, chunk_rows)
    )
    out: np.ndarray | None = None
    for start, stop, rows in chunks:
        block = predict_proba_checked(estimator, rows)
        if out is None:
            out = np.empty((n, block.shape[1]), dtype=np.float64)
        out[start:stop] = block
    assert out is not None
    return out


def reduce_proba(
    estimator: Any, X: Any, block_fn: BlockFn, *, n_jobs: int | None = None
) -> np.ndarray:
    """A row-wise function of the probabilities of ``X``, without the n × C matrix.

    Each block of rows gets its probabilities from the same kernel as
    :func:`predict_proba_chunked` and is reduced at once by ``block_fn``, so the result
    is bit-equal to applying ``block_fn`` to ``predict_proba_chunked(estimator, X)``
    (see :func:`reduce_proba_matrix`), whatever the number of threads.

    Parameters
    ----------
    estimator : fitted classifier with ``predict_proba``
    X : array-like, sparse matrix, RowView or DataFrame of shape (n, n_features)
    block_fn : callable ``fn(pT, out)``
        Writes one value per column of ``pT`` (class-major probabilities, shape
        (n_classes, b), float32 or float64) into ``out`` (shape (b,), float64), computing
        in float64; must be thread-safe and row-wise (a column's value depends on that
        column only).
    n_jobs : int, optional
        Threads (default: :func:`activelab.parallel.scoring_threads`).

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    n = n_rows(X)
    out = np.empty(n, dtype=np.float64)
    if n == 0:
        return out
    kernel = probability_kernel(estimator, X)
    rows = kernel.block_rows
    if isinstance(kernel, _ProbaKernel) and n <= rows:
        block_fn(kernel.proba_rows(materialize(X)), out)
        return out

    def one(i: int) -> None:
        start, stop = i * rows, min((i + 1) * rows, n)
        block_fn(kernel.block(X, start, stop), out[start:stop])

    _run_kernel(kernel, -(-n // rows), one, n_jobs)
    return out


def reduce_proba_matrix(
    proba: np.ndarray, block_fn: BlockFn, *, n_jobs: int | None = None
) -> np.ndarray:
    """Apply a row-wise ``block_fn`` (see :func:`reduce_proba`) to a probability matrix.

    Parameters
    ----------
    proba : ndarray of shape (n, n_classes)
    block_fn : callable ``fn(pT, out)``
    n_jobs : int, optional

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    n, c = proba.shape
    out = np.empty(n, dtype=np.float64)
    rows = kernel_rows(c)

    def one(i: int) -> None:
        start, stop = i * rows, min((i + 1) * rows, n)
        pt = scratch("matrix_t", (c, stop - start))
        np.copyto(pt, proba[start:stop].T)
        block_fn(pt, out[start:stop])

    if n:
        run_blocks(-(-n // rows), one, n_jobs)
    return out


def predict_proba_checked(estimator: Any, X: Any) -> np.ndarray:
    """``estimator.predict_proba(X)`` with a clear error when it cannot be done."""
    if not hasattr(estimator, "predict_proba"):
        raise TypeError(
            f"{type(estimator).__name__} has no predict_proba, which this strategy needs; "
            "use a probabilistic classifier (e.g. SVC(probability=True)) or wrap it in "
            "sklearn.calibration.CalibratedClassifierCV."
        )
    try:
        proba = estimator.predict_proba(X)
    except AttributeError as exc:  # e.g. SVC(probability=False) exposes it but fails
        raise TypeError(
            f"{type(estimator).__name__}.predict_proba is unavailable ({exc}); "
            "use SVC(probability=True) or CalibratedClassifierCV."
        ) from exc
    return np.asarray(proba, dtype=np.float64)
