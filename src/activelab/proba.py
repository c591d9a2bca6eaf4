"""Model outputs computed fast: class probabilities of a pool, block by block.

Every strategy that reads class probabilities gets them from
:func:`predict_proba_chunked` (through :attr:`~activelab.strategies.QueryContext.proba`),
and so do the learners and the stopping criteria.  Three things make it fast on large
pools:

- the pool is read in blocks (:data:`~activelab.pool.DEFAULT_CHUNK_ROWS` rows), so any
  temporary copy (a dtype conversion, the rows of a :class:`~activelab.pool.RowView`) is
  the size of one block, and the result is written into one preallocated array;
- a fitted linear classifier (``LogisticRegression``, ``SGDClassifier(loss="log_loss")``,
  ...) on a dense float pool is evaluated from its weights in the pool's own dtype
  (softmax, sigmoid or one-vs-rest of ``X @ coef_.T + intercept_``), skipping
  scikit-learn's validation pass and float64 copy.  The formula is first checked against
  the estimator's own ``predict_proba`` on a few rows; whenever they disagree, the
  estimator's method is used;
- :func:`row_reduce` reduces narrow blocks column by column, which is faster than
  ``np.max(axis=1)`` for few classes and gives bit-equal results for equal rows.

:func:`predict_proba_checked` is ``estimator.predict_proba`` with an error message that
says what to do when the model has no probabilities.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from .pool import DEFAULT_CHUNK_ROWS, RowView, materialize, n_rows, take_rows

try:
    from sklearn.linear_model._base import LinearClassifierMixin
except ImportError:  # pragma: no cover - private path moved; the fast path is then off
    LinearClassifierMixin = None

__all__ = ["predict_proba_chunked", "predict_proba_checked", "row_reduce"]

#: Rows per block of the linear kernel: the logits of a block stay in cache.
_KERNEL_ROWS = 4096
#: Rows of the pool on which the linear formula is checked against ``predict_proba``.
_PROBE_ROWS = 32


def predict_proba_chunked(
    estimator: Any, X: Any, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> np.ndarray:
    """``predict_proba`` over ``X`` block by block, into one preallocated array.

    Reading the pool in blocks keeps any temporary copy (a dtype conversion, the
    rows of a :class:`~activelab.pool.RowView`) the size of one block.  For a fitted
    linear classifier (e.g. ``LogisticRegression``) on a dense float pool, the
    probabilities are computed from the model's weights in the pool's dtype
    (softmax or sigmoid of ``X @ coef_.T + intercept_``), without scikit-learn's
    validation pass and float64 copy; the formula is first checked against the
    estimator's own ``predict_proba`` on a few rows, and the estimator's method is
    used whenever they disagree.

    Parameters
    ----------
    estimator : fitted classifier with ``predict_proba``
    X : array-like, sparse matrix, RowView or DataFrame of shape (n, n_features)
    chunk_rows : int, default=DEFAULT_CHUNK_ROWS
        Rows per block.

    Returns
    -------
    ndarray of float64, shape (n, n_classes)

    Raises
    ------
    TypeError
        When the estimator cannot give probabilities (see :func:`predict_proba_checked`).
    """
    n = n_rows(X)
    linear = _linear_proba_model(estimator, X)
    if linear is None and n <= chunk_rows:
        return predict_proba_checked(estimator, materialize(X))
    chunks = X.iter_chunks(chunk_rows) if isinstance(X, RowView) else (
        (start, min(start + chunk_rows, n), take_rows(X, slice(start, start + chunk_rows)))
        for start in range(0, n, chunk_rows)
    )
    if linear is not None:
        out = np.empty((n, len(linear.classes)), dtype=np.float64)
        for start, stop, rows in chunks:
            linear.proba_into(rows, out[start:stop])
        return out
    out_: np.ndarray | None = None
    for start, stop, rows in chunks:
        block = predict_proba_checked(estimator, rows)
        if out_ is None:
            out_ = np.empty((n, block.shape[1]), dtype=np.float64)
        out_[start:stop] = block
    assert out_ is not None
    return out_


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


class _LinearProba:
    """Probabilities of a linear classifier from its weights, block by block."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, classes: np.ndarray,
                 mode: str) -> None:
        self.coef = coef  # float64, (n_outputs, n_features)
        self.intercept = intercept
        self.classes = classes
        self.mode = mode  # "binary", "softmax" or "ovr"
        self._by_dtype: dict[np.dtype, tuple[np.ndarray, np.ndarray]] = {}

    def _weights(self, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        if dtype not in self._by_dtype:
            self._by_dtype[dtype] = (
                np.ascontiguousarray(self.coef.T, dtype=dtype),
                np.asarray(self.intercept, dtype=dtype),
            )
        return self._by_dtype[dtype]

    def proba_into(self, rows: Any, out: np.ndarray) -> None:
        """Write the probabilities of ``rows`` into ``out`` (float64, one row per row).

        The logits of all ``rows`` come from one matrix product (few, large BLAS
        calls); the link function then runs on blocks small enough to stay in cache.
        """
        rows = np.asarray(rows)
        if rows.dtype not in (np.float32, np.float64):
            rows = rows.astype(np.float64)
        W, b = self._weights(rows.dtype)
        n = rows.shape[0]
        in_place = rows.dtype == np.float64 and self.mode != "binary"
        logits = out if in_place else np.empty((n, W.shape[1]), dtype=rows.dtype)
        np.matmul(rows, W, out=logits)
        tmp = np.empty(min(n, _KERNEL_ROWS), dtype=rows.dtype)
        for start in range(0, n, _KERNEL_ROWS):  # blocks of rows, not single rows
            stop = min(start + _KERNEL_ROWS, n)
            z = logits[start:stop]
            z += b
            self._link(z, tmp[: stop - start])
            if self.mode == "binary":
                out[start:stop, 1] = z[:, 0]
                np.subtract(1.0, out[start:stop, 1], out=out[start:stop, 0])
            elif not in_place:
                out[start:stop] = z

    def _link(self, z: np.ndarray, tmp: np.ndarray) -> None:
        if self.mode == "softmax":
            row_reduce(z, np.maximum, out=tmp)
            z -= tmp[:, None]
            np.exp(z, out=z)
            row_reduce(z, np.add, out=tmp)
            z /= tmp[:, None]
            return
        expit(z, out=z)
        if self.mode == "ovr":
            row_reduce(z, np.add, out=tmp)
            zero = tmp == 0
            if zero.any():
                z[zero] = 1.0
                tmp[zero] = z.shape[1]
            z /= tmp[:, None]


def _linear_proba_model(estimator: Any, X: Any) -> _LinearProba | None:
    """The weights of a fitted linear classifier whose ``predict_proba`` they reproduce."""
    if LinearClassifierMixin is None or not isinstance(estimator, LinearClassifierMixin):
        return None
    if not hasattr(estimator, "predict_proba"):
        return None
    base = X.base if isinstance(X, RowView) else X
    if not isinstance(base, np.ndarray) or base.dtype not in (np.float32, np.float64):
        return None
    coef = getattr(estimator, "coef_", None)
    intercept = getattr(estimator, "intercept_", None)
    classes = getattr(estimator, "classes_", None)
    if not isinstance(coef, np.ndarray) or coef.ndim != 2 or classes is None:
        return None
    n_out = coef.shape[0]
    if coef.shape[1] != base.shape[1]:
        return None
    intercept = np.zeros(n_out) if np.isscalar(intercept) else np.asarray(intercept, dtype=float)
    if intercept.shape != (n_out,) or len(classes) != (2 if n_out == 1 else n_out):
        return None
    n = n_rows(X)
    if n == 0:
        return None
    probe = np.asarray(take_rows(X, np.unique(np.linspace(0, n - 1, min(n, _PROBE_ROWS)).astype(
        np.int64))))
    try:
        expected = np.asarray(estimator.predict_proba(probe), dtype=np.float64)
    except Exception:
        return None
    tol = 1e-4 if base.dtype == np.float32 else 1e-9
    for mode in ("binary",) if n_out == 1 else ("softmax", "ovr"):
        model = _LinearProba(coef.astype(np.float64), intercept, np.asarray(classes), mode)
        got = np.empty_like(expected)
        model.proba_into(probe, got)
        if got.shape == expected.shape and np.allclose(got, expected, rtol=0.0, atol=tol):
            return model
    return None


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
