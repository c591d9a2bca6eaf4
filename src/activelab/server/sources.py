"""Read the data of a labeling project: items to show and the features the model learns from.

Accepted ``DATA``: CSV, Parquet, JSONL (``.jsonl``/``.ndjson``), a text file (one item a line)
or a folder of images.  Tables need one of ``text_column``, ``image_column`` or ``features``
(a table with a ``text`` column, or with numeric columns only, is understood without).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..featurize import IMAGE_SUFFIXES, image_features, resolve_inside, text_features
from .columns import shown_fields

__all__ = ["ProjectData", "load_project_data"]

MAX_TEXT_CHARS = 100_000


@dataclass
class ProjectData:
    """Items and features of a project.

    Attributes
    ----------
    kind : {"text", "image", "row"}
    items : list of (key, kind, content)
        ``content`` is the text, the image path relative to ``root``, or a JSON object.
    X : ndarray or sparse matrix
        One feature row per item, in item order.
    root : Path
        Folder that image paths are confined to.
    fields : list or None
        Per item, ``[[column, value], ...]`` of the columns shown to annotators
        (``--show-columns``); None shows the item itself.
    """

    kind: str
    items: list[tuple[str | None, str, str]]
    X: Any
    root: Path
    fields: list[list[list[str]]] | None = None


KEY_COLUMNS = ("id", "key", "ID")


def _read_table(path: Path, id_column: str | None = None) -> Any:
    import pandas as pd

    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv"):
            sep = "\t" if suffix == ".tsv" else ","
            df = pd.read_csv(path, sep=sep)
            key = _key_column(df, id_column)
            if key is not None:  # ids are strings, as written: "00993" stays "00993"
                df[key] = pd.read_csv(path, sep=sep, usecols=[key], dtype=str,
                                      keep_default_na=False)[key].to_numpy()
            return df
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".jsonl", ".ndjson"):
            # no type guessing: a JSON string stays a string
            return pd.read_json(path, lines=True, dtype=False)
    except UnicodeDecodeError as exc:
        raise ValueError(f"DATA {str(path)!r} is not UTF-8 text ({exc.reason} at byte "
                         f"{exc.start}): save it as UTF-8") from None
    except (ValueError, OSError) as exc:
        raise ValueError(f"DATA {str(path)!r} could not be read as {suffix[1:]}: {exc}") from None
    raise ValueError(
        f"DATA {str(path)!r} has an unknown type {suffix!r}: give a .csv, .parquet, .jsonl, "
        ".txt file or a folder of images"
    )


def _key_column(df: Any, id_column: str | None = None) -> str | None:
    """The column of item ids: ``id_column`` when given, else the first of KEY_COLUMNS."""
    if id_column is not None:
        return id_column if id_column in df.columns else None
    return next((c for c in KEY_COLUMNS if c in df.columns), None)


def _keys(df: Any, id_column: str | None = None) -> list[str]:
    """The item keys: the id column's values as strings, unique; else the row numbers."""
    if id_column is not None:
        _check_column(df, id_column, "--id-column")
    col = _key_column(df, id_column)
    if col is None:
        return np.arange(len(df)).astype(str).tolist()
    keys = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            for v in df[col].tolist()]
    _check_keys(keys, col)
    return keys


def _check_keys(keys: list[str], col: str) -> None:
    """Refuse empty and repeated ids, naming their rows (1 = the first data row)."""
    empty = [i + 1 for i, k in enumerate(keys) if k == ""]
    if empty:
        raise ValueError(f"DATA has an empty id on row {', '.join(map(str, empty[:10]))} of "
                         f"column {col!r} (row 1 is the first data row): give every row an id")
    arr = np.asarray(keys, dtype=object)
    uniq, inverse, counts = np.unique(arr, return_inverse=True, return_counts=True)
    if counts.max() == 1:
        return
    repeated = np.flatnonzero(counts > 1)
    first_row = {int(u): int(np.flatnonzero(inverse == u)[0]) for u in repeated[:1000]}
    shown = sorted(first_row, key=first_row.get)[:5]
    parts = []
    for u in shown:
        rows = np.flatnonzero(inverse == u) + 1
        more = ", ..." if rows.size > 10 else ""
        parts.append(f"{uniq[u]!r} on rows {', '.join(map(str, rows[:10]))}{more}")
    raise ValueError(
        f"DATA has {repeated.size} repeated ids in column {col!r} ({len(keys)} rows, "
        f"{uniq.size} distinct ids; row 1 is the first data row): {'; '.join(parts)}. "
        "Ids must be unique: fix the file, or drop the column to number the rows")


def _check_column(df: Any, col: str, option: str) -> None:
    if col not in df.columns:
        raise ValueError(f"{option} {col!r} is not a column of DATA; columns are: "
                         + ", ".join(map(str, df.columns)))


def load_project_data(
    data: str | os.PathLike[str],
    *,
    text_column: str | None = None,
    image_column: str | None = None,
    features: list[str] | None = None,
    text_method: str = "tfidf",
    image_size: tuple[int, int] = (16, 16),
    show_columns: list[str] | None = None,
    id_column: str | None = None,
) -> ProjectData:
    """Read ``data`` into items and features.

    Parameters
    ----------
    data : path-like
        CSV, Parquet, JSONL, text file or image folder.
    text_column, image_column : str, optional
        The column holding the text, or the image path (relative to the table's folder).
    features : list of str, optional
        Numeric columns used as features as given; the row is shown as a table.
    text_method : {"tfidf", "minilm"}, default="tfidf"
    image_size : (int, int), default=(16, 16)
    show_columns : list of str, optional
        The table's columns annotators see, in order (see :mod:`activelab.server.columns`).
    id_column : str, optional
        The column of item ids (kept as strings, byte for byte, in CSVs); default the first
        of ``id``, ``key``, ``ID``, else the row numbers.

    Returns
    -------
    ProjectData
    """
    path = Path(data)
    given = [x for x in (text_column, image_column, features) if x]
    if len(given) > 1:
        raise ValueError("give only one of --text-column, --image-column and --features")
    if not path.exists():
        raise FileNotFoundError(f"DATA {str(path)!r} does not exist")
    if show_columns is not None and (path.is_dir() or path.suffix.lower() in (".txt", ".text")):
        raise ValueError("--show-columns needs a table (CSV, Parquet or JSONL): a folder of "
                         "images or a text file has no columns")
    if id_column is not None and (path.is_dir() or path.suffix.lower() in (".txt", ".text")):
        raise ValueError("--id-column needs a table (CSV, Parquet or JSONL): a folder of "
                         "images or a text file has no columns")
    if path.is_dir():
        return _image_folder(path, image_size)
    if path.suffix.lower() in (".txt", ".text"):
        return _text_lines(path, text_method)
    df = _read_table(path, id_column)
    if len(df) == 0:
        raise ValueError(f"DATA {str(path)!r} has no rows")
    fields = None if show_columns is None else shown_fields(df, show_columns)
    data = _table_data(df, path, given, text_column, image_column, features, text_method,
                       image_size, id_column)
    data.fields = fields
    return data


def _table_data(df: Any, path: Path, given: list[Any], text_column: str | None,
                image_column: str | None, features: list[str] | None, text_method: str,
                image_size: tuple[int, int], id_column: str | None = None) -> ProjectData:
    """Items and features of a table."""
    keys = _keys(df, id_column)
    if not given:
        text_column, features = _guess_columns(df, id_column)
    root = path.resolve().parent
    if text_column:
        _check_column(df, text_column, "--text-column")
        texts = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else
                 str(v)[:MAX_TEXT_CHARS] for v in df[text_column].tolist()]
        if not any(t.strip() for t in texts):
            raise ValueError(f"--text-column {text_column!r} is empty in every row: there is "
                             "nothing to show or learn from; pick the column with the text")
        X, _ = text_features(texts, method=text_method)
        return ProjectData("text", [(k, "text", t) for k, t in zip(keys, texts, strict=True)],
                           X, root)
    if image_column:
        return _image_column(df, image_column, keys, root, image_size)
    assert features is not None
    return _feature_rows(df, features, keys, root)


def _image_folder(path: Path, image_size: tuple[int, int]) -> ProjectData:
    root = path.resolve()
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"folder {str(path)!r} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    rel = [str(p.relative_to(root)) for p in files]
    X = image_features(rel, root, size=image_size)
    return ProjectData("image", [(r, "image", r) for r in rel], X, root)


def _text_lines(path: Path, text_method: str) -> ProjectData:
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = [ln.rstrip("\r\n") for ln in fh]
    texts = [ln[:MAX_TEXT_CHARS] for ln in lines if ln.strip()]
    if not texts:
        raise ValueError(f"DATA {str(path)!r} has no non-empty lines")
    X, _ = text_features(texts, method=text_method)
    return ProjectData("text", [(str(i), "text", t) for i, t in enumerate(texts)], X,
                       path.resolve().parent)


def _guess_columns(df: Any, id_column: str | None = None
                   ) -> tuple[str | None, list[str] | None]:
    """``(text_column, features)`` when neither was given: a ``text`` column, else numbers."""
    if "text" in df.columns and id_column != "text":
        return "text", None
    from pandas.api.types import is_numeric_dtype

    numeric = [c for c in df.columns if is_numeric_dtype(df[c].dtype)
               and str(c) not in ("id", "key", id_column)]
    if numeric and len(numeric) >= len(df.columns) - 1:
        return None, [str(c) for c in numeric]
    raise ValueError("say which column to use: --text-column NAME, --image-column "
                     "NAME or --features col1,col2")


def _image_column(df: Any, column: str, keys: list[str], root: Path,
                  image_size: tuple[int, int]) -> ProjectData:
    _check_column(df, column, "--image-column")
    rel = [str(v) for v in df[column].tolist()]
    for r in rel:
        resolve_inside(root, r)  # refuse paths that leave the data folder
    X = image_features(rel, root, size=image_size)
    return ProjectData("image", [(k, "image", r) for k, r in zip(keys, rel, strict=True)],
                       X, root)


def _feature_rows(df: Any, features: list[str], keys: list[str], root: Path) -> ProjectData:
    for c in features:
        _check_column(df, c, "--features")
    try:
        X = df[features].to_numpy(dtype=np.float32)
    except (ValueError, TypeError):
        raise ValueError("--features columns must be numeric; use --text-column for text") from None
    if not np.isfinite(X).all():
        raise ValueError("--features columns contain missing or infinite values: fill or drop "
                         "those rows first")
    records = df.to_json(orient="records", lines=True, default_handler=str).splitlines()
    items = [(k, "row", r) for k, r in zip(keys, records, strict=True)]
    json.loads(items[0][2])  # sanity: rows are JSON objects
    return ProjectData("row", items, X, root)
