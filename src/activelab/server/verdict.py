"""The labeling app's live verdict: is active learning beating random on this project?

The library's verdict (:mod:`activelab.evaluation.live_verdict`, kept by the ``auto``
strategy during a run) rebuilt from a project's stored history, so that it works with a
stateless trainer and several servers.  For each labeled **random check** ``p`` (an item the
queue drew at random, :mod:`activelab.server.probes`), in order:

* the labeled items when ``p`` was first leased: each item's labels created before then,
  aggregated as the trainer aggregates them (majority vote, ties to the earliest; the
  admin's resolution when it was made before then), the items in the order of their first
  label;
* ``R``: those whose first label came from a random draw (the seeded first queue, the random
  order of a cold-start queue, or a check), ``k = |R|``;
* the *active* model, a clone of the project's model fitted on the first ``k`` items, and
  the *random* model, fitted on ``R`` (a constant model when a set has one class only);
  each predicts ``p``, and the outcome pair is whether each got ``p``'s label (its
  aggregated label now).

A check with ``k < 2``, or with ``k`` equal to all the labeled items (nothing to compare),
gives no pair.  Both models hold ``k`` labels and neither saw ``p``, which was a uniform
draw from the unlabeled items after both training sets were fixed, so the mean difference
estimates ``accuracy(active) - accuracy(random)`` on the unlabeled items at ``k`` labels;
:func:`~activelab.evaluation.live_verdict.paired_verdict` gives its interval.

The trainer scores at most :data:`PROBES_PER_RETRAIN` checks per step and stores each
outcome (``al_probe_outcomes``) with the ``k``, label count and label it was computed at;
an outcome whose check was relabeled, resolved, undone, or whose earlier labels changed in
number, no longer matches and is computed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..evaluation.live_verdict import paired_verdict, wilson_interval
from ..pool import take_rows
from ..store import majority_vote
from ..store.probes import PROBE_STRATEGY, RANDOM_STRATEGIES

__all__ = ["PROBES_PER_RETRAIN", "ACCURACY_CHECKS", "ProbeCase", "labeled_probes",
           "pending_probes", "score_cases", "outcome_rows", "live_stats"]

#: Checks whose two models are fitted in one trainer step, at most (the rest: next step).
PROBES_PER_RETRAIN = 20

#: The live accuracy is measured on this many latest checks.
ACCURACY_CHECKS = 50


def _consensus(items: np.ndarray, labels: np.ndarray, resolutions: dict[int, dict[str, Any]],
               before: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One label per item: the majority vote, or the admin's resolution (made before
    ``before``, when given)."""
    ids, labs = majority_vote(items, np.asarray(labels, dtype=object).astype(str))
    labs = labs.astype(object)
    if resolutions and ids.size:
        res_ids = np.fromiter(resolutions, dtype=np.int64, count=len(resolutions))
        res_at = np.asarray([r["resolved_at"] for r in resolutions.values()], dtype=float)
        res_lab = np.asarray([str(r["label"]) for r in resolutions.values()], dtype=object)
        pos = np.minimum(np.searchsorted(ids, res_ids), ids.size - 1)
        use = ids[pos] == res_ids
        if before is not None:
            use &= res_at < before
        labs[pos[use]] = res_lab[use]
    return ids, labs


def _first_labels(history: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per labeled item (sorted ids): its first label's time, and whether it came from a
    random draw."""
    ids, first = np.unique(history["item_id"], return_index=True)
    drawn = np.isin(history["strategy"][first].astype(str), RANDOM_STRATEGIES)
    return ids, history["created_at"][first], drawn


@dataclass(frozen=True)
class LabeledProbes:
    """The labeled checks, in the order of their first label (one entry per item).

    ``k`` and ``n_labels`` are the random labels and all labeled items before the check's
    first lease; ``label`` is its aggregated label now; ``guess`` the guess of its queue
    row (the model that queued it), None when none was stored.
    """

    item_id: np.ndarray
    leased_at: np.ndarray
    label: np.ndarray
    guess: np.ndarray
    k: np.ndarray
    n_labels: np.ndarray

    def __len__(self) -> int:
        return int(self.item_id.size)


def labeled_probes(history: dict[str, np.ndarray], resolutions: dict[int, dict[str, Any]]
                   ) -> LabeledProbes:
    """The labeled checks of a label history (:meth:`Store.label_history`)."""
    items = history["item_id"]
    ids, first_at, drawn = _first_labels(history)
    first = np.unique(items, return_index=True)[1]
    is_probe = history["strategy"][first].astype(str) == PROBE_STRATEGY
    code = np.searchsorted(ids, items)
    lease = np.full(ids.size, np.inf)
    np.minimum.at(lease, code, np.where(np.isnan(history["leased_at"]), np.inf,
                                        history["leased_at"]))
    lease = np.where(np.isfinite(lease), lease, first_at)
    order = np.argsort(first_at[is_probe], kind="stable")
    probe_ids = ids[is_probe][order]
    cut = lease[is_probe][order]
    _, truth = _consensus(items, history["label"], resolutions)
    return LabeledProbes(
        item_id=probe_ids, leased_at=cut, label=truth[is_probe][order],
        guess=history["guess"][first][is_probe][order],
        k=np.searchsorted(np.sort(first_at[drawn]), cut, side="left"),
        n_labels=np.searchsorted(np.sort(first_at), cut, side="left"))


@dataclass(frozen=True)
class ProbeCase:
    """What one check's outcome needs: the training sequence and the check's label.

    ``train_ids`` are the items labeled before the check's lease, in the order of their
    first label, with their aggregated labels ``train_labels``; ``is_random`` marks those
    from random draws.
    """

    item_id: int
    label: str
    train_ids: np.ndarray
    train_labels: np.ndarray
    is_random: np.ndarray

    @property
    def k(self) -> int:
        """Random labels before the check (the size of both models' training sets)."""
        return int(self.is_random.sum())

    @property
    def n_labels(self) -> int:
        """Labeled items before the check."""
        return int(self.train_ids.size)

    @property
    def comparable(self) -> bool:
        """Whether the two models differ and each has two labels at least."""
        return 2 <= self.k < self.n_labels


def probe_case(history: dict[str, np.ndarray], resolutions: dict[int, dict[str, Any]],
               item_id: int, leased_at: float, label: str) -> ProbeCase:
    """The training sequence of one check, leased at ``leased_at``."""
    before = (history["created_at"] < leased_at) & (history["item_id"] != item_id)
    sub = {key: col[before] for key, col in history.items()}
    ids, labs = _consensus(sub["item_id"], sub["label"], resolutions, before=leased_at)
    _, first_at, drawn = _first_labels(sub)
    order = np.argsort(first_at, kind="stable")
    return ProbeCase(int(item_id), str(label), ids[order], labs[order].astype(str),
                     drawn[order])


def _matches(row: dict[str, Any] | None, probes: LabeledProbes, i: int) -> bool:
    return row is not None and (int(row["k"]), int(row["n_labels"]), str(row["label"])) == (
        int(probes.k[i]), int(probes.n_labels[i]), str(probes.label[i]))


def pending_probes(store: Any, project_id: int, limit: int = PROBES_PER_RETRAIN
                   ) -> tuple[list[ProbeCase], list[int], int]:
    """The checks whose outcome is missing or out of date.

    Returns
    -------
    cases : list of ProbeCase
        Every such check with nothing to compare, and up to ``limit`` of the others
        (oldest first).
    drop : list of int
        Items whose stored outcome belongs to no labeled check any more (an undone label).
    left : int
        Checks to compare that wait for a later step.
    """
    history = store.label_history(project_id)
    resolutions = store.resolutions(project_id)
    probes = labeled_probes(history, resolutions)
    stored = {int(r["item_id"]): r for r in store.probe_outcomes(project_id)}
    drop = sorted(set(stored) - set(probes.item_id.tolist()))
    todo = [i for i in range(len(probes))
            if not _matches(stored.get(int(probes.item_id[i])), probes, i)]
    costly = [i for i in todo if 2 <= probes.k[i] < probes.n_labels[i]]
    chosen = sorted(set(todo) - set(costly) | set(costly[:limit]))
    cases = [probe_case(history, resolutions, int(probes.item_id[i]),
                        float(probes.leased_at[i]), str(probes.label[i])) for i in chosen]
    return cases, drop, max(len(costly) - limit, 0)


def score_cases(X: Any, template: Any, cases: Sequence[ProbeCase]
                ) -> list[tuple[bool, bool] | None]:
    """Per check, whether the active and the random model predict its label (None when
    there is nothing to compare, or when the model cannot learn from ``k`` labels, e.g.
    five nearest neighbours from three).

    Parameters
    ----------
    X : ndarray or sparse matrix
        The project's features (rows are item ids).
    template : classifier
        The project's model, cloned for each fit.
    cases : sequence of ProbeCase
    """
    return [_pair(X, template, case) if case.comparable else None for case in cases]


def _pair(X: Any, template: Any, case: ProbeCase) -> tuple[bool, bool] | None:
    from ..strategies.selector import _fit

    k, rnd = case.k, case.is_random
    row = take_rows(X, np.asarray([case.item_id]))
    try:
        active = _fit(template, take_rows(X, case.train_ids[:k]), case.train_labels[:k])
        random = _fit(template, take_rows(X, case.train_ids[rnd]), case.train_labels[rnd])
        said = str(active.predict(row)[0]), str(random.predict(row)[0])
    except ValueError:  # too few labels for this model
        return None
    return said[0] == case.label, said[1] == case.label


def outcome_rows(cases: Sequence[ProbeCase], outcomes: Sequence[tuple[bool, bool] | None],
                 model_version: int) -> list[dict[str, Any]]:
    """The rows :meth:`Store.save_probe_outcomes` stores for scored checks."""
    return [{"item_id": c.item_id, "k": c.k, "n_labels": c.n_labels, "label": c.label,
             "active_correct": None if o is None else o[0],
             "random_correct": None if o is None else o[1], "model_version": model_version}
            for c, o in zip(cases, outcomes, strict=True)]


def _accuracy(probes: LabeledProbes, last: int) -> dict[str, Any]:
    guessed = np.flatnonzero([g is not None for g in probes.guess])[-last:]
    n = int(guessed.size)
    if n == 0:
        return {"mean": None, "low": None, "high": None, "n": 0}
    right = int(np.sum(probes.guess[guessed].astype(str) == probes.label[guessed].astype(str)))
    low, high = wilson_interval(right, n)
    return {"mean": right / n, "low": low, "high": high, "n": n}


def live_stats(store: Any, project_id: int, task: str, share: float) -> dict[str, Any]:
    """``live_verdict``, ``live_accuracy`` and ``random_share`` of the admin's stats.

    ``live_verdict`` is :meth:`LiveVerdict.to_dict` over the stored outcomes that still
    match their check, with ``available``, ``checks_labeled`` (labeled checks),
    ``checks_waiting`` (labeled checks the trainer has not scored yet) and
    ``checks_without_pair`` (scored, nothing to compare).  ``live_accuracy`` is the share
    of the latest :data:`ACCURACY_CHECKS` labeled checks whose queue row's guess (the model
    of the moment, before the label was known) was right, with its Wilson interval.
    Multi-label and regression projects get ``available: false`` and a reason.
    """
    out: dict[str, Any] = {"random_share": share}
    if task != "classification":
        return out | {"live_accuracy": None, "live_verdict": {
            "available": False,
            "reason": f"not available for this task ({task}): the live verdict compares "
                      "the accuracy of two classifiers"}}
    probes = labeled_probes(store.label_history(project_id), store.resolutions(project_id))
    stored = {int(r["item_id"]): r for r in store.probe_outcomes(project_id)}
    rows = [stored[int(i)] for j, i in enumerate(probes.item_id)
            if _matches(stored.get(int(i)), probes, j)]
    pairs = [r for r in rows if r["active_correct"] is not None]
    verdict = paired_verdict([r["active_correct"] for r in pairs],
                             [r["random_correct"] for r in pairs],
                             label_counts=[r["k"] for r in pairs]).to_dict()
    verdict |= {"available": True, "checks_labeled": len(probes),
                "checks_waiting": len(probes) - len(rows),
                "checks_without_pair": len(rows) - len(pairs)}
    return out | {"live_verdict": verdict, "live_accuracy": _accuracy(probes, ACCURACY_CHECKS)}
