"""Datasets from files: CSV, Parquet and libsvm.

CSV and Parquet
    One row per item; ``label_column`` names the column holding the class.  When it is
    not given, a single column called ``label``, ``target``, ``class`` or ``y`` is used.
    Every other column is a feature:

    * numeric and boolean columns are used as they are (booleans as 0/1);
    * text or categorical columns with at most ``max_categories`` (default 20) distinct
      values are **one-hot encoded** (one 0/1 column per value, named ``column=value``);
    * text columns with more distinct values (free text, identifiers) are an error that
      names them: drop them (``drop_columns=[...]``) or turn them into features first
      (e.g. :func:`activelab.featurize.text_features`).

    Missing feature values are an error naming the columns (impute or drop them first);
    rows without a label are an error too (every row of a simulation needs its label).
    ``raw`` holds the original feature table (a pandas DataFrame).

libsvm / svmlight (``.libsvm``, ``.svm``, ``.svmlight``, ``.txt``, optionally ``.gz``/``.bz2``)
    Read with :func:`sklearn.datasets.load_svmlight_file`.  Features are returned dense
    when the matrix has at most 20 million cells, else as a CSR matrix.  Labels that are
    whole numbers become integers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import Dataset

__all__ = ["FILE_FORMATS", "detect_format", "load_file", "LABEL_COLUMN_GUESSES"]

FILE_FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv", ".tsv"),
    "parquet": (".parquet", ".pq"),
    "libsvm": (".libsvm", ".svm", ".svmlight", ".txt"),
}
LABEL_COLUMN_GUESSES: tuple[str, ...] = ("label", "target", "class", "y")
_COMPRESSION = (".gz", ".bz2", ".zip", ".xz")
_DENSE_CELLS = 20_000_000


def detect_format(path: str | os.PathLike[str]) -> str | None:
    """``"csv"``, ``"parquet"`` or ``"libsvm"`` from the file name, or None."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in _COMPRESSION:
        suffixes = suffixes[:-1]
    if not suffixes:
        return None
    for fmt, exts in FILE_FORMATS.items():
        if suffixes[-1] in exts:
            return fmt
    return None


def load_file(
    path: str | os.PathLike[str],
    *,
    label_column: str | None = None,
    format: str | None = None,
    drop_columns: Sequence[str] = (),
    max_categories: int = 20,
) -> Dataset:
    """Load a CSV, Parquet or libsvm file as a :class:`Dataset`.

    Parameters
    ----------
    path : path-like
    label_column : str, optional
        Column with the class (CSV/Parquet).  Guessed when a single column is called
        ``label``, ``target``, ``class`` or ``y``.
    format : {"csv", "parquet", "libsvm"}, optional
        Overrides the format guessed from the file name.
    drop_columns : sequence of str, default=()
        Columns to leave out (identifiers, free text).
    max_categories : int, default=20
        Text columns with at most this many distinct values are one-hot encoded.

    Returns
    -------
    Dataset

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When the file cannot be read in its format, the label column is missing, a text
        column has too many distinct values to one-hot encode, or values are missing.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"data file {str(p)!r} does not exist; check the path.")
    if p.is_dir():
        raise ValueError(f"data path {str(p)!r} is a folder; give a CSV, Parquet or libsvm file.")
    fmt = format or detect_format(p)
    if fmt is None:
        raise ValueError(
            f"cannot tell the format of {p.name!r} from its extension; use one of "
            + ", ".join(e for exts in FILE_FORMATS.values() for e in exts)
            + " or pass format='csv', 'parquet' or 'libsvm'."
        )
    if fmt not in FILE_FORMATS:
        raise ValueError(f"format must be one of {', '.join(FILE_FORMATS)}, got {format!r}.")
    if fmt == "libsvm":
        if label_column is not None:
            raise ValueError(
                "label_column does not apply to libsvm files (the label is the first field); "
                "leave it out."
            )
        return _load_libsvm(p)
    frame = _read_table(p, fmt)
    return frame_to_dataset(
        frame, name=p.stem.split(".")[0], label_column=label_column,
        drop_columns=drop_columns, max_categories=max_categories, source=p.name,
    )


def _read_table(p: Path, fmt: str) -> Any:
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "reading CSV/Parquet needs pandas (and pyarrow for Parquet); "
            "install them with `pip install 'activelab[cli]'`."
        ) from exc
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(p)
        else:
            sep = "\t" if ".tsv" in [s.lower() for s in p.suffixes] else ","
            frame = pd.read_csv(p, sep=sep)
    except ImportError:
        raise
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        what = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(
            f"could not read {p.name!r} as {fmt.upper()} ({what}); check that the file is a "
            f"valid {fmt.upper()} file, or pass format= with the right one."
        ) from exc
    except Exception as exc:  # pyarrow raises its own error types for broken files
        raise ValueError(
            f"could not read {p.name!r} as {fmt.upper()} ({type(exc).__name__}: {exc}); "
            "check that the file is not damaged."
        ) from exc
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"{p.name!r} holds no data rows; give a file with a header and rows.")
    return frame


def frame_to_dataset(
    frame: Any,
    *,
    name: str = "table",
    label_column: str | None = None,
    drop_columns: Sequence[str] = (),
    max_categories: int = 20,
    source: str = "the table",
) -> Dataset:
    """Turn a pandas DataFrame into a :class:`Dataset` (see the module notes for the rules)."""
    import pandas as pd

    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    if label_column is None:
        guesses = [c for c in columns if c.lower() in LABEL_COLUMN_GUESSES]
        if len(guesses) != 1:
            raise ValueError(
                f"say which column of {source} holds the label with label_column "
                f"(--label-column); columns present: {', '.join(columns)}."
            )
        label_column = guesses[0]
    if label_column not in columns:
        raise ValueError(
            f"label column {label_column!r} is not in {source}; columns present: "
            f"{', '.join(columns)}."
        )
    missing_drop = [c for c in drop_columns if c not in columns]
    if missing_drop:
        raise ValueError(
            f"drop_columns names {missing_drop} that are not in {source}; columns present: "
            f"{', '.join(columns)}."
        )
    y_series = frame[label_column]
    n_missing = int(y_series.isna().sum())
    if n_missing:
        raise ValueError(
            f"{n_missing} row(s) of {source} have no value in label column {label_column!r}; "
            "remove them (every row of a simulation needs its label)."
        )
    features = frame.drop(columns=[label_column, *drop_columns])
    if features.shape[1] == 0:
        raise ValueError(f"{source} has no feature columns besides the label {label_column!r}.")
    with_na = [c for c in features.columns if features[c].isna().any()]
    if with_na:
        raise ValueError(
            f"feature column(s) {with_na[:5]} of {source} have missing values; impute them "
            "(e.g. sklearn.impute.SimpleImputer) or drop those columns or rows."
        )
    text_cols = [
        c for c in features.columns
        if not (pd.api.types.is_numeric_dtype(features[c]) or pd.api.types.is_bool_dtype(features[c]))
    ]
    too_many = [c for c in text_cols if features[c].nunique() > max_categories]
    if too_many:
        raise ValueError(
            f"text column(s) {too_many[:5]} of {source} have more than {max_categories} distinct "
            "values, too many to one-hot encode; drop them (drop_columns=[...]) or turn the "
            "text into numeric features first."
        )
    encoded = pd.get_dummies(features, columns=text_cols, prefix_sep="=", dtype=np.float64)
    X = encoded.to_numpy(dtype=np.float64)
    y = y_series.to_numpy()
    if y.dtype == object:
        y = y.astype(str)
    if np.unique(y).size < 2:
        raise ValueError(
            f"label column {label_column!r} of {source} holds a single class; a classifier "
            "needs at least two."
        )
    return Dataset(
        name=name,
        X=X,
        y=y,
        raw=features.reset_index(drop=True),
        feature_names=[str(c) for c in encoded.columns],
    )


def _load_libsvm(p: Path) -> Dataset:
    from sklearn.datasets import load_svmlight_file

    try:
        X, y = load_svmlight_file(str(p))
    except (ValueError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"could not read {p.name!r} as a libsvm file ({exc}); each line must be "
            "'<label> <index>:<value> ...'."
        ) from exc
    if X.shape[0] == 0:
        raise ValueError(f"{p.name!r} holds no rows.")
    if np.all(y == np.round(y)):
        y = y.astype(np.int64)
    if X.shape[0] * X.shape[1] <= _DENSE_CELLS:
        X = X.toarray()
    stem = p.name.split(".")[0]
    return Dataset(name=stem, X=X, y=y, feature_names=[f"f{i}" for i in range(X.shape[1])])
