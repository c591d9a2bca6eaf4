"""Hotkeys match the labels (ten classes included) and can be chosen; in a real chromium."""

from __future__ import annotations

from pathlib import Path

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
from activelab.server.options import check_hotkeys, default_hotkeys
from activelab.server.project import open_project


def _items(tmp_path: Path, n: int = 30) -> Path:
    path = tmp_path / "t.txt"
    path.write_text("".join(f"item number {i}\n" for i in range(n)))
    return path


def test_default_hotkeys_by_hand() -> None:
    digits = [str(d) for d in range(10)]
    assert default_hotkeys(digits) == digits  # label "0" is key 0, ..., label "9" is key 9
    assert default_hotkeys(["a", "b", "c"]) == ["a", "b", "c"]
    assert default_hotkeys(["spam", "ham"]) == ["1", "2"]
    assert default_hotkeys(["s", "h"]) == ["1", "2"]  # s skips: the labels get digits
    names = [f"class {i}" for i in range(12)]
    assert default_hotkeys(names) == [*"1234567890", None, None]
    assert check_hotkeys(["c", "d"], ["cat", "dog"]) == ["c", "d"]
    for keys, says in [(["c"], "one key per label"), (["c", "c"], "twice"),
                       (["s", "d"], "'s' skips"), (["cc", "d"], "one character")]:
        with pytest.raises(ValueError, match=says):
            check_hotkeys(keys, ["cat", "dog"])


def test_api_lists_each_labels_key(tmp_path: Path) -> None:
    labels = [f"class {i}" for i in range(11)]
    proj = open_project(_items(tmp_path), labels, db=f"sqlite:///{tmp_path / 'h.db'}",
                        project_dir=tmp_path / "p")
    c = TestClient(create_app(proj.store, proj.project_id))
    info = c.get("/api/project", headers={"Authorization": f"Bearer {proj.admin_token}"}).json()
    assert info["hotkeys"] == [*"1234567890", None]
    assert info["shortcuts"] == {k: lab for k, lab in zip("1234567890", labels, strict=False)}
    proj.store.close()


@pytest.mark.browser
@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize(("labels", "extra", "presses"), [
    ([str(d) for d in range(10)], [], [("0", "0"), ("1", "1"), ("9", "9")]),
    (["cat", "dog"], ["--hotkeys", "c,d"], [("d", "dog"), ("c", "cat")]),
], ids=["ten-digit-labels", "chosen-keys"])
def test_keys_label_what_their_button_says(tmp_path: Path, labels, extra, presses) -> None:
    args = [str(_items(tmp_path)), "--labels", ",".join(labels), *extra,
            "--db", f"sqlite:///{tmp_path / 'k.db'}", "--project-dir", str(tmp_path / "p")]
    with live_server(args, tmp_path) as (base, token, _), \
            chromium_page(f"{base}/#token={token}") as page:
        wait_until(lambda: shown_item(page) != "")
        for key, label in presses:
            button = page.inner_text(f'#buttons button[data-label="{label}"]')
            assert button.startswith(f"{key} · ")
        seen = []
        for n, (key, _) in enumerate(presses, start=1):
            seen.append(shown_item(page))
            page.keyboard.press(key)
            wait_until(lambda n=n: page.get_attribute("#progress", "data-n") == str(n)
                       and shown_item(page) not in ("", *seen))
        page.keyboard.press("s")  # s still skips
        wait_until(lambda: shown_item(page) not in ("", *seen))
        got = [(str(r["item_id"]), r["label"]) for r in exported_labels(base, token)]
        assert got == [(item, label) for item, (_, label) in zip(seen, presses, strict=True)]
