"""What the page and the API say is true: why an item was asked for, when everything is
labeled, a changed answer, the model's guess, long emails."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from _live import (
    chromium_page,
    exported_labels,
    live_server,
    needs_chromium,
    shown_item,
    wait_until,
)
from activelab.server.app import create_app
from activelab.server.project import open_project
from activelab.server.views import why_text


def _emails(tmp_path: Path, n: int = 14) -> Path:
    texts = [f"From: sender{i}@example.org\nSubject: note {i}\nX-Spam-Score: {i}\n\n"
             f"{'win money prize offer' if i % 2 else 'team meeting agenda notes'} body {i}"
             for i in range(n)]
    path = tmp_path / "mail.csv"
    pd.DataFrame({"text": texts}).to_csv(path, index=False)
    return path


def test_why_words_by_hand() -> None:
    w = {"strategy": "margin", "utility": -0.125, "rank": 2, "model_version": 3}
    assert why_text(w) == ("the model is torn between its two likeliest labels (their "
                           "probabilities differ by 0.125; smaller = more torn): rank 2 of "
                           "the items model v3 chose")
    w = {"strategy": "least_confident", "utility": 0.4, "rank": 1, "model_version": 1}
    assert why_text(w).startswith("the model is only 60% sure of its best guess")
    w = {"strategy": "cold_start:kmeans", "utility": None, "rank": 3, "model_version": 0}
    assert why_text(w) == ("no model yet, so kmeans cold start picked it to cover the data "
                           "(pick 3)")
    w = {"strategy": "random", "utility": None, "rank": 12, "model_version": 0}
    assert why_text(w).startswith("picked at random")


@pytest.mark.browser
@pytest.mark.slow
@needs_chromium
def test_page_words_from_first_item_to_the_last(tmp_path: Path) -> None:
    args = [str(_emails(tmp_path)), "--labels", "spam,ham", "--batch", "4",
            "--db", f"sqlite:///{tmp_path / 'w.db'}", "--project-dir", str(tmp_path / "p")]
    with live_server(args, tmp_path) as (base, token, _), \
            chromium_page(f"{base}/#token={token}") as page:
        wait_until(lambda: shown_item(page) != "", timeout=30)
        # the headers of an email are folded away; its body shows
        assert page.eval_on_selector("#item details.headers", "d => d.open") is False
        assert "Subject: note" in page.text_content("#item details.headers pre")
        assert "body" in page.inner_text("#item-text")
        whys, seen = [], []
        for n in range(1, 15):
            wait_until(lambda: shown_item(page) not in ("", *seen), timeout=30)
            seen.append(shown_item(page))
            whys.append(page.inner_text("#why"))
            text = page.inner_text("#item-text")
            page.keyboard.press("1" if "money" in text else "2")
            wait_until(lambda n=n: page.get_attribute("#progress", "data-n") == str(n))
            if n == 4:  # both labels seen: the first model comes
                wait_until(lambda: page.inner_text("#model-version") != "v0", timeout=30)
        # at most the batch of four is "cold start"; what follows says what it was
        assert sum("cold start" in w for w in whys) <= 4
        assert all("cold start" in w or "picked at random" in w or "torn between" in w
                   for w in whys)
        assert any("torn between" in w for w in whys)
        for w in whys:  # no negative score sold as "higher = more useful"
            assert not re.search(r"-\d", w) and "higher = more useful" not in w
        wait_until(lambda: "Everything is labeled" in page.inner_text("#item-text"),
                   timeout=15)
        assert "when the model is ready" not in page.inner_text("#item-text")
        assert len(exported_labels(base, token)) == 14


def _project(tmp_path: Path, X: np.ndarray, **kw):
    pd.DataFrame(X, columns=["u", "v"]).to_csv(tmp_path / "d.csv", index=False)
    proj = open_project(tmp_path / "d.csv", ["neg", "pos"], db=f"sqlite:///{tmp_path / 'g.db'}",
                        features=["u", "v"], project_dir=tmp_path / "p", batch=6, **kw)
    scorer = proj.scorer()
    c = TestClient(create_app(proj.store, proj.project_id, scorer=scorer))
    return proj, scorer, c, {"Authorization": f"Bearer {proj.admin_token}"}


def _label(c, h, truth) -> None:
    items = c.get("/api/next?n=6", headers=h).json()["items"]
    for it in items:
        assert c.post("/api/labels", headers=h, json={
            "item_id": it["item_id"], "label": truth(it["item_id"])}).status_code == 200


@pytest.mark.filterwarnings("ignore:Number of distinct clusters:sklearn.exceptions.ConvergenceWarning")
def test_guess_waits_until_the_model_beats_chance(tmp_path: Path) -> None:
    X = np.ones((60, 2))  # every item looks the same: nothing can be learnt
    proj, scorer, c, h = _project(tmp_path, X)
    assert scorer.step() == "cold_start"
    _label(c, h, lambda i: "pos" if i % 2 else "neg")
    assert scorer.step() == "trained"
    cv = proj.store.model_rows(proj.project_id)[-1]["cv_accuracy"]
    _, labels, _ = proj.store.label_arrays(proj.project_id)
    chance = max((labels == "pos").mean(), (labels == "neg").mean())
    assert cv is not None and cv <= chance  # no better than guessing the commoner label
    items = c.get("/api/next?n=3", headers=h).json()["items"]
    assert items and all(it["guess"] is None for it in items)
    assert c.get("/api/project", headers=h).json()["guess"] == "when the model beats chance"
    proj.store.close()


def test_guess_shows_once_the_model_beats_chance_and_can_be_turned_off(tmp_path) -> None:
    X = np.r_[np.linspace(-3, -1, 30), np.linspace(1, 3, 30)][:, None] * [1.0, 0.0]
    for show, path in ((True, tmp_path / "on"), (False, tmp_path / "off")):
        path.mkdir()
        proj, scorer, c, h = _project(path, X, show_guess=show)
        scorer.step()
        _label(c, h, lambda i: "neg" if i < 30 else "pos")
        assert scorer.step() == "trained"
        assert proj.store.model_rows(proj.project_id)[-1]["cv_accuracy"] == 1.0
        items = c.get("/api/next?n=3", headers=h).json()["items"]
        assert all((it["guess"] is not None) == show for it in items)
        assert c.get("/api/project", headers=h).json()["guess"] == (
            "when the model beats chance" if show else "off")
        proj.store.close()


def test_a_changed_answer_is_refused_with_the_way_to_change_it(tmp_path: Path) -> None:
    proj, scorer, c, h = _project(tmp_path, np.arange(20.0)[:, None] * [1.0, 1.0])
    item = c.get("/api/next?n=1", headers=h).json()["items"][0]["item_id"]
    assert c.post("/api/labels", headers=h, json={"item_id": item, "label": "neg"}
                  ).json()["status"] == "recorded"
    same = c.post("/api/labels", headers=h, json={"item_id": item, "label": "neg"})
    assert same.status_code == 200 and same.json()["status"] == "duplicate"
    other = c.post("/api/labels", headers=h, json={"item_id": item, "label": "pos"})
    assert other.status_code == 409
    assert other.json()["detail"] == (f"you labeled item {item} 'neg' already; to change it, "
                                      f"send PUT /api/labels/{item} or undo it")
    changed = c.put(f"/api/labels/{item}", headers=h, json={"label": "pos"})
    assert changed.status_code == 200, changed.text
    assert changed.json() | {"label_id": 0} == {"status": "relabeled", "item_id": item,
                                                "label": "pos", "previous": "neg",
                                                "label_id": 0}
    rows = c.get("/api/admin/export/labels?format=jsonl", headers=h).text.splitlines()
    assert len(rows) == 1 and '"label": "pos"' in rows[0]
    assert c.put("/api/labels/19", headers=h, json={"label": "pos"}).status_code == 404
    assert c.put(f"/api/labels/{item}", headers=h, json={"label": "nope"}).status_code == 422
    events = c.get("/api/admin/export/events", headers=h).text
    assert '"event": "relabel"' in events and '"previous": "neg"' in events
    proj.store.close()
