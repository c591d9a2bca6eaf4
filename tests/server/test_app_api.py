"""The labeling REST API end to end (real SQLite file and real PostgreSQL)."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from activelab.cold_start import cold_start
from activelab.engine.models import make_model
from activelab.server.app import create_app
from activelab.server.project import open_project
from activelab.server.scorer import load_features


def client_for(proj, scorer=None) -> tuple[TestClient, dict[str, str]]:
    app = create_app(proj.store, proj.project_id, scorer=scorer)
    return TestClient(app), {"Authorization": f"Bearer {proj.admin_token}"}


def label_next(c: TestClient, h: dict[str, str], truth: dict[int, str]) -> dict:
    item = c.get("/api/next?n=1", headers=h).json()["items"][0]
    r = c.post("/api/labels", headers=h, json={"item_id": item["item_id"],
                                               "label": truth[item["item_id"]],
                                               "duration_s": 1.5})
    assert r.status_code == 200, r.text
    return item


def test_margin_queue_by_hand(tmp_path, db_url: str) -> None:
    # one feature; labels a at -2 and b at +2 put the boundary at 0 by symmetry
    x = [-2.0, 2.0, -1.5, 0.1, 3.0, -0.3]
    pd.DataFrame({"x": x}).to_csv(tmp_path / "d.csv", index=False)
    proj = open_project(tmp_path / "d.csv", ["a", "b"], db=db_url, features=["x"],
                        project_dir=tmp_path / "proj", batch=2, strategy="margin")
    scorer = proj.scorer()
    # the model table's logreg (scaled), as in `activelab simulate --model logreg`
    assert repr(scorer.estimator) == repr(make_model("logreg", random_state=0))
    proj.store.write_queue(proj.project_id, [0, 1], utilities=None, guesses=None,
                           confidences=None, model_version=0, strategy="seed")
    c, h = client_for(proj, scorer)
    label_next(c, h, {0: "a", 1: "b"})
    label_next(c, h, {0: "a", 1: "b"})
    assert scorer.step() == "trained"
    items = c.get("/api/next?n=4", headers=h).json()["items"]
    # smallest margin first: closest to 0 is x=0.1 (id 3), then -0.3, -1.5, 3.0
    assert [it["item_id"] for it in items] == [3, 5, 2, 4]
    assert [it["why"]["rank"] for it in items] == [1, 2, 3, 4]
    assert all(it["why"]["model_version"] == 1 and it["why"]["strategy"] == "margin"
               for it in items)
    # two labels cannot be cross-validated: the model's guess is withheld until it beats chance
    assert items[0]["guess"] is None and items[0]["confidence"] is None
    assert items[0]["why"]["utility"] > items[1]["why"]["utility"]
    proj.store.close()


def test_labeling_accounting_and_exports(tmp_path, db_url: str) -> None:
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(-2, 1, (40, 2)), rng.normal(2, 1, (40, 2))]
    truth = {i: ("neg" if i < 40 else "pos") for i in range(80)}
    pd.DataFrame(X, columns=["u", "v"]).to_csv(tmp_path / "d.csv", index=False)
    proj = open_project(tmp_path / "d.csv", ["neg", "pos"], db=db_url, features=["u", "v"],
                        project_dir=tmp_path / "proj", batch=5)
    scorer = proj.scorer()
    assert scorer.step() == "cold_start"
    c, h = client_for(proj, scorer)
    first = c.get("/api/next?n=5", headers=h).json()["items"]
    expect = cold_start(np.asarray(load_features(proj.settings["features_path"])), 5,
                        method="kmeans", random_state=0)
    assert sorted(it["item_id"] for it in first) == sorted(expect.tolist())
    assert all(it["why"]["strategy"] == "cold_start:kmeans" for it in first)
    for _ in range(5):
        label_next(c, h, truth)
    assert scorer.step() == "trained"
    for _ in range(7):
        label_next(c, h, truth)
    assert scorer.step() == "trained"
    p = c.get("/api/progress", headers=h).json()
    assert (p["n_labels"], p["n_items_labeled"], p["mine"], p["model_version"]) == (12, 12, 12, 2)
    assert [m["n_labels"] for m in p["curve"]] == [5, 10 + 2]
    assert p["budget"] == 80 and p["fraction"] == pytest.approx(12 / 80)
    assert p["speed"]["seconds_per_label"] == 1.5
    events = [json.loads(line) for line in
              c.get("/api/admin/export/events", headers=h).text.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds.count("label") == 12 and kinds.count("model") == 2 and kinds.count("query") >= 12
    labels = [e for e in events if e["event"] == "label"]
    assert [e["model_version"] for e in labels] == [0] * 5 + [1] * 7
    assert all(e["annotator"] == "admin" and e["duration_s"] == 1.5 for e in labels)
    csv_rows = pd.read_csv(io.StringIO(
        c.get("/api/admin/export/labels?format=csv", headers=h).text))
    assert len(csv_rows) == 12 and set(csv_rows["label"]) <= {"neg", "pos"}
    assert (csv_rows["label"] == [truth[i] for i in csv_rows["item_id"]]).all()
    jl = c.get("/api/admin/export/labels?format=jsonl", headers=h).text.splitlines()
    assert len(jl) == 12
    ls = c.get("/api/admin/export/labels?format=labelstudio", headers=h).json()
    assert len(ls) == 12
    assert ls[0]["annotations"][0]["result"][0]["value"]["choices"][0] in {"neg", "pos"}
    assert (ls[0]["comment_count"], ls[0]["meta"]) == (0, {})  # no comments
    blob = c.get("/api/admin/export/model", headers=h)
    assert blob.status_code == 200
    import skops.io as sio

    path = tmp_path / "m.skops"
    path.write_bytes(blob.content)
    model = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    assert model.predict([[-3.0, -3.0], [3.0, 3.0]]).tolist() == ["neg", "pos"]
    proj.store.close()


def test_text_and_image_projects(tmp_path) -> None:
    (tmp_path / "t.txt").write_text("free money now\n\nmeeting at noon\n<b>bold</b> claim\n")
    proj = open_project(tmp_path / "t.txt", ["spam", "ham"],
                        db=f"sqlite:///{tmp_path / 'a.db'}", project_dir=tmp_path / "p1")
    assert proj.store.project(proj.project_id)["n_items"] == 3
    proj.scorer().step()
    c, h = client_for(proj)
    items = c.get("/api/next?n=3", headers=h).json()["items"]
    assert sorted(it["text"] for it in items) == ["<b>bold</b> claim", "free money now",
                                                  "meeting at noon"]
    img_dir = tmp_path / "imgs"
    img_dir.mkdir()
    for i in range(3):
        Image.fromarray(np.full((8, 8), 80 * i, np.uint8)).save(img_dir / f"{i}.png")
    proj2 = open_project(img_dir, ["dark", "light"], db=f"sqlite:///{tmp_path / 'a.db'}",
                         project_dir=tmp_path / "p2")
    proj2.scorer().step()
    c2, h2 = client_for(proj2)
    item = c2.get("/api/next?n=1", headers=h2).json()["items"][0]
    assert item["kind"] == "image" and item["key"].endswith(".png")
    r = c2.get(item["image_url"], headers=h2)
    assert r.status_code == 200 and r.content[:4] == b"\x89PNG"
    # reopening keeps the project and refuses other labels
    again = open_project(img_dir, None, db=f"sqlite:///{tmp_path / 'a.db'}")
    assert again.project_id == proj2.project_id and again.admin_token is None
    with pytest.raises(ValueError, match="exists with labels"):
        open_project(img_dir, ["x", "y"], db=f"sqlite:///{tmp_path / 'a.db'}")
    proj.store.close()


def test_overlap_agreement_and_quality(tmp_path) -> None:
    pd.DataFrame({"x": np.arange(6.0)}).to_csv(tmp_path / "d.csv", index=False)
    proj = open_project(tmp_path / "d.csv", ["a", "b"], db=f"sqlite:///{tmp_path / 'a.db'}",
                        features=["x"], project_dir=tmp_path / "p", overlap=2)
    proj.store.write_queue(proj.project_id, [0, 1, 2], utilities=None, guesses=["a"] * 3,
                           confidences=[0.9] * 3, model_version=0, strategy="seed")
    c, h = client_for(proj)
    tokens = [c.post("/api/admin/annotators", headers=h, json={"name": n}).json()["token"]
              for n in ("ann", "bea")]
    votes = {"ann": ["a", "a", "b"], "bea": ["a", "b", "b"]}
    for name, tok in zip(("ann", "bea"), tokens, strict=True):
        hh = {"Authorization": f"Bearer {tok}"}
        items = c.get("/api/next?n=3", headers=hh).json()["items"]
        assert [it["item_id"] for it in items] == [0, 1, 2]  # both get the same items
        for it, lab in zip(items, votes[name], strict=True):
            assert c.post("/api/labels", headers=hh,
                          json={"item_id": it["item_id"], "label": lab}).status_code == 200
    s = c.get("/api/admin/stats", headers=h).json()
    # items 0 and 2 agree, item 1 does not
    assert s["task"] == "classification" and s["agreement"]["items_multi"] == 3
    assert s["agreement"]["all_agree"] == pytest.approx(2 / 3)
    assert s["agreement"]["pairwise"] == pytest.approx(2 / 3)
    assert s["agreement"]["per_annotator"] == {"ann": pytest.approx(2 / 3),
                                               "bea": pytest.approx(2 / 3)}
    q = {row["annotator"]: row for row in s["quality"]}
    # the model guessed "a" for all three: ann agrees twice, bea once
    assert q["ann"]["agree_model"] == pytest.approx(2 / 3)
    assert q["bea"]["agree_model"] == pytest.approx(1 / 3)
    ann = c.get("/api/admin/annotators", headers=h).json()["annotators"]
    assert {a["name"]: a["n_labels"] for a in ann} == {"admin": 0, "ann": 3, "bea": 3}
    proj.store.close()


#: The numbers three people give items 0, 1, 2 of :func:`numbers_project` (guesses 2, 4, 6).
NUMBERS = {"ann": [2.5, 4.0, 5.0], "bea": [2.0, 4.5, 7.0], "cy": [3.0, 4.0, 6.0]}


def numbers_project(tmp_path):
    """A regression project on ``tmp_path / "a.db"`` (data ``d.csv``) whose items 0, 1, 2
    were queued with the guesses 2, 4, 6 and labeled by three people with :data:`NUMBERS`;
    returns the project, a client and the admin's headers."""
    pd.DataFrame({"x": np.arange(6.0)}).to_csv(tmp_path / "d.csv", index=False)
    proj = open_project(tmp_path / "d.csv", None, db=f"sqlite:///{tmp_path / 'a.db'}",
                        features=["x"], project_dir=tmp_path / "p", overlap=3,
                        task="regression")
    proj.store.write_queue(proj.project_id, [0, 1, 2], utilities=None,
                           guesses=["2.0", "4.0", "6.0"], confidences=None, model_version=0,
                           strategy="seed")
    c, h = client_for(proj)
    for name, values in NUMBERS.items():
        tok = c.post("/api/admin/annotators", headers=h, json={"name": name}).json()["token"]
        hh = {"Authorization": f"Bearer {tok}"}
        items = c.get("/api/next?n=3", headers=hh).json()["items"]
        assert [it["item_id"] for it in items] == [0, 1, 2]
        for it, v in zip(items, values, strict=True):
            assert c.post("/api/labels", headers=hh,
                          json={"item_id": it["item_id"], "value": v}).status_code == 200
    return proj, c, h


def test_overlap_numbers_report_differences_not_shares(tmp_path) -> None:
    proj, c, h = numbers_project(tmp_path)
    s = c.get("/api/admin/stats", headers=h).json()
    a = s["agreement"]
    assert s["task"] == "regression" and a["items_multi"] == 3
    # pairs: item 0 -> 0.5, 0.5, 1.0; item 1 -> 0.5, 0, 0.5; item 2 -> 2, 1, 1: median 0.5
    assert a["median_difference"] == 0.5
    # vs the others' median: ann 0, 0.25, 1.5; bea 0.75, 0.5, 1.5; cy 0.75, 0.25, 0
    assert a["per_annotator_difference"] == {"ann": 0.25, "bea": 0.75, "cy": 0.25}
    assert (a["all_agree"], a["pairwise"], a["per_annotator"]) == (None, None, {})
    q = {row["annotator"]: row for row in s["quality"]}
    # guesses 2, 4, 6: ann off by 0.5, 0, 1; bea 0, 0.5, 1; cy 1, 0, 0
    assert {k: r["model_error"] for k, r in q.items()} == {"ann": 0.5, "bea": 0.5, "cy": 0.0}
    # item medians 2.5, 4.0, 6.0: ann off by 0, 0, 1; bea 0.5, 0.5, 1; cy 0.5, 0, 0
    assert {k: r["consensus_error"] for k, r in q.items()} == {"ann": 0.0, "bea": 0.5,
                                                               "cy": 0.0}
    assert all(r["agree_model"] is None and r["agree_consensus"] is None for r in q.values())
    proj.store.close()


@pytest.mark.postgres
def test_app_factory_for_several_workers(tmp_path, postgres: str, monkeypatch) -> None:
    """Two worker apps on one PostgreSQL project (the multi-worker deployment)."""
    from activelab.server.app import app_from_env

    db_url = postgres

    pd.DataFrame({"x": np.arange(8.0)}).to_csv(tmp_path / "d.csv", index=False)
    proj = open_project(tmp_path / "d.csv", ["a", "b"], db=db_url, features=["x"],
                        project_dir=tmp_path / "p", name="shared")
    monkeypatch.setenv("ACTIVELAB_DB", db_url)
    monkeypatch.setenv("ACTIVELAB_PROJECT", "shared")
    workers = [TestClient(app_from_env()) for _ in range(2)]
    h = {"Authorization": f"Bearer {proj.admin_token}"}
    with workers[0], workers[1]:  # both start their scorer; one publishes the first queue
        deadline = time.monotonic() + 20
        got: list[int] = []
        while not got and time.monotonic() < deadline:
            got = [it["item_id"] for it in workers[0].get("/api/next?n=2", headers=h)
                   .json()["items"]]
        assert len(got) == 2
        # the other worker sees the same leases for the same person
        assert [it["item_id"] for it in workers[1].get("/api/next?n=2", headers=h)
                .json()["items"]] == got
    monkeypatch.setenv("ACTIVELAB_PROJECT", "missing")
    with pytest.raises(ValueError, match="no project"):
        app_from_env()
    proj.store.close()


def test_sources_parquet_jsonl_and_image_column(tmp_path) -> None:
    from activelab.server.sources import load_project_data

    pd.DataFrame({"id": ["r1", "r2"], "u": [1.0, 2.0], "v": [3.0, 4.0]}).to_parquet(
        tmp_path / "t.parquet")
    d = load_project_data(tmp_path / "t.parquet")  # numeric columns: features by default
    assert d.kind == "row" and d.X.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert [k for k, _, _ in d.items] == ["r1", "r2"]
    assert json.loads(d.items[1][2]) == {"id": "r2", "u": 2.0, "v": 4.0}
    pd.DataFrame({"body": ["hello there", "buy now"]}).to_json(tmp_path / "t.jsonl",
                                                              orient="records", lines=True)
    d = load_project_data(tmp_path / "t.jsonl", text_column="body")
    assert d.kind == "text" and [c for _, _, c in d.items] == ["hello there", "buy now"]
    (tmp_path / "img").mkdir()
    Image.fromarray(np.full((4, 4), 255, np.uint8)).save(tmp_path / "img" / "a.png")
    pd.DataFrame({"path": ["img/a.png"]}).to_csv(tmp_path / "i.csv", index=False)
    d = load_project_data(tmp_path / "i.csv", image_column="path")
    assert d.kind == "image" and d.X.shape == (1, 256) and float(d.X.min()) == 1.0
    pd.DataFrame({"path": ["../outside.png"]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match="outside"):
        load_project_data(tmp_path / "bad.csv", image_column="path")
    pd.DataFrame({"u": [1.0, None]}).to_csv(tmp_path / "nan.csv", index=False)
    with pytest.raises(ValueError, match="missing"):
        load_project_data(tmp_path / "nan.csv", features=["u"])
    with pytest.raises(ValueError, match="only one"):
        load_project_data(tmp_path / "nan.csv", features=["u"], text_column="u")


def test_strategies_the_scorer_cannot_feed_are_refused_by_their_needs(tmp_path) -> None:
    from activelab.strategies import registry
    from activelab.strategies.base import UtilityStrategy

    class CostAware(UtilityStrategy):  # a new strategy: no list of names knows it
        name = "test_needs_costs"
        needs = frozenset({"proba", "costs"})

        def utility(self, context):
            return context.proba.max(axis=1) / context.costs

    pd.DataFrame({"x": [0.0, 1.0, 2.0]}).to_csv(tmp_path / "d.csv", index=False)
    db = f"sqlite:///{tmp_path / 'x.db'}"
    registry.register(CostAware)
    try:
        for strategy, need in [("vote_entropy", "committee_proba"),
                               ("test_needs_costs", "costs")]:
            with pytest.raises(ValueError, match=need):
                open_project(tmp_path / "d.csv", ["a", "b"], db=db, features=["x"],
                             strategy=strategy, project_dir=tmp_path / "proj")
    finally:
        registry._REGISTRY.pop("test_needs_costs", None)
    proj = open_project(tmp_path / "d.csv", ["a", "b"], db=db, features=["x"],
                        strategy="entropy", project_dir=tmp_path / "proj")
    assert proj.created and proj.settings["strategy"] == "entropy"
    proj.store.close()
