"""The model's guess on the page, in chromium: absent until the model beats chance in
cross-validation, then shown; never with ``--no-guess``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _live import chromium_page, live_server, needs_chromium, shown_item, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_chromium]

WAITING = "Model guess: shown once the model beats chance in cross-validation"


def _separable(tmp_path: Path) -> Path:
    x = np.r_[np.linspace(-3, -1, 20), np.linspace(1, 3, 20)]
    path = tmp_path / "sep.csv"
    pd.DataFrame({"x": x, "y": np.zeros_like(x)}).to_csv(path, index=False)
    return path


def _label_until_a_model(page, tmp_path: Path) -> None:
    seen: list[str] = []
    for n in range(1, 9):
        wait_until(lambda: shown_item(page) not in ("", *seen), timeout=30)
        seen.append(shown_item(page))
        x = float(page.inner_text('#item-row td').strip())  # the row's first value is x
        page.keyboard.press("1" if x < 0 else "2")
        wait_until(lambda n=n: page.get_attribute("#progress", "data-n") == str(n))
    wait_until(lambda: page.inner_text("#model-version") != "v0", timeout=60)


@pytest.mark.parametrize("guess", [True, False], ids=["guess", "no-guess"])
def test_the_guess_waits_for_a_model_that_beats_chance(tmp_path: Path, guess: bool) -> None:
    args = [str(_separable(tmp_path)), "--labels", "neg,pos", "--features", "x,y", "--batch", "4",
            "--db", f"sqlite:///{tmp_path / 'g.db'}", "--project-dir", str(tmp_path / "p"),
            "--guess" if guess else "--no-guess"]
    with live_server(args, tmp_path) as (base, token, _), \
            chromium_page(f"{base}/#token={token}") as page:
        wait_until(lambda: shown_item(page) != "", timeout=30)
        assert page.inner_text("#guess") == (WAITING if guess else "")  # no model yet
        _label_until_a_model(page, tmp_path)
        shown = []
        for _ in range(12):  # the items leased ahead came before the model; then its picks
            wait_until(lambda: shown_item(page) not in ("", *shown), timeout=30)
            shown.append(shown_item(page))
            words = page.inner_text("#guess")
            x = float(page.inner_text('#item-row td').strip())
            if guess and words != WAITING:
                break
            assert words == (WAITING if guess else "")
            page.keyboard.press("1" if x < 0 else "2")
        if guess:  # items queued by a model that beats chance come with its guess
            assert words.startswith(f"Model guess: {'neg' if x < 0 else 'pos'} (")
            assert "% sure, model v" in words
