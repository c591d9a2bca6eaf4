"""Many annotators at once: no item given to two people, no label lost or counted twice.

Two :class:`Store` objects stand for two server processes (separate connection pools); the
guarantees come from database constraints, so they must hold on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np

from activelab.store import Store

N_ITEMS = 60
N_PEOPLE = 6


def test_many_annotators_label_everything_once(db_url: str) -> None:
    stores = [Store(db_url), Store(db_url)]
    pid, _ = stores[0].create_project("c", ["a", "b"], [(None, "text", f"t{i}")
                                                        for i in range(N_ITEMS)])
    stores[0].write_queue(pid, np.arange(N_ITEMS), utilities=None, guesses=None,
                          confidences=None, model_version=0, strategy="test")
    people = [stores[0].authenticate(stores[0].create_annotator(pid, f"p{i}")).id
              for i in range(N_PEOPLE)]
    acked: list[tuple[int, int]] = []
    held_at_once: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(N_PEOPLE)

    def work(k: int) -> None:
        store = stores[k % 2]
        me = people[k]
        try:
            start.wait()
            while True:
                got = store.claim(pid, me, 2)
                if not got:
                    return
                with lock:
                    held_at_once.extend((a["item_id"], me) for a in got)
                for a in got:
                    res = store.commit_label(pid, me, a["item_id"], "a")
                    again = store.commit_label(pid, me, a["item_id"], "a")  # a retry
                    assert again["status"] == "duplicate"
                    if res["status"] == "recorded":
                        with lock:
                            acked.append((a["item_id"], me))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(N_PEOPLE)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    ids, _, anns = stores[0].label_arrays(pid)
    # every item labeled exactly once, by the person who held it
    assert sorted(ids.tolist()) == list(range(N_ITEMS))
    assert sorted(zip(ids.tolist(), anns.tolist(), strict=True)) == sorted(acked)
    holders = {item: {who for i, who in held_at_once if i == item} for item in range(N_ITEMS)}
    assert all(len(h) == 1 for h in holders.values())
    assert stores[1].count_labels(pid) == N_ITEMS
    for s in stores:
        s.close()


def test_same_label_sent_at_once_counts_once(db_url: str) -> None:
    stores = [Store(db_url), Store(db_url)]
    pid, token = stores[0].create_project("d", ["a", "b"], [(None, "text", f"t{i}")
                                                           for i in range(12)])
    stores[0].write_queue(pid, np.arange(12), utilities=None, guesses=None, confidences=None,
                          model_version=0, strategy="test")
    me = stores[0].authenticate(token).id
    stores[0].claim(pid, me, 12)
    results: list[str] = []
    lock = threading.Lock()
    for item in range(12):
        gate = threading.Barrier(4)

        def send(k: int, item: int = item, gate: threading.Barrier = gate) -> None:
            gate.wait()
            res = stores[k % 2].commit_label(pid, me, item, "b")
            with lock:
                results.append(res["status"])

        threads = [threading.Thread(target=send, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert Counter(results) == {"recorded": 12, "duplicate": 36}
    assert stores[0].count_labels(pid) == 12
    events = [e for e in stores[1].iter_events(pid) if e["event"] == "label"]
    assert len(events) == 12
    for s in stores:
        s.close()


def test_a_claim_skips_an_item_another_claim_is_leasing(db_url: str) -> None:
    import sqlalchemy as sa

    store = Store(db_url)
    pid, _ = store.create_project("k", ["a", "b"], [(None, "text", f"t{i}") for i in range(5)])
    store.write_queue(pid, np.arange(5), utilities=None, guesses=None, confidences=None,
                      model_version=0, strategy="test")
    me = store.authenticate(store.create_annotator(pid, "p")).id
    if store.is_sqlite:  # claims run one at a time in the writer: the top item is taken
        assert [a["item_id"] for a in store.claim(pid, me, 1)] == [0]
        store.close()
        return
    other = sa.create_engine(db_url)
    with other.connect() as conn, conn.begin():  # a claim of item 0 in flight elsewhere
        conn.execute(sa.select(sa.func.pg_try_advisory_xact_lock(pid, 0)))
        assert [a["item_id"] for a in store.claim(pid, me, 2)] == [1, 2]
    other.dispose()
    store.close()
