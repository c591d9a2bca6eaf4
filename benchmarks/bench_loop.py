"""Loop overhead: activelab.run vs a hand-written modAL-tutorial loop (np.delete per round)."""

import os
import statistics
import sys
import tempfile
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.metrics import accuracy_score
from sklearn.naive_bayes import GaussianNB
from threadpoolctl import threadpool_limits

from activelab.events import JSONLSink
from activelab.loop import run
from activelab.strategies.uncertainty import margin_utility

N_POOL, N_TEST, D, C = 200_000, 5_000, 50, 5
INITIAL, BATCH, BUDGET, REPEATS = 100, 100, 2_100, 5

X, y = make_classification(
    n_samples=N_POOL + N_TEST, n_features=D, n_informative=20, n_classes=C, random_state=0
)
X_pool, y_pool, X_test, y_test = X[:N_POOL], y[:N_POOL], X[N_POOL:], y[N_POOL:]
init = np.random.RandomState(0).choice(N_POOL, INITIAL, replace=False)


def naive():
    """The loop as the seed lecture / modAL tutorial writes it: the pool shrinks by np.delete."""
    X_rest, y_rest, ids_rest = X_pool, y_pool, np.arange(N_POOL)
    X_rest, y_rest, ids_rest = (np.delete(a, init, axis=0) for a in (X_rest, y_rest, ids_rest))
    X_l, y_l, order = X_pool[init], y_pool[init], list(init)
    accs = []
    while True:
        model = GaussianNB().fit(X_l, y_l)
        accs.append(accuracy_score(y_test, model.predict(X_test)))
        k = min(BATCH, BUDGET - len(y_l))
        if k == 0:
            break
        u = margin_utility(model.predict_proba(X_rest))
        idx = np.argpartition(-u, k - 1)[:k]
        X_l, y_l = np.vstack([X_l, X_rest[idx]]), np.concatenate([y_l, y_rest[idx]])
        order += ids_rest[idx].tolist()
        X_rest, y_rest, ids_rest = (np.delete(a, idx, axis=0) for a in (X_rest, y_rest, ids_rest))
    return np.asarray(order), np.asarray(accs)


def ours(sink_dir=None):
    sinks = [JSONLSink(os.path.join(sink_dir, "run.jsonl"))] if sink_dir else []
    r = run(
        GaussianNB(),
        X_pool,
        y_pool,
        X_test=X_test,
        y_test=y_test,
        initial=init,
        batch_size=BATCH,
        budget=BUDGET,
        random_state=0,
        metrics=("accuracy",),
        sinks=sinks,
    )
    return r


with threadpool_limits(1):
    rows = {"naive (np.delete)": [], "activelab.run": [], "activelab.run + JSONLSink": []}
    parts = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        order, accs = naive()
        rows["naive (np.delete)"].append(time.perf_counter() - t)
        t = time.perf_counter()
        r = ours()
        rows["activelab.run"].append(time.perf_counter() - t)
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            ours(d)
            rows["activelab.run + JSONLSink"].append(time.perf_counter() - t)
        parts.append(
            {
                k: sum(getattr(rec, k) for rec in r.rounds)
                for k in ("fit_seconds", "query_seconds", "label_seconds", "eval_seconds")
            }
        )
    same = np.array_equal(np.sort(order), np.sort(r.labeled_ids))
    print(
        f"python {sys.version.split()[0]}, BLAS threads 1, pool {N_POOL}x{D}, {C} classes, "
        f"{len(r.rounds)} rounds, batch {BATCH}, budget {BUDGET}, repeats {REPEATS}"
    )
    print(
        f"same labeled set as naive loop: {same}; final accuracy ours {r.curve()[1][-1]:.4f} "
        f"naive {accs[-1]:.4f}"
    )
    base = statistics.median(rows["naive (np.delete)"])
    for name, ts in rows.items():
        m = statistics.median(ts)
        print(f"{name:28s} median {m:6.3f} s  (min {min(ts):6.3f})  ratio to naive {m / base:5.2f}")
    med = {k: statistics.median(p[k] for p in parts) for k in parts[0]}
    total = statistics.median(rows["activelab.run"])
    print(
        "activelab.run breakdown (median over repeats): "
        + ", ".join(f"{k} {v:.3f}" for k, v in med.items())
        + f", rest of the loop {total - sum(med.values()):.3f} s"
    )
