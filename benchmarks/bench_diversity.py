"""Time the batch-aware strategies on large synthetic pools.

- core-set: 100 of a 100,000 × 64 pool with 1,000 labeled rows;
- hybrid (k-means and k-center) and ranked batch: 100 of a 100,000 × 50 pool with
  1,000 labeled rows and 10-class probabilities;
- top-k margin on the same pool as the reference (ratios are printed against it).

BLAS is pinned to one thread.  Wall time depends on what else the machine runs; the CPU
time of this process does not, so both are printed.  Run:

    .venv/bin/python benchmarks/bench_diversity.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
from threadpoolctl import threadpool_limits

from activelab.strategies import QueryContext, get_strategy


def timed(fn, repeats):
    """Median wall time, median CPU time of this process, and the last result."""
    walls, cpus = [], []
    out = None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return float(np.median(walls)), float(np.median(cpus)), out


def proba_for(n, n_classes, rng):
    logits = rng.randn(n, n_classes) * 2.0
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.RandomState(0)
    rows = []
    with threadpool_limits(limits=1, user_api="blas"):
        # core-set: 100,000 x 64, 1,000 labeled
        X64 = rng.randn(args.n, 64).astype(np.float32)
        L64 = rng.randn(1000, 64).astype(np.float32)
        ctx = QueryContext(np.arange(args.n), X64, X_labeled=L64)
        med, best, res = timed(lambda: get_strategy("coreset").select(ctx, 100), args.repeats)
        rows.append(("coreset", f"{args.n:,} x 64, 1,000 labeled", med, best, res.info["radius"]))

        # hybrid / ranked batch: 100,000 x 50, 1,000 labeled, 10 classes
        X50 = rng.randn(args.n, 50).astype(np.float32)
        L50 = rng.randn(1000, 50).astype(np.float32)
        proba = proba_for(args.n, 10, rng)

        def context():
            return QueryContext(np.arange(args.n), X50, proba=proba, X_labeled=L50)

        med_ref, cpu_ref, _ = timed(
            lambda: get_strategy("margin", random_state=0).select(context(), 100), args.repeats
        )
        rows.append(("margin (top-k reference)", f"{args.n:,} x 50", med_ref, cpu_ref, None))
        for label, name, params in [
            ("hybrid k-means (factor 10)", "hybrid", {"method": "kmeans"}),
            ("hybrid k-center (factor 10)", "hybrid", {"method": "coreset"}),
            ("ranked_batch", "ranked_batch", {}),
        ]:
            med, best, _ = timed(
                lambda name=name, params=params: get_strategy(
                    name, random_state=0, **params
                ).select(context(), 100),
                args.repeats,
            )
            rows.append((label, f"{args.n:,} x 50, 1,000 labeled", med, best, None))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {platform.python_version()}, numpy {np.__version__}, BLAS threads 1, "
          f"{args.repeats} repeats, {os.cpu_count()} CPUs, load average {load:.1f}")
    print()
    print("| strategy (batch 100) | pool | wall s (median) | CPU s (median) | CPU x margin top-k |")
    print("|---|---|---|---|---|")
    for label, pool, med, cpu, _ in rows:
        ratio = cpu / max(cpu_ref, 1e-9) if "margin" not in label else 1.0
        print(f"| {label} | {pool} | {med:.3f} | {cpu:.3f} | {ratio:.0f} |")


if __name__ == "__main__":
    main()
