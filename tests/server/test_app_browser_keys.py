"""The page's keyboard in a real headless chromium: keys label, scroll and never repeat."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from _live import (
    chromium_page,
    exported_labels,
    live_server,
    needs_chromium,
    shown_item,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_chromium]


def _long_items(tmp_path: Path, n: int = 30) -> Path:
    texts = [f"item {i}\n" + "\n".join(f"line {j} of a long email" for j in range(200))
             for i in range(n)]
    path = tmp_path / "long.csv"
    pd.DataFrame({"text": texts}).to_csv(path, index=False)
    return path


def test_space_and_enter_after_a_click_scroll_and_never_label(tmp_path: Path) -> None:
    data = _long_items(tmp_path)
    args = [str(data), "--labels", "spam,ham", "--db", f"sqlite:///{tmp_path / 'k.db'}",
            "--project-dir", str(tmp_path / "p")]
    with live_server(args, tmp_path) as (base, token, _), \
            chromium_page(f"{base}/#token={token}") as page:
        wait_until(lambda: shown_item(page) != "")
        first = shown_item(page)
        page.click('#buttons button[data-label="spam"]')  # the mouse: focus would stay there
        wait_until(lambda: page.get_attribute("#progress", "data-n") == "1"
                   and shown_item(page) not in ("", first))
        second = shown_item(page)

        def top() -> float:
            return page.eval_on_selector("#item", "e => e.scrollTop")

        bottom = page.eval_on_selector("#item", "e => e.scrollHeight - e.clientHeight")
        assert bottom > 0  # the item is longer than its box
        page.keyboard.press(" ")  # Space reads on: it scrolls the item box
        wait_until(lambda: top() > 0)
        page.keyboard.press("End")
        wait_until(lambda: abs(top() - bottom) <= 1)
        page.keyboard.press("Home")
        wait_until(lambda: top() == 0)
        page.keyboard.press("ArrowDown")
        wait_until(lambda: top() > 0)
        page.keyboard.press("PageDown")
        page.keyboard.press("Enter")  # no button is focused: Enter does nothing
        assert shown_item(page) == second
        page.keyboard.press("2")
        wait_until(lambda: page.get_attribute("#progress", "data-n") == "2"
                   and shown_item(page) not in ("", second))
        labels = [(str(r["item_id"]), r["label"]) for r in exported_labels(base, token)]
        assert labels == [(first, "spam"), (second, "ham")]
        assert page.evaluate("document.activeElement.id") == "item"
