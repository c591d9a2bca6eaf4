"""One query on a pool of 10⁷ rows on disk: out of core, on Dask, and the costs per row.

Writes a ``--rows`` x 64 float32 pool to a ``.npy`` file (chunk by chunk), picks 2,000
"labeled" ids, then runs each measurement in a child process under ``/usr/bin/time -v``
(peak RSS), with the BLAS threads pinned to one (``OPENBLAS_NUM_THREADS=1`` for every
process, Dask workers included):

* ``read``: the whole file read once with ``os.readv`` after its pages were evicted
  (``posix_fadvise(DONTNEED)``): the disk's uncached read rate, measured here;
* ``ooc``: :func:`activelab.scale.score_out_of_core`, entropy top-``k`` with the labeled
  ids excluded (``exclude_ids``), cold (pages evicted) and warm, with and without the
  read-ahead thread (``prefetch``), alternating;
* ``ooc-list``: the same with ``candidate_ids`` = every unlabeled id (the list of 10⁷
  ids the exclusion avoids);
* ``dask-1`` / ``dask-2``: :func:`activelab.scale.score_dask` on the file's path on a
  ``LocalCluster`` of 1 or 2 worker processes; the time excludes starting the cluster
  and a first query of ``k`` rows (the workers' imports, the model's transfer), which
  is reported apart; ``dask-floor``: the same cluster scoring ``k`` rows (the fixed
  cost of each later query);
* ``dask-external``: a ``dask scheduler`` and ``dask worker --nworkers 2`` started as
  separate programs, the query sent from a third;
* ``in-memory``: ``np.load`` of the whole file and ``ActiveLearner.query_result``, the
  reference for the ids;
* ``prefilter``: :func:`activelab.scale.prefilter_select`, top 10,000 by margin, then
  core-set picks ``k`` (one scoring pass plus a read of the kept rows);
* ``parquet`` / ``npy-1e6``: the first 10⁶ rows as Parquet (row groups of 65,536) and
  as ``.npy``, scored out of core (warm), for the per-row cost of the Parquet reader;
* ``kcenter``: :func:`activelab.scale.k_center_out_of_core` picking 100 of the first
  10⁶ rows.

Run::

    .venv/bin/python benchmarks/bench_scale.py                  # 10,000,000 rows, 2.6 GB
    .venv/bin/python benchmarks/bench_scale.py --rows 2000000   # smaller, quicker

The pool is deleted at the end unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_FEATURES = 64
N_CLASSES = 10
SMALL_ROWS = 1_000_000


def _weights() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.standard_normal((N_FEATURES, N_CLASSES)) / np.sqrt(N_FEATURES) * 3.0


def make_pool(path: Path, n_rows: int, block: int = 500_000) -> None:
    """Write an ``n_rows`` x 64 float32 pool to ``path`` without holding it in memory."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32,
                                    shape=(n_rows, N_FEATURES))
    for start in range(0, n_rows, block):
        stop = min(start + block, n_rows)
        rng = np.random.default_rng(start)
        out[start:stop] = rng.standard_normal((stop - start, N_FEATURES), dtype=np.float32)
    out.flush()
    del out
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)  # written back now, so that evicting its pages later really drops them
    os.close(fd)


def evict(path: Path) -> None:
    """Drop the file's pages from the page cache (no process maps it at this point)."""
    for p in [path] if path.is_file() else path.rglob("*"):
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)


def _learner():
    from sklearn.linear_model import LogisticRegression

    from activelab.learners import ActiveLearner

    rng = np.random.default_rng(2)
    X = rng.standard_normal((3000, N_FEATURES)).astype(np.float32)
    y = np.argmax(X @ _weights() + rng.gumbel(size=(3000, N_CLASSES)), axis=1)
    return ActiveLearner(LogisticRegression(max_iter=500), query_strategy="entropy",
                         X_training=X, y_training=y, random_state=0)


# ------------------------------------------------------------------ children


def _read_all(path: str) -> int:
    """Read the whole file once, 16 MB at a time, into one reused buffer."""
    buf = bytearray(16 << 20)
    view = memoryview(buf)
    fd = os.open(path, os.O_RDONLY)
    total = 0
    try:
        while True:  # blocks of the file, not rows
            got = os.readv(fd, [view])
            if got == 0:
                return total
            total += got
    finally:
        os.close(fd)


def _dask_run(args: argparse.Namespace, learner, labeled, address: str | None, workers: int):
    from distributed import Client, LocalCluster

    from activelab.scale import score_dask

    if address is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        cluster, client = None, Client(address)
    try:
        # the first query pays the workers' imports and the model's transfer: timed apart
        t0 = time.perf_counter()
        score_dask(learner, args.pool, args.k, candidate_ids=np.arange(args.k), client=client)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        if args.mode == "dask-floor":
            result = score_dask(learner, args.pool, args.k, candidate_ids=np.arange(args.k),
                                client=client)
        else:
            result = score_dask(learner, args.pool, args.k, exclude_ids=labeled,
                                chunk_rows=args.chunk_rows, client=client)
        print(f"first_query={first:.3f}")
        return result, time.perf_counter() - t0
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _child_modes(args: argparse.Namespace, learner, labeled):
    from activelab.scale import (
        k_center_out_of_core,
        open_pool_array,
        prefilter_select,
        score_out_of_core,
    )

    mode = args.mode
    if mode in ("ooc", "ooc-noprefetch"):
        return score_out_of_core(learner, args.pool, args.k, exclude_ids=labeled,
                                 chunk_rows=args.chunk_rows, prefetch=mode == "ooc")
    if mode == "ooc-list":
        candidates = np.setdiff1d(np.arange(np.load(args.pool, mmap_mode="r").shape[0]),
                                  labeled)
        return score_out_of_core(learner, args.pool, args.k, candidate_ids=candidates,
                                 chunk_rows=args.chunk_rows)
    if mode == "in-memory":
        X = np.load(args.pool)
        candidates = np.setdiff1d(np.arange(X.shape[0]), labeled)
        return learner.query_result(X[candidates], args.k, candidate_ids=candidates)
    if mode == "prefilter":
        return prefilter_select(learner, args.pool, args.k, strategy="coreset",
                                prefilter="margin", n_candidates=10_000, labeled_ids=labeled,
                                chunk_rows=args.chunk_rows)
    small = args.small
    if mode in ("parquet", "npy-1e6"):
        pool = open_pool_array(args.pool)
        first = np.arange(small) if mode == "npy-1e6" else None
        return score_out_of_core(learner, pool, args.k, candidate_ids=first,
                                 exclude_ids=labeled[labeled < small],
                                 chunk_rows=args.chunk_rows)
    if mode == "kcenter":
        return k_center_out_of_core(args.pool, 100, candidate_ids=np.arange(small),
                                    labeled_ids=labeled[labeled < small][:200],
                                    chunk_rows=args.chunk_rows)
    raise ValueError(mode)


def child(args: argparse.Namespace) -> None:
    """Run one measurement in this process; print ``seconds=`` and save the ids."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")
    if args.mode == "read":
        t0 = time.perf_counter()
        n = _read_all(args.pool)
        print(f"seconds={time.perf_counter() - t0:.3f} bytes={n}")
        return
    learner = _learner()
    labeled = np.load(args.labeled)
    if args.mode.startswith("dask"):
        workers = 2 if args.mode == "dask-2" else 1
        address = args.scheduler if args.mode == "dask-external" else None
        result, seconds = _dask_run(args, learner, labeled, address, workers)
    else:
        t0 = time.perf_counter()
        result = _child_modes(args, learner, labeled)
        seconds = time.perf_counter() - t0
    np.save(args.ids_out, result.ids)
    print(f"seconds={seconds:.3f}")


# -------------------------------------------------------------------- parent


def _run_child(mode: str, pool: Path, tmp: Path, args: argparse.Namespace,
               scheduler: str | None = None) -> dict:
    ids_out = tmp / f"{mode}-ids.npy"
    cmd = ["/usr/bin/time", "-v", sys.executable, __file__, "--child", mode, "--pool", str(pool),
           "--labeled", str(tmp / "labeled.npy"), "--k", str(args.k), "--chunk-rows",
           str(args.chunk_rows), "--ids-out", str(ids_out), "--small", str(args.small)]
    if scheduler:
        cmd += ["--scheduler", scheduler]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env())
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{proc.stdout}\n{proc.stderr[-3000:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    seconds = float(re.search(r"seconds=([\d.]+)", proc.stdout).group(1))
    ids = np.load(ids_out) if ids_out.exists() else None
    first = re.search(r"first_query=([\d.]+)", proc.stdout)
    return {"mode": mode, "rss_mb": rss_kb / 1024, "seconds": seconds, "ids": ids,
            "first_query": float(first.group(1)) if first else None}


def _env() -> dict:
    env = dict(os.environ)
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[1] / "src"), env.get("PYTHONPATH", "")])
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _external(pool: Path, tmp: Path, args: argparse.Namespace) -> dict:
    dask_bin = str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [subprocess.Popen([dask_bin, "scheduler", "--host", "127.0.0.1", "--port",
                               str(port), "--dashboard-address", ":0"], env=_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    time.sleep(3)
    procs.append(subprocess.Popen([dask_bin, "worker", address, "--nworkers", "2",
                                   "--nthreads", "1", "--dashboard-address", ":0"], env=_env(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(8)
    try:
        return _run_child("dask-external", pool, tmp, args, scheduler=address)
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=30)


def _write_parquet(pool: Path, out: Path, n_rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    X = np.load(pool, mmap_mode="r")
    names = [f"f{j}" for j in range(N_FEATURES)]
    with pq.ParquetWriter(out, pa.schema([(n, pa.float32()) for n in names])) as writer:
        for start in range(0, n_rows, 65_536):  # row groups, not rows
            block = np.asarray(X[start : min(start + 65_536, n_rows)])
            writer.write_table(pa.table({n: block[:, j] for j, n in enumerate(names)}))


def _measure(pool: Path, tmp: Path, args: argparse.Namespace) -> list[dict]:
    rows = []

    def run(mode: str, cold: bool, label: str | None = None, where: Path = pool) -> None:
        if cold:
            evict(where)
        r = _run_child(mode, where, tmp, args)
        r["label"] = (label or mode) + (" (cold)" if cold else " (warm)")
        rows.append(r)
        extra = f" (first query {r['first_query']:.2f} s)" if r["first_query"] else ""
        print(f"  {r['label']}: {r['seconds']:.2f} s, {r['rss_mb']:.0f} MB{extra}", flush=True)

    for _ in range(args.repeats):  # alternate, so that both see the same machine
        run("read", True)
        run("ooc", True)
        run("ooc-noprefetch", True)
    if args.cold_only:  # a pool larger than memory: no in-memory reference
        if args.dask:
            run("dask-1", True)
            run("dask-2", True)
            evict(pool)
            rows.append(_external(pool, tmp, args) | {"label": "dask-external (cold)"})
            print(f"  dask-external (cold): {rows[-1]['seconds']:.2f} s", flush=True)
        return rows
    for _ in range(args.repeats):
        run("ooc", False)
        run("ooc-noprefetch", False)
    run("ooc-list", False)
    run("dask-floor", False)
    run("dask-1", False)
    run("dask-2", False)
    rows.append(_external(pool, tmp, args) | {"label": "dask-external (warm)"})
    print(f"  dask-external: {rows[-1]['seconds']:.2f} s", flush=True)
    run("in-memory", False)
    run("prefilter", False)
    _write_parquet(pool, tmp / "pool.parquet", args.small)
    run("npy-1e6", False)
    run("parquet", False, where=tmp / "pool.parquet")
    run("kcenter", False)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--n-labeled", type=int, default=2000)
    parser.add_argument("--chunk-rows", type=int, default=65_536)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--dir", default=None, help="Where to write the pool (default: /tmp).")
    parser.add_argument("--keep", action="store_true", help="Keep the pool file.")
    parser.add_argument("--dask", action="store_true",
                        help="With --cold-only: also Dask with 1 and 2 workers and an "
                             "external scheduler, cold.")
    parser.add_argument("--cold-only", action="store_true",
                        help="Only the cold read and out-of-core runs (for pools larger than "
                             "memory, e.g. --rows 100000000); ids compared between them.")
    parser.add_argument("--json", default=None, help="Write the raw numbers here.")
    parser.add_argument("--child")
    parser.add_argument("--mode")
    parser.add_argument("--pool")
    parser.add_argument("--labeled")
    parser.add_argument("--ids-out")
    parser.add_argument("--scheduler")
    parser.add_argument("--small", type=int, default=SMALL_ROWS)
    args = parser.parse_args()
    if args.child:
        args.mode = args.child
        child(args)
        return
    args.small = min(SMALL_ROWS, args.rows)
    need = args.rows * N_FEATURES * 4 * 1.2 + SMALL_ROWS * N_FEATURES * 4
    free = shutil.disk_usage(args.dir or tempfile.gettempdir()).free
    if free < need + 10 * 2**30:
        raise SystemExit(f"needs {need / 2**30:.1f} GB on disk plus 10 GB spare; "
                         f"{free / 2**30:.1f} GB free")
    tmp = Path(tempfile.mkdtemp(prefix="activelab-bench-scale-", dir=args.dir))
    try:
        _main(args, tmp)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def _report_cold(rows: list[dict], args: argparse.Namespace) -> None:
    """The cold runs of a pool larger than memory: each query against the read before it."""
    queries = [r for r in rows if r["mode"] != "read"]
    same = all(np.array_equal(r["ids"], queries[0]["ids"]) for r in queries)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}; same ids in every query "
          f"({len(queries)} runs): {same}\n")
    print("| run | seconds | peak RSS (MB) | ns per row | / the read before it |")
    print("|---|---|---|---|---|")
    read = None
    for r in rows:
        read = r["seconds"] if r["mode"] == "read" else read
        ratio = "" if r["mode"] == "read" else f"{r['seconds'] / read:.2f}x"
        print(f"| {r['label']} | {r['seconds']:.2f} | {r['rss_mb']:.0f} | "
              f"{r['seconds'] / args.rows * 1e9:.0f} | {ratio} |")


def _main(args: argparse.Namespace, tmp: Path) -> None:
    pool = tmp / "pool.npy"
    t0 = time.perf_counter()
    make_pool(pool, args.rows)
    size_gb = os.path.getsize(pool) / 1e9
    print(f"pool {args.rows:,} x {N_FEATURES} float32 = {size_gb:.2f} GB, written in "
          f"{time.perf_counter() - t0:.0f} s; k={args.k}; {args.n_labeled} labeled; "
          f"chunk_rows={args.chunk_rows}; load {os.getloadavg()[0]:.1f}", flush=True)
    rng = np.random.default_rng(7)
    np.save(tmp / "labeled.npy", rng.choice(args.rows, size=args.n_labeled, replace=False))
    rows = _measure(pool, tmp, args)
    if args.cold_only:
        _report_cold(rows, args)
        return
    reference = next(r["ids"] for r in rows if r["mode"] == "in-memory")
    full = [r for r in rows if r["mode"] in ("ooc", "ooc-noprefetch", "ooc-list", "dask-1",
                                             "dask-2", "dask-external")]
    same = all(np.array_equal(r["ids"], reference) for r in full)
    small = {r["mode"]: r["ids"] for r in rows if r["mode"] in ("parquet", "npy-1e6")}
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}; same ids as in memory "
          f"({len(full)} runs): {same}; Parquet and .npy on the first {args.small:,} rows: "
          f"{np.array_equal(small['parquet'], small['npy-1e6'])}\n")
    print("| run | seconds | peak RSS (MB) | ns per row | first Dask query (s) |")
    print("|---|---|---|---|---|")
    for r in rows:
        n = args.small if r["mode"] in ("parquet", "npy-1e6", "kcenter") else args.rows
        print(f"| {r['label']} | {r['seconds']:.2f} | {r['rss_mb']:.0f} | "
              f"{r['seconds'] / n * 1e9:.0f} | {r['first_query'] or ''} |")
    if args.json:
        Path(args.json).write_text(json.dumps(
            [{k: v for k, v in r.items() if k != "ids"} for r in rows], indent=1))


if __name__ == "__main__":
    main()
