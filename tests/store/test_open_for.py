"""How many items could still come to an annotator (``Store.open_for``), worked out by hand on
a real SQLite file, then a real PostgreSQL database.

Ten items, overlap 2, three people.  ``a`` labels 0, 1 and 2 and skips 3; ``b`` labels 0 and
1 and holds 4; ``c`` labels 0.  Items 0 and 1 then have two labels (full); 2 has one.
For ``a``: 10 items less 0, 1 (full), 2 (labeled), 3 (skipped) = 6.  For ``b``: less 0, 1
(full) and 4 (held) = 7.  For ``c``: less 0, 1 (full; c labeled 0 too) = 8.  A fourth
person ``d`` has done nothing: less 0 and 1 only = 8.  With overlap 3 only item 0 (a, b
and c) is full: ``a`` 10 - 4 = 6, ``b`` 10 - 3 = 7, ``c`` 10 - 1 = 9, ``d`` 10 - 1 = 9.
"""

from __future__ import annotations

from activelab.store import Store


def _lease_and_label(store: Store, pid: int, who: int, items: list[int],
                     label: list[int]) -> None:
    store.write_queue(pid, items, utilities=None, guesses=None, confidences=None,
                      model_version=0, strategy="random")
    got = [x["item_id"] for x in store.claim(pid, who, len(items), overlap=3)]
    assert got == items
    for item in label:
        assert store.commit_label(pid, who, item, "x")["status"] == "recorded"


def test_open_for_by_hand(db_url: str) -> None:
    store = Store(db_url)
    pid, _ = store.create_project("p", ["x", "y"], [(str(i), "text", f"t{i}")
                                                    for i in range(10)])
    a, b, c, d = (store.authenticate(store.create_annotator(pid, n)).id
                  for n in ("a", "b", "c", "d"))
    _lease_and_label(store, pid, a, [0, 1, 2, 3], [0, 1, 2])
    assert store.skip(pid, a, 3)
    _lease_and_label(store, pid, b, [0, 1, 4], [0, 1])
    _lease_and_label(store, pid, c, [0], [0])
    assert [store.open_for(pid, p, 2) for p in (a, b, c, d)] == [6, 7, 8, 8]
    assert [store.open_for(pid, p, 3) for p in (a, b, c, d)] == [6, 7, 9, 9]
    store.close()
