"""Peak memory of scoring a pool bigger than a memory budget, from disk, chunk by chunk.

Writes a pool of ``--rows`` x 50 float64 rows to a ``.npy`` file (chunk by chunk, so
writing it needs little memory either), then runs child processes under
``/usr/bin/time -v``:

* ``out-of-core``: :func:`activelab.scale.score_out_of_core` on the memory-mapped file;
* ``dask``: :func:`activelab.scale.score_dask` on the file's path, on a local
  ``dask.distributed`` cluster in the same process (one worker, two threads; the
  time excludes starting the cluster);
* ``dask-baseline``: the same cluster scoring only ``k`` rows (the floor for ``dask``);
* ``in-memory``: ``np.load`` of the whole file and ``ActiveLearner.query_result``;

and a ``baseline`` child that only imports the libraries and fits the model.  It
reports each one's peak resident set size (RSS), the RSS above the baseline (what the
scoring itself costs, compared with the budget), wall time, and whether all paths
chose the same ids.  The BLAS threads are pinned to 1 in the children.

Run::

    .venv/bin/python benchmarks/bench_out_of_core.py                 # 2,000,000 rows (800 MB)
    .venv/bin/python benchmarks/bench_out_of_core.py --rows 200000 --budget-mb 64
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_FEATURES = 50
N_CLASSES = 10


def _weights() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.standard_normal((N_FEATURES, N_CLASSES)) / np.sqrt(N_FEATURES) * 3.0


def make_pool(path: Path, n_rows: int, block: int = 100_000) -> None:
    """Write an ``n_rows`` x 50 float64 pool to ``path`` without holding it in memory."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64,
                                    shape=(n_rows, N_FEATURES))
    rng = np.random.default_rng(1)
    for start in range(0, n_rows, block):
        stop = min(start + block, n_rows)
        out[start:stop] = rng.standard_normal((stop - start, N_FEATURES))
    out.flush()
    del out


def _learner(strategy: str):
    from sklearn.linear_model import LogisticRegression

    from activelab.learners import ActiveLearner

    rng = np.random.default_rng(2)
    X_train = rng.standard_normal((3000, N_FEATURES))
    y_train = np.argmax(X_train @ _weights() + rng.gumbel(size=(3000, N_CLASSES)), axis=1)
    return ActiveLearner(LogisticRegression(max_iter=500), query_strategy=strategy,
                         X_training=X_train, y_training=y_train, random_state=0)


def child(mode: str, path: str, k: int, chunk_rows: int, ids_out: str) -> None:
    """Score the pool once in this process (``mode`` is out-of-core or in-memory)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")
    learner = _learner("entropy")
    t0 = time.perf_counter()
    from activelab.scale import score_out_of_core

    if mode == "baseline":  # imports and the fitted model only: the floor under both
        result = learner.query_result(np.load(path, mmap_mode="r")[:k], k)
    elif mode == "out-of-core":
        result = score_out_of_core(learner, path, k, chunk_rows=chunk_rows)
    elif mode in ("dask", "dask-baseline"):
        from distributed import Client, LocalCluster

        from activelab.scale import score_dask

        with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            t0 = time.perf_counter()
            rows = k if mode == "dask-baseline" else None  # baseline: a cluster, k rows
            candidates = None if rows is None else np.arange(rows)
            result = score_dask(learner, path, k, chunk_rows=chunk_rows, client=client,
                                candidate_ids=candidates)
    else:
        X = np.load(path)
        result = learner.query_result(X, k)
    seconds = time.perf_counter() - t0
    np.save(ids_out, result.ids)
    print(f"seconds={seconds:.3f}")


def _run_child(mode: str, path: Path, k: int, chunk_rows: int, ids_out: Path) -> dict:
    cmd = ["/usr/bin/time", "-v", sys.executable, __file__, "--child", mode, "--pool", str(path),
           "--k", str(k), "--chunk-rows", str(chunk_rows), "--ids-out", str(ids_out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    seconds = float(re.search(r"seconds=([\d.]+)", proc.stdout).group(1))
    return {"rss_mb": rss_kb / 1024, "seconds": seconds, "ids": np.load(ids_out)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--chunk-rows", type=int, default=65_536)
    parser.add_argument("--budget-mb", type=float, default=256.0)
    parser.add_argument("--child", choices=["baseline", "out-of-core", "dask-baseline", "dask", "in-memory"])
    parser.add_argument("--pool")
    parser.add_argument("--ids-out")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.pool, args.k, args.chunk_rows, args.ids_out)
        return

    with tempfile.TemporaryDirectory(prefix="activelab-bench-") as tmp:
        path = Path(tmp) / "pool.npy"
        make_pool(path, args.rows)
        size_mb = os.path.getsize(path) / 2**20
        print(f"pool {args.rows} x {N_FEATURES} float64 = {size_mb:.0f} MB on disk; "
              f"budget {args.budget_mb:.0f} MB; chunk_rows={args.chunk_rows}; k={args.k}; "
              "BLAS threads 1\n")
        print("| path | peak RSS (MB) | RSS above baseline (MB) | scoring time (s) | "
              "within budget |")
        print("|---|---|---|---|---|")
        results = {}
        for mode in ("baseline", "out-of-core", "dask-baseline", "dask", "in-memory"):
            results[mode] = _run_child(mode, path, args.k, args.chunk_rows,
                                       Path(tmp) / f"{mode}.npy")
            r = results[mode]
            base = results["dask-baseline" if mode == "dask" else "baseline"]["rss_mb"]
            extra = r["rss_mb"] - base
            ok = "" if "baseline" in mode else ("yes" if extra <= args.budget_mb else "no")
            print(f"| {mode} | {r['rss_mb']:.0f} | {extra:.0f} | {r['seconds']:.2f} | {ok} |")
        same = all(np.array_equal(results[m]["ids"], results["in-memory"]["ids"])
                   for m in ("out-of-core", "dask"))
        print(f"\nsame ids from all paths: {same}")


if __name__ == "__main__":
    main()
