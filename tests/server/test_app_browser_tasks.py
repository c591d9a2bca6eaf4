"""Multi-label and regression projects labeled by keyboard in a real headless chromium.

Each test starts ``activelab label`` for real on a SQLite file, labels items on the page,
reloads it, and checks the answers in the export and in the file, and that the model
trained.  A screenshot of each page state is written to ``ACTIVELAB_SCREENSHOTS`` (default:
the test's temporary folder).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_app_api import numbers_project
from test_app_tasks import common, rated_data, topic_data

from _live import (
    api,
    chromium_page,
    exported_labels,
    live_server,
    needs_chromium,
    shown_item,
    wait_until,
)
from activelab.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_chromium]


def shot(page, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("ACTIVELAB_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def count(page) -> int:
    return int(page.get_attribute("#progress", "data-n") or 0)


def saved(page, n: int, before: str) -> None:
    """Wait until the page counts ``n`` labels and shows another item than ``before``."""
    wait_until(lambda: count(page) == n and shown_item(page) not in ("", before), 30)


def pressed(page) -> list[str]:
    return page.eval_on_selector_all('#buttons button.toggle[aria-pressed="true"]',
                                     "bs => bs.map(b => b.dataset.label)")


def test_multilabel_by_keyboard_toggles_and_enter(tmp_path: Path) -> None:
    data, _ = topic_data(tmp_path)
    args = common(tmp_path, data) + ["--labels", "sport,money,weather", "--multilabel",
                                     "--batch", "3"]
    answers: dict[str, list[str]] = {}
    with live_server(args, tmp_path) as (base, token, _), \
            chromium_page(f"{base}/#token={token}") as page:
        wait_until(lambda: shown_item(page) != "")
        assert page.inner_text('#buttons button[data-label="money"]').strip() == "2 · money"
        first = shown_item(page)
        page.keyboard.press("1")
        page.keyboard.press("3")
        page.keyboard.press("3")  # toggled off again
        page.keyboard.press("2")
        assert pressed(page) == ["sport", "money"]
        assert page.inner_text("#selection") == "Selected: sport, money"
        assert page.inner_text("#save-set") == "save 2 labels (Enter)"
        shot(page, tmp_path, "multilabel-selected")
        page.keyboard.press("Enter")
        saved(page, 1, first)
        answers[first] = ["sport", "money"]
        assert pressed(page) == []  # a new item starts with nothing chosen
        second = shown_item(page)
        page.click('#buttons button[data-label="weather"]')  # a click, then a key
        page.keyboard.press("1")
        assert pressed(page) == ["sport", "weather"]
        page.keyboard.press("Enter")
        saved(page, 2, second)
        answers[second] = ["sport", "weather"]
        third = shown_item(page)
        assert page.inner_text("#selection").startswith("Selected: none")
        page.keyboard.press("Enter")  # none of the labels applies
        saved(page, 3, third)
        answers[third] = []
        page.reload()
        wait_until(lambda: shown_item(page) != "" and count(page) == 3)
        shot(page, tmp_path, "multilabel-after-reload")
        for keys in (["2"], ["3", "1"]):
            item = shown_item(page)
            for k in keys:
                page.keyboard.press(k)
            page.keyboard.press("Enter")
            saved(page, len(answers) + 1, item)
            answers[item] = [x for x in ("sport", "money", "weather")
                             if str("sport money weather".split().index(x) + 1) in keys]
        wait_until(lambda: page.inner_text("#model-version") != "v0", 90)
        wait_until(lambda: page.inner_text("#curve").startswith("Cross-validated micro F1"), 30)
        shot(page, tmp_path, "multilabel-trained")
        assert page.inner_text("#why").startswith("Why this item:")
        got = {str(r["item_id"]): r["label"] for r in exported_labels(base, token)}
        assert got == answers
    store = Store(f"sqlite:///{tmp_path / 'tasks.db'}")
    try:
        pid = store.find_project("topics")
        ids, stored, _ = store.label_arrays(pid)
        assert {str(i): json.loads(s) for i, s in zip(ids, stored, strict=True)} == answers
        assert store.model_rows(pid)[0]["n_labels"] >= 2  # two different sets train one
    finally:
        store.close()


def test_regression_number_box_refuses_bad_input_and_saves_numbers(tmp_path: Path) -> None:
    data, truth = rated_data(tmp_path)
    args = common(tmp_path, data) + ["--regression", "--min", "0", "--max", "10",
                                     "--batch", "3"]
    answers: dict[str, float] = {}
    with live_server(args, tmp_path) as (base, token, _), \
            chromium_page(f"{base}/#token={token}") as page:
        wait_until(lambda: shown_item(page) != "")
        assert page.evaluate("document.activeElement.id") == "value-input"
        first = shown_item(page)
        for typed, error in [("", "Type a number first."),
                             ("abc", "“abc” is not a number"), ("NaN", "“NaN” is not a number"),
                             ("Infinity", "“Infinity” is not a number"),
                             ("1e999", "The number must be finite."),
                             ("11", "The number must be at most 10."),
                             ("-0.5", "The number must be at least 0.")]:
            page.fill("#value-input", typed)
            page.keyboard.press("Enter")
            wait_until(lambda error=error: error in page.inner_text("#value-error"))
            if typed == "abc":
                shot(page, tmp_path, "regression-refused")
        assert count(page) == 0 and exported_labels(base, token) == []
        assert page.get_attribute("#value-input", "aria-invalid") == "true"
        page.fill("#value-input", "")
        page.keyboard.type("3.5")
        page.keyboard.press("Enter")
        saved(page, 1, first)
        answers[first] = 3.5
        assert page.input_value("#value-input") == ""  # a new item: an empty box
        skipped = shown_item(page)
        page.keyboard.press("s")  # s in the box skips
        wait_until(lambda: shown_item(page) not in ("", skipped))
        page.keyboard.press("u")  # u in the box undoes the 3.5: its item comes back
        wait_until(lambda: count(page) == 0 and shown_item(page) == first)
        page.keyboard.type("4.25")
        page.keyboard.press("Enter")
        saved(page, 1, first)
        answers[first] = 4.25
        page.reload()
        wait_until(lambda: shown_item(page) != "" and count(page) == 1)
        for _ in range(4):
            item = shown_item(page)
            value = round(truth[int(item)], 2)
            page.keyboard.type(str(value))
            page.keyboard.press("Enter")
            saved(page, len(answers) + 1, item)
            answers[item] = value
        wait_until(lambda: page.inner_text("#model-version") != "v0", 90)
        wait_until(lambda: page.inner_text("#curve").startswith("Cross-validated R²"), 30)
        shot(page, tmp_path, "regression-trained")
        assert {str(r["item_id"]): r["label"] for r in exported_labels(base, token)} == answers
        assert api(base, token, "/api/progress")["model_version"] >= 1
    store = Store(f"sqlite:///{tmp_path / 'tasks.db'}")
    try:
        pid = store.find_project("rated")
        ids, stored, _ = store.label_arrays(pid)
        assert {str(i): float(s) for i, s in zip(ids, stored, strict=True)} == answers
        assert skipped not in answers
    finally:
        store.close()


def test_admin_table_shows_number_differences_for_a_regression_project(tmp_path: Path) -> None:
    proj, _, _ = numbers_project(tmp_path)  # three people's numbers, hand-worked there
    proj.store.close()
    args = [str(tmp_path / "d.csv"), "--db", f"sqlite:///{tmp_path / 'a.db'}",
            "--project-dir", str(tmp_path / "p"), "--new-admin-token"]
    with live_server(args, tmp_path) as (base, token, _), \
            chromium_page(f"{base}/#token={token}") as page:
        wait_until(lambda: "cy" in page.inner_text("#people"), 30)
        rows = page.eval_on_selector_all(
            "#people tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent))")
        # vs the others' median: 0.25, 0.75, 0.25; vs the guesses 2, 4, 6: 0.5, 0.5, 0
        assert {r[0]: r[1:] for r in rows if r[0] in NUMBERS_SHOWN} == NUMBERS_SHOWN
        assert page.inner_text("#agreement") == (
            "Items labeled by several people: 3; the numbers two people gave the same item "
            "differ by a median of 0.50.")
        assert page.inner_text("#col-agree") == "vs others"
        assert page.get_attribute("#col-model", "title").startswith(
            "median |label − model guess|")
        assert "%" not in page.inner_text("#people")
        shot(page, tmp_path, "regression-admin")


#: The people table of :func:`numbers_project`: labels, vs others, recent vs model.
NUMBERS_SHOWN = {"ann": ["3", "±0.25", "±0.50"], "bea": ["3", "±0.75", "±0.50"],
                 "cy": ["3", "±0.25", "±0.00"]}
