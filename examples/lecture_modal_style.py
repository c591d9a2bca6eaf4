"""The lecture's modAL-style code (ActiveLearner, query-by-committee), written with activelab.

The lecture shows ``ActiveLearner(estimator, query_strategy, X_training, y_training)``,
``learner.query(X_pool, n_instances=10)`` and ``learner.teach(...)``, and a committee of a
random forest, a logistic regression and an SVC.  activelab keeps that surface:

* ``query_strategy`` may be a registered name (``"least_confident"``, ``"margin"``, ...)
  or a plain function ``(estimator, X, n_instances) -> indices`` like the lecture's
  ``uncertainty_sampling``.  Written here with ``np.argpartition`` (linear time) instead of
  a full ``np.argsort``.
* ``query`` returns ``(indices, X_pool[indices])`` as in modAL; ``query_result`` also
  gives the utility of every candidate.
* Instead of deleting queried rows from ``X_pool`` (which renumbers every later row), the
  pool stays fixed and :class:`activelab.Pool` records which ids are labeled.
* ``SVC(probability=True)`` is deprecated from scikit-learn 1.9 on, and its replacement,
  ``CalibratedClassifierCV(SVC(), ensemble=False)``, calibrates by 5-fold cross-validation,
  which fails with the one or two labels per class an active-learning run starts with.
  The committee's third member here is a k-nearest-neighbours classifier, which gives
  probabilities without calibration.
* The lecture's ``query_by_committee`` averages the members' probabilities and takes the
  entropy: that is *consensus entropy*, not vote entropy.  activelab has both, plus KL
  max-disagreement, and aligns members that have seen different classes.

Run ``python examples/lecture_modal_style.py`` (``--small`` for fewer rounds).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import activelab as al


def uncertainty_sampling(model: Any, X: np.ndarray, n_instances: int = 10) -> np.ndarray:
    """The lecture's least-confident sampling as a modAL-style query function."""
    uncertainty = 1.0 - model.predict_proba(X).max(axis=1)
    top = np.argpartition(-uncertainty, n_instances - 1)[:n_instances]
    return top[np.argsort(-uncertainty[top])]  # most uncertain first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="fewer rounds (a quick check)")
    args = parser.parse_args()
    small = args.small or os.environ.get("ACTIVELAB_EXAMPLES_SMALL") == "1"
    n_rounds = 3 if small else 10

    X, y = load_digits(return_X_y=True)
    X_pool, X_test, y_pool, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    pool = al.Pool(X_pool)
    initial = al.cold_start(X_pool, 20, "kmeans", random_state=0)
    pool.label(initial, y_pool[initial])  # the oracle answers from the held-back labels

    # --- ActiveLearner: the lecture's code, with the lecture's query function ---------
    learner = al.ActiveLearner(
        estimator=RandomForestClassifier(n_estimators=100, random_state=0),
        query_strategy=uncertainty_sampling,
        X_training=pool.X_labeled,
        y_training=pool.y_labeled,
        random_state=0,
    )
    print(f"ActiveLearner, {pool.n_labeled} labels: accuracy {learner.score(X_test, y_test):.3f}")
    for _ in range(n_rounds):
        # positions into the unlabeled view -> pool ids (ids never change)
        unlabeled = pool.unlabeled_ids
        query_idx, query_instance = learner.query(X_pool[unlabeled], n_instances=10)
        ids = unlabeled[query_idx]
        pool.label(ids, y_pool[ids])
        learner.teach(query_instance, y_pool[ids])
    print(f"ActiveLearner, {pool.n_labeled} labels: accuracy {learner.score(X_test, y_test):.3f}")
    print(f"training set size {len(learner.y_training_)} = labeled ids {pool.n_labeled}")

    # The same with a registered strategy: the result says why each item was chosen.
    named = al.ActiveLearner(RandomForestClassifier(n_estimators=100, random_state=0),
                             "least_confident", pool.X_labeled, pool.y_labeled, random_state=0)
    result = named.query_result(pool.unlabeled_view(), 5, candidate_ids=pool.unlabeled_ids)
    print("least_confident picks pool ids", result.ids.tolist(), "with utilities",
          np.round(result.utility_of(result.ids), 3).tolist())

    # --- Query by committee: different algorithms disagree ---------------------------
    members = [
        RandomForestClassifier(n_estimators=100, random_state=0),
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        # in place of the lecture's SVC(probability=True) (see the notes above)
        make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=3)),
    ]
    for strategy in ("vote_entropy", "consensus_entropy", "kl_max_disagreement"):
        committee = al.Committee(
            [al.ActiveLearner(m, X_training=X_pool[initial], y_training=y_pool[initial])
             for m in members],
            query_strategy=strategy, random_state=0,
        )
        labeled = initial.copy()
        for _ in range(n_rounds):
            unlabeled = np.setdiff1d(np.arange(len(X_pool)), labeled)
            query_idx, query_instance = committee.query(X_pool[unlabeled], n_instances=10)
            ids = unlabeled[query_idx]
            committee.teach(query_instance, y_pool[ids])
            labeled = np.concatenate([labeled, ids])
        print(f"Committee ({strategy}), {labeled.size} labels: accuracy "
              f"{committee.score(X_test, y_test):.3f}")


if __name__ == "__main__":
    with threadpool_limits(1):  # many small fits: one BLAS thread is fastest
        main()
