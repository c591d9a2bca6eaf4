"""Cold start time on the full Fashion-MNIST training set (60,000 rows, MiniBatchKMeans path)."""

import gzip
import time

import numpy as np
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from activelab.cold_start import cold_start
from activelab.datasets.real import default_data_dir

with threadpool_limits(limits=1):
    with gzip.open(default_data_dir() / "fashion-mnist/train-images-idx3-ubyte.gz") as f:
        X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784) / 255.0
    Z = PCA(50, random_state=0).fit_transform(X)
    print("| features | n | method | seconds |")
    print("|---|---|---|---|")
    for name, data in (("PCA-50", Z), ("raw 784", X)):
        for n in (10, 100):
            for method in ("random", "kmeans", "typiclust"):
                t0 = time.perf_counter()
                ids = cold_start(data, n, method=method, random_state=0)
                assert np.unique(ids).size == n
                print(f"| {name} | {n} | {method} | {time.perf_counter() - t0:.2f} |")
