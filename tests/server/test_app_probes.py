"""Random checks in the labeling app's queue: where they sit, what they are drawn from, how
the page shows them (a real SQLite file)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from fastapi.testclient import TestClient

from activelab.server.app import create_app
from activelab.server.probes import QueueRows, draw_probes, probe_ranks
from activelab.server.project import open_project
from activelab.server.scorer import Scorer, save_features
from activelab.store import Store
from activelab.store import schema as S

X = np.linspace(-3.0, 3.0, 60)[:, None]


def truth(item: int) -> str:
    return "a" if X[item, 0] < 0 else "b"


def test_ranks_follow_a_running_share() -> None:
    assert probe_ranks(25, 0.1).tolist() == [10, 20]  # 30 would follow the last ranked item
    assert probe_ranks(9, 0.1).tolist() == []
    assert probe_ranks(25, 0.1, served=7).tolist() == [3, 13, 23]  # 10 % of 10, 20, 30 served
    assert probe_ranks(25, 0.1, served=10, checks=1).tolist() == [10, 20]
    assert probe_ranks(25, 0.1, served=10, checks=3).tolist() == []  # none owed before 30
    assert probe_ranks(10, 0.25).tolist() == [4, 8, 12]
    assert probe_ranks(3, 0.5).tolist() == [2, 4]
    assert probe_ranks(25, 0.0).tolist() == [] and probe_ranks(0, 0.1).tolist() == []


def test_checks_are_put_at_their_ranks() -> None:
    none = np.full(3, None, dtype=object)
    rows = QueueRows(np.array([100, 101, 102]), np.array([0.9, 0.5, 0.1]), none, none,
                     np.full(3, "margin", dtype=object))
    out = rows.with_probes(np.array([7, 8]), np.array([2, 4]), ["a", "b"], [0.6, 0.7])
    assert out.ids.tolist() == [100, 7, 101, 8, 102]
    assert out.strategy.tolist() == ["margin", "random_probe", "margin", "random_probe",
                                     "margin"]
    assert np.isnan(out.utilities[[1, 3]]).all() and out.utilities[[0, 2, 4]].tolist() == [
        0.9, 0.5, 0.1]
    assert out.guesses.tolist() == [None, "a", None, "b", None]
    assert out.confidences.tolist() == [None, 0.6, None, 0.7, None]


def test_draws_are_uniform_over_the_pool() -> None:
    # seeded: the same counts on every run; each of 5 items is drawn 400 times in 2000
    counts = np.bincount([draw_probes(np.array([9, 3, 7, 1, 5]), 1,
                                      np.random.default_rng([0, v]))[0] for v in range(2000)],
                         minlength=10)
    assert counts[[0, 2, 4, 6, 8]].sum() == 0
    assert all(340 <= c <= 460 for c in counts[[1, 3, 5, 7, 9]]), counts
    assert draw_probes(np.array([4, 2]), 5, np.random.default_rng(0)).size == 2


def _queue(store: Store, pid: int) -> list[dict]:
    q = S.queue
    with store.read_engine.begin() as conn:
        version = abs(int(store.project(pid)["queue_version"]))
        rows = conn.execute(sa.select(q).where(q.c.project_id == pid, q.c.version == version)
                            .order_by(q.c.rank)).mappings().all()
    return [dict(r) for r in rows]


def _label_claimed(store: Store, pid: int, who: int, n: int) -> list[dict]:
    got = store.claim(pid, who, n)
    for a in got:
        store.commit_label(pid, who, a["item_id"], truth(a["item_id"]))
    return got


def test_ranked_queue_holds_seeded_uniform_checks(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    pid, token = store.create_project("q", ["a", "b"], [(str(i), "row", "{}")
                                                         for i in range(len(X))])
    me = store.authenticate(token).id
    store.write_queue(pid, [0, 59, 1, 58], utilities=None, guesses=None, confidences=None,
                      model_version=0, strategy="random")  # random draws: not "served"
    _label_claimed(store, pid, me, 4)
    scorer = Scorer(store, pid, save_features(tmp_path / "features", X), batch=2,
                    queue_size=25, random_share=0.1, random_state=0)
    assert scorer.step() == "trained"
    everything = _queue(store, pid)
    # 25 ranked items with their 2 checks, then the reserve: the other 29 candidates
    # (60 - 4 labeled - 25 ranked - 2 drawn as checks), by margin
    rows, reserve = everything[:27], everything[27:]
    assert len(reserve) == 60 - 4 - 25 - 2
    checks = [r for r in rows if r["strategy"] == "random_probe"]
    assert [r["rank"] for r in checks] == [10, 20]
    assert {r["strategy"] for r in rows} - {"random_probe"} == {"margin"}
    assert {r["strategy"] for r in reserve} == {"margin"}
    assert [r["utility"] for r in reserve] == sorted((r["utility"] for r in reserve),
                                                     reverse=True)
    assert max(r["utility"] for r in reserve) <= min(
        r["utility"] for r in rows if r["strategy"] == "margin")
    assert not {r["item_id"] for r in reserve} & {r["item_id"] for r in rows}
    assert all(r["utility"] is None and r["guess"] in ("a", "b") and r["confidence"] > 0
               for r in checks)
    ranked = [r["item_id"] for r in rows if r["strategy"] == "margin"]
    # drawn from the items neither labeled nor ranked, with rng([random_state, version 2])
    pool = sorted(set(range(60)) - {0, 59, 1, 58} - set(ranked))
    drawn = [r["item_id"] for r in checks]
    assert drawn == draw_probes(np.array(pool), 2, np.random.default_rng([0, 2])).tolist()
    assert drawn == [4, 56]  # outside the 25 items nearest the boundary
    assert not set(drawn) & ({0, 59, 1, 58} | set(ranked))
    # 7 ranked items labeled: the next queue owes its first check at 10 % of 10 served
    assert [a["rank"] for a in _label_claimed(store, pid, me, 7)] == list(range(1, 8))
    assert scorer.step() == "trained"
    assert [r["rank"] for r in _queue(store, pid) if r["strategy"] == "random_probe"] == [
        3, 13, 23]
    got = _label_claimed(store, pid, me, 3)
    assert [a["strategy"] for a in got] == ["margin", "margin", "random_probe"]
    labels = {r["item_id"]: r for r in store.label_rows(pid)}
    assert labels[got[2]["item_id"]]["utility"] is None  # the label carries the check's row
    assert scorer.step() == "trained"  # 10 served, 1 check: the next is owed at 20
    assert [r["rank"] for r in _queue(store, pid) if r["strategy"] == "random_probe"] == [
        10, 20]
    store.close()


def test_every_annotator_of_an_item_gets_its_check_without_a_guess(tmp_path) -> None:
    pd.DataFrame({"x": X[:, 0]}).to_csv(tmp_path / "d.csv", index=False)
    proj = open_project(tmp_path / "d.csv", ["a", "b"], db=f"sqlite:///{tmp_path / 'o.db'}",
                        features=["x"], project_dir=tmp_path / "p", batch=2, overlap=2,
                        random_share=0.1)
    store, pid = proj.store, proj.project_id
    assert proj.settings["random_share"] == 0.1
    bob = store.create_annotator(pid, "bob")
    store.write_queue(pid, [0, 59], utilities=None, guesses=None, confidences=None,
                      model_version=0, strategy="random")
    heads = [{"Authorization": f"Bearer {t}"} for t in (proj.admin_token, bob)]
    scorer = Scorer(store, pid, proj.settings["features_path"], batch=2, overlap=2,
                    queue_size=20, random_share=0.1)
    c = TestClient(create_app(store, pid, scorer=scorer))
    for h in heads:
        for item in c.get("/api/next?n=2", headers=h).json()["items"]:
            r = c.post("/api/labels", headers=h,
                       json={"item_id": item["item_id"], "label": truth(item["item_id"])})
            assert r.status_code == 200, r.text
    assert scorer.step() == "trained"
    shown = [c.get("/api/next?n=10", headers=h).json()["items"] for h in heads]
    # both people get the check at rank 10: a normal item, said to be a random check
    assert shown[0][9]["item_id"] == shown[1][9]["item_id"]
    for items in shown:
        check = items[9]
        assert check["why"]["strategy"] == "random_probe" and check["why"]["utility"] is None
        assert check["why"]["text"].startswith("a random check: drawn at random from the "
                                               "unlabeled items")
        assert check["guess"] is None and check["confidence"] is None
        assert [it["why"]["strategy"] for it in items[:9]] == ["margin"] * 9
    stats = c.get("/api/admin/stats", headers=heads[0]).json()
    assert stats["random_share"] == 0.1 and stats["live_verdict"]["checks_labeled"] == 0
    store.close()


def test_no_checks_with_a_share_of_zero(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'z.db'}")
    pid, token = store.create_project("z", ["a", "b"], [(str(i), "row", "{}")
                                                         for i in range(len(X))])
    me = store.authenticate(token).id
    store.write_queue(pid, [0, 59], utilities=None, guesses=None, confidences=None,
                      model_version=0, strategy="random")
    _label_claimed(store, pid, me, 2)
    scorer = Scorer(store, pid, save_features(tmp_path / "features", X), batch=2,
                    queue_size=25, random_share=0.0)
    assert scorer.step() == "trained"
    # 25 ranked items and the reserve after them (the other 33 candidates), no checks
    assert [r["strategy"] for r in _queue(store, pid)] == ["margin"] * (25 + 33)
    store.close()
