"""Cost of expected error reduction on digits (1,797 × 64, 10 classes).

A logistic regression is fitted on 100 random labeled digits; the remaining 1,697 are
the candidates.  Each row of the table is one query of batch 10: ``n_candidates``
candidates scored, each retrained once per class with nonzero probability, the loss
averaged over ``n_eval`` pool rows.  Margin sampling on the same context is the
reference.  BLAS is pinned to one thread.  Run:

    .venv/bin/python benchmarks/bench_expected_error.py
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from activelab.strategies import get_strategy
from activelab.strategies.query import query_context


def main() -> None:
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    rng = np.random.RandomState(0)
    order = rng.permutation(len(X))
    labeled, candidates = order[:100], np.sort(order[100:])
    rows = []
    with threadpool_limits(limits=1, user_api="blas"):
        model = LogisticRegression(max_iter=1000).fit(X[labeled], y[labeled])

        def context():
            return query_context(
                model, X[candidates], candidates, X_labeled=X[labeled], y_labeled=y[labeled],
            )

        t0, c0 = time.perf_counter(), time.process_time()
        get_strategy("margin", random_state=0).select(context(), 10)
        ref = (time.perf_counter() - t0, time.process_time() - c0)
        rows.append(("margin (reference)", "-", "-", "-", 0, *ref))
        for loss, refit, n_candidates in [
            ("log", "warm_start", 20),
            ("log", "warm_start", 50),
            ("log", "full", 50),
            ("zero_one", "warm_start", 50),
            ("log", "warm_start", 100),
        ]:
            strategy = get_strategy(
                "expected_error", loss=loss, refit=refit, n_candidates=n_candidates,
                n_eval=500, random_state=0,
            )
            t0, c0 = time.perf_counter(), time.process_time()
            result = strategy.select(context(), 10)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            rows.append((loss, refit, n_candidates, 500, result.info["n_fits"], wall, cpu))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {platform.python_version()}, BLAS threads 1, {os.cpu_count()} CPUs, "
          f"load average {load:.1f}; digits, LogisticRegression(max_iter=1000), 100 labeled")
    print()
    print("| loss | refit | n_candidates | n_eval | fits | wall s | CPU s | CPU ms per fit |")
    print("|---|---|---|---|---|---|---|---|")
    for loss, refit, n_cand, n_eval, fits, wall, cpu in rows:
        per_fit = f"{1000 * cpu / fits:.1f}" if fits else "-"
        print(f"| {loss} | {refit} | {n_cand} | {n_eval} | {fits} | {wall:.2f} | {cpu:.2f} | "
              f"{per_fit} |")


if __name__ == "__main__":
    main()
