"""The pool: features, stable ids, and which ids are labeled with what.

Pool ids are the row positions ``0 .. n_samples - 1`` of the feature matrix and never
change during a run.  External identifiers (a CSV key column, file names) travel
alongside as :attr:`Pool.keys`.  The feature matrix is validated once and never copied
per round: views of the unlabeled part are :class:`RowView` objects that read rows of
the one matrix chunk by chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "Pool", "RowView", "as_rows", "check_features", "label_column", "materialize", "n_rows",
    "take_rows",
]

DEFAULT_CHUNK_ROWS = 65_536


def check_features(X: Any, name: str = "X") -> Any:
    """Validate a feature matrix: 2-D, numeric, finite.

    numpy arrays and scipy sparse matrices are returned without copying (sparse is
    converted to CSR when it is in another format); pandas DataFrames are converted
    to a numpy array once.

    Raises
    ------
    TypeError
        When ``X`` is not array-like or not numeric.
    ValueError
        When ``X`` is not 2-D, is empty, or holds NaN or infinite values.
    """
    if hasattr(X, "to_numpy") and hasattr(X, "columns"):
        X = _frame_to_array(X, name)
    if sp.issparse(X):
        X = X.tocsr() if X.format != "csr" else X
        data = X.data
    else:
        if not isinstance(X, np.ndarray):
            try:
                X = np.asarray(X)
            except Exception as exc:  # pragma: no cover - exotic inputs
                raise TypeError(f"{name} must be array-like, got {type(X).__name__}.") from exc
        if X.dtype == object or not np.issubdtype(X.dtype, np.number):
            raise TypeError(
                f"{name} must hold numbers, got dtype {X.dtype}; convert text or categories "
                "to numeric features first."
            )
        data = X
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}; "
            "use X.reshape(-1, 1) for a single feature."
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} has no rows.")
    if np.issubdtype(data.dtype, np.floating) and not np.isfinite(data).all():
        bad = int(np.count_nonzero(~np.isfinite(data)))
        raise ValueError(
            f"{name} contains {bad} NaN or infinite value(s); impute or drop them "
            "(e.g. sklearn.impute.SimpleImputer) before active learning."
        )
    return X


def label_column(labels: Any) -> np.ndarray:
    """Labels as a 1-D object array, one entry per item.

    A 2-D numeric table (multi-label 0/1 rows, ``n x L``) gives one tuple per row, so that
    ``np.asarray(column.tolist())`` is the ``n x L`` table again; anything else is
    flattened as before.
    """
    arr = np.asarray(labels)
    if arr.ndim == 2 and arr.shape[1] > 1 and arr.dtype.kind in "biuf":
        out = np.empty(arr.shape[0], dtype=object)
        out[:] = [tuple(row) for row in arr.tolist()]
        return out
    return np.asarray(labels, dtype=object).ravel()


def _is_number_dtype(dtype: Any) -> bool:
    """numpy numbers and booleans, and pandas' nullable ones (``Int64``, ``boolean``)."""
    try:
        return bool(np.issubdtype(dtype, np.number) or np.issubdtype(dtype, np.bool_))
    except TypeError:  # a pandas extension dtype, e.g. StringDtype or Int64Dtype
        return getattr(dtype, "kind", "O") in "iufb"


def _frame_to_array(X: Any, name: str) -> np.ndarray:
    """A DataFrame of numbers as one float64 array; text columns are named in the error."""
    non_numeric = [c for c, t in X.dtypes.items() if not _is_number_dtype(t)]
    if non_numeric:
        raise TypeError(
            f"{name} has non-numeric columns {non_numeric[:5]}; encode them as numbers "
            "(e.g. one-hot), featurize text (activelab.featurize.text_features, or "
            "load_dataset(path, text_column=...)) or drop them before building the pool."
        )
    arr = X.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = [str(c) for c, b in zip(X.columns, ~np.isfinite(arr).all(axis=0), strict=True) if b]
    if bad:
        raise ValueError(
            f"{name} has NaN or infinite values in column(s) {bad[:5]}; impute or drop them "
            "(e.g. sklearn.impute.SimpleImputer) before active learning."
        )
    return arr


def _take(X: Any, positions: Any) -> Any:
    return X[positions]


class RowView:
    """Some rows of a feature matrix, read lazily.

    A view does not copy the matrix; indexing it, converting it with ``np.asarray`` or
    iterating over its chunks reads only the rows asked for.

    Parameters
    ----------
    base : ndarray or sparse matrix
        The full feature matrix.
    positions : ndarray of int, optional
        Row positions into ``base``; all rows when omitted.
    """

    def __init__(self, base: Any, positions: np.ndarray | None = None) -> None:
        self.base = base
        n = base.shape[0]
        if positions is None:
            self.positions = np.arange(n, dtype=np.int64)
            self._contiguous: tuple[int, int] | None = (0, n)
        else:
            self.positions = np.asarray(positions, dtype=np.int64)
            p = self.positions
            if p.size and p[-1] - p[0] + 1 == p.size and np.all(np.diff(p) == 1):
                self._contiguous = (int(p[0]), int(p[-1]) + 1)
            else:
                self._contiguous = None if p.size else (0, 0)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.positions),) + tuple(self.base.shape[1:])

    @property
    def dtype(self) -> np.dtype:
        return self.base.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, index: Any) -> Any:
        if self._contiguous is not None and isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1:
                lo = self._contiguous[0]
                return self.base[lo + start : lo + max(start, stop)]
        return _take(self.base, self.positions[index])

    def materialize(self) -> Any:
        """The rows as one array (a view of ``base`` when they are contiguous)."""
        if self._contiguous is not None:
            lo, hi = self._contiguous
            return self.base[lo:hi]
        return _take(self.base, self.positions)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.materialize()
        if sp.issparse(out):
            out = out.toarray()
        return np.asarray(out, dtype=dtype)

    def iter_chunks(self, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[tuple[int, int, Any]]:
        """Yield ``(start, stop, rows)`` for consecutive blocks of the view."""
        n = len(self)
        for start in range(0, n, chunk_rows):
            stop = min(start + chunk_rows, n)
            if self._contiguous is not None:
                lo = self._contiguous[0]
                rows = self.base[lo + start : lo + stop]
            else:
                rows = _take(self.base, self.positions[start:stop])
            yield start, stop, rows


def materialize(X: Any) -> Any:
    """Turn a :class:`RowView` into a plain array (other inputs are returned as is)."""
    return X.materialize() if isinstance(X, RowView) else X


def take_rows(X: Any, positions: Any) -> Any:
    """Rows of a numpy array, sparse matrix, :class:`RowView` or DataFrame, by position.

    ``positions`` is an integer array or a slice.
    """
    if hasattr(X, "iloc"):
        return X.iloc[positions]
    if isinstance(X, (list, tuple)):
        return check_features(X, "X")[positions]
    return X[positions]  # RowView, ndarray and sparse matrices all index by position


def as_rows(X: Any, name: str = "X") -> Any:
    """A list or tuple of rows as one checked array; other inputs as they are.

    Arrays, sparse matrices, DataFrames and :class:`RowView` objects index by row
    position already; a Python list of rows is converted once (and checked) so that
    ``X[ids]`` works on it.
    """
    if isinstance(X, (list, tuple)):
        return check_features(X, name)
    return X


def n_rows(X: Any) -> int:
    """Number of rows of an array, sparse matrix, :class:`RowView`, DataFrame or list."""
    shape = getattr(X, "shape", None)
    if shape is not None:
        return int(shape[0])
    return len(X)


class Pool:
    """Feature rows with stable ids and the labels given so far.

    Parameters
    ----------
    X : ndarray, sparse matrix or DataFrame, shape (n_samples, n_features)
        Features of every item.  Validated once; never copied per round.
    keys : array-like of shape (n_samples,), optional
        External identifiers shown to people (row keys, file names).
    raw : sequence, optional
        Raw items for display (texts, image paths), one per row.
    labeled_ids, labels : array-like, optional
        Labels already known at construction.

    Attributes
    ----------
    n_samples : int
    feature_names : list of str or None
        Column names when ``X`` was a DataFrame.

    Examples
    --------
    >>> import numpy as np
    >>> pool = Pool(np.eye(4))
    >>> pool.label([2], ["a"])
    >>> pool.unlabeled_ids.tolist()
    [0, 1, 3]
    """

    def __init__(
        self,
        X: Any,
        *,
        keys: Any = None,
        raw: Any = None,
        labeled_ids: Any = None,
        labels: Any = None,
    ) -> None:
        self.feature_names = (
            [str(c) for c in X.columns] if hasattr(X, "columns") else None
        )
        self.X = check_features(X, "X")
        self.n_samples = int(self.X.shape[0])
        if keys is not None and len(keys) != self.n_samples:
            raise ValueError(
                f"keys has {len(keys)} entries but X has {self.n_samples} rows; give one key per row."
            )
        if raw is not None and len(raw) != self.n_samples:
            raise ValueError(
                f"raw has {len(raw)} entries but X has {self.n_samples} rows; give one item per row."
            )
        self.keys = None if keys is None else np.asarray(keys)
        self.raw = raw
        self._is_labeled = np.zeros(self.n_samples, dtype=bool)
        self._labels = np.empty(self.n_samples, dtype=object)
        self._order: list[np.ndarray] = []
        if labeled_ids is not None:
            if labels is None:
                raise ValueError("labeled_ids was given without labels; pass both or neither.")
            self.label(labeled_ids, labels)

    # ------------------------------------------------------------------ ids
    @property
    def ids(self) -> np.ndarray:
        """All pool ids, ``0 .. n_samples - 1``."""
        return np.arange(self.n_samples, dtype=np.int64)

    @property
    def labeled_mask(self) -> np.ndarray:
        """Boolean mask of labeled ids (a copy)."""
        return self._is_labeled.copy()

    @property
    def labeled_ids(self) -> np.ndarray:
        """Labeled ids in the order they were labeled."""
        if not self._order:
            return np.empty(0, dtype=np.int64)
        return np.concatenate(self._order)

    @property
    def unlabeled_ids(self) -> np.ndarray:
        """Unlabeled ids in increasing order."""
        return np.flatnonzero(~self._is_labeled).astype(np.int64)

    @property
    def n_labeled(self) -> int:
        return int(self._is_labeled.sum())

    @property
    def n_unlabeled(self) -> int:
        return self.n_samples - self.n_labeled

    def is_labeled(self, ids: Any) -> np.ndarray:
        """Whether each of ``ids`` is labeled."""
        return self._is_labeled[self._check_ids(ids, "ids")]

    # --------------------------------------------------------------- labels
    def label(self, ids: Any, labels: Any) -> None:
        """Record labels for unlabeled ids.

        Raises
        ------
        ValueError
            When an id is out of range, repeated, already labeled, or the lengths differ.
        """
        ids = self._check_ids(ids, "ids")
        labels = label_column(labels)
        if labels.shape[0] != ids.shape[0]:
            raise ValueError(
                f"got {ids.shape[0]} ids but {labels.shape[0]} labels; pass one label per id."
            )
        if np.unique(ids).size != ids.size:
            raise ValueError("ids contains the same id twice; label each id once.")
        already = ids[self._is_labeled[ids]]
        if already.size:
            raise ValueError(
                f"ids {already[:5].tolist()} are already labeled; use relabel() to change a label."
            )
        if any(v is None for v in labels):
            raise ValueError("labels contains None; skip unlabeled items instead of passing None.")
        self._labels[ids] = labels
        self._is_labeled[ids] = True
        self._order.append(ids.copy())

    def relabel(self, ids: Any, labels: Any) -> None:
        """Change the labels of already-labeled ids (e.g. after a review)."""
        ids = self._check_ids(ids, "ids")
        if not self._is_labeled[ids].all():
            raise ValueError("relabel() only changes existing labels; use label() for new ones.")
        self._labels[ids] = label_column(labels)

    def labels_of(self, ids: Any) -> np.ndarray:
        """Labels of labeled ids, as a typed array."""
        ids = self._check_ids(ids, "ids")
        if not self._is_labeled[ids].all():
            raise ValueError("some ids are not labeled yet.")
        return np.asarray(self._labels[ids].tolist())

    # ------------------------------------------------------------- features
    def features(self, ids: Any) -> Any:
        """Feature rows of the given ids (a copy of those rows only)."""
        return self.X[self._check_ids(ids, "ids")]

    @property
    def X_labeled(self) -> Any:
        """Features of the labeled ids, in labeling order."""
        return self.X[self.labeled_ids]

    @property
    def y_labeled(self) -> np.ndarray:
        """Labels of the labeled ids, in labeling order."""
        ids = self.labeled_ids
        if ids.size == 0:
            return np.empty(0)
        return np.asarray(self._labels[ids].tolist())

    def unlabeled_view(self) -> RowView:
        """A lazy view of the unlabeled rows (no copy of the matrix)."""
        return RowView(self.X, self.unlabeled_ids)

    def view(self, ids: Any) -> RowView:
        """A lazy view of the given ids' rows."""
        return RowView(self.X, self._check_ids(ids, "ids"))

    def _check_ids(self, ids: Any, name: str) -> np.ndarray:
        arr = np.asarray(ids)
        if arr.size == 0:
            return np.empty(0, dtype=np.int64)
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{name} must be integer pool ids, got dtype {arr.dtype}.")
        arr = arr.astype(np.int64, copy=False).ravel()
        if arr.min() < 0 or arr.max() >= self.n_samples:
            raise ValueError(
                f"{name} must be between 0 and {self.n_samples - 1}; got "
                f"{int(arr.min())}..{int(arr.max())}."
            )
        return arr

    def __repr__(self) -> str:
        return f"Pool(n_samples={self.n_samples}, n_labeled={self.n_labeled})"
