"""Simulated oracles: perfect and noisy annotators, on digits (10 classes).

The lecture's ``noisy_oracle`` flips labels with ``labels[i] = 1 - labels[i]``.  That is
only a label flip for classes 0 and 1: on digits it turns a 7 into -6, a class that does
not exist, and it turns a 1 into 0 but never a 0 into anything but 1.  It also corrupts
exactly ``int(len(labels) * error_rate)`` labels per call, so a batch of 5 with a 10 %
error rate is never corrupted at all.

:class:`activelab.NoisyOracle` draws each answer wrong with probability ``error_rate``,
always as *another existing class* (uniformly, or by a class-confusion matrix), answers
the same id the same way when asked twice, and records which ids it corrupted.  The run
then shows how label noise lowers the accuracy of margin sampling and of random sampling.

Run ``python examples/noisy_oracle.py`` (``--small`` for fewer seeds).
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


def lecture_noisy_oracle(
    y_true: np.ndarray, query_indices: np.ndarray, error_rate: float = 0.1,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """The lecture's noisy oracle, as written (binary labels only)."""
    rng = np.random.default_rng(0) if rng is None else rng
    labels = y_true[query_indices].copy()
    n_errors = int(len(labels) * error_rate)
    error_idx = rng.choice(len(labels), size=n_errors, replace=False)
    labels[error_idx] = 1 - labels[error_idx]
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="fewer seeds (a quick check)")
    args = parser.parse_args()
    small = args.small or os.environ.get("ACTIVELAB_EXAMPLES_SMALL") == "1"
    n_seeds = 1 if small else 3
    budget = 150 if small else 300

    X, y = load_digits(return_X_y=True)

    # --- the lecture's flip on 10 classes ----------------------------------------------
    ids = np.arange(100)
    flipped = lecture_noisy_oracle(y, ids, error_rate=0.1)
    invalid = np.setdiff1d(flipped, np.unique(y))
    print(f"lecture's 1 - label flip on digits: {np.sum(flipped != y[ids])} of 100 labels "
          f"changed, invalid classes produced: {invalid.tolist()}")
    noisy = al.NoisyOracle(y, error_rate=0.1, random_state=0)
    answer = noisy.label(ids, None)
    print(f"NoisyOracle(error_rate=0.1): {noisy.n_corrupted_} of 100 labels wrong, all "
          f"valid classes: {bool(np.isin(answer.labels, np.unique(y)).all())}; corrupted ids "
          f"{noisy.corrupted_ids_[:5].tolist()}...")

    # --- what noise does to a run --------------------------------------------------------
    print(f"\nfinal test accuracy at {budget} labels, "
          f"mean over {n_seeds} seed{'s' * (n_seeds != 1)}")
    print(f"{'error rate':>10} {'margin':>7} {'random':>7} {'wrong labels':>12}")
    for rate in (0.0, 0.1, 0.3):
        final = {"margin": [], "random": []}
        wrong = []
        for seed in range(n_seeds):
            X_pool, X_test, y_pool, y_test = train_test_split(
                X, y, test_size=0.25, stratify=y, random_state=seed
            )
            for strategy in final:
                oracle = al.NoisyOracle(y_pool, error_rate=rate, random_state=seed)
                result = al.run(
                    make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
                    X_pool, oracle, strategy=strategy, X_test=X_test, y_test=y_test,
                    initial=20, batch_size=10, budget=budget, random_state=seed,
                    metrics=("accuracy",),
                )
                final[strategy].append(result.curve("accuracy")[1][-1])
                # the run knows which of its labels were wrong
                given = result.labels
                wrong.append(np.mean(given != y_pool[result.labeled_ids]))
        print(f"{rate:>10.1f} {np.mean(final['margin']):>7.3f} {np.mean(final['random']):>7.3f} "
              f"{np.mean(wrong):>12.1%}")


if __name__ == "__main__":
    with threadpool_limits(1):  # many small fits: one BLAS thread is fastest
        main()
