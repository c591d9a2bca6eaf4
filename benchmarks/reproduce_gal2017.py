"""Reproduce Gal, Islam and Ghahramani (ICML 2017), "Deep Bayesian Active Learning with
Image Data", on MNIST-10k: their CNN, 20 class-balanced initial labels, 10 per step,
MC-dropout strategies scoring a random 2,000 of the pool with 100 draws.

    python benchmarks/reproduce_gal2017.py             # the protocol (hours on a CPU; a GPU)
    python benchmarks/reproduce_gal2017.py --quick     # 16 filters, 20 draws, 3 seeds, 150 labels

Published (labels to 10 % / 5 % test error on full MNIST): variation ratios 120/295,
BALD 145/335, max entropy 165/355, random 255/835 (mean STD between BALD and entropy).
MNIST-10k is the first 10,000 training digits; the test set here is 2,000 of them held
out (the pool is the other 8,000), not the official 10,000 test digits.
"""

from __future__ import annotations

from activelab import run
from deep_common import (
    balanced_initial,
    mnist_cnn,
    mnist_split,
    parse_reproduction_args,
    run_and_report,
)

STRATEGIES = ("variation_ratios", "bald", "mc_entropy", "mean_std", "random")
FULL = dict(budget=1000, seeds=3, n_test=2000, subset=2000, samples=100, filters=32,
            hidden=128, epochs=50)
QUICK = dict(budget=150, seeds=3, n_test=1000, subset=500, samples=20, filters=16,
             hidden=128, epochs=100)


def one_run(X, y, pool, test, settings, strategy, seed):
    """One active-learning run of the protocol."""
    clf = mnist_cnn(settings, hidden_units=settings["hidden"])
    initial = balanced_initial(y[pool], 2, seed)
    return run(clf, X[pool], y[pool], strategy=strategy, X_test=X[test], y_test=y[test],
               initial=initial, batch_size=10, budget=settings["budget"],
               candidate_subset=settings["subset"], random_state=seed,
               metrics=("accuracy",), blas_threads=1)


def main(argv=None) -> int:
    args, settings, strategies = parse_reproduction_args(
        __doc__.splitlines()[0], STRATEGIES, QUICK, FULL, argv)
    X, y, pool, test = mnist_split(args.data_dir, settings["n_test"])
    return run_and_report(args, "gal2017", strategies, settings,
                          lambda s, seed: one_run(X, y, pool, test, settings, s, seed),
                          at=(50, 100, 150, 300, 500, 1000), targets=(0.90, 0.95))


if __name__ == "__main__":
    raise SystemExit(main())
