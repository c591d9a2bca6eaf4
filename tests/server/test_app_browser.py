"""The labeling page in a real headless chromium: keyboard labeling, progress, retraining."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pandas as pd
import pytest
import test_app_crash as server  # the real-server helpers

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason="needs Debian's chromium at /usr/bin/chromium (make system-deps)"),
]

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def wait_until(predicate, timeout: float = 10.0) -> None:
    """Poll from Python (the page's CSP forbids the string predicates of wait_for_function)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_label_twenty_items_by_keyboard(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    texts = [f"<b>item {i}</b> <img src=x onerror=\"window.__pwned=1\"> "
             f"{'spam offer' if i % 2 else 'meeting notes'} {i}" for i in range(60)]
    pd.DataFrame({"text": texts}).to_csv(tmp_path / "t.csv", index=False)
    port = server.free_port()
    proc, lines = server.start_server(
        [str(tmp_path / "t.csv"), "--labels", "spam,ham", "--batch", "5",
         "--db", f"sqlite:///{tmp_path / 'b.db'}", "--project-dir", str(tmp_path / "p")],
        tmp_path, port)
    token = next(ln.split(": ", 1)[1].strip() for ln in lines if ln.startswith("admin token:"))
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/#token={token}")
            wait_until(lambda: page.get_attribute("#item", "data-item-id") not in (None, ""))
            assert "token" not in page.url  # the token leaves the address bar
            seen = []
            widths = []
            for n in range(1, 21):
                item = page.get_attribute("#item", "data-item-id")
                text = page.inner_text("#item-text")
                assert text.startswith("<b>item ")  # shown as text, not as markup
                seen.append(int(item))
                page.keyboard.press("1" if "spam" in text else "2")
                wait_until(lambda n=n: page.get_attribute("#progress", "data-n") == str(n))
                widths.append(page.eval_on_selector("#progress-fill",
                                                    "e => e.getBoundingClientRect().width"))
            assert len(set(seen)) == 20
            assert widths[-1] > widths[0] > 0
            assert page.eval_on_selector_all("#item-text *", "els => els.length") == 0
            assert page.evaluate("window.__pwned === undefined")
            # a retrained model's version appears
            wait_until(lambda: page.inner_text("#model-version") != "v0", timeout=30)
            assert "Why this item" in page.inner_text("#why")
            # undo takes the last label back
            page.keyboard.press("u")
            wait_until(lambda: page.get_attribute("#progress", "data-n") == "19")
            assert int(page.get_attribute("#item", "data-item-id")) == seen[-1]
            # the admin panel: add an annotator, see people and counts
            assert page.is_visible("#admin")
            page.fill("#new-name", "zoe")
            page.click("#new-annotator")
            wait_until(lambda: "#token=" in page.inner_text("#new-link"))
            wait_until(lambda: "zoe" in page.inner_text("#people"), timeout=15)
            browser.close()
    finally:
        server.kill_group(proc, signal.SIGTERM)
