"""What names a pool's rows for another process (:class:`SourceSpec`); the readers' base.

Kept apart from :mod:`activelab.scale.sources` so that every reader (``.npy``, Zarr,
Parquet) can build on it without import cycles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["SourceSpec"]


@dataclass(frozen=True)
class SourceSpec:
    """How to reopen a pool's rows in another process.

    Attributes
    ----------
    kind : {"raw", "npy", "zarr", "parquet"}
        ``raw``: a C-ordered block of a local file (a memory map's file, offset,
        shape and dtype); the others: what :func:`open_source` opens.
    location : str
        Absolute path or URL.
    options : dict
        fsspec storage options (credentials, endpoint) for URLs.
    columns : tuple of str or None
        Parquet feature columns.
    offset, shape, dtype
        For ``raw``: byte offset of row 0, ``(n_rows, n_features)``, dtype string.
    token : str
        Set each time a pool is opened: a worker opens a pool once per token (once
        per query), so a file rewritten between queries is read afresh.
    """

    kind: str
    location: str
    options: dict = field(default_factory=dict, compare=False)
    columns: tuple[str, ...] | None = None
    offset: int = 0
    shape: tuple[int, ...] = ()
    dtype: str = ""
    token: str = ""

    def key(self) -> tuple[Any, ...]:
        """A hashable key naming the same rows (the options included)."""
        return (self.kind, self.location, repr(sorted(self.options.items())), self.columns,
                self.offset, self.shape, self.dtype, self.token)


def _fsspec() -> Any:
    try:
        import fsspec
    except ImportError as exc:  # pragma: no cover - fsspec comes with dask
        raise ImportError(
            "reading a pool from a URL needs fsspec (and s3fs/gcsfs for s3:// and gs://): "
            "pip install 'activelab[scale]' fsspec."
        ) from exc
    return fsspec


def _is_url(source: Any) -> bool:
    return isinstance(source, str) and "://" in source


class _Rows:
    """Read-only 2-D rows behind a :class:`SourceSpec`; pickles as its spec."""

    pool_spec: SourceSpec
    shape: tuple[int, int]
    dtype: np.dtype
    ndim = 2

    def __len__(self) -> int:
        return self.shape[0]

    def __reduce__(self) -> tuple[Any, ...]:
        # only the spec travels; the copy reopens the pool
        return (type(self), (self.pool_spec,))

    def _rows_of(self, key: Any) -> tuple[int, int]:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError(
                f"a {self.pool_spec.kind} pool is read by row slices, e.g. pool[start:stop]."
            )
        start, stop, _ = key.indices(self.shape[0])
        return start, max(start, stop)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.pool_spec.location!r}, shape={self.shape})"
