"""Numbers out of range in ids, NaN and Infinity in durations: a clear 422, never a 500."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from _live import live_server, next_item

pytestmark = pytest.mark.slow

BIG = [2**31, 2**63, 2**64 + 5, 10**30]


def test_out_of_range_numbers_get_422_from_the_real_server(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("one\ntwo\nthree\n")
    args = [str(tmp_path / "t.txt"), "--labels", "a,b", "--db",
            f"sqlite:///{tmp_path / 'n.db'}", "--project-dir", str(tmp_path / "p")]
    with live_server(args, tmp_path) as (base, token, _):
        h = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
        item = next_item(base, token)["item_id"]
        with httpx.Client(base_url=base, headers=h, timeout=10) as c:
            bodies = [f'{{"item_id": {n}, "label": "a"}}' for n in BIG]
            bodies += [f'{{"item_id": {item}, "label": "a", "duration_s": {x}}}'
                       for x in ("NaN", "Infinity", "-Infinity", "1e999")]
            for body in bodies:
                r = c.post("/api/labels", content=body)
                assert r.status_code == 422, (body, r.status_code, r.text)
                assert "detail" in r.json()
            for n in BIG:
                assert c.post("/api/skip", content=f'{{"item_id": {n}}}').status_code == 422
                for path in (f"/api/items/{n}/image", f"/api/admin/annotators/{n}/revoke"):
                    r = c.request("POST" if "revoke" in path else "GET", path)
                    assert r.status_code == 422, (path, r.status_code, r.text)
            # the same connection still works, and nothing was recorded
            assert c.get("/api/progress").json()["n_labels"] == 0
            r = c.post("/api/labels", json={"item_id": item, "label": "a", "duration_s": 1.5})
            assert r.status_code == 200, r.text
