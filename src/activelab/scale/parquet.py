"""Parquet pools: feature columns read one row group at a time with ``pyarrow.dataset``.

Row ids are positions in a fixed order — files sorted by path, then their row groups,
then rows — so the same files give the same ids in every round and on every worker.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .spec import SourceSpec, _fsspec, _is_url, _Rows

__all__ = ["ParquetRows"]


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.dataset as ds
    except ImportError as exc:  # pragma: no cover - pyarrow is in the scale extra
        raise ImportError(
            "reading a Parquet pool needs pyarrow: pip install 'activelab[scale]'."
        ) from exc
    return pa, ds


def _feature_columns(schema: Any, columns: tuple[str, ...] | None) -> tuple[list[str], int]:
    """The feature columns and, for one fixed-size list column, its width (else 0)."""
    pa, _ = _pyarrow()
    names = list(schema.names) if columns is None else list(columns)
    missing = [c for c in names if c not in schema.names]
    if missing:
        raise ValueError(
            f"columns: {', '.join(map(repr, missing))} not in the Parquet pool; its columns "
            f"are {', '.join(schema.names)}."
        )
    if not names:
        raise ValueError("columns is empty; name the feature columns of the Parquet pool.")
    types = [schema.field(c).type for c in names]
    if len(names) == 1 and pa.types.is_fixed_size_list(types[0]):
        value = types[0].value_type
        if pa.types.is_integer(value) or pa.types.is_floating(value):
            return names, int(types[0].list_size)
    bad = [c for c, t in zip(names, types, strict=True)
           if not (pa.types.is_integer(t) or pa.types.is_floating(t))]
    if bad:
        raise TypeError(
            f"Parquet columns {', '.join(map(repr, bad))} are not numeric; pass the feature "
            "columns with columns=[...] (numbers, or one fixed-size list column of vectors)."
        )
    return names, 0


class ParquetRows(_Rows):
    """Parquet file(s) as a read-only ``(n_rows, n_features)`` array-like.

    Parameters
    ----------
    spec : SourceSpec
        ``kind="parquet"``: a file or directory path (or URL) and the feature columns.

    Attributes
    ----------
    row_group_offsets : ndarray of int64
        Pool id of the first row of each row group, then ``n_rows``.
    files : list of str
        The files, in id order.
    """

    def __init__(self, spec: SourceSpec) -> None:
        pa, ds = _pyarrow()
        self.pool_spec = spec
        if _is_url(spec.location):
            fs, path = _fsspec().core.url_to_fs(spec.location, **spec.options)
        else:
            fs, path = None, spec.location
        dataset = ds.dataset(path, filesystem=fs, format="parquet")
        fragments = sorted(dataset.get_fragments(), key=lambda f: f.path)
        self.files = [f.path for f in fragments]
        groups = [g for f in fragments for g in f.split_by_row_group()]
        counts = np.array([g.row_groups[0].num_rows for g in groups], dtype=np.int64)
        self._groups = [g for g, c in zip(groups, counts, strict=True) if c > 0]
        self.row_group_offsets = np.concatenate([[0], np.cumsum(counts[counts > 0])]).astype(
            np.int64
        )
        self.columns, self._width = _feature_columns(dataset.schema, spec.columns)
        types = [dataset.schema.field(c).type for c in self.columns]
        if self._width:
            types = [types[0].value_type]
        self.dtype = np.result_type(*[t.to_pandas_dtype() for t in types])
        n_features = self._width or len(self.columns)
        self.shape = (int(self.row_group_offsets[-1]), n_features)

    def block_offsets(self, chunk_rows: int) -> np.ndarray:
        """Chunk boundaries on row-group boundaries: consecutive groups merged while a
        chunk stays within ``chunk_rows`` rows (a bigger group is a chunk of its own)."""
        offsets = self.row_group_offsets
        bounds, previous = [0], 0
        for stop in offsets[1:].tolist():  # row groups, not rows
            if stop - bounds[-1] > chunk_rows and previous > bounds[-1]:
                bounds.append(previous)
            previous = stop
        if bounds[-1] != offsets[-1]:
            bounds.append(int(offsets[-1]))
        return np.asarray(bounds, dtype=np.int64)

    def _group_array(self, g: int) -> np.ndarray:
        table = self._groups[g].to_table(columns=self.columns)
        start = int(self.row_group_offsets[g])
        for name, col in zip(self.columns, table.columns, strict=True):
            if col.null_count:
                raise ValueError(
                    f"Parquet column {name!r} has {col.null_count} missing values in rows "
                    f"{start}..{start + table.num_rows - 1}; fill or drop them before scoring."
                )
        if self._width:
            values = table.column(0).combine_chunks().flatten().to_numpy(zero_copy_only=False)
            return values.astype(self.dtype, copy=False).reshape(table.num_rows, self._width)
        out = np.empty((table.num_rows, len(self.columns)), dtype=self.dtype)
        for j, col in enumerate(table.columns):  # columns, not rows
            out[:, j] = col.to_numpy()
        return out

    def __getitem__(self, key: Any) -> np.ndarray:
        start, stop = self._rows_of(key)
        if stop == start:
            return np.empty((0, self.shape[1]), dtype=self.dtype)
        first = int(np.searchsorted(self.row_group_offsets, start, side="right")) - 1
        last = int(np.searchsorted(self.row_group_offsets, stop, side="left"))
        parts = [self._group_array(g) for g in range(first, last)]
        rows = parts[0] if len(parts) == 1 else np.concatenate(parts)
        base = int(self.row_group_offsets[first])
        return rows[start - base : stop - base]
