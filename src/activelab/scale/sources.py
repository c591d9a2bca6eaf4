"""Where a pool's rows come from: ``.npy``, Zarr or Parquet, on disk or behind a URL.

:func:`open_source` turns a path or an fsspec URL (``file://``, ``s3://``, ``gs://``,
``memory://``, ...) into a read-only array-like with ``shape``, ``dtype`` and row
slicing (``source[start:stop]`` gives an ndarray), reading only the rows asked for:

* ``.npy`` on a local disk is memory-mapped; behind a URL it is read by byte ranges;
* a Zarr array (``.zarr`` directory, local or remote) is opened with ``zarr``;
* Parquet (one file or a directory of files) is read with ``pyarrow.dataset``, one
  row group at a time.  Row ids are positions in a fixed order — files sorted by path,
  then row groups, then rows — so they are the same every time the same files are
  opened.  ``columns`` picks the feature columns (numeric ones, or one fixed-size list
  column holding a vector per row).

:class:`SourceSpec` is what a Dask task needs to reopen the same rows on a worker: an
absolute path or a URL and a few numbers, never the data.  :func:`source_spec` finds it
for an opened source, including a plain ``np.memmap`` (file name and byte offset).
"""

from __future__ import annotations

import mmap
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from .spec import SourceSpec, _fsspec, _is_url, _Rows

__all__ = [
    "SourceSpec",
    "block_offsets",
    "open_source",
    "open_spec",
    "release_rows",
    "source_spec",
    "will_need_rows",
]

_PARQUET_SUFFIXES = (".parquet", ".pq")


def _missing(where: str) -> FileNotFoundError:
    return FileNotFoundError(f"pool file {where!r} does not exist; check the path or URL.")


def _unknown_kind(where: str) -> ValueError:
    return ValueError(
        f"cannot read a pool from {where!r}: give a .npy file, a .zarr directory or Parquet "
        "(a .parquet file or a directory of them); save an array with np.save(path, X)."
    )


def _local_kind(path: Path) -> str:
    if not path.exists():
        raise _missing(str(path))
    if path.suffix == ".npy":
        return "npy"
    if path.suffix in _PARQUET_SUFFIXES:
        return "parquet"
    if path.is_dir():
        if path.suffix == ".zarr" or (path / "zarr.json").exists() or (path / ".zarray").exists():
            return "zarr"
        if any(path.rglob("*.parquet")) or any(path.rglob("*.pq")):
            return "parquet"
    raise _unknown_kind(str(path))


def _remote_kind(fs: Any, path: str, url: str) -> str:
    if not fs.exists(path):
        raise _missing(url)
    if path.endswith(".npy"):
        return "npy"
    if path.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    if fs.isdir(path):
        if path.endswith(".zarr") or fs.exists(f"{path}/zarr.json") or fs.exists(
            f"{path}/.zarray"
        ):
            return "zarr"
        if any(p.endswith(_PARQUET_SUFFIXES) for p in fs.find(path)):
            return "parquet"
    raise _unknown_kind(url)


def open_source(
    source: str | os.PathLike[str],
    *,
    columns: Any = None,
    storage_options: dict | None = None,
) -> Any:
    """Open a pool stored as ``.npy``, Zarr or Parquet, locally or behind a URL.

    Parameters
    ----------
    source : str or path-like
        A path (relative paths are made absolute, so that workers find the same file)
        or an fsspec URL such as ``file:///data/pool.npy``, ``s3://bucket/pool.zarr``
        or ``gs://bucket/pool/`` (a Parquet directory).
    columns : sequence of str, optional
        Parquet only: the feature columns, in order.  Default: every column.
    storage_options : dict, optional
        Passed to fsspec for URLs (credentials, endpoint, ...).

    Returns
    -------
    array-like of shape (n_samples, n_features)
        ``source[start:stop]`` reads rows ``start..stop-1`` into an ndarray.

    Raises
    ------
    FileNotFoundError
        When nothing is at ``source``.
    ValueError, TypeError
        When the file type is unknown or the columns are not numeric features.
    """
    options = dict(storage_options or {})
    cols = None if columns is None else tuple(str(c) for c in _as_list(columns))
    if _is_url(source):
        fs, path = _fsspec().core.url_to_fs(str(source), **options)
        if type(fs).__name__ == "LocalFileSystem":
            return open_source(path, columns=cols)
        kind = _remote_kind(fs, path, str(source))
        location = str(source)
    else:
        location = os.path.abspath(os.path.expanduser(os.fspath(source)))
        kind = _local_kind(Path(location))
    if cols is not None and kind != "parquet":
        raise ValueError(f"columns= is for Parquet pools; {location!r} is a {kind} pool.")
    return _open_spec(SourceSpec(kind, location, options, cols, token=uuid.uuid4().hex))


def _as_list(columns: Any) -> list[Any]:
    if isinstance(columns, str):
        return [c for c in columns.split(",") if c]
    return list(columns)


# ----------------------------------------------------------------- reopening

_CACHE: dict[tuple[Any, ...], Any] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8


def open_spec(spec: SourceSpec) -> Any:
    """The array-like that ``spec`` names, opened once per process and kept (8 at most)."""
    key = spec.key()
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
    opened = _open_spec(spec)
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = opened
    return opened


def _open_spec(spec: SourceSpec) -> Any:
    if spec.kind == "raw":
        return np.memmap(spec.location, dtype=np.dtype(spec.dtype), mode="r",
                         offset=spec.offset, shape=spec.shape)
    if spec.kind == "npy" and not _is_url(spec.location):
        arr = np.load(spec.location, mmap_mode="r", allow_pickle=False)
        if isinstance(arr, np.memmap):
            arr.pool_spec = spec
        return arr
    if spec.kind == "npy":
        return RemoteNpy(spec)
    if spec.kind == "zarr":
        return ZarrRows(spec)
    if spec.kind == "parquet":
        from .parquet import ParquetRows

        return ParquetRows(spec)
    raise ValueError(f"unknown pool source kind {spec.kind!r}.")


def _memmap_spec(arr: np.memmap) -> SourceSpec | None:
    mm = getattr(arr, "_mmap", None)
    if mm is None or not arr.filename or arr.ndim != 2 or not arr.flags.c_contiguous:
        return None
    base = np.frombuffer(mm, dtype=np.uint8).ctypes.data
    start_of_map = arr.offset - arr.offset % mmap.ALLOCATIONGRANULARITY
    offset = start_of_map + (arr.ctypes.data - base)
    return SourceSpec("raw", os.path.abspath(arr.filename), {}, None, int(offset),
                      tuple(int(s) for s in arr.shape), arr.dtype.str)


def source_spec(arr: Any) -> SourceSpec | None:
    """How to reopen ``arr`` elsewhere, or None when it lives only in this process.

    Sources from :func:`open_source` know their spec; a C-ordered ``np.memmap`` (e.g.
    from ``np.load(path, mmap_mode="r")``) is named by its file and byte offset.
    """
    spec = getattr(arr, "pool_spec", None)
    if isinstance(spec, SourceSpec):
        return spec
    if isinstance(arr, np.memmap):
        return _memmap_spec(arr)
    return None


# ------------------------------------------------------------ chunks, pages


def block_offsets(arr: Any, chunk_rows: int) -> np.ndarray:
    """Row offsets ``[0, ..., n_rows]`` of the chunks in which ``arr`` is read.

    Blocks of ``chunk_rows`` rows, except for sources with their own read units
    (Parquet: whole row groups, merged up to ``chunk_rows`` rows).
    """
    own = getattr(arr, "block_offsets", None)
    if callable(own):
        return np.asarray(own(chunk_rows), dtype=np.int64)
    n_rows = int(arr.shape[0])
    return np.append(np.arange(0, n_rows, chunk_rows, dtype=np.int64), n_rows)


def _advise(arr: Any, start: int, stop: int, advice: int) -> None:
    """``madvise`` the pages of rows ``start..stop-1`` of a read-only memory map."""
    mm = getattr(arr, "_mmap", None)
    if mm is None or getattr(arr, "mode", None) != "r" or not arr.flags.c_contiguous:
        return
    try:
        base = np.frombuffer(mm, dtype=np.uint8).ctypes.data
        row = arr.strides[0]
        first = arr.ctypes.data - base + start * row
        last = arr.ctypes.data - base + stop * row
        first -= first % mmap.PAGESIZE
        last = min(last + (-last) % mmap.PAGESIZE, len(mm))
        if last > first:
            mm.madvise(advice, first, last - first)
    except (OSError, ValueError, AttributeError):  # pragma: no cover - platform specific
        pass


def release_rows(arr: Any, start: int, stop: int) -> None:
    """Hand the pages of rows ``start..stop-1`` of a read-only memory map back to the OS.

    They stay in the page cache; without this every page read counts towards the
    process's resident memory.  Does nothing for other arrays.
    """
    if hasattr(mmap, "MADV_DONTNEED"):
        _advise(arr, start, stop, mmap.MADV_DONTNEED)


def available_memory() -> int | None:
    """Bytes of memory the OS can give without swapping (``MemAvailable``), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        return None


def fits_in_page_cache(arr: Any) -> bool:
    """Whether ``arr``'s bytes fit in the memory available now (True when unknown).

    Asking for a memory map's pages ahead pays only while they fit: once a pool is larger
    than the page cache, every page read ahead has to be reclaimed from another first, in
    the thread that asked, and the OS's own sequential read-ahead on page faults is faster
    (10⁸ × 64 float32, 25.6 GB on a 24 GiB machine: 51–62 s with ``MADV_WILLNEED``
    against 42–46 s without; 10⁷ rows, 2.56 GB: 2.7–4.2 s with against 4.6–7.1 s).
    """
    free = available_memory()
    return free is None or int(getattr(arr, "nbytes", 0)) <= free


def will_need_rows(arr: Any, start: int, stop: int) -> None:
    """Ask the OS to start reading rows ``start..stop-1`` of a memory map into the page
    cache now (``MADV_WILLNEED``), so that they are there when scored.  Returns at once;
    does nothing for other arrays."""
    if hasattr(mmap, "MADV_WILLNEED"):
        _advise(arr, start, stop, mmap.MADV_WILLNEED)


class RemoteNpy(_Rows):
    """A ``.npy`` file behind an fsspec URL, read by byte ranges (rows on demand).

    Parameters
    ----------
    spec : SourceSpec
        ``kind="npy"`` with a URL.
    """

    def __init__(self, spec: SourceSpec) -> None:
        self.pool_spec = spec
        self._fs, self._path = _fsspec().core.url_to_fs(spec.location, **spec.options)
        with self._fs.open(self._path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran_order, dtype = read_header(f)
            self._data_offset = f.tell()
        if fortran_order or dtype.hasobject or len(shape) != 2:
            raise ValueError(
                f"{spec.location!r} must hold a 2-D C-ordered numeric array; save it with "
                "np.save(path, np.ascontiguousarray(X))."
            )
        self.shape, self.dtype = (int(shape[0]), int(shape[1])), dtype

    def __getitem__(self, key: Any) -> np.ndarray:
        start, stop = self._rows_of(key)
        if stop == start:
            return np.empty((0, self.shape[1]), dtype=self.dtype)
        row = self.dtype.itemsize * self.shape[1]
        data = self._fs.cat_file(self._path, start=self._data_offset + start * row,
                                 end=self._data_offset + stop * row)
        return np.frombuffer(data, dtype=self.dtype).reshape(stop - start, self.shape[1])


class ZarrRows(_Rows):
    """A Zarr array (local directory or URL), read by row slices.

    Parameters
    ----------
    spec : SourceSpec
        ``kind="zarr"``.
    """

    def __init__(self, spec: SourceSpec) -> None:
        try:
            import zarr
        except ImportError as exc:
            raise ImportError(
                "reading a Zarr pool needs the zarr package: pip install zarr."
            ) from exc
        self.pool_spec = spec
        options = spec.options or None
        self.array = zarr.open_array(spec.location, mode="r", storage_options=options) \
            if _is_url(spec.location) else zarr.open_array(spec.location, mode="r")
        self.shape = tuple(int(s) for s in self.array.shape)  # type: ignore[assignment]
        self.dtype = np.dtype(self.array.dtype)

    def __getitem__(self, key: Any) -> np.ndarray:
        start, stop = self._rows_of(key)
        return np.asarray(self.array[start:stop])
