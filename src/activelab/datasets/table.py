"""A table (pandas DataFrame) as a :class:`Dataset`: which column is what, and its features.

Every column has one role:

label
    ``label_column``, or the one column called ``label``, ``target``, ``class`` or ``y``.
ids
    ``id_column``, or a column called ``id`` or ``key`` (any case) when none is given: the
    items' identifiers (:attr:`Dataset.keys`), never a feature.
text
    ``text_column`` (one name or several), or a column called ``text`` whose values are
    too varied to one-hot encode: featurized by :func:`activelab.featurize.text_features`
    (TF-IDF by default, sentence embeddings with ``text_method="minilm"``), the featurizer
    of the labeling app.  Missing texts count as empty.
dropped
    ``drop_columns``.
features
    everything else: numbers and booleans as they are, text or categories with at most
    ``max_categories`` distinct values one-hot encoded (``column=value``).

Missing or infinite feature values, missing labels and a single class are errors that
name the columns and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from .dataset import Dataset
from .progress import report

__all__ = ["LABEL_COLUMN_GUESSES", "ID_COLUMN_GUESSES", "frame_to_dataset"]

LABEL_COLUMN_GUESSES: tuple[str, ...] = ("label", "target", "class", "y")
ID_COLUMN_GUESSES: tuple[str, ...] = ("id", "key")
TEXT_COLUMN_GUESS = "text"
SLOW_TEXT_ROWS = 2000  # featurizing more rows than this is reported as a step of the load


@dataclass
class _Roles:
    """The role of every column of a table."""

    label: str
    ids: str | None
    texts: list[str]
    features: list[str]
    notes: list[str] = field(default_factory=list)


#: How the notes name the text featurizers.
TEXT_METHOD_NAMES = {"tfidf": "TF-IDF", "minilm": "MiniLM sentence embeddings"}


def _names(value: str | Sequence[str] | None, option: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if not all(isinstance(v, str) for v in value):
        raise TypeError(f"{option} must be a column name or a list of column names.")
    return list(value)


def _check_present(names: list[str], columns: list[str], option: str, source: str) -> None:
    missing = [c for c in names if c not in columns]
    if missing:
        raise ValueError(
            f"{option} names {missing} that are not in {source}; columns present: "
            f"{', '.join(columns)}."
        )


def _label_role(columns: list[str], label_column: str | None, source: str) -> str:
    if label_column is None:
        guesses = [c for c in columns if c.lower() in LABEL_COLUMN_GUESSES]
        if len(guesses) != 1:
            raise ValueError(
                f"say which column of {source} holds the label with label_column "
                f"(--label-column); columns present: {', '.join(columns)}."
            )
        return guesses[0]
    _check_present([label_column], columns, "label column", source)
    return label_column


def _column_roles(
    frame: Any, *, label_column: str | None, text_column: Any, id_column: str | None,
    drop_columns: Sequence[str], max_categories: int, source: str, text_method: str = "tfidf",
) -> _Roles:
    columns = [str(c) for c in frame.columns]
    label = _label_role(columns, label_column, source)
    texts = _names(text_column, "text_column")
    drops = _names(drop_columns, "drop_columns")
    _check_present(drops, columns, "drop_columns", source)
    _check_present(texts, columns, "text_column", source)
    if id_column is not None:
        _check_present([id_column], columns, "id_column", source)
    taken = {label, *drops, *texts, *([id_column] if id_column else [])}
    if label in texts or label in drops or label == id_column:
        raise ValueError(
            f"column {label!r} of {source} is the label; it cannot also be a text, id or "
            "dropped column."
        )
    roles = _Roles(label, id_column, texts, [])
    if id_column is None:
        guessed = [c for c in columns if c.lower() in ID_COLUMN_GUESSES and c not in taken]
        if guessed:
            roles.ids = guessed[0]
            taken.add(guessed[0])
            roles.notes.append(
                f"column {guessed[0]!r} is taken as the items' ids, not as a feature "
                "(id_column / --id-column chooses another)."
            )
    if not texts:
        _guess_text(frame, columns, taken, max_categories, roles, text_method)
        taken.update(roles.texts)
    roles.features = [c for c in columns if c not in taken]
    return roles


def _guess_text(
    frame: Any, columns: list[str], taken: set[str], max_categories: int, roles: _Roles,
    text_method: str,
) -> None:
    """A free-text column called ``text`` is featurized as text (with a note)."""
    import pandas as pd

    for c in columns:
        if c.lower() != TEXT_COLUMN_GUESS or c in taken:
            continue
        if pd.api.types.is_numeric_dtype(frame[c]) or frame[c].nunique() <= max_categories:
            continue
        roles.texts.append(c)
        roles.notes.append(
            f"column {c!r} is featurized as text ({TEXT_METHOD_NAMES.get(text_method, text_method)}"
            "); text_column / --text-column "
            "names the text columns."
        )


def _labels(frame: Any, label: str, source: str) -> np.ndarray:
    y_series = frame[label]
    n_missing = int(y_series.isna().sum())
    if n_missing:
        raise ValueError(
            f"{n_missing} row(s) of {source} have no value in label column {label!r}; "
            "remove them (every row of a simulation needs its label)."
        )
    y = y_series.to_numpy()
    if y.dtype == object or y.dtype.kind in "US":
        y = np.asarray(y, dtype=object).astype(str)
    if np.unique(y).size < 2:
        raise ValueError(
            f"label column {label!r} of {source} holds a single class; a classifier "
            "needs at least two."
        )
    return y


def _encode_features(
    features: Any, max_categories: int, source: str
) -> tuple[np.ndarray, list[str]]:
    """Numbers as they are, few-valued text one-hot; errors name the bad columns."""
    import pandas as pd

    if features.shape[1] == 0:
        return np.empty((features.shape[0], 0)), []
    with_na = [c for c in features.columns if features[c].isna().any()]
    if with_na:
        raise ValueError(
            f"feature column(s) {with_na[:5]} of {source} have missing values; impute them "
            "(e.g. sklearn.impute.SimpleImputer) or drop those columns or rows."
        )
    is_num = pd.api.types.is_numeric_dtype
    is_bool = pd.api.types.is_bool_dtype
    text_cols = [c for c in features.columns if not (is_num(features[c]) or is_bool(features[c]))]
    too_many = [c for c in text_cols if features[c].nunique() > max_categories]
    if too_many:
        raise ValueError(
            f"text column(s) {too_many[:5]} of {source} have more than {max_categories} "
            f"distinct values, too many to one-hot encode; featurize them as text "
            f"(text_column={too_many[0]!r}, CLI: --text-column {too_many[0]}) or drop them "
            "(drop_columns=[...], CLI: --drop-columns)."
        )
    encoded = pd.get_dummies(features, columns=text_cols, prefix_sep="=", dtype=np.float64)
    X = encoded.to_numpy(dtype=np.float64)
    infinite = [c for c, bad in zip(encoded.columns, ~np.isfinite(X).all(axis=0), strict=True)
                if bad]
    if infinite:
        raise ValueError(
            f"feature column(s) {[str(c) for c in infinite[:5]]} of {source} hold infinite "
            "values; replace them (e.g. clip them to a large number, or set them to NaN and "
            "impute) or drop those columns or rows."
        )
    return X, [str(c) for c in encoded.columns]


def _text_block(frame: Any, columns: list[str], method: str) -> tuple[Any, list[str]]:
    """The text columns featurized one by one (names ``column:term``), side by side."""
    from ..featurize import column_texts, text_features

    blocks, names = [], []
    for c in columns:
        if len(frame) >= SLOW_TEXT_ROWS:
            report(f"featurizing column {c!r} of {len(frame):,} rows as text ({method})")
        X, featurizer = text_features(column_texts(frame[c]), method=method)
        blocks.append(X)
        prefix = f"{c}:" if len(columns) > 1 else ""
        names += [f"{prefix}{t}" for t in featurizer.get_feature_names_out()]
    if all(sp.issparse(b) for b in blocks):
        return sp.hstack(blocks, format="csr"), names
    return np.hstack([b.toarray() if sp.issparse(b) else b for b in blocks]), names


def _combine(numeric: np.ndarray, text: Any) -> Any:
    """Numeric features and text features in one matrix (sparse when the text is)."""
    if text is None:
        return numeric
    if numeric.shape[1] == 0:
        return text
    if sp.issparse(text):
        return sp.hstack([sp.csr_matrix(numeric), text], format="csr")
    return np.hstack([numeric, np.asarray(text, dtype=np.float64)])


def frame_to_dataset(
    frame: Any,
    *,
    name: str = "table",
    label_column: str | None = None,
    drop_columns: Sequence[str] = (),
    max_categories: int = 20,
    source: str = "the table",
    text_column: str | Sequence[str] | None = None,
    id_column: str | None = None,
    text_method: str = "tfidf",
) -> Dataset:
    """Turn a pandas DataFrame into a :class:`Dataset` (see the module notes for the rules).

    Parameters
    ----------
    frame : pandas.DataFrame
    name : str, default="table"
    label_column : str, optional
    drop_columns : sequence of str, default=()
    max_categories : int, default=20
    source : str
        How messages name the table (e.g. the file name).
    text_column : str or sequence of str, optional
        Columns of free text, featurized as text.
    id_column : str, optional
        The items' identifiers (kept as :attr:`Dataset.keys`, never a feature).
    text_method : {"tfidf", "minilm"}, default="tfidf"

    Returns
    -------
    Dataset
    """
    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    roles = _column_roles(
        frame, label_column=label_column, text_column=text_column, id_column=id_column,
        drop_columns=drop_columns, max_categories=max_categories, source=source,
        text_method=text_method,
    )
    if not roles.features and not roles.texts:
        raise ValueError(f"{source} has no feature columns besides the label {roles.label!r}.")
    y = _labels(frame, roles.label, source)
    numeric, names = _encode_features(frame[roles.features], max_categories, source)
    text, text_names = _text_block(frame, roles.texts, text_method) if roles.texts else (None, [])
    raw = frame[[*roles.features, *roles.texts]].reset_index(drop=True)
    return Dataset(
        name=name,
        X=_combine(numeric, text),
        y=y,
        raw=raw,
        feature_names=names + text_names,
        keys=None if roles.ids is None else frame[roles.ids].to_numpy(),
        notes=roles.notes,
    )
