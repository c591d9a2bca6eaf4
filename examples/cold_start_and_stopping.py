"""Cold start (what to label first) and stopping rules (when to stop), on digits.

Cold start.  The lecture starts from a random sample ("20-50 random examples") or one
example per k-means cluster.  With very few labels a random sample often misses whole
classes; k-means and TypiClust (the most typical item of each cluster) cover the pool's
structure.  The table counts how many of the 10 digits the first 10 labels contain,
over several seeds.

Stopping.  The lecture lists budget, performance plateau, uncertainty threshold and a
time limit (its ``should_stop`` sketch is cut off before it returns anything).  Each rule
is run alone, then combined with ``|``; the output says which rule fired, at how many
labels, and how far the model then is from the model trained on the whole pool.  The
plateau rule reads the test accuracy, which a real project with a person labeling does
not have; stabilizing predictions and the uncertainty threshold need no labels at all.

Run ``python examples/cold_start_and_stopping.py`` (``--small`` for fewer seeds).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import activelab as al


def model() -> object:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="fewer seeds (a quick check)")
    args = parser.parse_args()
    small = args.small or os.environ.get("ACTIVELAB_EXAMPLES_SMALL") == "1"
    n_seeds = 2 if small else 5

    X, y = load_digits(return_X_y=True)
    X_pool, X_test, y_pool, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )

    # --- cold start: 10 labels for 10 classes ------------------------------------------
    print(f"cold start: 10 first labels, mean over {n_seeds} seed{'s' * (n_seeds != 1)}")
    print(f"{'method':>10} {'classes seen':>12} {'accuracy':>8}")
    for method in ("random", "kmeans", "typiclust"):
        seen, acc = [], []
        for seed in range(n_seeds):
            ids = al.cold_start(X_pool, 10, method, random_state=seed)
            seen.append(np.unique(y_pool[ids]).size)
            if seen[-1] >= 2:
                acc.append(model().fit(X_pool[ids], y_pool[ids]).score(X_test, y_test))
        print(f"{method:>10} {np.mean(seen):>12.1f} {np.mean(acc):>8.3f}")

    # --- stopping rules -----------------------------------------------------------------
    full = model().fit(X_pool, y_pool).score(X_test, y_test)
    print(f"\nstopping rules (margin, batches of 10, kmeans cold start of 20); "
          f"full-pool accuracy {full:.3f}")
    rules = {
        "budget": al.BudgetExhausted(150 if small else 300),
        "plateau": al.PerformancePlateau(window=5, threshold=0.01),
        "uncertainty": al.UncertaintyBelow(0.5),
        "stabilizing": al.StabilizingPredictions(stop_set_size=300, window=3,
                                                 threshold=0.97, random_state=0),
        "time": al.TimeLimit(0.2),
    }
    rules["any of them"] = (
        rules["plateau"] | rules["uncertainty"] | rules["stabilizing"] | rules["budget"]
    )
    cap = 200 if small else 500  # a budget cap so that no run goes on for too long
    for name, rule in rules.items():
        result = al.run(
            model(), X_pool, y_pool, strategy="margin", X_test=X_test, y_test=y_test,
            initial=20, cold_start="kmeans", batch_size=10, budget=cap, stopping=rule,
            random_state=0, metrics=("accuracy",),
        )
        n, acc = result.curve("accuracy")
        print(f"{name:>12}: stopped at {n[-1]:>3} labels, accuracy {acc[-1]:.3f} "
              f"({acc[-1] / full:.0%} of full pool) -- {result.stopped_by}")


if __name__ == "__main__":
    with threadpool_limits(1):  # many small fits: one BLAS thread is fastest
        main()
