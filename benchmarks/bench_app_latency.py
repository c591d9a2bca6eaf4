"""Labeling app under load: next-item latency during retraining, and labels per second.

Builds a 100,000-item tabular project (20 float features), starts the real server
(``activelab label``, SQLite by default) with ``--batch 1`` (default) so that the model retrains
after every label and a retrain is running for practically the whole measurement, then:

1. **latency**: one annotator does ``GET /api/next?n=1`` (a fresh lease each time, because the
   previous item was labeled) followed by ``POST /api/labels``; p50/p99 of the GET over
   ``--requests`` rounds, and the share of them that overlapped a retrain;
2. **throughput and concurrent latency**: ten annotators (threads with keep-alive clients,
   or with ``--client-processes`` one process each) label as fast as the server answers, with no think time, for ``--seconds`` seconds; labels
   acknowledged per second, and p50/p99 of their ``GET /api/next`` while all ten ask at once.

The server runs with ``OPENBLAS_NUM_THREADS=1`` (BLAS pinned to one thread).

Run::

    .venv/bin/python benchmarks/bench_app_latency.py
    .venv/bin/python benchmarks/bench_app_latency.py --items 20000 --requests 200 --seconds 10
    .venv/bin/python benchmarks/bench_app_latency.py --db postgresql://user@127.0.0.1/db
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(args: list[str], cwd: Path, port: int) -> tuple[subprocess.Popen, list[str]]:
    cmd = [sys.executable, "-c", "from activelab.cli import main; main()", "label", *args,
           "--port", str(port)]
    env = os.environ | {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                        "MKL_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True, env=env)
    lines: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.time() + 600
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited:\n" + "".join(lines))
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return proc, lines
        except httpx.HTTPError:
            time.sleep(0.5)
    raise SystemExit("server did not start")


def label_of(item: dict) -> str:
    row = item["row"]
    return "pos" if row["f0"] + row["f1"] > 0 else "neg"


def one_round(c: httpx.Client) -> float | None:
    t0 = time.perf_counter()
    items = c.get("/api/next?n=1").json()["items"]
    dt = time.perf_counter() - t0
    if not items:
        return None
    r = c.post("/api/labels", json={"item_id": items[0]["item_id"],
                                    "label": label_of(items[0]), "duration_s": 1.0})
    r.raise_for_status()
    return dt


def concurrent_annotators(base: str, tokens: list[str], seconds: float
                          ) -> tuple[list[int], float, list[list[float]]]:
    """Each token labels as fast as the server answers, no think time, for ``seconds``:
    labels per annotator, the wall time, and each annotator's GET /api/next latencies."""
    counts = [0] * len(tokens)
    busy_lat: list[list[float]] = [[] for _ in tokens]
    stop = threading.Event()

    def annotate(k: int) -> None:
        with httpx.Client(base_url=base, timeout=30,
                          headers={"Authorization": f"Bearer {tokens[k]}"}) as c:
            while not stop.is_set():
                dt = one_round(c)
                if dt is not None:
                    counts[k] += 1
                    busy_lat[k].append(dt)

    threads = [threading.Thread(target=annotate, args=(k,)) for k in range(len(tokens))]
    t1 = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return counts, time.perf_counter() - t1, busy_lat


def _annotator_process(base: str, token: str, start_at: float, seconds: float
                       ) -> tuple[int, list[float]]:
    """One annotator in its own process: labels and GET latencies from ``start_at`` on."""
    lat: list[float] = []
    with httpx.Client(base_url=base, timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as c:
        time.sleep(max(0.0, start_at - time.time()))
        while time.time() < start_at + seconds:
            dt = one_round(c)
            if dt is not None:
                lat.append(dt)
    return len(lat), lat


def annotator_processes(base: str, tokens: list[str], seconds: float
                        ) -> tuple[list[int], float, list[list[float]]]:
    """As :func:`concurrent_annotators`, with each annotator in its own process, so that
    the clients do not queue for one interpreter lock (ten people use ten browsers)."""
    import multiprocessing as mp

    start_at = time.time() + 3.0  # every process started and connected by then
    with mp.get_context("spawn").Pool(len(tokens)) as pool:
        results = pool.starmap(_annotator_process,
                               [(base, t, start_at, seconds) for t in tokens])
    return [n for n, _ in results], seconds, [lat for _, lat in results]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--annotators", type=int, default=10)
    ap.add_argument("--batch", type=int, default=1,
                    help="retrain after this many labels (1: a retrain is always running)")
    ap.add_argument("--db", default=None, help="database URL (default: SQLite in a temp dir)")
    ap.add_argument("--client-processes", action="store_true",
                    help="each concurrent annotator in its own process (default: threads of "
                         "one process, which also queue for its interpreter lock)")
    opts = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="activelab-bench-"))
    rng = np.random.default_rng(0)
    cols = [f"f{i}" for i in range(opts.features)]
    pd.DataFrame(rng.standard_normal((opts.items, opts.features)).astype(np.float32),
                 columns=cols).to_csv(tmp / "pool.csv", index=False)
    db = opts.db or f"sqlite:///{tmp / 'bench.db'}"
    port = free_port()
    t0 = time.perf_counter()
    proc, lines = start_server(
        [str(tmp / "pool.csv"), "--labels", "neg,pos", "--features", ",".join(cols),
         "--batch", str(opts.batch), "--db", db, "--project-dir", str(tmp / "proj")], tmp, port)
    setup_s = time.perf_counter() - t0
    token = next(ln.split(": ", 1)[1].strip() for ln in lines if ln.startswith("admin token:"))
    base = f"http://127.0.0.1:{port}"
    admin = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=base, headers=admin, timeout=30) as c:
            # warm up: enough labels of both classes for the first model, then wait for it
            warm = 0
            deadline = time.time() + 300
            while warm < 20 or c.get("/api/progress").json()["model_version"] < 1:
                if time.time() > deadline:
                    raise SystemExit(f"no model after 300 s ({warm} labels): "
                                     + c.get("/api/progress").text)
                if one_round(c) is None:
                    time.sleep(0.2)  # the first queue is not published yet
                else:
                    warm += 1
            v0 = c.get("/api/progress").json()["model_version"]
            lat: list[float] = []
            t_start = time.time()
            for _ in range(opts.requests):
                dt = one_round(c)
                if dt is not None:
                    lat.append(dt)
            t_end = time.time()
            models = [e for e in (json.loads(x) for x in
                                  c.get("/api/admin/export/events").text.splitlines())
                      if e["event"] == "model" and t_start <= e["ts"] <= t_end]
            v1 = c.get("/api/progress").json()["model_version"]
        tokens = []
        with httpx.Client(base_url=base, headers=admin, timeout=30) as c:
            for i in range(opts.annotators):
                tokens.append(c.post("/api/admin/annotators", json={"name": f"b{i}"})
                              .json()["token"])
        measure = annotator_processes if opts.client_processes else concurrent_annotators
        counts, wall, busy_lat = measure(base, tokens, opts.seconds)
        with httpx.Client(base_url=base, headers=admin, timeout=30) as c:
            n_total = c.get("/api/progress").json()["n_labels"]
            csv_rows = c.get("/api/admin/export/labels?format=csv").text.count("\n") - 1
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)

    lat_ms = np.asarray(lat) * 1000
    train_s = sum(m["fit_seconds"] for m in models)
    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, OPENBLAS_NUM_THREADS=1 in the server, db "
          f"{db.split(':')[0]}")
    print(f"project: {opts.items} items x {opts.features} features; created and served in "
          f"{setup_s:.1f} s")
    print(f"latency GET /api/next (new lease), {len(lat_ms)} requests over "
          f"{t_end - t_start:.1f} s, retraining after every {opts.batch} label(s): "
          f"p50 {np.percentile(lat_ms, 50):.1f} ms, p90 {np.percentile(lat_ms, 90):.1f} ms, "
          f"p99 {np.percentile(lat_ms, 99):.1f} ms, max {lat_ms.max():.1f} ms")
    print(f"  model versions during the window: {len(models)} (v{v0} -> v{v1}); "
          f"fit time inside them {train_s:.1f} s")
    report_concurrent(counts, wall, busy_lat)
    print(f"accounting: labels stored {n_total}, exported rows {csv_rows}")


def report_concurrent(counts: list[int], wall: float, busy_lat: list[list[float]]) -> None:
    """Print labels per second and the latency of the annotators who asked at once."""
    print(f"throughput: {len(counts)} annotators, {wall:.1f} s: {sum(counts)} labels "
          f"acknowledged = {sum(counts) / wall:.1f} labels/s "
          f"(per annotator median {statistics.median(counts)})")
    conc_ms = np.concatenate([np.asarray(x) for x in busy_lat]) * 1000
    if conc_ms.size:
        print(f"latency GET /api/next with {len(counts)} concurrent annotators, no think "
              f"time, {conc_ms.size} requests: p50 {np.percentile(conc_ms, 50):.1f} ms, "
              f"p99 {np.percentile(conc_ms, 99):.1f} ms, max {conc_ms.max():.1f} ms")


if __name__ == "__main__":
    main()
