"""Deep ensembles: several independently seeded copies of one classifier.

The members' probabilities are the samples that BALD and BatchBALD read (through
:meth:`DeepEnsemble.sample_proba`).  Any scikit-learn classifier with a
``random_state`` parameter can be a member, so this module does not need torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..learners import align_proba, check_training_labels
from ..pool import check_features, materialize
from ..proba import predict_proba_checked

__all__ = ["DeepEnsemble"]


class DeepEnsemble(ClassifierMixin, BaseEstimator):
    """An ensemble of independently seeded copies of one classifier.

    Parameters
    ----------
    estimator : classifier, optional
        The member; cloned once per member with its own ``random_state``.  Defaults
        to :class:`activelab.torch.TorchClassifier` (needs torch).
    n_members : int, default=5
    random_state : int, RandomState or None
        Seeds the members' seeds.

    Attributes
    ----------
    estimators_ : list of fitted classifiers
    classes_ : ndarray
    """

    def __init__(self, estimator: Any = None, n_members: int = 5, random_state: Any = None) -> None:
        self.estimator = estimator
        self.n_members = n_members
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> DeepEnsemble:
        """Fit every member on all of ``X, y`` with its own seed."""
        if isinstance(self.n_members, bool) or not isinstance(self.n_members, (int, np.integer)) \
                or self.n_members < 2:
            raise ValueError(f"n_members must be an integer of at least 2, got {self.n_members!r}.")
        X = check_features(materialize(X), "X")
        y = check_training_labels(y, X.shape[0], "y")
        base = self.estimator
        if base is None:
            from .classifier import TorchClassifier

            base = TorchClassifier()
        if "random_state" not in base.get_params():
            raise TypeError(
                f"{type(base).__name__} has no random_state parameter, so every member would "
                "be the same; use a randomised classifier (e.g. TorchClassifier, MLPClassifier)."
            )
        rng = check_random_state(self.random_state)
        self.estimators_ = [
            clone(base).set_params(random_state=int(rng.randint(0, 2**31 - 1))).fit(X, y)
            for _ in range(int(self.n_members))
        ]
        self.classes_ = np.unique(y)
        return self

    def sample_proba(self, X: Any) -> np.ndarray:
        """Each member's class probabilities, shape (n_members, n, n_classes)."""
        check_is_fitted(self, "estimators_")
        X = materialize(X)
        return np.stack([
            align_proba(predict_proba_checked(m, X), m.classes_, self.classes_)
            for m in self.estimators_
        ])

    def predict_proba(self, X: Any) -> np.ndarray:
        """Mean of the members' probabilities, shape (n, n_classes)."""
        return self.sample_proba(X).mean(axis=0)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row under the ensemble mean."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
