"""The columns a project shows annotators (``activelab label --show-columns a,b``).

A table often holds more than an annotator should read (raw headers, ids, scores) or less
than the model learns from.  ``--show-columns`` names the columns the page shows, in order,
each under its name; the model still learns from ``--text-column``, ``--image-column`` or
``--features``.  The chosen values are stored with the items (:mod:`activelab.store.fields`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .options import check_once

__all__ = ["check_show_columns", "shown_fields", "MAX_FIELD_CHARS"]

#: Longest value shown of one column (longer ones are cut).
MAX_FIELD_CHARS = 100_000


def check_show_columns(columns: Sequence[str]) -> list[str]:
    """The column names, or ValueError for an empty list or a repeated name."""
    names = [str(c) for c in columns]
    if not names:
        raise ValueError("--show-columns needs at least one column, e.g. --show-columns "
                         "subject,body")
    check_once(names, "--show-columns", "give each column once")
    return names


def _shown(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)[:MAX_FIELD_CHARS]


def shown_fields(df: Any, columns: Sequence[str]) -> list[list[list[str]]]:
    """Per row, ``[[column, value], ...]`` of the shown columns, values as text.

    Raises
    ------
    ValueError
        A column is not in the table (the message lists the table's columns).
    """
    names = check_show_columns(columns)
    missing = [c for c in names if c not in df.columns]
    if missing:
        raise ValueError(f"--show-columns {missing[0]!r} is not a column of DATA; columns "
                         "are: " + ", ".join(map(str, df.columns)))
    values = [[_shown(v) for v in df[c].tolist()] for c in names]
    return [[[c, col[i]] for c, col in zip(names, values, strict=True)]
            for i in range(len(df))]
