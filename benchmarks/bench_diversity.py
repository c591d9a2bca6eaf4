"""Batch-aware strategies on 100,000 candidates: core-set against numpy and scikit-activeml.

- core-set (greedy k-center), 100 of a 100,000 x 64 float32 pool with 1,000 labeled rows:
  ``activelab`` (float32 blocked distances, running minimum updated in place, all cores)
  against a blocked numpy reference in float64 (distances by the ``|a|² + |b|² - 2ab``
  expansion in 4,096-row blocks, one matrix-vector product per pick), the same reference
  in float32, and scikit-activeml's ``CoreSet`` when it is installed;
- k-means, hybrid (k-means and k-center on the top 1,000 by margin), ranked batch and
  BADGE, 100 of a 100,000 x 50 pool with 1,000 labeled rows and a 10-class
  LogisticRegression: activelab's time, and the time of one margin query on the same
  pool for scale.

Paths are timed in rotating order, round after round; (Nx) is that path's time divided
by activelab's in the same round (above 1: activelab is faster), median over rounds.
BLAS pinned to one thread, then the default.  Peak extra memory by tracemalloc on one
separate call.  The core-set references must pick the same ids as activelab (they do,
on this pool: no near-ties), which the script checks.

Run (scikit-activeml lives in its own environment, see docs/benchmarks.md)::

    .venv/bin/python benchmarks/bench_diversity.py [--repeats 5]
    /work/benchvenv/bin/python benchmarks/bench_diversity.py
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
from collections.abc import Callable

import numpy as np
from sklearn.linear_model import LogisticRegression

from activelab.parallel import scoring_threads
from activelab.strategies import QueryContext, get_strategy
from bench_entropy_query import blas_threads, peak_mib, time_paths


def coreset_reference(X: np.ndarray, XL: np.ndarray, k: int, dtype=np.float64) -> np.ndarray:
    """Greedy k-center written plainly with blocked numpy distances."""
    X = X.astype(dtype)
    XL = XL.astype(dtype)
    mean = X.mean(axis=0)
    X = X - mean
    XL = XL - mean
    xn = np.einsum("ij,ij->i", X, X)
    ln = np.einsum("ij,ij->i", XL, XL)
    mind = np.empty(X.shape[0], dtype=dtype)
    for s in range(0, X.shape[0], 4096):
        d = xn[s : s + 4096, None] + ln[None, :] - 2 * (X[s : s + 4096] @ XL.T)
        mind[s : s + 4096] = d.min(axis=1)
    chosen = np.empty(k, dtype=np.int64)
    for i in range(k):
        p = int(np.argmax(mind))
        chosen[i] = p
        np.minimum(mind, xn + xn[p] - 2 * (X @ X[p]), out=mind)
        mind[p] = -np.inf
    return chosen


def skactiveml_coreset(X: np.ndarray, XL: np.ndarray, k: int) -> Callable[[], object] | None:
    try:
        from skactiveml.pool import CoreSet
    except Exception:
        return None
    X_all = np.concatenate([XL, X])
    y_all = np.concatenate([np.zeros(XL.shape[0]), np.full(X.shape[0], np.nan)])
    qs = CoreSet(random_state=0)
    return lambda: np.asarray(qs.query(X_all, y_all, batch_size=k)) - XL.shape[0]


def table(title: str, paths: dict[str, Callable[[], object]], repeats: int) -> None:
    memory = {name: peak_mib(fn) for name, fn in paths.items()}
    print(f"### {title}\n\n| BLAS threads | " + " | ".join(paths) + " |")
    print("|" + "---|" * (1 + len(paths)))
    for threads in (1, None):
        with blas_threads(threads):
            times = time_paths(paths, repeats)
        base = times[next(iter(paths))]
        cells = []
        for i, name in enumerate(paths):
            cell = f"{statistics.median(times[name]) * 1e3:.0f} ms"
            if i:
                ratio = statistics.median(t / a for t, a in zip(times[name], base, strict=True))
                cell += f" ({ratio:.2f}x)"
            cells.append(cell)
        print(f"| {'1 (pinned)' if threads == 1 else 'default'} | " + " | ".join(cells) + " |")
    print("| peak extra MiB | " + " | ".join(f"{memory[n]:.0f}" for n in paths) + " |\n",
          flush=True)


def coreset_case(n: int, k: int, repeats: int) -> None:
    rng = np.random.RandomState(0)
    X = rng.randn(n, 64).astype(np.float32)
    XL = rng.randn(1000, 64).astype(np.float32)
    ctx = QueryContext(np.arange(n), X, X_labeled=XL)

    def lib() -> object:
        return get_strategy("coreset").select(ctx, k).ids

    def lib1() -> object:
        with scoring_threads(1):
            return lib()

    paths: dict[str, Callable[[], object]] = {
        "activelab": lib, "activelab 1 thread": lib1,
        "numpy float64": lambda: coreset_reference(X, XL, k),
        "numpy float32": lambda: coreset_reference(X, XL, k, np.float32),
    }
    sk = skactiveml_coreset(X, XL, k)
    if sk is not None:
        paths["scikit-activeml"] = sk
    table(f"core-set, {k} of {n:,} x 64 float32, 1,000 labeled", paths, repeats)
    ids = np.asarray(lib())
    same = {name: bool(np.array_equal(ids, np.asarray(paths[name]())))
            for name in paths if name not in ("activelab", "activelab 1 thread")}
    print(f"same ids as activelab: {same}\n")


def batch_cases(n: int, k: int, repeats: int) -> None:
    rng = np.random.RandomState(1)
    X = rng.randn(n, 50).astype(np.float32)
    XL = rng.randn(1000, 50).astype(np.float32)
    W = rng.randn(50, 10)
    yL = np.argmax(XL @ W + rng.gumbel(size=(1000, 10)), axis=1)
    est = LogisticRegression(max_iter=500).fit(XL, yL)

    def run(name: str, **params: object) -> Callable[[], object]:
        def go() -> object:
            ctx = QueryContext(np.arange(n), X, estimator=est, X_labeled=XL, y_labeled=yL)
            return get_strategy(name, random_state=0, **params).select(ctx, k).ids
        return go

    paths = {
        "margin (for scale)": run("margin"),
        "kmeans": run("kmeans"),
        "hybrid k-means": run("hybrid", method="kmeans"),
        "hybrid k-center": run("hybrid", method="coreset"),
        "ranked_batch": run("ranked_batch"),
        "badge": run("badge"),
    }
    table(f"batch strategies, {k} of {n:,} x 50 float32, 1,000 labeled, 10 classes", paths,
          repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--skip-batch", action="store_true", help="core-set only")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}, median of {args.repeats} rotating rounds\n")
    coreset_case(args.n, args.k, args.repeats)
    if not args.skip_batch:
        batch_cases(args.n, args.k, args.repeats)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
