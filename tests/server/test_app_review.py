"""Reviewing as a team through the real server and the page in chromium: an annotator changes
an earlier label from "my labels" and comments on an item; the admin sees the disagreements of
overlapping labels, resolves them, and the model learns the chosen labels."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import httpx
import pandas as pd
import pytest

from _live import api, chromium_page, exported_labels, live_server, needs_chromium, wait_until
from activelab.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_chromium]


def _shots(tmp_path: Path) -> Path:
    """Where screenshots go: ``ACTIVELAB_SCREENSHOTS`` when set (to look at them), else tmp."""
    folder = Path(os.environ.get("ACTIVELAB_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _data(tmp_path: Path) -> Path:
    texts = [f"note {i}: {'win a prize now' if i % 2 else 'minutes of the meeting'}"
             for i in range(8)]
    path = tmp_path / "notes.csv"
    pd.DataFrame({"id": [f"n{i}" for i in range(8)], "text": texts}).to_csv(path, index=False)
    return path


def _post(base: str, token: str, path: str, body: dict) -> httpx.Response:
    return httpx.post(base + path, json=body, timeout=10,
                      headers={"Authorization": f"Bearer {token}"})


def _annotator_reviews(page, base: str, tmp: Path) -> list[str]:
    """Label three items by keyboard, comment on the second, change the first from the list."""
    seen = []
    for n in range(1, 4):
        wait_until(lambda: (page.get_attribute("#item", "data-item-id") or "") not in ("", *seen),
                   timeout=30)
        seen.append(page.get_attribute("#item", "data-item-id"))
        if n == 2:  # a click in the comment box, typing, Enter saves; the keys label again
            page.click("#comment")
            page.keyboard.type("sarcasm? reads like spam")
            page.keyboard.press("Enter")
            wait_until(lambda: page.inner_text("#comment-state") == "comment saved")
        page.keyboard.press("1")  # spam
        wait_until(lambda n=n: page.get_attribute("#progress", "data-n") == str(n))
    page.click("#history-toggle")
    rows = "#history-table tbody tr"
    wait_until(lambda: len(page.query_selector_all(rows)) == 3)
    assert page.eval_on_selector_all(rows, "rs => rs.map(r => r.dataset.itemId)") == seen[::-1]
    assert "sarcasm? reads like spam" in page.inner_text(f'{rows}[data-item-id="{seen[1]}"]')
    first = f'{rows}[data-item-id="{seen[0]}"]'
    page.click(f"{first} td.preview")  # a click on the row, then a key changes its label
    page.keyboard.press("2")
    wait_until(lambda: page.inner_text(f"{first} td.label") == "ham")
    assert "changed" in page.inner_text(f"{first} td.when")
    assert page.get_attribute("#progress", "data-n") == "3"  # a change labels nothing new
    page.screenshot(path=str(tmp / "review-my-labels.png"), full_page=True)
    return seen


def test_team_review_from_my_labels_to_resolved_disagreements(tmp_path: Path) -> None:
    tmp = _shots(tmp_path)
    args = [str(_data(tmp_path)), "--labels", "spam,ham", "--overlap", "2", "--batch", "50",
            "--db", f"sqlite:///{tmp_path / 'team.db'}", "--project-dir", str(tmp_path / "p")]
    with live_server(args, tmp_path) as (base, admin, _):
        ann = _post(base, admin, "/api/admin/annotators", {"name": "ann"}).json()["token"]
        with chromium_page(f"{base}/#token={ann}") as page:
            seen = _annotator_reviews(page, base, tmp)
            # the admin labels the same items, disagreeing on the first two
            held = api(base, admin, "/api/next?n=8")["items"]
            assert set(seen) <= {str(it["item_id"]) for it in held}
            for it in held:
                lab = {seen[0]: "spam", seen[1]: "ham"}.get(str(it["item_id"]), "spam")
                assert _post(base, admin, "/api/labels",
                             {"item_id": it["item_id"], "label": lab}).status_code == 200
            page.goto(f"{base}/#token={admin}")
            page.reload()
            rows = "#disputes tbody tr"
            wait_until(lambda: len(page.query_selector_all(rows)) == 2, timeout=20)
            assert page.eval_on_selector_all(rows, "rs => rs.map(r => r.dataset.itemId)") == \
                sorted(seen[:2], key=int)
            second = f'{rows}[data-item-id="{seen[1]}"]'
            assert page.inner_text(f"{second} td.votes") == "ann: spam · admin: ham"
            assert page.inner_text(f"{second} td.note") == "ann: sarcasm? reads like spam"
            assert page.inner_text(f"{second} td.resolution") == "open"
            page.click(f"{second} td.preview")  # a click on the row, then the key of "spam"
            page.keyboard.press("1")
            wait_until(lambda: page.inner_text(f"{second} td.resolution").startswith(
                "spam (by admin"))
            first = f'{rows}[data-item-id="{seen[0]}"]'
            page.click(f'{first} button[data-label="ham"]')  # or a click on a label
            wait_until(lambda: page.inner_text(f"{first} td.resolution").startswith("ham"))
            assert page.inner_text("#disputes-summary") == "0 open, 2 resolved"
            assert "ann" in page.inner_text(f'#comments-list li[data-item-id="{seen[1]}"]')
            page.screenshot(path=str(tmp / "review-disagreements.png"), full_page=True)
        _check_records(base, admin, tmp_path / "team.db", seen)


def _check_records(base: str, admin: str, db: Path, seen: list[str]) -> None:
    got = api(base, admin, "/api/admin/disagreements?resolved=true")
    assert (got["n_open"], got["n_resolved"]) == (0, 2)
    assert {str(d["item_id"]): (d["resolution"]["label"], d["resolution"]["resolver"])
            for d in got["items"]} == {seen[0]: ("ham", "admin"), seen[1]: ("spam", "admin")}
    rows = list(csv.DictReader(io.StringIO(api(base, admin, "/api/admin/export/labels"))))
    mine = {(r["item_id"], r["annotator"]): r for r in rows}
    assert mine[(seen[0], "ann")]["label"] == "ham"  # changed from the list
    assert mine[(seen[1], "ann")]["comment"] == "sarcasm? reads like spam"
    assert (mine[(seen[1], "admin")]["resolved_label"], mine[(seen[1], "admin")]["resolved_by"]) \
        == ("spam", "admin")
    assert len(exported_labels(base, admin)) == 3 + 8
    events = [ln for ln in api(base, admin, "/api/admin/export/events").splitlines()
              if '"relabel"' in ln or '"resolve"' in ln or '"comment"' in ln]
    assert [('"annotator": "ann"' in e, '"event": "relabel"' in e) for e in events][:2] == [
        (True, False), (True, True)]  # the comment, then the change: by ann
    store = Store(f"sqlite:///{db}")  # what the model learns from: the resolved labels
    ids, labs = store.consensus(store.find_project("notes"))
    learnt = dict(zip(map(str, ids.tolist()), labs.tolist(), strict=True))
    assert (learnt[seen[0]], learnt[seen[1]], learnt[seen[2]]) == ("ham", "spam", "spam")
    store.close()
