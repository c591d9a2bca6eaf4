"""Datasets from files: CSV, Parquet and libsvm.

CSV and Parquet
    One row per item; ``label_column`` names the column holding the class.  When it is
    not given, a single column called ``label``, ``target``, ``class`` or ``y`` is used.
    The other columns (see :mod:`activelab.datasets.table` for every rule):

    * ``text_column`` names free-text columns, featurized as text (TF-IDF, or sentence
      embeddings with ``text_method="minilm"``: the labeling app's featurizer);
    * ``id_column`` (or a column called ``id`` / ``key``) holds the items' ids, not a
      feature; ``drop_columns`` are left out;
    * numeric and boolean columns are used as they are (booleans as 0/1);
    * text or categorical columns with at most ``max_categories`` (default 20) distinct
      values are **one-hot encoded** (one 0/1 column per value, named ``column=value``);
    * other text columns are an error that names them and the fix.

    Missing or infinite feature values are an error naming the columns (impute or drop
    them first); rows without a label are an error too (every row of a simulation needs
    its label).  ``raw`` holds the original feature table (a pandas DataFrame).
    CSV files are read as UTF-8 with ``,`` between values (a tab for ``.tsv``);
    ``encoding`` and ``delimiter`` say otherwise.

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
from .progress import report
from .table import LABEL_COLUMN_GUESSES, frame_to_dataset

__all__ = [
    "FILE_FORMATS", "detect_format", "load_file", "frame_to_dataset", "LABEL_COLUMN_GUESSES",
]

FILE_FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv", ".tsv"),
    "parquet": (".parquet", ".pq"),
    "libsvm": (".libsvm", ".svm", ".svmlight", ".txt"),
}
_COMPRESSION = (".gz", ".bz2", ".zip", ".xz")
_DENSE_CELLS = 20_000_000
SLOW_FILE_BYTES = 20 * 2**20  # reading a larger file is reported as a step of the load


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
    text_column: str | Sequence[str] | None = None,
    id_column: str | None = None,
    text_method: str = "tfidf",
    encoding: str | None = None,
    delimiter: str | None = None,
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
        Columns to leave out.
    max_categories : int, default=20
        Text columns with at most this many distinct values are one-hot encoded.
    text_column : str or sequence of str, optional
        Free-text columns, featurized as text (see :mod:`activelab.datasets.table`).
    id_column : str, optional
        The items' identifiers (:attr:`Dataset.keys`), never a feature.
    text_method : {"tfidf", "minilm"}, default="tfidf"
        How text columns become features (:func:`activelab.featurize.text_features`).
    encoding : str, optional
        Text encoding of a CSV file (default UTF-8), e.g. ``"latin-1"``.
    delimiter : str, optional
        What separates the values of a CSV file (default ``,``; a tab for ``.tsv``).

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
    p, fmt = check_file(path, format)
    table_options = {"drop_columns": drop_columns, "text_column": text_column,
                     "id_column": id_column, "encoding": encoding, "delimiter": delimiter}
    if fmt == "libsvm":
        given = [k for k, v in {"label_column": label_column, **table_options}.items() if v]
        if given:
            raise ValueError(
                f"{given[0]} does not apply to libsvm files (the label is the first field, "
                "every other field a feature); leave it out."
            )
        return _load_libsvm(p)
    frame = _read_table(p, fmt, encoding, delimiter)
    return frame_to_dataset(
        frame, name=p.stem.split(".")[0], label_column=label_column,
        drop_columns=drop_columns, max_categories=max_categories, source=repr(p.name),
        text_column=text_column, id_column=id_column, text_method=text_method,
    )


def check_file(path: str | os.PathLike[str], format: str | None = None) -> tuple[Path, str]:
    """The path of an existing data file and its format (nothing is read).

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        For a folder or a format that cannot be told or is unknown.
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
    return p, fmt


def _read_table(p: Path, fmt: str, encoding: str | None = None, delimiter: str | None = None) -> Any:
    try:
        import pandas  # noqa: F401  (a clear message when it is missing)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "reading CSV/Parquet needs pandas (and pyarrow for Parquet); "
            "install them with `pip install 'activelab[cli]'`."
        ) from exc
    if p.stat().st_size > SLOW_FILE_BYTES:
        report(f"reading {p.name} ({p.stat().st_size / 2**20:,.0f} MiB)")
    if fmt == "parquet":
        frame = _read_parquet(p)
    else:
        sep = delimiter or ("\t" if ".tsv" in [s.lower() for s in p.suffixes] else ",")
        frame = _read_csv(p, sep, encoding)
        _check_delimiter(frame, p, sep)
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"{p.name!r} holds no data rows; give a file with a header and rows.")
    return frame


def _read_parquet(p: Path) -> Any:
    import pandas as pd

    try:
        return pd.read_parquet(p)
    except ImportError:
        raise
    except Exception as exc:  # pyarrow raises its own error types for broken files
        raise ValueError(
            f"could not read {p.name!r} as PARQUET ({type(exc).__name__}: {exc}); "
            "check that the file is not damaged."
        ) from exc


def _read_csv(p: Path, sep: str, encoding: str | None) -> Any:
    import pandas as pd

    try:
        return pd.read_csv(p, sep=sep, encoding=encoding)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"could not read {p.name!r} as CSV: it is not {encoding or 'UTF-8'} text "
            f"({exc.reason} at byte {exc.start}); re-encode it as UTF-8, or give its "
            "encoding (encoding='latin-1'; CLI: --encoding latin-1)."
        ) from None
    except LookupError:
        raise ValueError(
            f"unknown encoding {encoding!r}; give one Python knows, e.g. utf-8, latin-1, cp1252."
        ) from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        what = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(
            f"could not read {p.name!r} as CSV ({what}); check that the file is a valid CSV "
            "file, or pass format= with the right one."
        ) from exc


def _check_delimiter(frame: Any, p: Path, sep: str) -> None:
    """One column whose header holds ``;``, tab or ``|``: the file uses another delimiter."""
    if frame.shape[1] != 1:
        return
    header = str(frame.columns[0])
    for other, shown in ((";", "';'"), ("\t", "'\\t'"), ("|", "'|'")):
        if other != sep and other in header:
            raise ValueError(
                f"{p.name!r} reads as one column {header[:60]!r}: its values seem to be "
                f"separated by {shown}, not {sep!r}; pass delimiter={shown} "
                f"(CLI: --delimiter {shown})."
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
