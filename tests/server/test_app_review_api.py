"""The review routes through the API (real SQLite file, real PostgreSQL): who may do what,
and bad input refused with the reason."""

from __future__ import annotations

import pandas as pd
from fastapi.testclient import TestClient

from activelab.server.app import create_app
from activelab.server.project import open_project


def _setup(tmp_path, db_url: str):
    pd.DataFrame({"text": [f"text {i}" for i in range(6)]}).to_csv(tmp_path / "r.csv",
                                                                   index=False)
    proj = open_project(tmp_path / "r.csv", ["a", "b"], db=db_url, overlap=2,
                        project_dir=tmp_path / "p")
    c = TestClient(create_app(proj.store, proj.project_id))
    admin = {"Authorization": f"Bearer {proj.admin_token}"}
    tok = c.post("/api/admin/annotators", headers=admin, json={"name": "ann"}).json()["token"]
    return proj, c, admin, {"Authorization": f"Bearer {tok}"}


def test_review_routes_check_who_and_what(tmp_path, db_url: str) -> None:
    proj, c, admin, ann = _setup(tmp_path, db_url)
    item = c.get("/api/next?n=1", headers=ann).json()["items"][0]["item_id"]
    other = next(i for i in range(6) if i != item)
    # a comment on a held item is fine; on an item not yours: 404; too long: 422
    assert c.put(f"/api/items/{item}/comment", headers=ann, json={"text": "hm"}
                 ).json() == {"status": "saved", "item_id": item}
    assert c.put(f"/api/items/{other}/comment", headers=ann, json={"text": "x"}
                 ).status_code == 404
    assert c.put(f"/api/items/{item}/comment", headers=ann, json={"text": "x" * 2001}
                 ).status_code == 422
    assert c.post("/api/labels", headers=ann, json={"item_id": item, "label": "a"}
                  ).status_code == 200
    mine = c.get("/api/my/labels", headers=ann).json()
    assert [(r["item_id"], r["label"], r["comment"]) for r in mine["labels"]] == [
        (item, "a", "hm")]
    assert (mine["n_labels"], mine["more"]) == (1, False)
    assert mine["labels"][0]["preview"] == f"text {item}"
    assert c.get("/api/my/labels?limit=0", headers=ann).status_code == 422
    # the admin's routes are the admin's
    for method, path, body in (("get", "/api/admin/disagreements", None),
                               ("get", "/api/admin/comments", None),
                               ("post", "/api/admin/resolutions", {"item_id": item, "label": "a"})):
        kw = {} if body is None else {"json": body}
        assert getattr(c, method)(path, headers=ann, **kw).status_code == 403
    assert c.post("/api/admin/resolutions", headers=admin,
                  json={"item_id": item, "label": "zzz"}).status_code == 422
    assert c.post("/api/admin/resolutions", headers=admin,
                  json={"item_id": other, "label": "a"}).status_code == 404
    assert c.get("/api/admin/disagreements", headers=admin).json() == {
        "items": [], "n_open": 0, "n_resolved": 0}
    # the admin disagrees on the item: it is open until resolved
    assert c.post("/api/labels", headers=admin, json={"item_id": item, "label": "b"}
                  ).status_code == 409  # not leased to the admin yet
    held = [it["item_id"] for it in c.get("/api/next?n=6", headers=admin).json()["items"]]
    assert item in held
    assert c.post("/api/labels", headers=admin, json={"item_id": item, "label": "b"}
                  ).status_code == 200
    d = c.get("/api/admin/disagreements", headers=admin).json()
    assert (d["n_open"], [x["item_id"] for x in d["items"]]) == (1, [item])
    assert [(v["annotator"], v["label"]) for v in d["items"][0]["votes"]] == [
        ("ann", "a"), ("admin", "b")]
    assert d["items"][0]["comments"] == [{"annotator": "ann", "text": "hm"}]
    r = c.post("/api/admin/resolutions", headers=admin, json={"item_id": item, "label": "a"})
    assert r.status_code == 200 and r.json()["resolver"] == "admin"
    assert c.get("/api/admin/disagreements", headers=admin).json()["items"] == []
    again = c.get("/api/admin/disagreements?resolved=true", headers=admin).json()
    assert again["items"][0]["resolution"]["label"] == "a"
    assert c.get("/api/my/labels", headers=ann).json()["labels"][0]["resolved_label"] == "a"
    # the Label Studio export carries the comment: counts as Label Studio's own export
    # has them, the text in the task's meta
    ls = c.get("/api/admin/export/labels?format=labelstudio", headers=admin).json()
    task = next(t for t in ls if t["data"]["activelab_id"] == item)
    assert (task["comment_count"], task["comment_authors"]) == (1, ["ann"])
    assert [(n["author"], n["text"]) for n in task["meta"]["activelab_comments"]] == [
        ("ann", "hm")]
    assert task["last_comment_updated_at"] == task["meta"]["activelab_comments"][0]["updated_at"]
    assert task["last_comment_updated_at"][:2] == "20"  # an ISO date
    proj.store.close()
