"""Imbalanced classes: class-balanced uncertainty sampling against margin and random.

"Rare classes get few queries with standard uncertainty sampling."  The lecture's fix
gives every predicted class a quota of the batch and fills it with that class's most
uncertain items.  Its sketch computes the quota as ``n_samples // n_classes``, so a batch
of 10 over 3 classes asks for 9 items (the remainder is dropped), and a class with fewer
candidates than its quota leaves the batch short again.  activelab's ``class_balanced``
strategy uses quotas that always add up to the batch size (``balanced_quotas``), passes
a small class's unused share on to the others, and gives leftover items to the classes
with the fewest labels.

The data: 3 classes at 88 % / 9 % / 3 % (scikit-learn's ``make_classification``).  The
output counts the minority-class labels each strategy obtained and the macro F1 and
balanced accuracy of the final model (accuracy alone hides a model that ignores the
rare class).  On this data class-balanced sampling finds the most minority items and both
uncertainty strategies end far above random in macro F1; margin sampling is as good as
class-balanced on F1 here.  Which of the two wins depends on the data: compare them
with ``activelab simulate`` on yours.

Run ``python examples/imbalanced_class_balanced.py`` (``--small`` for fewer seeds).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import activelab as al
from activelab.strategies.class_balanced import balanced_quotas

WEIGHTS = [0.88, 0.09, 0.03]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="fewer seeds (a quick check)")
    args = parser.parse_args()
    small = args.small or os.environ.get("ACTIVELAB_EXAMPLES_SMALL") == "1"
    n_seeds = 1 if small else 3
    budget = 100 if small else 200

    # --- the quota arithmetic --------------------------------------------------------------
    n, n_classes = 10, 3
    print(f"lecture's quotas for a batch of {n} over {n_classes} classes: "
          f"{[n // n_classes] * n_classes} -> {n // n_classes * n_classes} items")
    quotas = balanced_quotas(n, capacities=[500, 40, 2])
    print(f"balanced_quotas({n}, capacities=[500, 40, 2]): {quotas.tolist()} -> "
          f"{int(quotas.sum())} items")

    X, y = make_classification(
        n_samples=3000, n_features=20, n_informative=8, n_classes=3, weights=WEIGHTS,
        class_sep=2.0, random_state=0,
    )
    minority = int(np.argmin(np.bincount(y)))
    print(f"\nclass counts {np.bincount(y).tolist()}; minority class {minority}; "
          f"{budget} labels per run (20 random, then batches of 10); mean over {n_seeds} "
          f"seed{'s' * (n_seeds != 1)}")
    print(f"{'strategy':>15} {'minority labels':>15} {'macro F1':>8} {'bal. acc.':>9} "
          f"{'accuracy':>8}")
    for strategy in ("class_balanced", "margin", "random"):
        rows = []
        for seed in range(n_seeds):
            X_pool, X_test, y_pool, y_test = train_test_split(
                X, y, test_size=0.3, stratify=y, random_state=seed
            )
            result = al.run(
                make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
                X_pool, y_pool, strategy=strategy, X_test=X_test, y_test=y_test,
                initial=20, batch_size=10, budget=budget, random_state=seed,
            )
            assert result.n_labeled == budget
            last = result.rounds[-1].metrics
            rows.append([
                np.sum(result.labels == minority), last["f1_macro"],
                last["balanced_accuracy"], last["accuracy"],
            ])
        m = np.mean(rows, axis=0)
        print(f"{strategy:>15} {m[0]:>15.1f} {m[1]:>8.3f} {m[2]:>9.3f} {m[3]:>8.3f}")


if __name__ == "__main__":
    with threadpool_limits(1):  # many small fits: one BLAS thread is fastest
        main()
