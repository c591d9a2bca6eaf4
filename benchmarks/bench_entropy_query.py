"""Time one entropy query through activelab against a bare numpy reference.

(``--strategy margin`` or ``least_confident`` time those queries the same way.)

The pool is 1,000,000 x 50 (float64 and float32), the model a 10-class
LogisticRegression fitted on a few thousand labeled rows.  Each round times the
library path ``ActiveLearner(..., query_strategy="entropy").query(X_pool, 100)``
and the reference ``predict_proba + entropy + argpartition`` back to back,
alternating which goes first; after a warm-up the median of the rounds is reported,
with the BLAS threads pinned to 1 and with the default thread count.

Run::

    .venv/bin/python benchmarks/bench_entropy_query.py            # full size
    .venv/bin/python benchmarks/bench_entropy_query.py --rows 100000 --repeats 3
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import statistics
import time
from collections.abc import Callable, Iterator

import numpy as np
from scipy.special import entr
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info, threadpool_limits

from activelab.learners import ActiveLearner


def make_data(
    n_rows: int, n_features: int, n_classes: int, n_train: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A float64 pool plus a labeled training set drawn from the same linear model."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n_features, n_classes)) / np.sqrt(n_features) * 3.0
    X_train = rng.standard_normal((n_train, n_features))
    y_train = np.argmax(X_train @ W + rng.gumbel(size=(n_train, n_classes)), axis=1)
    X_pool = rng.standard_normal((n_rows, n_features))
    return X_pool, X_train, y_train


def _margin(proba: np.ndarray) -> np.ndarray:
    top2 = np.partition(proba, proba.shape[1] - 2, axis=1)[:, -2:]
    return top2[:, 0] - top2[:, 1]


REFERENCE_UTILITY = {
    "entropy": lambda proba: entr(proba).sum(axis=1),
    "margin": _margin,
    "least_confident": lambda proba: 1.0 - proba.max(axis=1),
}


def reference_query(
    estimator: LogisticRegression, X: np.ndarray, k: int, strategy: str = "entropy"
) -> np.ndarray:
    """predict_proba + utility + argpartition, the bare numpy way."""
    proba = estimator.predict_proba(X)
    utility = REFERENCE_UTILITY[strategy](proba)
    top = np.argpartition(-utility, k - 1)[:k]
    return top[np.argsort(-utility[top], kind="stable")]


@contextlib.contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    if n is None:
        yield
    else:
        with threadpool_limits(limits=n, user_api="blas"):
            yield


def time_pair(
    lib: Callable[[], np.ndarray], ref: Callable[[], np.ndarray], repeats: int
) -> tuple[float, float, list[float]]:
    """Median seconds of ``lib`` and ``ref`` (alternating order) and the per-round ratios."""
    lib()
    ref()  # warm-up
    t_lib: list[float] = []
    t_ref: list[float] = []
    for r in range(repeats):
        order = [(lib, t_lib), (ref, t_ref)]
        if r % 2:
            order.reverse()
        for func, sink in order:
            t0 = time.perf_counter()
            func()
            sink.append(time.perf_counter() - t0)
    ratios = [a / b for a, b in zip(t_lib, t_ref, strict=True)]
    return statistics.median(t_lib), statistics.median(t_ref), ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--strategy", choices=sorted(REFERENCE_UTILITY), default="entropy")
    args = parser.parse_args()

    X64, X_train, y_train = make_data(args.rows, args.features, args.classes, args.train)
    blas = [(i.get("internal_api"), i.get("num_threads")) for i in threadpool_info()]
    print(f"python {platform.python_version()}, numpy {np.__version__}, BLAS {blas}")
    print(f"{args.strategy} query; pool {args.rows} x {args.features}, {args.classes} classes, "
          f"k={args.k}, "
          f"median of {args.repeats} alternating rounds after one warm-up\n")
    print("| dtype | BLAS threads | library (ms) | reference (ms) | ratio (median) |")
    print("|---|---|---|---|---|")
    for dtype in (np.float64, np.float32):
        X_pool = np.ascontiguousarray(X64, dtype=dtype)
        learner = ActiveLearner(
            LogisticRegression(max_iter=500), query_strategy=args.strategy,
            X_training=X_train.astype(dtype), y_training=y_train, random_state=0,
        )
        est = learner.estimator_

        def lib(learner: ActiveLearner = learner, X_pool: np.ndarray = X_pool) -> np.ndarray:
            return learner.query(X_pool, n_instances=args.k)[0]

        def ref(est: LogisticRegression = est, X_pool: np.ndarray = X_pool) -> np.ndarray:
            return reference_query(est, X_pool, args.k, args.strategy)

        same = np.array_equal(np.sort(lib()), np.sort(ref()))
        for threads in (1, None):
            with blas_threads(threads):
                t_lib, t_ref, ratios = time_pair(lib, ref, args.repeats)
            label = "1 (pinned)" if threads == 1 else "default"
            print(f"| {np.dtype(dtype).name} | {label} | {t_lib * 1e3:.1f} | {t_ref * 1e3:.1f} | "
                  f"{statistics.median(ratios):.2f} |")
        if not same:
            print(f"  WARNING: library and reference chose different ids for {dtype}")
        del X_pool


if __name__ == "__main__":
    main()
