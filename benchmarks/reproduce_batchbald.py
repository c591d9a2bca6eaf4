"""Reproduce Kirsch, van Amersfoort and Gal (NeurIPS 2019), "BatchBALD", on Repeated
MNIST: every pool digit three times, each copy with its own Gaussian noise (sd 0.1), so
that top-k BALD fills its batches with copies; batches of 10, 20 class-balanced initial
labels, consistent MC dropout.

    python benchmarks/reproduce_batchbald.py            # the protocol (hours on a CPU; a GPU)
    python benchmarks/reproduce_batchbald.py --quick    # 1,000 digits x 3, 20 draws, 120 labels

Published (90 % test accuracy on Repeated MNIST): BatchBALD 70 labels, BALD 90,
random 110 (their Figure 4 reports BALD *below* random on Repeated MNIST at batch 10).
``power_bald`` (Kirsch et al. 2023, stochastic batch acquisition) is run beside them.
The test set is 2,000 (``--quick``: 1,000) held-out MNIST-10k digits, without copies.
"""

from __future__ import annotations

import numpy as np

from activelab import run
from activelab.strategies.bayesian import BatchBALD
from deep_common import (
    balanced_initial,
    mnist_cnn,
    mnist_split,
    parse_reproduction_args,
    run_and_report,
)

STRATEGIES = ("batchbald", "bald", "power_bald", "random")
FULL = dict(n_pool=8000, budget=300, seeds=5, n_test=2000, samples=100, filters=32,
            epochs=100, prefilter=1000)
QUICK = dict(n_pool=1000, budget=120, seeds=3, n_test=1000, samples=20, filters=16,
             epochs=100, prefilter=300)


def repeated(X: np.ndarray, y: np.ndarray, copies: int, seed: int) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """``copies`` noisy copies of every row (sd 0.1 Gaussian noise each)."""
    rng = np.random.RandomState(seed)
    noisy = [X + rng.normal(0.0, 0.1, X.shape).astype(np.float32) for _ in range(copies)]
    return np.concatenate(noisy), np.tile(y, copies)


def one_run(X_pool, y_pool, X_test, y_test, settings, strategy, seed):
    """One active-learning run on the repeated pool."""
    clf = mnist_cnn(settings)
    chosen = BatchBALD(num_samples=1000, prefilter=settings["prefilter"]) \
        if strategy == "batchbald" else strategy
    initial = balanced_initial(y_pool, 2, seed)
    return run(clf, X_pool, y_pool, strategy=chosen, X_test=X_test, y_test=y_test,
               initial=initial, batch_size=10, budget=settings["budget"],
               random_state=seed, metrics=("accuracy",), blas_threads=1)


def main(argv=None) -> int:
    args, settings, strategies = parse_reproduction_args(
        __doc__.splitlines()[0], STRATEGIES, QUICK, FULL, argv)
    X, y, pool, test = mnist_split(args.data_dir, settings["n_test"])
    pool = np.sort(np.random.RandomState(0).permutation(pool)[: settings["n_pool"]])
    X_pool, y_pool = repeated(X[pool], y[pool], copies=3, seed=0)
    return run_and_report(
        args, "batchbald", strategies, settings,
        lambda s, seed: one_run(X_pool, y_pool, X[test], y[test], settings, s, seed),
        at=(50, 70, 90, 110, 150, 200, 300), targets=(0.90, 0.95))


if __name__ == "__main__":
    raise SystemExit(main())
