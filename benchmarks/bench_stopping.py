"""When do the stopping rules fire on MNIST-10k (PCA-50, logistic regression, margin)?"""

import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

import activelab as al
from activelab.datasets import load_dataset
from activelab.stopping import (
    BudgetExhausted,
    PerformancePlateau,
    StabilizingPredictions,
    UncertaintyBelow,
)

with threadpool_limits(limits=1):
    mnist = load_dataset("mnist-10k")  # pixels / 255
    X, y = mnist.X.astype(np.float64), mnist.y
    X_pool, X_test, y_pool, y_test = train_test_split(
        X, y, test_size=2000, stratify=y, random_state=0
    )
    pca = PCA(50, random_state=0).fit(X_pool)
    Z_pool, Z_test = pca.transform(X_pool), pca.transform(X_test)
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
