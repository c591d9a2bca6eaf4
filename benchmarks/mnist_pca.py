"""MNIST-10k as the PCA-50 benchmarks (cold start, stopping rules) use it."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from activelab.datasets import load_dataset


def mnist_pca50() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``Z_pool, Z_test, y_pool, y_test``: 2,000 stratified test digits (seed 0), pixels
    / 255 projected on 50 principal components fit on the pool (seed 0)."""
    mnist = load_dataset("mnist-10k")
    X, y = mnist.X.astype(np.float64), mnist.y
    X_pool, X_test, y_pool, y_test = train_test_split(
        X, y, test_size=2000, stratify=y, random_state=0
    )
    pca = PCA(50, random_state=0).fit(X_pool)
    return pca.transform(X_pool), pca.transform(X_test), y_pool, y_test
