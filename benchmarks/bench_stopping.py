"""When do the stopping rules fire on MNIST-10k (PCA-50, logistic regression, margin)?"""

import time

from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

import activelab as al
from activelab.stopping import (
    BudgetExhausted,
    PerformancePlateau,
    StabilizingPredictions,
    UncertaintyBelow,
)
from mnist_pca import mnist_pca50

with threadpool_limits(limits=1):
    Z_pool, Z_test, y_pool, y_test = mnist_pca50()
    rules = {
        "StabilizingPredictions(kappa, window=3, 0.99)": lambda s: StabilizingPredictions(
            stop_set_size=1000, window=3, threshold=0.99, random_state=s
        ),
        "PerformancePlateau(window=3, 0.01)": lambda s: PerformancePlateau(3, 0.01),
        "UncertaintyBelow(0.5)": lambda s: UncertaintyBelow(0.5),
    }
    print("| rule | seed | stopped at labels | accuracy there | accuracy at 1500 labels | reason |")
    print("|---|---|---|---|---|---|")
    for seed in range(3):
        t0 = time.perf_counter()
        setting = dict(
            strategy="margin", X_test=Z_test, y_test=y_test, initial=20, batch_size=20,
            budget=1500, random_state=seed,
        )
        full = al.run(LogisticRegression(max_iter=1000), Z_pool, y_pool, **setting)
        n_full, acc_full = full.curve("accuracy")
        for name, make in rules.items():
            res = al.run(
                LogisticRegression(max_iter=1000), Z_pool, y_pool,
                stopping=make(seed) | BudgetExhausted(1500), **setting,
            )
            n, acc = res.curve("accuracy")
            print(
                f"| {name} | {seed} | {n[-1]} | {acc[-1]:.3f} | {acc_full[-1]:.3f} | "
                f"{res.stopped_by} |"
            )
