"""Uncertainty queries at the memory floor: activelab against numpy references and modAL.

For a 1,000,000 x 50 pool (float64, and the same values as float32) and a 10-class
LogisticRegression fitted on 3,000 labeled rows, one query of 100 by entropy, margin and
least confident is timed along these paths, in alternating order, round after round:

- ``activelab``: ``query_once(model, X, None, strategy, 100)``, the one query helper the
  learners, the labeling app and the Label Studio backend go through (fused scoring on
  all cores: logits, softmax and the measure per 4,096-row block, nothing n x C held);
- ``activelab 1 thread``: the same with ``scoring_threads(1)``;
- ``activelab numpy path``: the same with the optional compiled kernels switched off
  (only when they are installed: ``pip install ./kernels``; ``activelab`` then uses them);
- ``learner``: ``ActiveLearner.query``, which adds the pool's validation pass;
- ``fused numpy``: the reference of the issue, a plain numpy loop over 65,536-row chunks:
  ``X @ coef.T + b``, softmax with ``max``/``exp``/``sum`` over ``axis=1``, the measure
  (the same formulas as the library), ``argpartition``;
- ``plain``: ``predict_proba`` + the measure + ``argpartition``;
- ``modAL``: ``modAL.uncertainty.<measure>_sampling(model, X, n_instances=100)`` when
  modAL is installed (install it in a separate environment, see docs/benchmarks.md).

Ratios are measured in the same round (reference time / activelab time: above 1 means
activelab is faster) and the median over rounds is printed, once with the BLAS threads
pinned to one and once with the default.  Peak extra memory is measured with tracemalloc
on one separate call of each path (numpy's allocations; the first activelab call, so it
includes the per-thread buffers it keeps).  The script also checks that activelab chose
exactly the ids of the straightforward computation (``predict_proba_chunked`` + the
measure on the whole matrix + the seeded ``top_k``), and the same set as the references.

Run::

    .venv/bin/python benchmarks/bench_entropy_query.py                 # all three measures
    .venv/bin/python benchmarks/bench_entropy_query.py --strategies entropy --repeats 3
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info, threadpool_limits

from activelab.compiled import kernels_available, kernels_off
from activelab.learners import ActiveLearner
from activelab.parallel import scoring_threads
from activelab.proba import predict_proba_chunked
from activelab.strategies import get_strategy, top_k
from activelab.strategies.query import query_once

TINY = float(np.finfo(np.float64).tiny)


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


def _entropy(p: np.ndarray) -> np.ndarray:
    return -(p * np.log(np.maximum(p, TINY))).sum(axis=1)


def _margin(p: np.ndarray) -> np.ndarray:
    top2 = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return top2[:, 0] - top2[:, 1]


def _least_confident(p: np.ndarray) -> np.ndarray:
    return 1.0 - p.max(axis=1)


MEASURES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "entropy": _entropy, "margin": _margin, "least_confident": _least_confident,
}
MODAL_NAMES = {
    "entropy": "entropy_sampling", "margin": "margin_sampling",
    "least_confident": "uncertainty_sampling",
}


def _top(u: np.ndarray, k: int) -> np.ndarray:
    top = np.argpartition(-u, k - 1)[:k]
    return top[np.argsort(-u[top], kind="stable")]


def fused_reference(est: LogisticRegression, X: np.ndarray, k: int, measure: str,
                    chunk: int = 65_536) -> np.ndarray:
    """Logits chunk by chunk, softmax and the measure per chunk, argpartition."""
    W = est.coef_.T.astype(X.dtype)
    b = est.intercept_.astype(X.dtype)
    u = np.empty(X.shape[0])
    for start in range(0, X.shape[0], chunk):
        z = X[start : start + chunk] @ W
        z += b
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        u[start : start + chunk] = MEASURES[measure](z.astype(np.float64, copy=False))
    return _top(u, k)


def plain_reference(est: LogisticRegression, X: np.ndarray, k: int, measure: str) -> np.ndarray:
    """predict_proba + the measure + argpartition."""
    return _top(MEASURES[measure](est.predict_proba(X)), k)


def straightforward_ids(est: LogisticRegression, X: np.ndarray, k: int, measure: str
                        ) -> np.ndarray:
    """The library's own unfused computation: the whole matrix, the measure, top_k."""
    from activelab.strategies import uncertainty

    proba = predict_proba_chunked(est, X)
    u = getattr(uncertainty, f"{measure}_utility")(proba)
    return top_k(u, k, 0)


def modal_query(measure: str) -> Callable[..., np.ndarray] | None:
    try:
        from modAL import uncertainty as modal_uncertainty
    except Exception:
        return None
    fn = getattr(modal_uncertainty, MODAL_NAMES[measure])

    def run(est: LogisticRegression, X: np.ndarray, k: int) -> np.ndarray:
        out = fn(est, X, n_instances=k)
        return np.asarray(out[0] if isinstance(out, tuple) else out)

    return run


@contextlib.contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    if n is None:
        yield
    else:
        with threadpool_limits(limits=n, user_api="blas"):
            yield


def time_paths(paths: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Seconds per round of every path, after one warm-up, in rotating order."""
    for fn in paths.values():
        fn()
    names = list(paths)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            t0 = time.perf_counter()
            paths[name]()
            times[name].append(time.perf_counter() - t0)
    return times


def peak_mib(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _paths(est: LogisticRegression, learner: ActiveLearner, X: np.ndarray, k: int,
           measure: str) -> dict[str, Callable[[], object]]:
    def lib() -> object:
        return query_once(est, X, None, measure, k, random_state=0).ids

    def lib1() -> object:
        with scoring_threads(1):
            return lib()

    def lib_numpy() -> object:
        with kernels_off():
            return lib()

    paths: dict[str, Callable[[], object]] = {
        "activelab": lib, "activelab 1 thread": lib1,
        **({"activelab numpy path": lib_numpy} if kernels_available() else {}),
        "learner": lambda: learner.query(X, n_instances=k)[0],
        "fused numpy": lambda: fused_reference(est, X, k, measure),
        "plain": lambda: plain_reference(est, X, k, measure),
    }
    modal = modal_query(measure)
    if modal is not None:
        paths["modAL"] = lambda: modal(est, X, k)
    return paths


def run_case(X: np.ndarray, X_train: np.ndarray, y_train: np.ndarray, measure: str,
             k: int, repeats: int) -> list[str]:
    learner = ActiveLearner(
        LogisticRegression(max_iter=500), query_strategy=get_strategy(measure, random_state=0),
        X_training=X_train.astype(X.dtype), y_training=y_train, random_state=0,
    )
    est = learner.estimator_
    paths = _paths(est, learner, X, k, measure)
    memory = {name: peak_mib(fn) for name, fn in paths.items()}
    ids = np.asarray(paths["activelab"]())
    same = np.array_equal(ids, straightforward_ids(est, X, k, measure))
    same_set = all(
        set(np.asarray(paths[name]()).tolist()) == set(ids.tolist())
        for name in ("fused numpy", "plain")
    )
    lines = []
    for threads in (1, None):
        with blas_threads(threads):
            times = time_paths(paths, repeats)
        lib = times["activelab"]
        cells = []
        for name in paths:
            ratio = statistics.median(t / a for t, a in zip(times[name], lib, strict=True))
            cells.append(f"{statistics.median(times[name]) * 1e3:.0f} ms"
                         + ("" if name == "activelab" else f" ({ratio:.2f}x)"))
        label = "1 (pinned)" if threads == 1 else "default"
        lines.append(f"| {measure} | {X.dtype.name} | {label} | " + " | ".join(cells) + " |")
    mem = ", ".join(f"{name} {v:.0f}" for name, v in memory.items())
    lines.append(f"|  |  | peak extra MiB | {mem} |")
    lines.append(f"|  |  | same ids as the straightforward computation: {same}; "
                 f"same set as the references: {same_set} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--strategies", nargs="+", choices=sorted(MEASURES),
                        default=["entropy", "margin", "least_confident"])
    parser.add_argument("--dtypes", nargs="+", choices=["float64", "float32"],
                        default=["float64", "float32"])
    args = parser.parse_args()

    X64, X_train, y_train = make_data(args.rows, args.features, args.classes, args.train)
    blas = [(i.get("internal_api"), i.get("num_threads")) for i in threadpool_info()]
    print(f"python {platform.python_version()}, numpy {np.__version__}, BLAS {blas}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; compiled kernels: "
          f"{'on' if kernels_available() else 'off (not installed)'}")
    print(f"pool {args.rows} x {args.features}, {args.classes} classes, k={args.k}, median of "
          f"{args.repeats} rotating rounds after a warm-up; (Nx) = that path's time / "
          "activelab's in the same round\n")
    header = None
    for dtype in args.dtypes:
        X = np.ascontiguousarray(X64, dtype=dtype)
        for measure in args.strategies:
            lines = run_case(X, X_train, y_train, measure, args.k, args.repeats)
            if header is None:
                names = list(_paths(None, None, X, 1, measure))  # type: ignore[arg-type]
                header = "| measure | dtype | BLAS threads | " + " | ".join(names) + " |"
                print(header)
                print("|" + "---|" * (3 + len(names)))
            print("\n".join(lines), flush=True)
        del X
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
