"""Entropy scoring of a 10,000,000 x 64 float32 pool against the memory-read floor.

The floor is the rate at which this machine reads the pool once: the fastest of a few
plain passes over it (``X.max()``, ``X.sum()``, on one thread and split over the cores),
divided by the bytes per row.  The script then times, on the same pool and in the same
run:

- ``utilities_once(model, X, None, "entropy")``: the entropy of every row (the app's
  rescoring needs all of them), fused from a 10-class LogisticRegression's logits;
- ``query_once(model, X, None, "entropy", 100)``: the same plus the top 100 (through the
  optional compiled kernels when they are installed, ``pip install ./kernels``, and then
  also with them switched off: the numpy path);
- the fused numpy reference (65,536-row chunks, see bench_entropy_query.py);
- the labeling app's rescoring of a 1,000,000-item project with the app's default model
  (``make_model("logreg")``: scaler + logistic regression) through
  ``activelab.server.scorer.train_and_score(..., model=fitted)``, margin, queue of 100.

Rows per second are reported as a share of the floor (target: at least 25 %), with the
BLAS threads pinned to one and at the default.  Memory: the pool takes 2.5 GB; peak extra
memory of each path (tracemalloc) is printed.

Run::

    .venv/bin/python benchmarks/bench_scoring_floor.py              # 10M rows, ~3 GB of RAM
    .venv/bin/python benchmarks/bench_scoring_floor.py --rows 2000000
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable

import numpy as np
from sklearn.linear_model import LogisticRegression

from activelab.compiled import kernels_available, kernels_off
from activelab.strategies.query import query_once, utilities_once
from bench_entropy_query import blas_threads, fused_reference, make_data, peak_mib


def make_pool(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 1_000_000):
        stop = min(start + 1_000_000, n)
        X[start:stop] = rng.standard_normal((stop - start, d), dtype=np.float32)
    return X


def timings(fn: Callable[[], object], repeats: int) -> list[float]:
    """Seconds of ``repeats`` calls of ``fn``, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def best_of(fn: Callable[[], object], repeats: int) -> float:
    return min(timings(fn, repeats))


def median_of(fn: Callable[[], object], repeats: int) -> float:
    return statistics.median(timings(fn, repeats))


def read_floor(X: np.ndarray, repeats: int) -> dict[str, float]:
    """Bytes per second of plain passes over ``X``."""
    def split(op: Callable[[np.ndarray], object]) -> Callable[[], object]:
        def run() -> None:
            n_cpu = max(1, min(len(os.sched_getaffinity(0)), 8))
            parts = np.array_split(np.arange(X.shape[0]), n_cpu)
            threads = [threading.Thread(target=op, args=(X[p[0] : p[-1] + 1],)) for p in parts]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        return run

    passes = {
        "max, 1 thread": lambda: X.max(),
        "sum, 1 thread": lambda: X.sum(),
        "max, all cores": split(np.max),
    }
    return {name: X.nbytes / best_of(fn, repeats) for name, fn in passes.items()}


def app_rescore(n: int, repeats: int) -> tuple[float, float]:
    from activelab.engine.models import make_model
    from activelab.server.scorer import train_and_score

    X, X_train, y_train = make_data(n, 64, 10, 3000)
    X = X.astype(np.float32)
    model = make_model("logreg", random_state=0).fit(X_train.astype(np.float32), y_train)
    ids = np.arange(n, dtype=np.int64)

    def run() -> object:
        return train_and_score(X, ids[:0], np.zeros(0), ids, estimator=model, strategy="margin",
                               queue_size=100, stop_ids=ids[:0], model=model)

    return median_of(run, repeats), peak_mib(run)


def pool_table(X: np.ndarray, est: LogisticRegression, floor_rows: float, repeats: int) -> None:
    def query() -> object:
        return query_once(est, X, None, "entropy", 100, random_state=0).ids

    def query_numpy() -> object:
        with kernels_off():
            return query()

    paths = {
        "utilities_once (entropy of every row)": lambda: utilities_once(est, X, None, "entropy"),
        "query_once (entropy, top 100)": query,
        **({"query_once, numpy path (kernels off)": query_numpy} if kernels_available() else {}),
        "fused numpy reference": lambda: fused_reference(est, X, 100, "entropy"),
    }
    if kernels_available():
        print(f"same ids with and without the compiled kernels: "
              f"{np.array_equal(query(), query_numpy())}\n")
    memory = {name: peak_mib(fn) for name, fn in paths.items()}
    print("| path | BLAS threads | seconds (median) | M rows/s | share of floor | peak extra MiB |")
    print("|---|---|---|---|---|---|")
    for threads in (1, None):
        with blas_threads(threads):
            for name, fn in paths.items():
                t = median_of(fn, repeats)
                print(f"| {name} | {'1 (pinned)' if threads == 1 else 'default'} | {t:.3f} | "
                      f"{X.shape[0] / t / 1e6:.1f} | {X.shape[0] / t / floor_rows:.0%} | "
                      f"{memory[name]:.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--app-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    X = make_pool(args.rows, args.features)
    _, X_train, y_train = make_data(10, args.features, 10, 3000)
    est = LogisticRegression(max_iter=500).fit(X_train.astype(np.float32), y_train)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; pool {args.rows:,} x {args.features} float32 "
          f"({X.nbytes / 1e9:.2f} GB, {X.itemsize * args.features} bytes per row); compiled "
          f"kernels: {'on' if kernels_available() else 'off (not installed)'}\n")
    floors = read_floor(X, args.repeats)
    for name, rate in floors.items():
        print(f"read rate ({name}): {rate / 1e9:.1f} GB/s")
    floor_rows = max(floors.values()) / (X.itemsize * args.features)
    print(f"floor: {floor_rows / 1e6:.0f} M rows/s (the fastest pass)\n")
    pool_table(X, est, floor_rows, args.repeats)
    del X
    try:
        t_app, mem_app = app_rescore(args.app_rows, args.repeats)
    except ImportError as exc:  # the app's extras are not installed in this environment
        print(f"\napp rescoring skipped: {exc}")
        return
    print(f"\napp rescoring (train_and_score with the fitted model, margin, queue 100) of "
          f"{args.app_rows:,} items x 64 float32, default threads: {t_app:.3f} s, "
          f"peak extra {mem_app:.0f} MiB")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
