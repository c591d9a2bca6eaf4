"""The live verdict through the real server (``activelab label`` on a SQLite file): random
checks come up among the items the API hands out, the trainer scores every labeled one, and
the admin's stats and page show the verdict."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from _live import api, chromium_page, live_server, needs_chromium, next_item, wait_until
from activelab.store import Store

pytestmark = pytest.mark.slow

N_ITEMS = 400


def _data(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    x = rng.uniform(-3, 3, N_ITEMS)
    pd.DataFrame({"x": x, "y": rng.normal(0, 1, N_ITEMS)}).to_csv(tmp_path / "d.csv",
                                                                  index=False)
    return tmp_path / "d.csv"


def _truth(tmp_path: Path) -> np.ndarray:
    d = pd.read_csv(tmp_path / "d.csv")
    return np.where(d["x"] + 0.8 * d["y"] < 0.4, "a", "b")


def _label_some(base: str, token: str, truth: np.ndarray, n: int) -> list[str]:
    """Label ``n`` items as the API hands them out; the strategy that queued each.  After
    the first ten, wait for the first model (the loop labels faster than the trainer
    starts), so that the model ranks most of the queue."""
    why = []
    for i in range(n):
        if i == 10:
            wait_until(lambda: api(base, token, "/api/progress")["model_version"] >= 1,
                       timeout=60)
        item = next_item(base, token)
        why.append(item["why"]["strategy"])
        r = httpx.post(base + "/api/labels", timeout=10,
                       headers={"Authorization": f"Bearer {token}"},
                       json={"item_id": item["item_id"], "label": str(truth[item["item_id"]])})
        assert r.status_code == 200, r.text
    return why


def _comparable_checks(db: str) -> tuple[int, int]:
    """From the database, worked out plainly: labeled checks, and those that had at least
    two random labels (and not only random labels) before their first lease."""
    store = Store(db)
    h = store.label_history(store.find_project("d"))
    store.close()
    first: dict[int, int] = {}
    for j, item in enumerate(h["item_id"].tolist()):
        first.setdefault(item, j)
    checks = [i for i, j in first.items() if h["strategy"][j] == "random_probe"]
    comparable = 0
    for p in checks:
        lease = min(t for i, t in zip(h["item_id"], h["leased_at"], strict=True) if i == p)
        before = [j for i, j in first.items() if h["created_at"][j] < lease]
        k = sum(h["strategy"][j] in ("random", "random_probe") for j in before)
        comparable += 2 <= k < len(before)
    return len(checks), comparable


def _args(tmp_path: Path) -> tuple[list[str], str]:
    db = f"sqlite:///{tmp_path / 'v.db'}"
    return [str(_data(tmp_path)), "--features", "x,y", "--labels", "a,b", "--batch", "5",
            "--random-share", "0.2", "--db", db, "--project-dir", str(tmp_path / "p")], db


def _scored(base: str, token: str, labeled: int) -> dict:
    """The admin's stats once the trainer has scored all ``labeled`` checks."""
    out: dict = {}

    def done() -> bool:
        out.update(api(base, token, "/api/admin/stats"))
        v = out["live_verdict"]
        return v["checks_labeled"] == labeled and v["checks_waiting"] == 0

    wait_until(done, timeout=90)
    return out


def test_the_verdict_counts_every_labeled_check(tmp_path: Path) -> None:
    args, db = _args(tmp_path)
    truth = _truth(tmp_path)
    with live_server(args, tmp_path) as (base, token, _):
        why = _label_some(base, token, truth, 80)
        labeled, comparable = _comparable_checks(db)
        assert labeled == why.count("random_probe") >= 8  # checks came up and were labeled
        stats = _scored(base, token, labeled)
    v = stats["live_verdict"]
    assert v["available"] is True and stats["random_share"] == 0.2
    assert comparable >= 5 and v["n"] == comparable
    assert v["checks_without_pair"] == labeled - comparable
    assert v["active_only"] + v["random_only"] <= v["n"]
    assert v["low"] <= v["mean"] <= v["high"] and 2 <= v["labels_from"] <= v["labels_to"]
    assert v["words"] in ("ahead of random", "behind random", "can't tell yet")
    acc = stats["live_accuracy"]  # every check's queue row holds the guess of its model
    assert acc["n"] == min(labeled, 50) and acc["low"] <= acc["mean"] <= acc["high"]


@pytest.mark.browser
@needs_chromium
def test_the_admin_page_says_the_verdict_in_one_sentence(tmp_path: Path) -> None:
    args, db = _args(tmp_path)
    truth = _truth(tmp_path)
    shots = Path(os.environ.get("ACTIVELAB_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with live_server(args, tmp_path) as (base, token, _):
        _label_some(base, token, truth, 50)
        stats = _scored(base, token, _comparable_checks(db)[0])
        v = stats["live_verdict"]
        assert v["n"] >= 2
        with chromium_page(f"{base}/#token={token}") as page:
            page.set_viewport_size({"width": 1280, "height": 900})
            wait_until(lambda: page.inner_text("#verdict") != "", timeout=30)
            sentence = page.inner_text("#verdict")
            accuracy = page.inner_text("#live-accuracy")
            help_text = page.inner_text("#verdict-help")
            page.screenshot(path=str(shots / "live-verdict.png"), full_page=True)
    num = r"([+\u2212]\d\.\d\d)"
    est = rf"{num} accuracy \[{num}, {num}\]"
    at = (str(v["labels_from"]) if v["labels_from"] == v["labels_to"]
          else f"{v['labels_from']}\u2013{v['labels_to']}")
    checks = re.escape(f"{v['n']} random checks, compared at {at} labels")
    head = "Active learning vs random on this data: "
    pattern = (rf"{head}can't tell yet, {est} \({checks}\)\." if v["words"] == "can't tell yet"
               else rf"{head}{v['words']}, {est}, from {checks}\.")
    said = re.fullmatch(pattern, sentence)
    assert said, sentence
    shown = [float(x.replace("\u2212", "-")) for x in said.groups()]
    assert shown == pytest.approx([v["mean"], v["low"], v["high"]], abs=0.0051)
    acc = stats["live_accuracy"]
    assert re.fullmatch(r"Model's estimated accuracy on unlabeled items: \d+% \[\d+%, \d+%\], "
                        rf"from the guesses the model of the moment made on the last "
                        rf"{acc['n']} random checks, before their labels\.", accuracy), accuracy
    assert "as many random labels" in help_text and "20% of the labels" in help_text
