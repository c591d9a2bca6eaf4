"""Sets of labels and numbers in the labeling store, on a real SQLite file and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest

from activelab.store import Store
from activelab.store.targets import (
    MAX_ANSWER_CHARS,
    check_set_fits,
    consensus_sets,
    consensus_targets,
    consensus_values,
    decode_sets,
    encode_set,
    encode_value,
)

LABELS = ["sport", "money", "weather"]


def test_a_set_is_stored_in_label_order_whatever_order_it_was_given_in():
    assert encode_set(["weather", "sport"], LABELS) == '["sport","weather"]'
    assert encode_set([], LABELS) == "[]"
    assert encode_set(["é"], ["é", "e"]) == '["é"]'
    np.testing.assert_array_equal(decode_sets(['["sport","weather"]', "[]"], LABELS),
                                  [[1, 0, 1], [0, 0, 0]])
    with pytest.raises(ValueError, match="'chess' is not one of the project's labels"):
        encode_set(["chess"], LABELS)
    with pytest.raises(ValueError, match="given twice"):
        encode_set(["sport", "sport"], LABELS)


def test_numbers_round_trip_and_are_checked():
    assert encode_value(3.25) == "3.25" and float(encode_value(0.1 + 0.2)) == 0.1 + 0.2
    assert encode_value(7, 0, 10) == "7.0"
    for bad in [float("nan"), float("inf"), "abc", None, True]:
        with pytest.raises(ValueError, match="must be a"):
            encode_value(bad)
    with pytest.raises(ValueError, match=r"outside the project's range \[0, 10\]"):
        encode_value(10.5, 0, 10)
    with pytest.raises(ValueError, match=r"range \[-inf, 1\]"):
        encode_value(2, None, 1)


def test_a_label_set_that_cannot_be_stored_is_refused():
    check_set_fits(["x" * 60, "y" * 60, "z" * 60])  # 3 * 62 + 4 = 190 characters
    with pytest.raises(ValueError, match=f"in {MAX_ANSWER_CHARS} characters.*take 253"):
        check_set_fits(["x" * 60, "y" * 60, "z" * 60, "w" * 60])


def test_consensus_of_sets_is_a_per_label_majority_and_ties_follow_the_first():
    # item 4: three annotators; item 9: two who disagree on money; item 2: one annotator
    ids = np.array([4, 9, 4, 9, 4, 2])
    stored = ['["sport"]', '["sport","money"]', '["sport","money"]', '["sport"]',
              '["weather"]', "[]"]
    got_ids, Y = consensus_sets(ids, stored, LABELS)
    np.testing.assert_array_equal(got_ids, [2, 4, 9])
    # item 4: sport 3/3, money 1/3, weather 1/3; item 9: sport 2/2, money 1/2 and the first
    # annotator chose it
    np.testing.assert_array_equal(Y, [[0, 0, 0], [1, 0, 0], [1, 1, 0]])
    assert Y.dtype == np.int8


def test_consensus_of_numbers_is_the_median():
    ids, y = consensus_values(np.array([3, 1, 3, 3, 1]), ["1.0", "2.0", "5.0", "2.0", "4.0"])
    np.testing.assert_array_equal(ids, [1, 3])
    np.testing.assert_allclose(y, [3.0, 2.0])  # item 1: median of 2, 4; item 3: of 1, 5, 2


def _project(url: str, task: str, labels: list[str]) -> tuple[Store, int, list[int]]:
    store = Store(url)
    pid, _ = store.create_project("p", labels, [(str(i), "text", f"t{i}") for i in range(4)],
                                  {"task": task})
    store.write_queue(pid, [0, 1, 2, 3], utilities=None, guesses=None, confidences=None,
                      model_version=0, strategy="test")
    people = [store.create_annotator(pid, name, "annotator") for name in ("ann", "bob")]
    ids = [store.authenticate(t).id for t in people]
    return store, pid, ids


def _answer(store: Store, pid: int, who: int, item: int, stored: str) -> None:
    held = store.claim(pid, who, 4, lease_seconds=60, overlap=2)
    assert item in [a["item_id"] for a in held]
    assert store.commit_label(pid, who, item, stored)["status"] == "recorded"


def test_sets_go_through_the_store_and_back(db_url: str):
    store, pid, (ann, bob) = _project(db_url, "multilabel", LABELS)
    try:
        _answer(store, pid, ann, 0, encode_set(["money", "sport"], LABELS))
        _answer(store, pid, bob, 0, encode_set(["sport"], LABELS))
        _answer(store, pid, ann, 1, encode_set([], LABELS))
        assert store.commit_label(pid, ann, 1, "[]")["status"] == "duplicate"  # a retry
        ids, Y = consensus_targets(store, pid, "multilabel", LABELS)
        np.testing.assert_array_equal(ids, [0, 1])
        np.testing.assert_array_equal(Y, [[1, 1, 0], [0, 0, 0]])  # money: a tie, ann first
        store.relabel(pid, ann, 0, encode_set(["weather"], LABELS))
        _, Y = consensus_targets(store, pid, "multilabel", LABELS)
        np.testing.assert_array_equal(Y[0], [0, 0, 1])  # both ties: ann (first) chose weather
        assert store.undo_last(pid, ann) is not None  # withdraws item 1's empty set
        ids, _ = consensus_targets(store, pid, "multilabel", LABELS)
        np.testing.assert_array_equal(ids, [0])
    finally:
        store.close()


def test_numbers_go_through_the_store_and_back(db_url: str):
    store, pid, (ann, bob) = _project(db_url, "regression", [])
    try:
        assert store.project(pid)["labels"] == []
        _answer(store, pid, ann, 2, encode_value(0.1 + 0.2))
        _answer(store, pid, bob, 2, encode_value(1.5))
        _answer(store, pid, ann, 3, encode_value(-1e300))
        ids, y = consensus_targets(store, pid, "regression", [])
        np.testing.assert_array_equal(ids, [2, 3])
        np.testing.assert_array_equal(y, [(0.1 + 0.2 + 1.5) / 2, -1e300])
    finally:
        store.close()


def test_only_a_regression_project_may_have_no_labels(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with pytest.raises(ValueError, match="labels must be distinct non-empty names"):
            store.create_project("p", [], [("0", "text", "t")], {"task": "multilabel"})
    finally:
        store.close()
