"""Learners with the modAL surface: :class:`ActiveLearner` and :class:`Committee`.

>>> learner = ActiveLearner(estimator=LogisticRegression(), query_strategy="margin",
...                         X_training=X_initial, y_training=y_initial)   # doctest: +SKIP
>>> query_idx, query_instance = learner.query(X_pool, n_instances=10)    # doctest: +SKIP
>>> learner.teach(X_pool[query_idx], y_pool[query_idx])                   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.metrics import accuracy_score
from sklearn.utils import check_random_state

from .pool import RowView, check_features, materialize, take_rows
from .proba import predict_proba_chunked
from .strategies.base import MODEL_NEEDS, QueryResult, needs_of
from .strategies.query import query_once
from .strategies.registry import get_strategy

__all__ = ["ActiveLearner", "Committee", "check_training_labels", "align_proba"]


def check_training_labels(y: Any, n_rows: int, name: str = "y_training") -> np.ndarray:
    """Validate training labels: 1-D, one per row, no missing values, two classes or more."""
    y = np.asarray(y)
    if y.ndim != 1:
        y = y.ravel() if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per row), got shape {y.shape}.")
    if y.shape[0] != n_rows:
        raise ValueError(
            f"{name} has {y.shape[0]} labels but the features have {n_rows} rows; "
            "give one label per row."
        )
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(f"{name} contains NaN; every training row needs a label.")
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError(
            f"{name} holds a single class ({classes[0]!r}); a classifier needs examples of at "
            "least two classes. Label more initial items (or start with cold_start='kmeans', "
            "which covers the pool's clusters)."
        )
    return y


def align_proba(proba: np.ndarray, model_classes: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Place the columns of ``proba`` (ordered as ``model_classes``) into ``classes`` order.

    Classes the model never saw get probability 0.
    """
    model_classes = np.asarray(model_classes)
    if model_classes.shape == classes.shape and np.array_equal(model_classes, classes):
        return proba
    out = np.zeros((proba.shape[0], len(classes)), dtype=np.float64)
    cols = np.searchsorted(classes, model_classes)
    if np.any(cols >= len(classes)) or not np.array_equal(classes[cols], model_classes):
        raise ValueError("the model knows classes that are not in the committee's class list.")
    out[:, cols] = proba
    return out


def _stack(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if sp.issparse(a) or sp.issparse(b):
        return sp.vstack([a, b], format="csr")
    return np.concatenate([np.asarray(a), np.asarray(b)], axis=0)


class ActiveLearner:
    """A classifier plus a query strategy (modAL-compatible).

    Parameters
    ----------
    estimator : scikit-learn classifier
        Cloned; the given object is never fitted or changed.
    query_strategy : str, Strategy or callable, default="margin"
        A registered strategy name (see :func:`activelab.available_strategies`), a
        strategy object, or a function ``(estimator, X, n_instances) -> indices``.
    X_training, y_training : array-like, optional
        Initial labeled data; the learner is fitted on it at once.
    random_state : int, RandomState or None
        Seed for the strategy's tie breaking and any randomness it uses.
    **fit_kwargs
        Passed to ``estimator.fit``.

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone (absent until the learner has training data).
    X_training_, y_training_ : the data the learner was fitted on.
    last_query_ : QueryResult
        The full result of the latest :meth:`query` (chosen ids and utilities).
    """

    def __init__(
        self,
        estimator: Any,
        query_strategy: Any = "margin",
        X_training: Any = None,
        y_training: Any = None,
        *,
        random_state: Any = None,
        **fit_kwargs: Any,
    ) -> None:
        if not hasattr(estimator, "fit"):
            raise TypeError(
                f"estimator must be a scikit-learn style classifier with fit(), "
                f"got {type(estimator).__name__}."
            )
        self.estimator = estimator
        self.random_state = random_state
        self._rng = check_random_state(random_state)
        self.query_strategy = query_strategy
        self.strategy_ = get_strategy(query_strategy, random_state=self._rng)
        self.fit_kwargs = fit_kwargs
        self.X_training_: Any = None
        self.y_training_: np.ndarray | None = None
        if (X_training is None) != (y_training is None):
            raise ValueError("give both X_training and y_training, or neither.")
        if X_training is not None:
            self.fit(X_training, y_training)

    # ------------------------------------------------------------- training
    def fit(self, X: Any, y: Any) -> ActiveLearner:
        """Fit a fresh clone of the estimator on ``X, y`` (replacing the training data)."""
        X = check_features(X, "X_training")
        y = check_training_labels(y, X.shape[0])
        self.X_training_, self.y_training_ = X, y
        self.estimator_ = clone(self.estimator).fit(X, y, **self.fit_kwargs)
        return self

    def teach(self, X: Any, y: Any, only_new: bool = False) -> ActiveLearner:
        """Add labeled rows and refit.

        Parameters
        ----------
        X, y : the new rows and their labels.
        only_new : bool, default=False
            Fit on the new rows only (for estimators that learn incrementally); the
            training set still grows.
        """
        X = check_features(materialize(X), "X")
        y = np.asarray(y).ravel()
        if y.shape[0] != X.shape[0]:
            raise ValueError(
                f"teach() got {X.shape[0]} rows but {y.shape[0]} labels; give one label per row."
            )
        X_all = _stack(self.X_training_, X)
        y_all = y if self.y_training_ is None else np.concatenate([self.y_training_, y])
        if only_new and self.is_fitted:
            self.estimator_.fit(X, y, **self.fit_kwargs)
            self.X_training_, self.y_training_ = X_all, y_all
        else:
            self.fit(X_all, y_all)
        return self

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "estimator_")

    def _fitted(self) -> Any:
        if not self.is_fitted:
            raise ValueError(
                "the learner has no training data yet: pass X_training/y_training or call "
                "teach() first (activelab.cold_start picks a first batch with zero labels)."
            )
        return self.estimator_

    @property
    def classes_(self) -> np.ndarray:
        return self._fitted().classes_

    # ------------------------------------------------------------ prediction
    def predict(self, X: Any) -> np.ndarray:
        return self._fitted().predict(materialize(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        return predict_proba_chunked(self._fitted(), X)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy on ``X, y``."""
        return float(accuracy_score(y, self.predict(X)))

    # ---------------------------------------------------------------- query
    def query_result(
        self,
        X_pool: Any,
        n_instances: int = 1,
        *,
        candidate_ids: Any = None,
        **context_kwargs: Any,
    ) -> QueryResult:
        """Run the strategy and return the full :class:`QueryResult`.

        ``candidate_ids`` defaults to the row positions of ``X_pool``.
        """
        X_pool = X_pool if isinstance(X_pool, RowView) else check_features(X_pool, "X_pool")
        ids = (
            np.arange(X_pool.shape[0], dtype=np.int64)
            if candidate_ids is None
            else np.asarray(candidate_ids, dtype=np.int64)
        )
        result = query_once(
            self._estimator_for_query(), X_pool, ids, self.strategy_, n_instances,
            X_labeled=self.X_training_, y_labeled=self.y_training_, **context_kwargs,
        )
        self.last_query_ = result
        return result

    def _estimator_for_query(self) -> Any:
        if needs_of(self.strategy_) & MODEL_NEEDS:
            return self._fitted()
        return getattr(self, "estimator_", None)

    def query(self, X_pool: Any, n_instances: int = 1, **kwargs: Any) -> tuple[np.ndarray, Any]:
        """Choose ``n_instances`` rows of ``X_pool`` to label.

        Returns
        -------
        indices : ndarray of int64
            Row positions into ``X_pool``, most useful first.
        instances : the rows ``X_pool[indices]``.
        """
        result = self.query_result(X_pool, n_instances, **kwargs)
        return result.ids, take_rows(X_pool, result.ids)

    def __repr__(self) -> str:
        return (
            f"ActiveLearner(estimator={self.estimator!r}, "
            f"query_strategy={self.query_strategy!r})"
        )


class Committee:
    """A committee of learners whose disagreement drives the queries (modAL-compatible).

    Members may be different algorithms (e.g. random forest, logistic regression,
    ``SVC(probability=True)``) and may have seen different classes; their
    probabilities are aligned on the union of classes before being combined.

    Parameters
    ----------
    learner_list : list of ActiveLearner or classifiers
        The members.  Plain classifiers are wrapped in :class:`ActiveLearner`.
    query_strategy : str, Strategy or callable, default="vote_entropy"
    bootstrap : bool, default=False
        When True, every :meth:`teach` refits each member on its own bootstrap
        resample of all the committee's labels (bagging).
    random_state : int, RandomState or None

    Examples
    --------
    >>> committee = Committee.bagging(LogisticRegression(), n_members=5,
    ...                               X_training=X0, y_training=y0)   # doctest: +SKIP
    """

    def __init__(
        self,
        learner_list: Sequence[Any],
        query_strategy: Any = "vote_entropy",
        *,
        bootstrap: bool = False,
        random_state: Any = None,
    ) -> None:
        if len(learner_list) < 2:
            raise ValueError(
                f"a committee needs at least 2 members, got {len(learner_list)}."
            )
        self.learner_list = [
            m if isinstance(m, ActiveLearner) else ActiveLearner(m, query_strategy="random")
            for m in learner_list
        ]
        self.query_strategy = query_strategy
        self.bootstrap = bootstrap
        self.random_state = random_state
        self._rng = check_random_state(random_state)
        self.strategy_ = get_strategy(query_strategy, random_state=self._rng)
        self.X_training_: Any = None
        self.y_training_: np.ndarray | None = None
        fitted = [m for m in self.learner_list if m.is_fitted]
        for m in fitted:
            self.X_training_ = _stack(self.X_training_, m.X_training_)
            self.y_training_ = (
                m.y_training_
                if self.y_training_ is None
                else np.concatenate([self.y_training_, m.y_training_])
            )

    @classmethod
    def bagging(
        cls,
        estimator: Any,
        n_members: int = 5,
        X_training: Any = None,
        y_training: Any = None,
        query_strategy: Any = "vote_entropy",
        random_state: Any = None,
    ) -> Committee:
        """A committee of ``n_members`` clones of one estimator, each on a bootstrap resample."""
        if n_members < 2:
            raise ValueError(f"n_members must be at least 2, got {n_members}.")
        committee = cls(
            [ActiveLearner(clone(estimator), query_strategy="random") for _ in range(n_members)],
            query_strategy=query_strategy,
            bootstrap=True,
            random_state=random_state,
        )
        if X_training is not None:
            committee.teach(X_training, y_training)
        return committee

    @property
    def is_fitted(self) -> bool:
        return all(m.is_fitted for m in self.learner_list)

    @property
    def classes_(self) -> np.ndarray:
        if not self.is_fitted:
            raise ValueError("the committee has no training data yet: call teach() first.")
        return np.unique(np.concatenate([np.asarray(m.classes_) for m in self.learner_list]))

    def _bootstrap_positions(self, y: np.ndarray) -> np.ndarray:
        n = y.shape[0]
        positions = self._rng.randint(0, n, size=n)
        missing = np.setdiff1d(np.unique(y), np.unique(y[positions]))
        if missing.size:
            # keep every class present so each member can be fitted
            extra = [self._rng.choice(np.flatnonzero(y == c)) for c in missing]
            positions = np.concatenate([positions, np.asarray(extra, dtype=np.int64)])
        return positions

    def teach(self, X: Any, y: Any, only_new: bool = False) -> Committee:
        """Teach every member the new labels (bootstrap resamples when ``bootstrap``)."""
        X = check_features(materialize(X), "X")
        y = np.asarray(y).ravel()
        if y.shape[0] != X.shape[0]:
            raise ValueError(
                f"teach() got {X.shape[0]} rows but {y.shape[0]} labels; give one label per row."
            )
        self.X_training_ = _stack(self.X_training_, X)
        self.y_training_ = y if self.y_training_ is None else np.concatenate([self.y_training_, y])
        if self.bootstrap:
            check_training_labels(self.y_training_, self.y_training_.shape[0])
            for member in self.learner_list:
                pos = self._bootstrap_positions(self.y_training_)
                member.fit(take_rows(self.X_training_, pos), self.y_training_[pos])
        else:
            for member in self.learner_list:
                member.teach(X, y, only_new=only_new)
        return self

    def committee_proba(self, X: Any) -> np.ndarray:
        """Member probabilities aligned on :attr:`classes_`, shape (M, n, C)."""
        classes = self.classes_
        return np.stack(
            [align_proba(m.predict_proba(X), m.classes_, classes) for m in self.learner_list]
        )

    def predict_proba(self, X: Any) -> np.ndarray:
        """Consensus probabilities (mean of the aligned member probabilities)."""
        return self.committee_proba(X).mean(axis=0)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def vote(self, X: Any) -> np.ndarray:
        """Each member's predicted class, shape (n, M)."""
        return np.stack([m.predict(X) for m in self.learner_list], axis=1)

    def score(self, X: Any, y: Any) -> float:
        return float(accuracy_score(y, self.predict(X)))

    def query_result(
        self, X_pool: Any, n_instances: int = 1, *, candidate_ids: Any = None, **context_kwargs: Any
    ) -> QueryResult:
        """Run the strategy and return the full :class:`QueryResult`."""
        X_pool = X_pool if isinstance(X_pool, RowView) else check_features(X_pool, "X_pool")
        ids = (
            np.arange(X_pool.shape[0], dtype=np.int64)
            if candidate_ids is None
            else np.asarray(candidate_ids, dtype=np.int64)
        )
        if not self.is_fitted:
            raise ValueError("the committee has no training data yet: call teach() first.")
        result = query_once(
            self, X_pool, ids, self.strategy_, n_instances,
            X_labeled=self.X_training_, y_labeled=self.y_training_, **context_kwargs,
        )
        self.last_query_ = result
        return result

    def query(self, X_pool: Any, n_instances: int = 1, **kwargs: Any) -> tuple[np.ndarray, Any]:
        """Choose rows of ``X_pool`` where the members disagree most.

        Returns ``(indices, X_pool[indices])`` like :meth:`ActiveLearner.query`.
        """
        result = self.query_result(X_pool, n_instances, **kwargs)
        return result.ids, take_rows(X_pool, result.ids)

    def __repr__(self) -> str:
        return f"Committee(n_members={len(self.learner_list)}, query_strategy={self.query_strategy!r})"
