"""Reviewing as a team in the store (real SQLite file and real PostgreSQL): own labels with
their changes, comments, disagreements and the admin's resolutions the model learns from."""

from __future__ import annotations

import numpy as np

from activelab.store import Store


def _team(url: str):
    store = Store(url)
    pid, token = store.create_project("p", ["a", "b"], [(f"k{i}", "text", f"t{i}")
                                                         for i in range(6)])
    store.write_queue(pid, [0, 1, 2, 3, 4, 5], utilities=None, guesses=None, confidences=None,
                      model_version=0, strategy="test")
    admin = store.authenticate(token)
    ann = store.authenticate(store.create_annotator(pid, "ann"))
    bob = store.authenticate(store.create_annotator(pid, "bob"))
    return store, pid, admin, ann, bob


def _label_all(store, pid, who, labels: dict[int, str]) -> None:
    got = store.claim(pid, who.id, len(labels), overlap=2)
    assert sorted(a["item_id"] for a in got) == sorted(labels)
    for item, lab in labels.items():
        assert store.commit_label(pid, who.id, item, lab)["status"] == "recorded"


def test_my_labels_newest_first_with_changes_and_comments(db_url: str) -> None:
    store, pid, admin, ann, bob = _team(db_url)
    _label_all(store, pid, ann, {0: "a", 1: "b", 2: "a"})
    assert store.relabel(pid, ann.id, 0, "b")["previous"] == "a"  # an earlier label changes
    assert store.set_comment(pid, ann.id, 1, "  unsure: sarcasm?  ") == "saved"
    mine = store.my_labels(pid, ann.id)
    assert [(r["item_id"], r["label"]) for r in mine] == [(2, "a"), (1, "b"), (0, "b")]
    assert [r["changed_at"] is not None for r in mine] == [False, False, True]
    assert mine[2]["changed_at"] >= mine[2]["created_at"]
    assert [r["comment"] for r in mine] == [None, "unsure: sarcasm?", None]
    older = store.my_labels(pid, ann.id, limit=5, before=mine[0]["label_id"])
    assert [r["item_id"] for r in older] == [1, 0]
    assert store.my_labels(pid, bob.id) == []
    # a comment needs the item leased to you or labeled by you; empty text removes it
    assert store.set_comment(pid, bob.id, 1, "mine too") is None
    assert store.set_comment(pid, ann.id, 1, "") == "removed"
    assert store.comments(pid) == []
    kinds = [e["event"] for e in store.iter_events(pid) if e["event"] in ("relabel", "comment")]
    assert kinds == ["relabel", "comment", "comment"]
    store.close()


def test_disagreements_and_resolution_feed_the_training_labels(db_url: str) -> None:
    store, pid, admin, ann, bob = _team(db_url)
    _label_all(store, pid, ann, {0: "a", 1: "a", 2: "b"})
    _label_all(store, pid, bob, {0: "b", 1: "a", 2: "a"})
    store.set_comment(pid, bob.id, 2, "the subject says a")
    assert store.disagreement_ids(pid) == [0, 2]
    # majority vote, ties broken by the earliest label: ann's
    ids, labs = store.consensus(pid)
    assert ids.tolist() == [0, 1, 2] and labs.tolist() == ["a", "a", "b"]
    assert store.resolve(pid, admin.id, 5, "a") is None  # nobody labeled item 5
    res = store.resolve(pid, admin.id, 2, "a")
    assert (res["status"], res["label"], res["resolved_by"]) == ("resolved", "a", admin.id)
    assert store.resolve(pid, admin.id, 0, "b")["label"] == "b"
    ids, labs = store.consensus(pid)
    assert labs.tolist() == ["b", "a", "a"]  # the resolutions win over the votes
    rows = store.resolutions(pid)
    assert {i: (r["label"], r["resolver"]) for i, r in rows.items()} == {
        0: ("b", "admin"), 2: ("a", "admin")}
    assert store.resolve(pid, admin.id, 0, "a")["label"] == "a"  # a second thought replaces
    assert store.consensus(pid)[1].tolist() == ["a", "a", "a"]
    events = [e for e in store.iter_events(pid) if e["event"] == "resolve"]
    assert [(e["item_id"], e["label"], e["annotator"]) for e in events] == [
        (2, "a", "admin"), (0, "b", "admin"), (0, "a", "admin")]
    assert events[0]["votes"] == {str(ann.id): "b", str(bob.id): "a"}
    assert [(c["item_id"], c["annotator"], c["text"]) for c in store.comments(pid, [2])] == [
        (2, "bob", "the subject says a")]
    assert isinstance(labs, np.ndarray)
    store.close()
