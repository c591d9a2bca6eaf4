"""Kill -9 the real server while people label; after a restart no acknowledged label is lost."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

import activelab

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env() -> dict[str, str]:
    """The environment of a server subprocess: it imports the activelab these tests import."""
    src = str(Path(activelab.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return os.environ | {"OPENBLAS_NUM_THREADS": "1",
                         "PYTHONPATH": src + (os.pathsep + path if path else "")}


def start_server(args: list[str], cwd: Path, port: int, scheme: str = "http"
                 ) -> tuple[subprocess.Popen, list[str]]:
    cmd = [sys.executable, "-c", "from activelab.cli import main; main()", "label", *args,
           "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True,
                            env=server_env())
    lines: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError("server exited: " + "".join(lines))
        try:
            httpx.get(f"{scheme}://127.0.0.1:{port}/", timeout=1, verify=False)
            return proc, lines
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("server did not start: " + "".join(lines))


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def kill_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    proc.wait(30)


def test_kill_9_loses_no_acknowledged_label(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pd.DataFrame(rng.normal(size=(300, 2)), columns=["x", "y"]).to_csv(tmp_path / "d.csv",
                                                                       index=False)
    args = [str(tmp_path / "d.csv"), "--labels", "a,b", "--features", "x,y", "--batch", "5",
            "--db", f"sqlite:///{tmp_path / 'crash.db'}", "--project-dir", str(tmp_path / "p")]
    port = free_port()
    proc, lines = start_server(args, tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    token = next(ln.split(": ", 1)[1].strip() for ln in lines if ln.startswith("admin token:"))
    admin = {"Authorization": f"Bearer {token}"}
    tokens = [httpx.post(f"{base}/api/admin/annotators", headers=admin, json={"name": f"a{i}"})
              .json()["token"] for i in range(4)]
    acked: list[tuple[int, str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def annotate(tok: str) -> None:
        h = {"Authorization": f"Bearer {tok}"}
        with httpx.Client(base_url=base, headers=h, timeout=5) as c:
            while not stop.is_set():
                try:
                    items = c.get("/api/next?n=2").json()["items"]
                    for it in items:
                        lab = "a" if it["item_id"] % 2 else "b"
                        r = c.post("/api/labels", json={"item_id": it["item_id"], "label": lab})
                        if r.status_code == 200:
                            with lock:
                                acked.append((it["item_id"], lab))
                except (httpx.HTTPError, ValueError, KeyError):
                    return  # the server is gone

    workers = [threading.Thread(target=annotate, args=(t,)) for t in tokens]
    for w in workers:
        w.start()
    while len(acked) < 40:
        time.sleep(0.05)
    helpers = children_of(proc.pid)
    assert helpers, "the server runs its scorer in a child process"
    os.kill(proc.pid, signal.SIGKILL)  # mid-labeling: requests are in flight
    proc.wait(10)
    deadline = time.time() + 20  # the scorer process notices and exits by itself
    while any(os.path.exists(f"/proc/{pid}") and not zombie(pid) for pid in helpers):
        assert time.time() < deadline, "scorer process outlived its server"
        time.sleep(0.1)
    stop.set()
    for w in workers:
        w.join(10)
    n_acked = len(acked)
    assert n_acked >= 40

    proc, lines = start_server(args, tmp_path, port)  # reopen the same project
    try:
        assert any("(reopened)" in ln for ln in lines), lines
        rows = httpx.get(f"{base}/api/admin/export/labels?format=jsonl", headers=admin).text
        table = pd.read_json(io.StringIO(rows), lines=True)
        stored = list(zip(table["item_id"].tolist(), table["label"].tolist(), strict=True))
        # every acknowledged label is there, none twice (one in flight may also have landed)
        assert set(acked) <= set(stored)
        assert len(stored) == len(set(stored)) and len(stored) <= n_acked + 4
        # labeling resumes where it was
        h = {"Authorization": f"Bearer {tokens[0]}"}
        it = httpx.get(f"{base}/api/next?n=1", headers=h).json()["items"][0]
        r = httpx.post(f"{base}/api/labels", headers=h, json={"item_id": it["item_id"],
                                                              "label": "a"})
        assert r.status_code == 200 and r.json()["n_labels"] == len(stored) + 1
    finally:
        kill_group(proc, signal.SIGTERM)


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        kids = children_of(todo.pop())
        out += kids
        todo += kids
    return out


def test_model_keeps_advancing_across_crashes(tmp_path: Path, db_url: str) -> None:
    # kill -9 the server only (its trainer must end by itself), or its whole process group
    # (the trainer leaves its lease behind); ACTIVELAB_TEST_CRASHES=10 runs ten, alternating
    n = int(os.environ.get("ACTIVELAB_TEST_CRASHES", "0"))
    kinds = (["server", "group"] * n)[:n] or (
        ["server", "group"] if db_url.startswith("sqlite") else ["group"])
    crashes = len(kinds)
    rng = np.random.default_rng(1)
    pd.DataFrame(rng.normal(size=(400, 2)), columns=["x", "y"]).to_csv(tmp_path / "d.csv",
                                                                       index=False)
    args = [str(tmp_path / "d.csv"), "--labels", "a,b", "--features", "x,y", "--batch", "5",
            "--db", db_url, "--project-dir", str(tmp_path / "p")]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    versions, token = [0], None
    for round_ in range(crashes + 1):
        proc, lines = start_server(args, tmp_path, port)
        try:
            token = token or next(ln.split(": ", 1)[1].strip() for ln in lines
                                  if ln.startswith("admin token:"))
            h = {"Authorization": f"Bearer {token}"}
            # items are served as soon as the server answers: new project or restart
            items = httpx.get(f"{base}/api/next?n=5", headers=h).json()["items"]
            assert len(items) == 5, (round_, items)
            for it in items:
                r = httpx.post(f"{base}/api/labels", headers=h, json={
                    "item_id": it["item_id"], "label": "a" if it["item_id"] % 2 else "b"})
                assert r.status_code == 200, r.text
            deadline = time.time() + 40
            while httpx.get(f"{base}/api/progress", headers=h).json()["model_version"] \
                    <= versions[-1]:
                assert time.time() < deadline, f"no new model after restart {round_}"
                time.sleep(0.2)
            versions.append(httpx.get(f"{base}/api/progress", headers=h).json()["model_version"])
        finally:
            helpers = _descendants(proc.pid)
            if round_ < crashes and kinds[round_] == "group":
                kill_group(proc, signal.SIGKILL)
            else:
                os.kill(proc.pid, signal.SIGKILL if round_ < crashes else signal.SIGTERM)
                proc.wait(30)
        deadline = time.time() + 10  # no trainer (or helper of it) outlives its server
        while any(os.path.exists(f"/proc/{p}") and not zombie(p) for p in helpers):
            if time.time() > deadline:
                kill_group(proc, signal.SIGKILL)
                raise AssertionError("a helper process outlived its server")
            time.sleep(0.1)
    assert versions == sorted(set(versions)) and len(versions) == crashes + 2
