"""The group-commit writer on a real SQLite file: every caller gets its own result or error,
a failing write is undone alone, and a result comes back only once it is committed."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import sqlalchemy as sa

from activelab.store import Store
from activelab.store import schema as S


def _store(tmp_path) -> tuple[Store, int]:
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    pid, _ = store.create_project("p", ["a", "b"], [(str(i), "text", f"t{i}") for i in range(40)])
    return store, pid


def _n_events(store: Store, kind: str) -> int:
    with store.read_engine.begin() as conn:  # another connection than the writer's
        return int(conn.execute(sa.select(sa.func.count()).select_from(S.events)
                                .where(S.events.c.kind == kind)).scalar_one())


def test_writes_queued_together_are_undone_one_by_one(tmp_path) -> None:
    store, pid = _store(tmp_path)
    assert store.writer is not None  # a SQLite file batches its writes
    gate, entered = threading.Event(), threading.Event()

    def slow(conn):  # holds the writer while the others queue up behind it
        entered.set()
        gate.wait(10)
        store._event(conn, pid, "slow", None, None, {})
        return "slow"

    def ok(k):
        def op(conn):
            store._event(conn, pid, "ok", None, None, {"k": k})
            return k
        return op

    def bad(conn):
        store._event(conn, pid, "bad", None, None, {})
        raise ValueError("this write fails")

    results: dict[str, object] = {}

    def call(name, op):
        try:
            results[name] = store.writer.submit(op)
        except ValueError as exc:
            results[name] = exc

    threads = [threading.Thread(target=call, args=("slow", slow))]
    threads[0].start()
    assert entered.wait(10)
    for name, op in (("one", ok(1)), ("bad", bad), ("two", ok(2))):
        threads.append(threading.Thread(target=call, args=(name, op)))
        threads[-1].start()
    gate.set()
    for t in threads:
        t.join(20)
    assert (results["slow"], results["one"], results["two"]) == ("slow", 1, 2)
    assert isinstance(results["bad"], ValueError) and str(results["bad"]) == "this write fails"
    assert (_n_events(store, "ok"), _n_events(store, "bad"), _n_events(store, "slow")) == (2, 0, 1)
    store.close()


def test_ten_annotators_at_once_each_label_once_and_visible_when_acknowledged(tmp_path) -> None:
    store, pid = _store(tmp_path)
    store.write_queue(pid, list(range(40)), utilities=None, guesses=None, confidences=None,
                      model_version=0, strategy="test")
    people = [store.authenticate(store.create_annotator(pid, f"p{k}")) for k in range(10)]
    seen_late: list[int] = []

    def annotate(who) -> None:
        for asg in store.claim(pid, who.id, 4):
            res = store.commit_label(pid, who.id, asg["item_id"], "a")
            assert res["status"] == "recorded"
            with store.read_engine.begin() as conn:  # acknowledged: already committed
                if conn.execute(sa.select(S.labels.c.id).where(
                        S.labels.c.id == res["label_id"])).first() is None:
                    seen_late.append(res["label_id"])

    threads = [threading.Thread(target=annotate, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ids, _, anns = store.label_arrays(pid)
    assert seen_late == []
    assert np.sort(ids).tolist() == list(range(40))  # 10 x 4 items, none given twice
    assert np.bincount(anns).max() == 4
    with pytest.raises(Exception, match="not assigned to you"):
        store.commit_label(pid, people[0].id, int(ids[anns != people[0].id][0]), "b")
    store.close()


def test_leases_skip_the_fsync_but_labels_and_the_pool_stay_durable(tmp_path) -> None:
    store, pid = _store(tmp_path)
    store.write_queue(pid, list(range(40)), utilities=None, guesses=None, confidences=None,
                      model_version=0, strategy="test")
    who = store.authenticate(store.create_annotator(pid, "p"))
    seen: list[int] = []
    original = store.writer._run_batch

    def spy(conn, batch, outcomes):  # the batch's synchronous setting at commit time
        seen.append(int(conn.exec_driver_sql("PRAGMA synchronous").scalar()))
        original(conn, batch, outcomes)

    store.writer._run_batch = spy
    item = store.claim(pid, who.id, 1)[0]["item_id"]  # a lease: NORMAL (1)
    store.commit_label(pid, who.id, item, "a")  # a label: FULL (2)
    assert seen == [1, 2]
    conns = [store.engine.connect() for _ in range(3)]  # whatever the pool hands out: FULL
    try:  # (read on the driver's connection: no BEGIN IMMEDIATE for a look)
        assert [c.connection.dbapi_connection.execute("PRAGMA synchronous").fetchone()[0]
                for c in conns] == [2] * 3
    finally:
        for c in conns:
            c.close()
    store.close()
