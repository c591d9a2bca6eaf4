"""Security of the labeling app: tokens, roles, paths, request sizes, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from activelab.server.app import create_app
from activelab.server.project import open_project
from activelab.store import schema


@pytest.fixture()
def app_setup(tmp_path):
    root = tmp_path / "imgs"
    root.mkdir()
    for i in range(3):
        Image.fromarray(np.full((4, 4), 60 * i, np.uint8)).save(root / f"{i}.png")
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "secret.png")
    proj = open_project(root, ["x", "y"], db=f"sqlite:///{tmp_path / 'a.db'}",
                        project_dir=tmp_path / "p")
    proj.scorer().step()
    app = create_app(proj.store, proj.project_id, max_body_bytes=4096)
    c = TestClient(app)
    admin = {"Authorization": f"Bearer {proj.admin_token}"}
    tok = c.post("/api/admin/annotators", headers=admin, json={"name": "ann"}).json()["token"]
    yield c, app, proj, admin, {"Authorization": f"Bearer {tok}"}
    proj.store.close()


def _all_routes(routes):
    for r in routes:
        included = getattr(r, "original_router", None)  # newer FastAPI includes routers lazily
        if included is not None:
            yield from _all_routes(included.routes)
        else:
            yield r


def _api_routes(app):
    for r in _all_routes(app.routes):
        path = getattr(r, "path", "")
        if path.startswith("/api/"):
            for m in r.methods:
                yield m, path.replace("{item_id}", "0").replace("{annotator_id}", "2")


def test_every_api_route_needs_a_token(app_setup) -> None:
    c, app, *_ = app_setup
    routes = list(_api_routes(app))
    assert len(routes) >= 14
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-Activelab-Token": "x"}):
            r = c.request(method, path, headers=headers, json={})
            assert r.status_code == 401, (method, path, r.status_code)


def test_annotators_cannot_reach_admin_routes(app_setup) -> None:
    c, app, proj, admin, ann = app_setup
    admin_routes = [(m, p) for m, p in _api_routes(app) if p.startswith("/api/admin/")]
    assert len(admin_routes) >= 7
    for method, path in admin_routes:
        assert c.request(method, path, headers=ann, json={"name": "z"}).status_code == 403
    assert c.get("/api/admin/annotators", headers=admin).status_code == 200
    assert c.get("/api/me", headers=ann).json()["role"] == "annotator"


def test_token_of_another_project_is_refused(app_setup, tmp_path) -> None:
    c, app, proj, admin, ann = app_setup
    _, other = proj.store.create_project("other", ["a", "b"], [(None, "text", "t")])
    assert c.get("/api/me", headers={"Authorization": f"Bearer {other}"}).status_code == 401


def test_image_paths_are_confined(app_setup) -> None:
    c, app, proj, admin, ann = app_setup
    item = c.get("/api/next?n=1", headers=ann).json()["items"][0]
    assert c.get(item["image_url"], headers=ann).status_code == 200
    with proj.store.engine.begin() as conn:  # a tampered row pointing outside the folder
        conn.execute(sa.update(schema.items).where(schema.items.c.item_id == item["item_id"])
                     .values(content="../secret.png"))
    assert c.get(item["image_url"], headers=ann).status_code == 403
    assert c.get("/api/items/99/image", headers=ann).status_code == 404
    assert c.get("/static/../app.py").status_code == 404


def test_request_size_is_bounded(app_setup) -> None:
    c, app, proj, admin, ann = app_setup
    big = {"item_id": 0, "label": "x" * 10000}
    assert c.post("/api/labels", headers=ann, json=big).status_code == 413

    def chunks():
        for _ in range(10):
            yield b" " * 1000

    r = c.post("/api/labels", headers=ann | {"content-type": "application/json"},
               content=chunks())
    assert r.status_code == 413


def test_bad_input_gets_a_clear_error(app_setup) -> None:
    c, app, proj, admin, ann = app_setup
    item = c.get("/api/next?n=1", headers=ann).json()["items"][0]["item_id"]
    r = c.post("/api/labels", headers=ann, json={"item_id": item, "label": "nope"})
    assert r.status_code == 422 and "not one of the project's labels" in r.json()["detail"]
    r = c.post("/api/labels", headers=ann | {"content-type": "application/json"},
               content=b"{not json")
    assert r.status_code == 422
    assert c.post("/api/labels", headers=ann, json={"item_id": -1, "label": "x"}
                  ).status_code == 422
    assert c.post("/api/labels", headers=ann, json={"item_id": 2, "label": "x"}
                  ).status_code in (200, 409)
    assert c.get("/api/next?n=1000", headers=ann).status_code == 422
    assert c.post("/api/admin/annotators", headers=admin, json={"name": "ann"}
                  ).status_code == 409


def test_headers_and_page(app_setup) -> None:
    c, *_ = app_setup
    r = c.get("/")
    assert r.status_code == 200 and "<title>" in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    js = c.get("/static/app.js").text
    assert "innerHTML" not in js  # items are written with textContent only
    assert c.get("/openapi.json").json()["paths"]["/api/labels"]["post"]


def test_cli_defaults_and_bad_uploads(tmp_path) -> None:
    from activelab.cli import app

    runner = CliRunner()
    help_text = runner.invoke(app, ["label", "--help"], env={"COLUMNS": "200"}).output
    assert "127.0.0.1" in help_text
    (tmp_path / "bad.xyz").write_text("x")
    pd.DataFrame({"a": ["p", "q"], "b": ["r", "s"]}).to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    db = f"sqlite:///{tmp_path / 'a.db'}"
    cases = [
        (["label", str(tmp_path / "bad.xyz"), "--labels", "a,b"], "unknown type"),
        (["label", str(tmp_path / "t.csv"), "--labels", "a,b"], "say which column"),
        (["label", str(tmp_path / "t.csv"), "--labels", "a,b", "--text-column", "zz"],
         "not a column"),
        (["label", str(tmp_path / "broken.parquet"), "--labels", "a,b"], "could not be read"),
        (["label", str(tmp_path / "missing.csv"), "--labels", "a,b"], "does not exist"),
        (["label", str(tmp_path / "t.csv"), "--text-column", "a"], "--labels is required"),
        (["label", str(tmp_path / "t.csv"), "--labels", "a,,b"], "empty entries"),
        (["label", str(tmp_path / "t.csv"), "--labels", "a,b", "--text-column", "a",
          "--strategy", "nope"], "unknown query strategy"),
    ]
    for args, message in cases:
        res = runner.invoke(app, args + ["--db", db, "--project-dir", str(tmp_path / "p")],
                            env={"COLUMNS": "300"})
        assert res.exit_code == 2, (args, res.output)
        assert message in res.output.replace("\n", " "), (args, res.output)
        assert len(res.output.strip().splitlines()) == 1, (args, res.output)
    # bad input stores nothing: no database file, no project folder
    assert not (tmp_path / "a.db").exists() and not (tmp_path / "p").exists()


def test_revoked_token_stops_working(app_setup) -> None:
    c, app, proj, admin, ann = app_setup
    item = c.get("/api/next?n=1", headers=ann).json()["items"][0]["item_id"]
    me = c.get("/api/me", headers=ann).json()["id"]
    assert c.post(f"/api/admin/annotators/{me}/revoke", headers=admin).status_code == 200
    assert c.get("/api/me", headers=ann).status_code == 401
    # the item the annotator held is offered again
    assert item in [it["item_id"] for it in c.get("/api/next?n=3", headers=admin).json()["items"]]
    assert c.post(f"/api/admin/annotators/{me}/revoke", headers=admin).status_code == 404
    admin_id = c.get("/api/me", headers=admin).json()["id"]
    assert c.post(f"/api/admin/annotators/{admin_id}/revoke", headers=admin).status_code == 409
