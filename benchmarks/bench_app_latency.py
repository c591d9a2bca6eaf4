"""Labeling app under load: next-item latency during retraining, and labels per second.

Builds a 100,000-item tabular project (20 float features), starts the real server
(``activelab label``, SQLite by default) with ``--batch 1`` (default) so that the model retrains
after every label and a retrain is running for practically the whole measurement, then:

1. **latency**: one annotator does ``GET /api/next?n=1`` (a fresh lease each time, because the
   previous item was labeled) followed by ``POST /api/labels``; p50/p99 of the GET over
   ``--requests`` rounds, and the model versions published meanwhile;
2. **throughput and concurrent latency**: ten annotators label as fast as the server answers,
   with no think time, for ``--seconds`` seconds; labels acknowledged per second, and p50/p99
   of their ``GET /api/next`` while all ten ask at once (answers without an item, "waiting",
   are counted and left out of the percentiles; the lean client asks again after 10 ms).

The concurrent clients (``--client``): ``lean`` (default) runs the ten annotators as coroutines
of one asyncio loop, each on its own keep-alive HTTP/1.1 connection, with pre-built request
bytes and a minimal response reader, so that the load generator takes little of the two
vCPUs the server runs on (annotators' browsers run on other machines); ``httpx`` runs ten
``httpx.Client`` threads in one process, ``processes`` one httpx client per process.  On
Linux the script reports the CPU the server, the clients and the retrainer (the server's
child processes) used during the concurrent phase, per acknowledged label.

The server runs with ``OPENBLAS_NUM_THREADS=1`` (BLAS pinned to one thread).  A relative
``PYTHONPATH`` is made absolute for it (it runs in a temporary folder).

Run::

    .venv/bin/python benchmarks/bench_app_latency.py --items 100000
    .venv/bin/python benchmarks/bench_app_latency.py --client httpx
    .venv/bin/python benchmarks/bench_app_latency.py --items 20000 --requests 200 --seconds 10
    .venv/bin/python benchmarks/bench_app_latency.py --db postgresql://user@127.0.0.1/db

Results and the machine they were measured on: ``docs/benchmarks/labeling-app.md``.
"""

from __future__ import annotations

import argparse
import collections
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
    if env.get("PYTHONPATH"):  # the server runs in another folder: a relative path would miss
        env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p)
                                            for p in env["PYTHONPATH"].split(os.pathsep))
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


#: ``(HTTP status, answer status)`` of each GET /api/next answer of the lean client that
#: had no item.
EMPTY_ANSWERS: list[tuple[int, str | None]] = []


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc (Linux only)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (the scorer and its helpers), from /proc."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                continue
    return out


def cpu_snapshot(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the server process, its children (the retrainer) and this
    process (the clients, when they are threads or coroutines of it)."""
    if not os.path.isdir("/proc"):
        return {}
    t = os.times()
    return {"server": _proc_cpu(server_pid),
            "trainer": sum(_proc_cpu(c) for c in _children(server_pid)),
            "clients": t.user + t.system + t.children_user + t.children_system}


def report_cpu(before: dict[str, float], after: dict[str, float], n_labels: int,
               wall: float) -> None:
    """Print the CPU each part used during the concurrent phase, per label and in cores."""
    if not before or not n_labels:
        return
    parts = [f"{k} {1000 * (after[k] - before[k]) / n_labels:.1f} ms/label "
             f"({(after[k] - before[k]) / wall:.2f} cores)" for k in ("server", "clients",
                                                                        "trainer")]
    print("cpu during the concurrent phase: " + ", ".join(parts))


async def _lean_annotator(host: str, port: int, token: str, stop_at: float,
                          lat: list[float]) -> None:
    """One annotator over one keep-alive HTTP/1.1 connection: pre-built request bytes, a
    minimal response reader; GET /api/next then POST /api/labels until ``stop_at``."""
    import asyncio

    reader, writer = await asyncio.open_connection(host, port)
    auth = f"Authorization: Bearer {token}\r\n"
    get = (f"GET /api/next?n=1 HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n").encode()
    post_head = f"POST /api/labels HTTP/1.1\r\nHost: {host}\r\n{auth}" \
                "Content-Type: application/json\r\nContent-Length: "

    async def response() -> tuple[int, bytes]:
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await reader.readexactly(length)

    try:
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            writer.write(get)
            status, body = await response()
            dt = time.perf_counter() - t0
            answer = json.loads(body)
            items = answer.get("items") or []
            if not items:  # nothing to lease right now: "waiting" (counted, not timed)
                EMPTY_ANSWERS.append((status, answer.get("status")))
                await asyncio.sleep(0.01)
                continue
            data = json.dumps({"item_id": items[0]["item_id"], "label": label_of(items[0]),
                               "duration_s": 1.0}).encode()
            writer.write(post_head.encode() + str(len(data)).encode() + b"\r\n\r\n" + data)
            status, body = await response()
            if status != 200:
                raise RuntimeError(f"POST /api/labels answered {status}: {body[:200]!r}")
            lat.append(dt)
    finally:
        writer.close()


def lean_annotators(base: str, tokens: list[str], seconds: float
                    ) -> tuple[list[int], float, list[list[float]]]:
    """As :func:`concurrent_annotators`, with a lean client: all annotators are coroutines
    of one asyncio loop, each on its own keep-alive connection, with pre-built request
    bytes, so that the clients take little of the CPU the server runs on (in real use the
    annotators' browsers run on other machines)."""
    import asyncio

    host, port = base.split("//", 1)[1].rsplit(":", 1)
    lats: list[list[float]] = [[] for _ in tokens]

    async def run_all() -> float:
        t1 = time.perf_counter()
        await asyncio.gather(*(_lean_annotator(host, int(port), tok, t1 + seconds, lat)
                               for tok, lat in zip(tokens, lats, strict=True)))
        return time.perf_counter() - t1

    wall = asyncio.run(run_all())
    return [len(x) for x in lats], wall, lats


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
    ap.add_argument("--client", choices=sorted(CLIENTS), default="lean",
                    help="the concurrent annotators: lean (default; coroutines of one "
                         "process on raw keep-alive sockets), httpx (httpx clients in "
                         "threads of one process) or processes (httpx, one process each)")
    ap.add_argument("--client-processes", action="store_true",
                    help="the same as --client processes")
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
        client = "processes" if opts.client_processes else opts.client
        cpu0 = cpu_snapshot(proc.pid)
        c_start = time.time()
        counts, wall, busy_lat = CLIENTS[client](base, tokens, opts.seconds)
        c_end = time.time()
        cpu1 = cpu_snapshot(proc.pid)
        with httpx.Client(base_url=base, headers=admin, timeout=30) as c:
            n_total = c.get("/api/progress").json()["n_labels"]
            csv_rows = c.get("/api/admin/export/labels?format=csv").text.count("\n") - 1
            c_models = sum(1 for x in c.get("/api/admin/export/events").text.splitlines()
                           if (e := json.loads(x))["event"] == "model"
                           and c_start <= e["ts"] <= c_end)
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
    print(f"concurrent client: {client}")
    report_concurrent(counts, wall, busy_lat)
    print(f"  model versions during the concurrent phase: {c_models}")
    report_cpu(cpu0, cpu1, sum(counts), wall)
    if client == "lean":
        print(f"  GET /api/next answers without an item (not in the percentiles): "
              f"{len(EMPTY_ANSWERS)} {dict(collections.Counter(EMPTY_ANSWERS))}")
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


#: The concurrent clients of ``--client``.
CLIENTS = {"lean": lean_annotators, "httpx": concurrent_annotators,
           "processes": annotator_processes}


if __name__ == "__main__":
    main()
