"""SEALS candidate restriction: the time per round it saves, and the accuracy it keeps.

Two measurements, each printed as a table:

* ``speed``: a ``--rows`` x 64 float32 pool of 10-class Gaussian clusters,
  ``--labeled`` labeled ids, a 10-class logistic regression.  Times (median of
  ``--repeats``) for building the index and adding the labeled ids' neighbours (exact
  numpy up to 200,000 rows, faiss flat, faiss HNSW with ``--hnsw``), one ``add_labeled`` of
  100 new ids, a margin query of 100 on the SEALS candidates, and the same query on
  every unlabeled row; the ratio full / SEALS is measured in the same run.
* ``accuracy``: active learning on MNIST-10k (PCA to 50 dimensions, fitted on the pool
  only), 20 random initial labels, margin in batches of 10 for ``--rounds`` rounds,
  with and without SEALS (k neighbours per label), ``--seeds`` seeds; test accuracy
  after the last round and the AULC, with the paired mean difference and a 95 % t
  interval over seeds.

BLAS is pinned to one thread (``OPENBLAS_NUM_THREADS=1`` before numpy is imported).

Run::

    .venv/bin/python benchmarks/bench_seals.py                       # both parts
    .venv/bin/python benchmarks/bench_seals.py --part speed --rows 1000000
    .venv/bin/python benchmarks/bench_seals.py --part accuracy --seeds 10
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import activelab as al  # noqa: E402
from activelab.datasets.real import load_real_dataset  # noqa: E402
from activelab.scale import SealsCandidates  # noqa: E402


def _timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def _clusters(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (10, 64)).astype(np.float32)
    y = rng.integers(0, 10, rows)
    X = centers[y] + rng.normal(0, 1, (rows, 64)).astype(np.float32)
    return X, y


def _speed_row(name: str, X: np.ndarray, y: np.ndarray, labeled: np.ndarray,
               learner: al.ActiveLearner, repeats: int, **kw) -> dict:
    build_t, seals = _timed(lambda: SealsCandidates(X, k=100, **kw).add_labeled(labeled), 1)
    new = np.arange(labeled.size, labeled.size + 100)
    add_t, _ = _timed(lambda: seals.add_labeled(new), 1)
    cand = seals.candidate_ids_
    query_t, _ = _timed(lambda: learner.query_result(X[cand], 100, candidate_ids=cand), repeats)
    return {"index": name, "build_s": build_t, "add_100_s": add_t,
            "candidates": cand.size, "query_s": query_t}


def _backends(rows: int, hnsw: bool) -> list[tuple[str, dict]]:
    out = [("exact (numpy)", {"index": "exact"})] if rows <= 200_000 else []
    if importlib.util.find_spec("faiss") is not None:
        out.append(("faiss flat", {"index": "faiss"}))
        if hnsw:
            out.append(("faiss HNSW", {"index": "faiss", "approximate": True}))
    return out


def run_speed(rows: int, repeats: int, n_labeled: int, hnsw: bool) -> None:
    X, y = _clusters(rows)
    labeled = np.arange(n_labeled)
    learner = al.ActiveLearner(LogisticRegression(max_iter=300), query_strategy="margin",
                               X_training=X[labeled], y_training=y[labeled], random_state=0)
    unlabeled = np.arange(n_labeled, rows)
    full_t, _ = _timed(lambda: learner.query_result(X[unlabeled], 100, candidate_ids=unlabeled),
                       repeats)
    print(f"\nspeed: {rows:,} x 64 float32, {n_labeled:,} labeled, k=100, margin top-100, "
          f"median of {repeats}")
    print(f"full-pool query ({unlabeled.size:,} candidates): {full_t:.3f} s")
    print(f"{'index':<15} {'build+add':>11} {'add 100':>9} {'candidates':>11} "
          f"{'query':>8} {'full/SEALS':>11}")
    for name, kw in _backends(rows, hnsw):
        r = _speed_row(name, X, y, labeled, learner, repeats, **kw)
        print(f"{r['index']:<15} {r['build_s']:>10.2f}s {r['add_100_s']:>8.3f}s "
              f"{r['candidates']:>11,} {r['query_s']:>7.3f}s {full_t / r['query_s']:>10.1f}x")


def _run_al(X_pool, y_pool, X_test, y_test, seed: int, rounds: int, k: int | None) -> list[float]:
    rng = np.random.default_rng(seed)
    labeled = rng.choice(len(y_pool), 20, replace=False)
    learner = al.ActiveLearner(LogisticRegression(max_iter=500), query_strategy="margin",
                               X_training=X_pool[labeled], y_training=y_pool[labeled],
                               random_state=seed)
    seals = None if k is None else SealsCandidates(X_pool, k=k, index="exact").add_labeled(labeled)
    curve = [learner.score(X_test, y_test)]
    for _ in range(rounds):
        if seals is None:
            cand = np.setdiff1d(np.arange(len(y_pool)), labeled)
        else:
            cand = seals.candidate_ids_
        ids = learner.query_result(X_pool[cand], 10, candidate_ids=cand).ids
        labeled = np.concatenate([labeled, ids])
        learner.teach(X_pool[ids], y_pool[ids])
        if seals is not None:
            seals.add_labeled(ids)
        curve.append(learner.score(X_test, y_test))
    return curve


def _interval(d: np.ndarray) -> str:
    half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    return f"{d.mean():+.4f} [{d.mean() - half:+.4f}, {d.mean() + half:+.4f}]"


def run_accuracy(seeds: int, rounds: int, k: int) -> None:
    ds = load_real_dataset("mnist-10k")
    rows = {"full pool": [], f"SEALS k={k}": []}
    for seed in range(seeds):
        X_pool, X_test, y_pool, y_test = train_test_split(
            ds.X.astype(np.float32), ds.y, test_size=0.3, random_state=seed, stratify=ds.y)
        pca = PCA(50, random_state=seed).fit(X_pool)
        X_pool, X_test = pca.transform(X_pool), pca.transform(X_test)
        rows["full pool"].append(_run_al(X_pool, y_pool, X_test, y_test, seed, rounds, None))
        rows[f"SEALS k={k}"].append(_run_al(X_pool, y_pool, X_test, y_test, seed, rounds, k))
    full, seals = (np.asarray(v) for v in rows.values())
    print(f"\naccuracy: MNIST-10k PCA-50, margin, 20 initial + {rounds} x 10, {seeds} seeds")
    for name, c in rows.items():
        c = np.asarray(c)
        print(f"{name:<12} final {c[:, -1].mean():.4f}  AULC {c.mean(axis=1).mean():.4f}")
    print(f"SEALS - full, final accuracy: {_interval(seals[:, -1] - full[:, -1])}")
    print(f"SEALS - full, AULC:           {_interval(seals.mean(axis=1) - full.mean(axis=1))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("speed", "accuracy", "all"), default="all")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--labeled", type=int, default=1000)
    parser.add_argument("--hnsw", action="store_true",
                        help="also build a faiss HNSW index (minutes at 10^6 rows)")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--k", type=int, default=50)
    args = parser.parse_args()
    if args.part in ("speed", "all"):
        run_speed(args.rows, args.repeats, args.labeled, args.hnsw)
    if args.part in ("accuracy", "all"):
        run_accuracy(args.seeds, args.rounds, args.k)


if __name__ == "__main__":
    main()
