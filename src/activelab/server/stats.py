"""Progress, speed, agreement and label-quality figures of a labeling project."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..store import majority_vote

__all__ = ["speed", "session", "agreement", "quality_over_time", "SESSION_GAP_SECONDS"]

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


def agreement(item_ids: np.ndarray, labels: np.ndarray, annotator_ids: np.ndarray
              ) -> dict[str, Any]:
    """Agreement among annotators on items labeled more than once.

    Returns the number of such items, the share where all labels agree, the pairwise
    agreement (share of agreeing label pairs) and each annotator's agreement with the
    majority of the *other* annotators.
    """
    ids = np.asarray(item_ids, dtype=np.int64)
    labs = np.asarray(labels, dtype=object).astype(str)
    anns = np.asarray(annotator_ids, dtype=np.int64)
    out: dict[str, Any] = {"items_multi": 0, "all_agree": None, "pairwise": None,
                           "per_annotator": {}}
    if ids.size == 0:
        return out
    uniq, inv, counts = np.unique(ids, return_inverse=True, return_counts=True)
    multi = counts[inv] >= 2
    if not multi.any():
        return out
    ids, labs, anns, inv = ids[multi], labs[multi], anns[multi], inv[multi]
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


def quality_over_time(item_ids: np.ndarray, labels: np.ndarray, annotator_ids: np.ndarray,
                      guesses: np.ndarray, block: int = 20) -> list[dict[str, Any]]:
    """Per annotator, per block of ``block`` labels: agreement with the consensus label and
    with the model's guess at the time.  A falling line is a tired or confused annotator.
    """
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
    for a in np.unique(anns):
        m = np.flatnonzero(anns == a)
        blocks = np.arange(m.size) // block
        for b in np.unique(blocks):
            sel = m[blocks == b]
            hg = has_guess[sel]
            rows.append({"annotator_id": int(a), "block": int(b), "n": int(sel.size),
                         "agree_consensus": float((labs[sel] == cons[sel]).mean()),
                         "agree_model": float(agree_model[sel][hg].mean()) if hg.any() else None})
    return rows
