"""Cold start on MNIST-10k: accuracy of a model fit on the first n labels alone, and time."""

import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from activelab.cold_start import cold_start
from mnist_pca import mnist_pca50

with threadpool_limits(limits=1):
    Z_pool, Z_test, y_pool, y_test = mnist_pca50()
    print(f"pool {Z_pool.shape}, test {Z_test.shape}")
    print("| n | method | accuracy mean ± sd (10 seeds) | classes covered | seconds per call |")
    print("|---|---|---|---|---|")
    for n in (10, 20, 50, 100):
        for method in ("random", "kmeans", "typiclust"):
            accs, covered, secs = [], [], []
            for seed in range(10):
                t0 = time.perf_counter()
                ids = cold_start(Z_pool, n, method=method, random_state=seed)
                secs.append(time.perf_counter() - t0)
                covered.append(np.unique(y_pool[ids]).size)
                if np.unique(y_pool[ids]).size < 2:
                    accs.append(np.nan)
                    continue
                clf = LogisticRegression(max_iter=2000).fit(Z_pool[ids], y_pool[ids])
                accs.append(clf.score(Z_test, y_test))
            accs = np.asarray(accs)
            print(
                f"| {n} | {method} | {np.nanmean(accs):.3f} ± {np.nanstd(accs):.3f} | "
                f"{np.mean(covered):.1f} | {np.median(secs):.2f} |"
            )
