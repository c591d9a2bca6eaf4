"""The background trainer dies with its server, holds its lease while it fits, and a dead
trainer's lease is taken over at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import test_app_crash as server

from _live import wait_until
from activelab.server.scorer import save_features
from activelab.store import Store
from activelab.store.versions import trainer_owner_id

TESTS = Path(__file__).resolve().parents[1]  # tests/, where _slow_model.py lives


def _project(url: str, tmp_path: Path) -> tuple[Store, int, Path]:
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(-2, 1, (30, 2)), rng.normal(2, 1, (30, 2))]
    store = Store(url)
    pid, token = store.create_project("t", ["a", "b"],
                                      [(str(i), "row", "{}") for i in range(60)])
    me = store.authenticate(token)
    store.write_queue(pid, [0, 1, 30, 31], utilities=None, guesses=None, confidences=None,
                      model_version=0, strategy="test")
    for item in store.claim(pid, me.id, 4):
        store.commit_label(pid, me.id, item["item_id"], "a" if item["item_id"] < 30 else "b")
    return store, pid, save_features(tmp_path / "features", X)


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        kids = server.children_of(todo.pop())
        out += kids
        todo += kids
    return out


def _alive(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}") and not server.zombie(pid)


def test_trainer_killed_mid_fit_dies_with_its_server(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    store, pid, features = _project(url, tmp_path)
    marker = tmp_path / "fitting"
    driver = textwrap.dedent(f"""
        import time
        from activelab.server.scorer import ScorerProcess
        ScorerProcess({url!r}, {pid}, {str(features)!r}, estimator="_slow_model:SlowFit",
                      batch=2, lease_seconds=2.0, poll_seconds=0.1).start()
        time.sleep(600)
    """)
    env = server.server_env()
    env["PYTHONPATH"] += os.pathsep + str(TESTS)
    env |= {"ACTIVELAB_TEST_FIT_MARKER": str(marker), "ACTIVELAB_TEST_FIT_SECONDS": "60"}
    proc = subprocess.Popen([sys.executable, "-c", driver], env=env, start_new_session=True)
    try:
        wait_until(marker.exists, timeout=60)  # the trainer is inside a 60 s fit now
        trainer = int(marker.read_text())
        helpers = _descendants(proc.pid)
        assert trainer in helpers
        # the fit outlasts the 2 s lease: the trainer keeps renewing it meanwhile, so no one
        # else can take it
        first = float(store.project(pid)["trainer_until"])
        wait_until(lambda: store.project(pid)["trainer_until"] > first + 2.0, timeout=10)
        assert not store.try_acquire_trainer(pid, "intruder", 60.0)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        # nothing of the server survives it: the trainer (mid-fit) and its helpers are gone
        wait_until(lambda: not any(_alive(p) for p in helpers), timeout=10)
        assert store.project(pid)["model_version"] == 0  # the killed fit published nothing
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        store.close()


def test_dead_trainers_lease_is_taken_over_at_once(db_url: str) -> None:
    store = Store(db_url)
    pid, _ = store.create_project("p", ["a", "b"], [("0", "row", "{}")])
    me = trainer_owner_id()
    assert store.try_acquire_trainer(pid, me, ttl=600.0)
    assert not store.try_acquire_trainer(pid, trainer_owner_id(), ttl=600.0)  # I am alive
    store.release_trainer(pid, me)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = trainer_owner_id(pid=gone.pid)
    assert store.try_acquire_trainer(pid, dead, ttl=600.0)
    # its process is gone from this machine: the lease is free now, not in ten minutes
    newcomer = trainer_owner_id()
    assert store.try_acquire_trainer(pid, newcomer, ttl=600.0)
    assert store.project(pid)["trainer_owner"] == newcomer
    store.release_trainer(pid, newcomer)
    # an owner on another machine cannot be checked: its lease runs to its end
    assert store.try_acquire_trainer(pid, "elsewhere:12345:abcdef", ttl=600.0)
    assert not store.try_acquire_trainer(pid, trainer_owner_id(), ttl=600.0)
    store.close()
