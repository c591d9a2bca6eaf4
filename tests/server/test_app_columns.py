"""``--show-columns``: the page shows the chosen columns of a table, in order, with an email's
headers folded away; an unknown column is one line and exit 2, and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from test_app_cli_errors import _refused

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


def _mail(tmp_path: Path, n: int = 12) -> Path:
    raw = [f"Return-Path: <s{i}@example.org>\nReceived: from relay{i}\nSubject: note {i}\n\n"
           f"{'win money prize' if i % 2 else 'team meeting notes'} body {i}" for i in range(n)]
    path = tmp_path / "mail.csv"
    pd.DataFrame({"id": [f"m{i:03d}" for i in range(n)], "subject": [f"note {i}" for i in range(n)],
                  "raw": raw, "score": [0.5 * i for i in range(n)]}).to_csv(path, index=False)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(("extra", "says"), [
    (["--show-columns", "subject,nope"], "--show-columns 'nope' is not a column of DATA; "
                                         "columns are: id, subject, raw, score"),
    (["--show-columns", "raw,raw"], "--show-columns has 'raw' twice"),
    (["--show-columns", "raw,"], "must not have empty entries"),
])
def test_unknown_or_repeated_columns_are_one_line(tmp_path: Path, extra, says) -> None:
    _mail(tmp_path)
    _refused(tmp_path, ["mail.csv", "--labels", "spam,ham", "--text-column", "raw", *extra],
             says)


@pytest.mark.slow
def test_a_text_file_has_no_columns_to_show(tmp_path: Path) -> None:
    (tmp_path / "lines.txt").write_text("one\ntwo\nthree\n")
    _refused(tmp_path, ["lines.txt", "--labels", "a,b", "--show-columns", "text"],
             "--show-columns needs a table")


def test_the_api_gives_the_chosen_columns_in_order(tmp_path: Path) -> None:
    data = _mail(tmp_path)
    db = f"sqlite:///{tmp_path / 'c.db'}"
    proj = open_project(data, ["spam", "ham"], db=db, text_column="raw",
                        show_columns=["subject", "raw"], project_dir=tmp_path / "p")
    c = TestClient(create_app(proj.store, proj.project_id))
    h = {"Authorization": f"Bearer {proj.admin_token}"}
    item = c.get("/api/next?n=1", headers=h).json()["items"][0]
    i = item["item_id"]
    assert [f["name"] for f in item["fields"]] == ["subject", "raw"]
    assert item["fields"][0]["value"] == f"note {i}"
    assert item["fields"][1]["value"].startswith(f"Return-Path: <s{i}@example.org>")
    assert item["key"] == f"m{i:03d}"
    proj.store.close()
    # the columns are chosen once: reopening with others is refused, the same is fine
    with pytest.raises(ValueError, match="--show-columns is chosen when a project is created"):
        open_project(data, None, db=db, name="mail", show_columns=["raw"])
    again = open_project(data, None, db=db, name="mail", show_columns=["subject", "raw"])
    assert again.settings["show_columns"] == ["subject", "raw"]
    again.store.close()


def test_without_the_option_items_have_no_fields(tmp_path: Path) -> None:
    proj = open_project(_mail(tmp_path), ["spam", "ham"], db=f"sqlite:///{tmp_path / 'n.db'}",
                        text_column="raw", project_dir=tmp_path / "p")
    c = TestClient(create_app(proj.store, proj.project_id))
    item = c.get("/api/next?n=1", headers={"Authorization": f"Bearer {proj.admin_token}"}
                 ).json()["items"][0]
    assert "fields" not in item and item["text"].startswith("Return-Path:")
    proj.store.close()


@pytest.mark.browser
@pytest.mark.slow
@needs_chromium
def test_page_shows_the_chosen_columns_with_headers_folded(tmp_path: Path) -> None:
    args = [str(_mail(tmp_path)), "--labels", "spam,ham", "--text-column", "raw",
            "--show-columns", "subject,raw", "--db", f"sqlite:///{tmp_path / 'w.db'}",
            "--project-dir", str(tmp_path / "p")]
    with live_server(args, tmp_path) as (base, token, _), \
            chromium_page(f"{base}/#token={token}") as page:
        wait_until(lambda: shown_item(page) != "", timeout=30)
        item = shown_item(page)
        shown = page.eval_on_selector_all("#item-text .field", "fs => fs.map(f => f.dataset.column)")
        assert shown == ["subject", "raw"]  # score and id are not shown
        assert page.inner_text('.field[data-column="subject"] .field-value') == f"note {item}"
        headers = '.field[data-column="raw"] details.headers'
        assert page.eval_on_selector(headers, "d => d.open") is False
        assert not page.is_visible(f"{headers} pre")  # folded: the headers are not readable
        assert "body" in page.inner_text('.field[data-column="raw"] .field-value')
        page.click(f"{headers} summary")  # the toggle unfolds them
        wait_until(lambda: page.is_visible(f"{headers} pre"))
        assert "Received: from relay" in page.inner_text(f"{headers} pre")
        assert "0.5" not in page.inner_text("#item-text")
        page.keyboard.press("2")  # a click on the toggle does not take the label keys away
        wait_until(lambda: page.get_attribute("#progress", "data-n") == "1")
        page.screenshot(path=str(tmp_path / "columns.png"))
        assert [(str(r["item_id"]), r["label"]) for r in exported_labels(base, token)] == [
            (item, "ham")]


def test_a_feature_table_shows_its_chosen_columns_not_the_features(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    pd.DataFrame({"id": ["r1", "r2", "r3"], "x": [0.5, 1.5, 2.5], "y": [1.0, 2.0, 3.0],
                  "note": ["first", None, "third"]}).to_csv(path, index=False)
    proj = open_project(path, ["a", "b"], db=f"sqlite:///{tmp_path / 'r.db'}",
                        features=["x", "y"], show_columns=["note", "x"],
                        project_dir=tmp_path / "p")
    fields = proj.store.item_fields(proj.project_id, [0, 1, 2])
    assert fields == {0: [{"name": "note", "value": "first"}, {"name": "x", "value": "0.5"}],
                      1: [{"name": "note", "value": ""}, {"name": "x", "value": "1.5"}],
                      2: [{"name": "note", "value": "third"}, {"name": "x", "value": "2.5"}]}
    proj.store.close()
