"""The labeling store against a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import numpy as np
import pytest

from activelab.store import LeaseLost, Store, majority_vote


def make(url: str, n: int = 10, order: list[int] | None = None) -> tuple[Store, int, str]:
    store = Store(url)
    pid, token = store.create_project("p", ["a", "b"], [(str(i), "text", f"t{i}")
                                                         for i in range(n)])
    order = list(range(n)) if order is None else order
    store.write_queue(pid, order, utilities=np.linspace(1, 0, len(order)), guesses=None,
                      confidences=None, model_version=0, strategy="test")
    return store, pid, token


def ids(asgs: list[dict]) -> list[int]:
    return [a["item_id"] for a in asgs]


def test_claim_follows_queue_and_returns_held_items_first(db_url: str) -> None:
    store, pid, token = make(db_url, order=[7, 3, 5, 1, 0, 2, 4, 6, 8, 9])
    admin = store.authenticate(token)
    assert admin is not None and admin.is_admin
    assert ids(store.claim(pid, admin.id, 2)) == [7, 3]
    # asking again returns the same two, then tops up from the queue
    assert ids(store.claim(pid, admin.id, 3)) == [7, 3, 5]
    bob = store.authenticate(store.create_annotator(pid, "bob"))
    assert ids(store.claim(pid, bob.id, 2)) == [1, 0]
    why = store.claim(pid, bob.id, 1)[0]
    assert (why["rank"], why["strategy"], why["model_version"]) == (4, "test", 0)
    store.close()


def test_label_is_counted_once_and_needs_the_lease(db_url: str) -> None:
    store, pid, token = make(db_url)
    me = store.authenticate(token)
    bob = store.authenticate(store.create_annotator(pid, "bob"))
    store.claim(pid, me.id, 2)
    first = store.commit_label(pid, me.id, 0, "a", 2.5)
    again = store.commit_label(pid, me.id, 0, "a", 2.5)
    assert first["status"] == "recorded" and again["status"] == "duplicate"
    assert again["label_id"] == first["label_id"]
    assert store.count_labels(pid) == 1
    with pytest.raises(LeaseLost):
        store.commit_label(pid, bob.id, 1, "b")  # item 1 is leased to me, not bob
    with pytest.raises(LeaseLost):
        store.commit_label(pid, me.id, 9, "b")  # never leased
    assert store.count_labels(pid) == 1
    ids_, labs, anns = store.label_arrays(pid)
    assert ids_.tolist() == [0] and labs.tolist() == ["a"] and anns.tolist() == [me.id]
    store.close()


def test_expired_lease_goes_to_someone_else(db_url: str) -> None:
    store, pid, token = make(db_url, n=3)
    me = store.authenticate(token)
    bob = store.authenticate(store.create_annotator(pid, "bob"))
    t0 = 1_000_000.0
    assert ids(store.claim(pid, me.id, 1, lease_seconds=10, now=t0)) == [0]
    assert ids(store.claim(pid, bob.id, 1, lease_seconds=10, now=t0 + 5)) == [1]
    # my lease ran out: bob takes item 0 over
    assert ids(store.claim(pid, bob.id, 2, lease_seconds=10, now=t0 + 30)) == [1, 0]
    with pytest.raises(LeaseLost):
        store.commit_label(pid, me.id, 0, "a")
    assert store.commit_label(pid, bob.id, 0, "b")["status"] == "recorded"
    assert store.count_labels(pid) == 1
    store.close()


def test_overlap_gives_each_item_to_k_people(db_url: str) -> None:
    store, pid, token = make(db_url, n=4)
    people = [store.authenticate(token)] + [
        store.authenticate(store.create_annotator(pid, f"p{i}")) for i in range(2)]
    got = [ids(store.claim(pid, p.id, 2, overlap=2)) for p in people]
    assert got == [[0, 1], [0, 1], [2, 3]]
    for p, labs in zip(people[:2], (["a", "a"], ["a", "b"]), strict=True):
        for item, lab in zip([0, 1], labs, strict=True):
            store.commit_label(pid, p.id, item, lab)
    assert store.count_labels(pid) == 4
    cons_ids, cons = store.consensus(pid)
    assert cons_ids.tolist() == [0, 1] and cons.tolist() == ["a", "a"]  # tie -> earliest
    # items 2 and 3 have one free slot left
    assert store.unavailable_ids(pid, overlap=2).tolist() == [0, 1]
    store.close()


def test_undo_and_skip(db_url: str) -> None:
    store, pid, token = make(db_url, n=5)
    me = store.authenticate(token)
    bob = store.authenticate(store.create_annotator(pid, "bob"))
    store.claim(pid, me.id, 3)
    store.commit_label(pid, me.id, 0, "a")
    store.commit_label(pid, me.id, 1, "b")
    back = store.undo_last(pid, me.id)
    assert back["item_id"] == 1 and back["state"] == "leased"
    assert store.count_labels(pid) == 1
    assert ids(store.held_items(pid, me.id)) == [1, 2]  # the undone item comes first
    assert store.skip(pid, me.id, 2) is True
    assert store.skip(pid, me.id, 2) is False
    assert 2 not in ids(store.claim(pid, me.id, 4))
    assert 2 in ids(store.claim(pid, bob.id, 4))
    kinds = [e["event"] for e in store.iter_events(pid)]
    assert kinds.count("label") == 2 and kinds.count("undo") == 1 and kinds.count("skip") == 1
    assert store.undo_last(pid, bob.id) is None
    store.close()


def test_queue_versions_and_trainer_lease(db_url: str) -> None:
    store, pid, _ = make(db_url, n=6)
    v = store.write_queue(pid, [5, 4], utilities=[0.9, 0.1], guesses=["a", "b"],
                          confidences=[0.6, 0.9], model_version=1, strategy="margin")
    assert v == 2 and store.queue_remaining(pid, 1) == 2
    assert store.try_acquire_trainer(pid, "one") is True
    assert store.try_acquire_trainer(pid, "two") is False
    assert store.try_acquire_trainer(pid, "one") is True
    store.release_trainer(pid, "one")
    assert store.try_acquire_trainer(pid, "two") is True
    store.close()


def test_project_validation(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ValueError, match="labels"):
        store.create_project("p", ["a", "a"], [(None, "text", "x")])
    with pytest.raises(ValueError, match="no items"):
        store.create_project("p", ["a", "b"], [])
    assert store.find_project("p") is None  # nothing half-written
    store.create_project("p", ["a", "b"], [(None, "text", "x")])
    with pytest.raises(ValueError, match="exists"):
        store.create_project("p", ["a", "b"], [(None, "text", "x")])
    with pytest.raises(ValueError, match="not supported"):
        Store("mysql://x")
    store.close()


def test_majority_vote_by_hand() -> None:
    item = np.array([3, 1, 3, 3, 1, 2])
    lab = np.array(["x", "y", "y", "y", "x", "z"], dtype=object)
    ids_, cons = majority_vote(item, lab)
    # item 1: y,x tie -> earliest (y); item 2: z; item 3: x,y,y -> y
    assert ids_.tolist() == [1, 2, 3] and cons.tolist() == ["y", "z", "y"]
