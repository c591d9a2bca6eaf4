"""Progress, speed, agreement and label-quality figures of a labeling project."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..store import majority_vote
from ..store.targets import consensus_values, decode_values

__all__ = ["speed", "session", "agreement", "value_agreement", "quality_over_time",
           "value_quality_over_time", "SESSION_GAP_SECONDS"]

#: A pause longer than this starts a new labeling session.
SESSION_GAP_SECONDS = 600.0


def speed(durations: np.ndarray, last: int = 20) -> float | None:
    """Median seconds per label over the latest ``last`` labels (None without data)."""
    d = np.asarray(durations, dtype=float)[-last:]
    d = d[np.isfinite(d)]
    return None if d.size == 0 else float(np.median(d))


def session(times: np.ndarray, now: float, break_after_s: float) -> dict[str, Any]:
    """Length of the current session and whether a break is due.

    The session starts at the first label after the last pause longer than
    :data:`SESSION_GAP_SECONDS`; it is over when the latest label is that old.
    """
    t = np.asarray(times, dtype=float)
    if t.size == 0 or now - t[-1] > SESSION_GAP_SECONDS:
        return {"minutes": 0.0, "take_a_break": False}
    gaps = np.flatnonzero(np.diff(t) > SESSION_GAP_SECONDS)
    start = t[gaps[-1] + 1] if gaps.size else t[0]
    minutes = (now - start) / 60.0
    return {"minutes": round(float(minutes), 1), "take_a_break": bool(now - start > break_after_s)}


def _labeled_more_than_once(ids: np.ndarray) -> np.ndarray | None:
    """Mask of the labels whose item has two or more labels (None when no item has)."""
    if ids.size == 0:
        return None
    _, inv, counts = np.unique(ids, return_inverse=True, return_counts=True)
    multi = counts[inv] >= 2
    return multi if multi.any() else None


def agreement(item_ids: np.ndarray, labels: np.ndarray, annotator_ids: np.ndarray,
              task: str = "classification") -> dict[str, Any]:
    """Agreement among annotators on items labeled more than once.

    Returns the number of such items (``items_multi``), the share where all labels agree
    (``all_agree``), the pairwise agreement (``pairwise``: share of agreeing label pairs) and
    each annotator's agreement with the majority of the *other* annotators
    (``per_annotator``).  Multi-label answers are compared as their stored sets (one
    canonical string per set).  For a ``"regression"`` task see
    :func:`value_agreement`.
    """
    if task == "regression":
        return value_agreement(item_ids, labels, annotator_ids)
    ids = np.asarray(item_ids, dtype=np.int64)
    labs = np.asarray(labels, dtype=object).astype(str)
    anns = np.asarray(annotator_ids, dtype=np.int64)
    out: dict[str, Any] = {"items_multi": 0, "all_agree": None, "pairwise": None,
                           "per_annotator": {}}
    multi = _labeled_more_than_once(ids)
    if multi is None:
        return out
    ids, labs, anns = ids[multi], labs[multi], anns[multi]
    _, item_code = np.unique(ids, return_inverse=True)
    _, lab_code = np.unique(labs, return_inverse=True)
    n_items = item_code.max() + 1
    votes = np.zeros((n_items, lab_code.max() + 1), dtype=np.int64)
    np.add.at(votes, (item_code, lab_code), 1)
    totals = votes.sum(axis=1)
    pairs_agree = (votes * (votes - 1) // 2).sum()
    pairs_all = (totals * (totals - 1) // 2).sum()
    out["items_multi"] = int(n_items)
    out["all_agree"] = float(((votes > 0).sum(axis=1) == 1).mean())
    out["pairwise"] = float(pairs_agree / pairs_all) if pairs_all else None
    # agreement with the others: their votes for my label vs their best label
    others = votes[item_code].copy()
    others[np.arange(len(item_code)), lab_code] -= 1
    has_others = others.sum(axis=1) > 0
    agree = others[np.arange(len(item_code)), lab_code] == others.max(axis=1)
    for a in np.unique(anns):
        m = (anns == a) & has_others
        if m.any():
            out["per_annotator"][int(a)] = float(agree[m].mean())
    return out


def value_agreement(item_ids: np.ndarray, labels: np.ndarray, annotator_ids: np.ndarray
                    ) -> dict[str, Any]:
    """How far apart annotators' numbers are on items labeled more than once (regression).

    ``median_difference`` is the median of ``|a - b|`` over every pair of numbers given to
    the same item; ``per_annotator_difference`` maps each annotator to the median of
    ``|their number - the median of the others' numbers|`` on such items.  The shares of
    :func:`agreement` (``all_agree``, ``pairwise``, ``per_annotator``) do not apply to numbers
    and are None / empty.
    """
    out: dict[str, Any] = {"items_multi": 0, "all_agree": None, "pairwise": None,
                           "per_annotator": {}, "median_difference": None,
                           "per_annotator_difference": {}}
    ids = np.asarray(item_ids, dtype=np.int64)
    multi = _labeled_more_than_once(ids)
    if multi is None:
        return out
    vals = decode_values([str(x) for x in np.asarray(labels, dtype=object)[multi]])
    ids, anns = ids[multi], np.asarray(annotator_ids, dtype=np.int64)[multi]
    order = np.lexsort((vals, ids))  # by item, numbers ascending within an item
    ids, vals, anns = ids[order], vals[order], anns[order]
    _, start, counts = np.unique(ids, return_index=True, return_counts=True)
    gaps = [np.abs(vals[k:] - vals[:-k])[ids[k:] == ids[:-k]] for k in range(1, counts.max())]
    # the others' median: the item's sorted numbers without this one (at ``rank``)
    first = np.repeat(start, counts)
    rank = np.arange(ids.size) - first
    n_others = np.repeat(counts, counts) - 1
    lo, hi = (n_others - 1) // 2, n_others // 2
    others = (vals[first + lo + (lo >= rank)] + vals[first + hi + (hi >= rank)]) / 2.0
    off = np.abs(vals - others)
    out["items_multi"] = int(start.size)
    out["median_difference"] = float(np.median(np.concatenate(gaps)))
    out["per_annotator_difference"] = {int(a): float(np.median(off[anns == a]))
                                       for a in np.unique(anns)}
    return out


def _blocks(annotator_ids: np.ndarray, block: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(annotator, block number, row positions)`` of each block of ``block`` labels."""
    for a in np.unique(annotator_ids):
        m = np.flatnonzero(annotator_ids == a)
        blocks = np.arange(m.size) // block
        for b in np.unique(blocks):
            yield int(a), int(b), m[blocks == b]


def quality_over_time(item_ids: np.ndarray, labels: np.ndarray, annotator_ids: np.ndarray,
                      guesses: np.ndarray, block: int = 20, task: str = "classification"
                      ) -> list[dict[str, Any]]:
    """Per annotator, per block of ``block`` labels: agreement with the consensus label and
    with the model's guess at the time.  A falling line is a tired or confused annotator.

    For a ``"regression"`` task see :func:`value_quality_over_time`.
    """
    if task == "regression":
        return value_quality_over_time(item_ids, labels, annotator_ids, guesses, block)
    ids = np.asarray(item_ids, dtype=np.int64)
    labs = np.asarray(labels, dtype=object).astype(str)
    anns = np.asarray(annotator_ids, dtype=np.int64)
    g = np.asarray(guesses, dtype=object)
    if ids.size == 0:
        return []
    cons_ids, cons_labs = majority_vote(ids, labs)
    cons = cons_labs[np.searchsorted(cons_ids, ids)].astype(str)
    has_guess = np.asarray([x is not None for x in g], dtype=bool)
    agree_model = np.where(has_guess, g.astype(str) == labs, False)
    rows = []
    for a, b, sel in _blocks(anns, block):
        hg = has_guess[sel]
        rows.append({"annotator_id": a, "block": b, "n": int(sel.size),
                     "agree_consensus": float((labs[sel] == cons[sel]).mean()),
                     "agree_model": float(agree_model[sel][hg].mean()) if hg.any() else None})
    return rows


def value_quality_over_time(item_ids: np.ndarray, labels: np.ndarray,
                            annotator_ids: np.ndarray, guesses: np.ndarray, block: int = 20
                            ) -> list[dict[str, Any]]:
    """:func:`quality_over_time` for numbers (regression): per annotator and block,
    ``model_error`` is the median ``|label - the model's guess at the time|`` over the labels
    that had a guess (None when none had), and ``consensus_error`` the median
    ``|label - the median of the item's labels|``.  ``agree_model`` and
    ``agree_consensus`` (shares of equal answers) do not apply to numbers and are None.
    """
    ids = np.asarray(item_ids, dtype=np.int64)
    if ids.size == 0:
        return []
    stored = [str(x) for x in np.asarray(labels, dtype=object)]
    vals = decode_values(stored)
    cons_ids, cons = consensus_values(ids, stored)
    off_cons = np.abs(vals - cons[np.searchsorted(cons_ids, ids)])
    g = np.asarray([np.nan if x is None else float(x) for x in np.asarray(guesses, dtype=object)])
    has_guess = ~np.isnan(g)
    off_model = np.abs(vals - g)
    rows = []
    for a, b, sel in _blocks(np.asarray(annotator_ids, dtype=np.int64), block):
        hg = sel[has_guess[sel]]
        rows.append({"annotator_id": a, "block": b, "n": int(sel.size),
                     "agree_consensus": None, "agree_model": None,
                     "consensus_error": float(np.median(off_cons[sel])),
                     "model_error": float(np.median(off_model[hg])) if hg.size else None})
    return rows
