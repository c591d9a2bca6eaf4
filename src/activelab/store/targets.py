"""Labels beyond one class per item: a set of labels, or a number, in the ``label`` column.

A labeling project stores every answer as one string in ``al_labels.label`` (SQLite and
PostgreSQL alike), so committing, retrying, undoing, relabeling and exporting work the
same for every task:

* classification: the label itself;
* multi-label: the set of chosen labels as a JSON list in the project's label order,
  e.g. ``["sport","money"]`` (``[]`` when none applies) — one canonical string per set,
  so two equal sets are equal strings;
* regression: the number as Python writes it (``repr(float)``: ``"3.25"``), which reads
  back to the same float.

:func:`consensus_targets` turns the stored answers into what a model learns from: one
``n x L`` 0/1 row per item (a label applies when most of the item's annotators chose it;
a tie follows the item's first annotator) or one float per item (the median of its
annotators' numbers).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["MAX_ANSWER_CHARS", "encode_set", "decode_sets", "encode_value", "decode_values",
           "check_set_fits", "consensus_sets", "consensus_values", "consensus_targets"]

#: Longest stored answer: the width of the ``label`` column.
MAX_ANSWER_CHARS = 200


def encode_set(chosen: Sequence[str], labels: Sequence[str]) -> str:
    """The stored form of a set of labels: a JSON list in the project's label order.

    Raises
    ------
    ValueError
        When a label is not one of ``labels`` or is given twice.
    """
    chosen = [str(c) for c in chosen]
    unknown = [c for c in chosen if c not in labels]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not one of the project's labels: "
                         f"{', '.join(labels)}")
    if len(set(chosen)) != len(chosen):
        raise ValueError("a label is given twice; give each label of the set once")
    return json.dumps([x for x in labels if x in set(chosen)], ensure_ascii=False,
                      separators=(",", ":"))


def check_set_fits(labels: Sequence[str]) -> None:
    """Refuse labels whose full set would not fit :data:`MAX_ANSWER_CHARS` characters."""
    width = len(encode_set(labels, labels))
    if width > MAX_ANSWER_CHARS:
        raise ValueError(f"--labels: a multi-label project stores each item's set of labels "
                         f"in {MAX_ANSWER_CHARS} characters and all of these take {width}; "
                         "use shorter label names")


def decode_sets(stored: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Stored sets as an ``n x L`` int8 0/1 matrix (columns in ``labels`` order)."""
    column = {x: j for j, x in enumerate(labels)}
    out = np.zeros((len(stored), len(labels)), dtype=np.int8)
    for i, text in enumerate(stored):
        for x in json.loads(text):
            out[i, column[x]] = 1
    return out


def encode_value(value: Any, low: float | None = None, high: float | None = None) -> str:
    """The stored form of a number (``repr`` of the float), checked to be finite and in
    ``[low, high]``.

    Raises
    ------
    ValueError
        For a value that is not a number, not finite, or out of range.
    """
    if isinstance(value, bool):
        raise ValueError(f"value must be a number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"value must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"value must be a finite number, got {value!r}")
    if (low is not None and x < low) or (high is not None and x > high):
        raise ValueError(f"value {x!r} is outside the project's range "
                         f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]")
    return repr(x)


def decode_values(stored: Sequence[str]) -> np.ndarray:
    """Stored numbers as float64."""
    return np.asarray([float(x) for x in stored], dtype=np.float64)


def _first_positions(codes: np.ndarray, n_groups: int) -> np.ndarray:
    first = np.full(n_groups, np.iinfo(np.int64).max)
    np.minimum.at(first, codes, np.arange(codes.size))
    return first


def consensus_sets(item_ids: np.ndarray, stored: Sequence[str], labels: Sequence[str]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """One 0/1 row per item: a label applies when more than half of the item's annotators
    chose it; at exactly half, the item's first annotator decides.

    Returns
    -------
    ids : ndarray of int64 (sorted), Y : ndarray of int8, shape (n_items, L)
    """
    item_ids = np.asarray(item_ids, dtype=np.int64)
    rows = decode_sets(stored, labels)
    if item_ids.size == 0:
        return item_ids, rows
    ids, code = np.unique(item_ids, return_inverse=True)
    votes = np.zeros((ids.size, len(labels)), dtype=np.int64)
    np.add.at(votes, code, rows)
    n = np.bincount(code, minlength=ids.size)[:, None]
    first = rows[_first_positions(code, ids.size)]
    applies = (2 * votes > n) | ((2 * votes == n) & (first == 1))
    return ids, applies.astype(np.int8)


def consensus_values(item_ids: np.ndarray, stored: Sequence[str]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """One number per item: the median of its annotators' numbers.

    Returns
    -------
    ids : ndarray of int64 (sorted), y : ndarray of float64
    """
    item_ids = np.asarray(item_ids, dtype=np.int64)
    values = decode_values(stored)
    if item_ids.size == 0:
        return item_ids, values
    order = np.lexsort((values, item_ids))
    ids, start, counts = np.unique(item_ids[order], return_index=True, return_counts=True)
    ordered = values[order]
    low = ordered[start + (counts - 1) // 2]
    high = ordered[start + counts // 2]
    return ids, (low + high) / 2.0


def consensus_targets(store: Any, project_id: int, task: str, labels: Sequence[str]
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``(item_ids, targets)`` a project's model learns from, for its task.

    Classification: :meth:`Store.consensus` (majority vote); multi-label:
    :func:`consensus_sets`; regression: :func:`consensus_values`.
    """
    if task in (None, "", "classification"):
        return store.consensus(project_id)
    ids, stored, _ = store.label_arrays(project_id)
    if task == "multilabel":
        return consensus_sets(ids, list(stored), labels)
    return consensus_values(ids, list(stored))
