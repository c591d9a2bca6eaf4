"""Query by committee on 200,000 candidates: activelab against numpy, modAL and scikit-activeml.

Three LogisticRegression members (10 classes, each fitted on its own bootstrap resample of
3,000 labeled rows) score a 200,000 x 50 float64 pool; one query of 100 by vote entropy
and by the largest KL divergence from the consensus is timed along these paths, in
rotating order, round after round:

- ``activelab``: ``query_once(committee, X, None, measure, 100)`` (each member's
  probabilities block by block from its weights, the measure per block on all cores; the
  members x n x C tensor is never made);
- ``activelab 1 thread``: the same with ``scoring_threads(1)``;
- ``numpy``: the measure written plainly: ``predict_proba`` of each member stacked into
  the (members x n x C) float64 tensor, the measure with whole-array numpy operations
  (votes by ``argmax``, counts by a one-hot sum; KL with ``log(p / q)``), ``argpartition``;
- ``modAL``: ``vote_entropy_sampling`` / ``max_disagreement_sampling`` on a modAL
  ``Committee`` of the same fitted members, when modAL is installed;
- ``scikit-activeml``: ``QueryByCommittee(method="vote_entropy" / "KL_divergence")`` with
  the same members (``SklearnClassifier``, ``fit_ensemble=False``), when it is installed.
  Its KL measure is the *average* KL divergence of the members from the consensus (the
  closest measure it has), not the largest.

(Nx) is that path's time divided by activelab's in the same round (above 1: activelab is
faster), median over rounds; BLAS pinned to one thread, then the default.  Peak extra
memory by tracemalloc on one separate call.  The script checks that activelab's
utilities are bit-equal to its own measure on ``Committee.committee_proba`` and chose the
same ids as that straightforward computation (``top_k`` with the same seed).

Run (modAL and scikit-activeml live in their own environment, see docs/benchmarks.md)::

    .venv/bin/python benchmarks/bench_committee.py
    /work/benchvenv/bin/python benchmarks/bench_committee.py --repeats 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
from collections.abc import Callable

import numpy as np
from sklearn.linear_model import LogisticRegression

from activelab.learners import ActiveLearner, Committee
from activelab.parallel import scoring_threads
from activelab.strategies import (
    QueryContext,
    get_strategy,
    kl_max_disagreement_utility,
    top_k,
    vote_entropy_utility,
)
from activelab.strategies.query import query_once
from bench_entropy_query import blas_threads, peak_mib, time_paths

TINY = float(np.finfo(np.float64).tiny)
MEASURES = ("vote_entropy", "kl_max_disagreement")


def make_data(n: int, d: int, n_classes: int, n_train: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((d, n_classes)) / np.sqrt(d) * 3.0
    X_train = rng.standard_normal((n_train, d))
    y_train = np.argmax(X_train @ W + rng.gumbel(size=(n_train, n_classes)), axis=1)
    return rng.standard_normal((n, d)), X_train, y_train


def fit_members(X_train, y_train, n_members: int, seed: int = 0):
    """(activelab Committee, the bootstrap resamples) of ``n_members`` logistic regressions."""
    rng = np.random.RandomState(seed)
    samples = [rng.randint(0, len(y_train), len(y_train)) for _ in range(n_members)]
    learners = [
        ActiveLearner(LogisticRegression(max_iter=500), query_strategy="random",
                      X_training=X_train[s], y_training=y_train[s])
        for s in samples
    ]
    return Committee(learners, query_strategy="vote_entropy", random_state=0), samples


def numpy_measure(committee: Committee, X: np.ndarray, measure: str) -> np.ndarray:
    """The measure written plainly, on the (members x n x C) float64 tensor."""
    P = np.stack([m.estimator_.predict_proba(X) for m in committee])
    if measure == "vote_entropy":
        votes = P.argmax(axis=2)
        frac = np.eye(P.shape[2])[votes].sum(axis=0) / P.shape[0]
        return -(frac * np.log(np.maximum(frac, TINY))).sum(axis=1)
    q = P.mean(axis=0)
    ratio = np.maximum(P / np.maximum(q, TINY), TINY)
    return (P * np.log(ratio)).sum(axis=2).max(axis=0)


def _top(u: np.ndarray, k: int) -> np.ndarray:
    return np.argpartition(-u, k - 1)[:k]


def modal_paths(committee: Committee, X: np.ndarray, k: int) -> dict[str, Callable]:
    try:
        from modAL.disagreement import max_disagreement_sampling, vote_entropy_sampling
        from modAL.models import ActiveLearner as ModalLearner
        from modAL.models import Committee as ModalCommittee
    except Exception:
        return {}
    modal = ModalCommittee([ModalLearner(estimator=m.estimator_) for m in committee])
    return {
        "vote_entropy": lambda: vote_entropy_sampling(modal, X, n_instances=k),
        "kl_max_disagreement": lambda: max_disagreement_sampling(modal, X, n_instances=k),
    }


def skactiveml_paths(X_train, y_train, samples, X: np.ndarray, k: int) -> dict[str, Callable]:
    try:
        from skactiveml.classifier import SklearnClassifier
        from skactiveml.pool import QueryByCommittee
    except Exception:
        return {}
    classes = np.unique(y_train)
    ensemble = [
        SklearnClassifier(LogisticRegression(max_iter=500), classes=classes).fit(
            X_train[s], y_train[s])
        for s in samples
    ]
    X_all = np.concatenate([X_train, X])
    y_all = np.concatenate([y_train.astype(float), np.full(X.shape[0], np.nan)])

    def run(method: str) -> Callable:
        qs = QueryByCommittee(method=method, random_state=0)
        return lambda: qs.query(X_all, y_all, ensemble=ensemble, fit_ensemble=False,
                                batch_size=k)

    return {"vote_entropy": run("vote_entropy"), "kl_max_disagreement": run("KL_divergence")}


def check_same(committee: Committee, X: np.ndarray, measure: str, k: int) -> str:
    context = QueryContext(np.arange(X.shape[0]), X, estimator=committee)
    fast = get_strategy(measure).utility(context)
    plain_fn = vote_entropy_utility if measure == "vote_entropy" else kl_max_disagreement_utility
    plain = plain_fn(committee.committee_proba(X))
    ids = query_once(committee, X, None, measure, k, random_state=0).ids
    same_ids = np.array_equal(ids, top_k(plain, k, 0))
    close = np.allclose(plain, numpy_measure(committee, X, measure), rtol=1e-12, atol=1e-12)
    return (f"utilities bit-equal to the measure of committee_proba: "
            f"{np.array_equal(fast, plain)}; same ids: {same_ids}; "
            f"equal (1e-12) to the plain numpy measure: {close}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    X, X_train, y_train = make_data(args.rows, args.features, args.classes, 3000)
    committee, samples = fit_members(X_train, y_train, args.members)
    modal = modal_paths(committee, X, args.k)
    skal = skactiveml_paths(X_train, y_train, samples, X, args.k)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; pool {args.rows} x {args.features}, "
          f"{args.members} members, {args.classes} classes, k={args.k}, median of "
          f"{args.repeats} rotating rounds\n")
    for measure in MEASURES:
        def lib(measure: str = measure) -> object:
            return query_once(committee, X, None, measure, args.k, random_state=0).ids

        def lib1(lib: Callable = lib) -> object:
            with scoring_threads(1):
                return lib()

        paths: dict[str, Callable] = {
            "activelab": lib, "activelab 1 thread": lib1,
            "numpy": lambda m=measure: _top(numpy_measure(committee, X, m), args.k),
        }
        if measure in modal:
            paths["modAL"] = modal[measure]
        if measure in skal:
            paths["scikit-activeml"] = skal[measure]
        memory = {name: peak_mib(fn) for name, fn in paths.items()}
        print(f"### {measure}\n\n| BLAS threads | " + " | ".join(paths) + " |")
        print("|" + "---|" * (1 + len(paths)))
        for threads in (1, None):
            with blas_threads(threads):
                times = time_paths(paths, args.repeats)
            base = times["activelab"]
            cells = [
                f"{statistics.median(times[n]) * 1e3:.0f} ms" + (
                    "" if n == "activelab" else
                    f" ({statistics.median(t / a for t, a in zip(times[n], base, strict=True)):.2f}x)")
                for n in paths
            ]
            print(f"| {'1 (pinned)' if threads == 1 else 'default'} | " + " | ".join(cells) + " |")
        print("| peak extra MiB | " + " | ".join(f"{memory[n]:.0f}" for n in paths) + " |")
        print(f"\n{check_same(committee, X, measure, args.k)}\n", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
