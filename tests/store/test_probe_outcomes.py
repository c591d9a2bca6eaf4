"""The live verdict's outcomes of random checks, on a project worked out by hand (a real
SQLite file, then a real PostgreSQL database).

One feature and a 1-nearest-neighbour model, so every prediction is the label of the nearest
training point.  The labels come in this order (item: x, label, what queued it):

====  =====  =====  ==================================================================
item  x      label  queued by
====  =====  =====  ==================================================================
0     -0.2   a      margin
1     +0.2   b      margin
2     -4     a      random (a cold-start queue's random order)
3     +1     b      random
4     -1     a      check, leased with 5 and 6 after items 0-3 were labeled
5     -1.2   b      check
6     +3     b      check
9     -1.15  a      check, leased after items 0-6 were labeled
8      0     b      check, leased before any label (labeled last)
====  =====  =====  ==================================================================

Checks 4, 5 and 6 see items 0-3: ``k = 2`` random labels (2, 3), so the active model holds
the first two (0, 1: boundary at 0) and the random model 2 and 3 (boundary at -1.5).
Check 4 (x = -1, a): active says a (nearest -0.2), random says b (nearest +1): (right,
wrong).  Check 5 (x = -1.2, b): active a, random b: (wrong, right).  Check 6 (x = 3, b):
both b: (right, right).  Check 9 sees items 0-6: ``k = 5`` (2-6), active = the first five
(0-4), random = 2-6; x = -1.15 is nearest to 4 (a, 0.15) among the active items and to 5
(b, 0.05) among the random ones: (right, wrong).  Check 8 saw no label: nothing to compare.
"""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa
from sklearn.neighbors import KNeighborsClassifier

from activelab.evaluation.live_verdict import wilson_interval
from activelab.server.scorer import Scorer, save_features
from activelab.server.verdict import live_stats, pending_probes, score_cases
from activelab.store import Store

X = np.array([-0.2, 0.2, -4.0, 1.0, -1.0, -1.2, 3.0, 5.0, 0.0, -1.15, -5.0, 6.0])[:, None]
ONE_NN = KNeighborsClassifier(n_neighbors=1)


def _label(store: Store, pid: int, who: int, queue: list[int], strategy: str,
           labels: list[str] | None, guesses: list[str | None] | None = None) -> None:
    """Publish ``queue``, lease all of it to ``who`` at once, then label it (if ``labels``)."""
    store.write_queue(pid, queue, utilities=None, guesses=guesses, confidences=None,
                      model_version=0, strategy=strategy)
    assert [a["item_id"] for a in store.claim(pid, who, len(queue))][-len(queue):] == queue
    for item, label in zip(queue, labels or [], strict=False):
        assert store.commit_label(pid, who, item, label)["status"] == "recorded"


def _project(url: str) -> tuple[Store, int, int]:
    store = Store(url)
    pid, token = store.create_project("p", ["a", "b"], [(str(i), "row", "{}")
                                                         for i in range(len(X))])
    ann = store.authenticate(token).id
    early = store.authenticate(store.create_annotator(pid, "early")).id
    _label(store, pid, early, [8], "random_probe", None, [None])  # leased before any label
    _label(store, pid, ann, [0, 1], "margin", ["a", "b"])
    _label(store, pid, ann, [2, 3], "random", ["a", "b"])
    _label(store, pid, ann, [4, 5, 6], "random_probe", ["a", "b", "b"], ["a", "a", "b"])
    _label(store, pid, ann, [9], "random_probe", ["a"], ["a"])
    assert store.commit_label(pid, early, 8, "b")["status"] == "recorded"
    return store, pid, ann


def _outcomes(store: Store, pid: int) -> dict[int, tuple]:
    return {r["item_id"]: (r["k"], r["n_labels"], r["label"], r["active_correct"],
                           r["random_correct"]) for r in store.probe_outcomes(pid)}


def test_outcomes_of_the_checks_by_hand(db_url: str, tmp_path) -> None:
    store, pid, ann = _project(db_url)
    features = save_features(tmp_path / "features", X)
    scorer = Scorer(store, pid, features, estimator=ONE_NN, batch=2, random_share=0.1)
    assert scorer.step() == "trained"  # the trainer scores the checks after its retrain
    assert _outcomes(store, pid) == {
        4: (2, 4, "a", True, False), 5: (2, 4, "b", False, True), 6: (2, 4, "b", True, True),
        9: (5, 7, "a", True, False), 8: (0, 0, "b", None, None)}
    assert {r["model_version"] for r in store.probe_outcomes(pid)} == {1}
    stats = live_stats(store, pid, "classification", 0.1)
    v = stats["live_verdict"]
    # 4 pairs: active right alone on 4 and 9, random right alone on 5
    assert (v["n"], v["active_only"], v["random_only"], v["mean"]) == (4, 2, 1, 0.25)
    assert (v["labels_from"], v["labels_to"], v["words"]) == (2, 5, "can't tell yet")
    assert (v["checks_labeled"], v["checks_waiting"], v["checks_without_pair"]) == (5, 0, 1)
    assert (v["active_accuracy"], v["random_accuracy"]) == (0.75, 0.5)
    # the queue rows' guesses: a, a, b, a on checks 4, 5, 6, 9 (8 had none): 3 of 4 right
    low, high = wilson_interval(3, 4)
    assert stats["live_accuracy"] == {"mean": 0.75, "low": low, "high": high, "n": 4}
    assert stats["random_share"] == 0.1
    # a second trainer finds nothing to do: the outcomes are stored
    assert pending_probes(store, pid) == ([], [], 0)
    store.close()


def test_a_changed_label_recomputes_its_check_and_an_undone_one_drops_it(db_url: str,
                                                                          tmp_path) -> None:
    store, pid, ann = _project(db_url)
    scorer = Scorer(store, pid, save_features(tmp_path / "features", X), estimator=ONE_NN,
                    batch=2)
    scorer.step()
    assert store.relabel(pid, ann, 9, "b")["previous"] == "a"
    # until the trainer looks again, the stale outcome is not counted
    v = live_stats(store, pid, "classification", 0.1)["live_verdict"]
    assert (v["n"], v["checks_waiting"]) == (3, 1)
    cases, drop, left = pending_probes(store, pid)
    assert ([c.item_id for c in cases], drop, left) == ([9], [], 0)
    (case,) = cases
    assert case.train_ids.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert case.is_random.tolist() == [False, False, True, True, True, True, True]
    assert (case.k, case.n_labels, case.label) == (5, 7, "b")
    # now b is right: the active model (nearest: 4, a) is wrong, the random one (5, b) right
    assert score_cases(X, ONE_NN, cases) == [(False, True)]
    assert scorer.step() == "scored"
    assert _outcomes(store, pid)[9] == (5, 7, "b", False, True)
    v = live_stats(store, pid, "classification", 0.1)["live_verdict"]
    assert (v["n"], v["active_only"], v["random_only"]) == (4, 1, 2)
    assert store.undo_last(pid, ann) is not None  # check 9 was ann's latest label
    assert pending_probes(store, pid) == ([], [9], 0)
    assert scorer.step() == "scored"
    assert 9 not in _outcomes(store, pid) and scorer.step() == "idle"
    store.close()


def test_an_older_database_gains_the_outcomes_table(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store(url)
    pid, _ = store.create_project("p", ["a", "b"], [("0", "text", "hi")])
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE al_probe_outcomes"))
    store.close()
    store = Store(url)  # opening creates the missing table, and keeps the project
    assert store.find_project("p") == pid and store.probe_outcomes(pid) == []
    store.save_probe_outcomes(pid, [{"item_id": 0, "k": 2, "n_labels": 3, "label": "a",
                                     "active_correct": True, "random_correct": None,
                                     "model_version": 1}])
    assert [(r["item_id"], r["active_correct"], r["random_correct"])
            for r in store.probe_outcomes(pid)] == [(0, True, None)]
    store.close()


@pytest.mark.parametrize("task", ["multilabel", "regression"])
def test_not_available_for_other_tasks(tmp_path, task: str) -> None:
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    pid, _ = store.create_project("p", ["a", "b"], [("0", "text", "hi")])
    stats = live_stats(store, pid, task, 0.1)
    assert stats["live_verdict"]["available"] is False
    assert f"not available for this task ({task})" in stats["live_verdict"]["reason"]
    assert stats["live_accuracy"] is None
    store.close()


@pytest.mark.parametrize("share", [0.0, 0.1])
def test_no_checks_yet(tmp_path, share: float) -> None:
    store = Store(f"sqlite:///{tmp_path / 'e.db'}")
    pid, _ = store.create_project("p", ["a", "b"], [("0", "text", "hi")])
    stats = live_stats(store, pid, "classification", share)
    v = stats["live_verdict"]
    assert (v["n"], v["words"], v["checks_labeled"], v["mean"]) == (0, "no evidence yet", 0, None)
    assert stats["live_accuracy"]["n"] == 0 and stats["random_share"] == share
    store.close()
