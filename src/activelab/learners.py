"""Learners with the modAL surface: :class:`ActiveLearner` and :class:`Committee`.

>>> learner = ActiveLearner(estimator=LogisticRegression(), query_strategy="margin",
...                         X_training=X_initial, y_training=y_initial)   # doctest: +SKIP
>>> query_idx, query_instance = learner.query(X_pool, n_instances=10)    # doctest: +SKIP
>>> learner.teach(X_pool[query_idx], y_pool[query_idx])                   # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import check_random_state

from .engine import labelsets
from .engine.tasks import (
    DEFAULT_STRATEGIES,
    Task,
    check_class_labels,
    check_targets,
    infer_task,
    tasks_of,
)
from .outputs import label_marginals
from .pool import RowView, as_rows, check_features, materialize, n_rows, take_rows
from .proba import predict_proba_chunked
from .strategies.base import MODEL_NEEDS, QueryResult, Strategy, needs_of
from .strategies.query import query_once
from .strategies.registry import (
    CallableStrategy,
    available_strategies,
    check_strategy_task,
    get_strategy,
)

__all__ = ["ActiveLearner", "Committee", "check_training_labels", "align_proba"]


#: Class labels are checked by the task seam; kept here under its historical name.
check_training_labels = check_class_labels


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


def _check_new_rows(X: Any, y: Any) -> tuple[Any, np.ndarray]:
    """The rows and labels given to ``teach``, checked to match."""
    X = check_features(materialize(X), "X")
    y = np.asarray(y)
    y = y.ravel() if y.ndim != 2 or y.shape[1] == 1 else y  # keep n x L multi-label tables
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"teach() got {X.shape[0]} rows but {y.shape[0]} labels; give one label per row."
        )
    return X, y


def _check_classes(classes: Any) -> np.ndarray | None:
    """``classes`` as a sorted array of two or more distinct labels (or ``None``)."""
    if classes is None:
        return None
    arr = np.unique(np.asarray(classes).ravel())
    if arr.size < 2:
        raise ValueError(
            f"classes must list every class the labels can take (two or more), got {classes!r}."
        )
    return arr


def _check_known(y: np.ndarray, classes: np.ndarray | None, name: str = "y") -> None:
    if classes is None:
        return
    unknown = np.setdiff1d(np.unique(y), classes)
    if unknown.size:
        raise ValueError(
            f"{name} holds label(s) {unknown.tolist()} that are not in classes="
            f"{classes.tolist()}; add them to classes or fix the labels."
        )


# --------------------------------------------------------------------------- save and load
#: Marks a learner file written by :meth:`ActiveLearner.save` / :meth:`Committee.save`.
FILE_FORMAT = "activelab.learner"
#: Version of the file layout; a file from a newer layout is refused.
FILE_VERSION = 1
#: Packages whose classes :meth:`ActiveLearner.load` trusts without being told.
TRUSTED_PACKAGES = ("sklearn", "numpy", "scipy", "activelab")
_PLAIN_PARAMS = (type(None), bool, int, float, str, np.ndarray, np.generic)


def _skops_io() -> Any:
    try:
        import skops.io as sio
    except ImportError as exc:
        raise ImportError(
            "saving and loading learners uses skops (a safe format, not pickle): "
            "pip install 'activelab[app]' (or pip install skops)."
        ) from exc
    return sio


def _strategy_spec(strategy: Strategy, rng: Any) -> dict[str, Any]:
    """Name, parameters and seed of a registered strategy; refuses what cannot be rebuilt."""
    if isinstance(strategy, CallableStrategy):
        raise TypeError(
            f"the query strategy is a plain function ({getattr(strategy.func, '__name__', '?')}"
            "), which cannot be saved safely; write it as a Strategy subclass registered "
            "with activelab.register_strategy and pass its name."
        )
    name = strategy.name
    if name not in available_strategies() or type(get_strategy(name)) is not type(strategy):
        raise TypeError(
            f"strategy {type(strategy).__name__} is not registered under its name {name!r}, "
            "so it cannot be rebuilt on load; decorate the class with "
            "activelab.register_strategy."
        )
    names = [p for p in inspect.signature(type(strategy).__init__).parameters
             if p not in ("self", "random_state")]
    params = {p: _param_spec(f"{name}.{p}", getattr(strategy, p), rng) for p in names}
    shared = strategy.random_state is rng
    return {"name": name, "params": params, "shares_seed": shared,
            "random_state": None if shared else strategy.random_state}


def _param_spec(where: str, value: Any, rng: Any) -> Any:
    if isinstance(value, Strategy):
        return {"__strategy__": _strategy_spec(value, rng)}
    if isinstance(value, (list, tuple)):
        return type(value)(_param_spec(where, v, rng) for v in value)
    if isinstance(value, dict):
        return {str(k): _param_spec(f"{where}[{k!r}]", v, rng) for k, v in value.items()}
    if isinstance(value, _PLAIN_PARAMS):
        return value
    raise TypeError(
        f"strategy parameter {where}={value!r} ({type(value).__name__}) cannot be saved; "
        "give strategy parameters as numbers, strings, arrays or strategies."
    )


def _strategy_from_spec(spec: dict[str, Any], rng: Any) -> Strategy:
    params = {k: _param_from_spec(v, rng) for k, v in spec["params"].items()}
    seed = rng if spec["shares_seed"] else spec["random_state"]
    return get_strategy(spec["name"], random_state=seed, **params)


def _param_from_spec(value: Any, rng: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"__strategy__"}:
        return _strategy_from_spec(value["__strategy__"], rng)
    if isinstance(value, (list, tuple)):
        return type(value)(_param_from_spec(v, rng) for v in value)
    if isinstance(value, dict):
        return {k: _param_from_spec(v, rng) for k, v in value.items()}
    return value


def _query_state(obj: Any) -> dict[str, Any]:
    """What a learner or a committee saves of how it queries: the strategy it was
    given (a name), the strategy it uses, its seed and its random generator."""
    rs_is_rng = obj.random_state is obj._rng
    return {
        "query_strategy": obj.query_strategy if isinstance(obj.query_strategy, str) else None,
        "strategy": _strategy_spec(obj.strategy_, obj._rng),
        "random_state": None if rs_is_rng else obj.random_state,
        "random_state_is_rng": rs_is_rng,
        "rng": obj._rng,
    }


def _restore_query_state(obj: Any, state: dict[str, Any]) -> None:
    """Set what :func:`_query_state` saved back on a learner or a committee."""
    obj._rng = state["rng"]
    obj.random_state = obj._rng if state["random_state_is_rng"] else state["random_state"]
    obj.strategy_ = _strategy_from_spec(state["strategy"], obj._rng)
    obj.query_strategy = state["query_strategy"] or obj.strategy_


def _is_trusted_type(name: str) -> bool:
    """Whether ``name`` is a class of one of :data:`TRUSTED_PACKAGES`."""
    module, _, attr = name.rpartition(".")
    if module.split(".", 1)[0] not in TRUSTED_PACKAGES:
        return False
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return False
    return inspect.isclass(obj)


def _write_file(path: str | os.PathLike[str], kind: str, state: dict[str, Any]) -> Path:
    sio = _skops_io()
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"the folder {str(path.parent)!r} does not exist; create it first "
            "(Path(path).parent.mkdir(parents=True))."
        )
    from . import __version__

    sio.dump({"format": FILE_FORMAT, "version": FILE_VERSION, "activelab": __version__,
              "kind": kind, "state": state}, path)
    return path


def _read_file(path: str | os.PathLike[str], kind: str, trusted: Sequence[str]) -> dict:
    """The state saved in ``path``, after refusing any type that is not trusted."""
    sio = _skops_io()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no learner file at {str(path)!r}.")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # not a zip, or not a skops file
        raise ValueError(f"{str(path)!r} is not a file written by save(): {exc}") from exc
    refused = sorted(t for t in untrusted if t not in set(trusted) and not _is_trusted_type(t))
    if refused:
        raise TypeError(
            f"{str(path)!r} holds types outside {', '.join(TRUSTED_PACKAGES)}: "
            f"{', '.join(refused)}; load only files you trust, and name those types in "
            "trusted=[...] to load it."
        )
    content = sio.load(path, trusted=untrusted)
    if not isinstance(content, dict) or content.get("format") != FILE_FORMAT:
        raise ValueError(f"{str(path)!r} is not a learner file written by save().")
    if int(content.get("version", 0)) > FILE_VERSION:
        raise ValueError(
            f"{str(path)!r} was written by a newer activelab ({content.get('activelab')}); "
            "upgrade activelab to load it."
        )
    if content.get("kind") != kind:
        raise ValueError(
            f"{str(path)!r} holds a {content.get('kind')}; load it with "
            f"{content.get('kind')}.load()."
        )
    return content["state"]


class ActiveLearner:
    """A classifier plus a query strategy (modAL-compatible).

    Parameters
    ----------
    estimator : scikit-learn classifier
        Cloned; the given object is never fitted or changed.
    query_strategy : str, Strategy, callable or None, default=None
        A registered strategy name (see :func:`activelab.available_strategies`), a
        strategy object, or a function ``(estimator, X, n_instances) -> indices``.
        None uses the task's default (:data:`activelab.engine.tasks.DEFAULT_STRATEGIES`):
        ``"margin"`` for classification, ``"multilabel_margin"`` for multi-label targets,
        ``"greedy_io"`` for a regressor.
    X_training, y_training : array-like, optional
        Initial labeled data; the learner is fitted on it at once.  Class labels
        (1-D), an ``n x L`` 0/1 indicator matrix (multi-label), or real numbers with a
        regressor (regression).
    random_state : int, RandomState or None
        Seed for the strategy's tie breaking and any randomness it uses.
    classes : array-like, optional
        Every class the labels can take.  Only needed to train incrementally
        (``teach(..., only_new=True)``) from batches that do not all hold every class:
        ``partial_fit`` learns its classes on its first call and cannot add one later.
    **fit_kwargs
        Passed to ``estimator.fit`` (not to ``partial_fit``).

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone (absent until the learner has training data).
    X_training_, y_training_ : the data the learner was fitted on.
    last_query_ : QueryResult
        The full result of the latest :meth:`query` (chosen ids and utilities).
    task_ : Task
        The kind of target learnt (classification, multi-label or regression), known from
        the estimator and the first labels.
    """

    def __init__(
        self,
        estimator: Any,
        query_strategy: Any = None,
        X_training: Any = None,
        y_training: Any = None,
        *,
        random_state: Any = None,
        classes: Any = None,
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
        if query_strategy is not None:
            self.strategy_ = get_strategy(query_strategy, random_state=self._rng)
        self.task_ = self._initial_task(y_training)
        self.strategy_ = self._strategy_for(self.task_)
        self.fit_kwargs = fit_kwargs
        self.classes = _check_classes(classes)
        self.X_training_: Any = None
        self.y_training_: np.ndarray | None = None
        if (X_training is None) != (y_training is None):
            raise ValueError("give both X_training and y_training, or neither.")
        if X_training is not None:
            self.fit(X_training, y_training)

    def _strategy_for(self, task: Task) -> Strategy:
        """The strategy for ``task``: the user's, checked, or the task's default."""
        spec = DEFAULT_STRATEGIES[task] if self.query_strategy is None else self.query_strategy
        current = getattr(self, "strategy_", None)
        if self.query_strategy is not None and current is not None:
            strategy = current  # the user's choice is built once
        elif current is not None and getattr(current, "name", None) == spec:
            strategy = current
        else:
            strategy = get_strategy(spec, random_state=self._rng)
        check_strategy_task(strategy, task)
        return strategy

    def _initial_task(self, y_training: Any) -> Task:
        """The task known before fitting: from the targets or the estimator; with neither,
        the task of a user's strategy that serves one task only (e.g. ``"cvirs"``)."""
        task = infer_task(y_training, self.estimator)
        strategy = getattr(self, "strategy_", None)
        if y_training is None and task is Task.CLASSIFICATION and strategy is not None:
            served = tasks_of(strategy)
            if Task.CLASSIFICATION not in served and len(served) == 1:
                return next(iter(served))
        return task

    def _set_task(self, y: Any) -> Task:
        task = infer_task(y, self.estimator)
        if task is not self.task_ or not hasattr(self, "strategy_"):
            self.strategy_ = self._strategy_for(task)
        else:
            check_strategy_task(self.strategy_, task)
        self.task_ = task
        return task

    # ------------------------------------------------------------- training
    def fit(self, X: Any, y: Any) -> ActiveLearner:
        """Fit a fresh clone of the estimator on ``X, y`` (replacing the training data)."""
        X = check_features(X, "X_training")
        y = self._label_table(y, "y_training")
        task = self._set_task(y)
        y = check_targets(y, X.shape[0], task)
        if task is Task.CLASSIFICATION:
            _check_known(y, self.classes, "y_training")
        if task is Task.MULTILABEL:
            labelsets.check_label_table(y)
            self.estimator_ = labelsets.fit_multilabel(
                clone(self.estimator), X, y, self._column_labels(y.shape[1]), **self.fit_kwargs
            )
        else:
            self.estimator_ = clone(self.estimator).fit(X, y, **self.fit_kwargs)
        self.X_training_, self.y_training_ = X, y
        return self

    def _label_table(self, y: Any, name: str) -> Any:
        """Lists of labels as the learner's 0/1 table (its binarizer kept); else ``y``."""
        binarizer = getattr(self, "label_binarizer_", None)
        if (binarizer is None and self.y_training_ is not None and name != "y_training"
                and labelsets.is_label_lists(y)):
            raise TypeError(
                f"{name} is lists of labels but the learner learnt from a 0/1 table; give "
                f"{name} as a table with the same columns (or start the learner from lists)."
            )
        y, binarizer = labelsets.to_indicator(y, binarizer, self.classes, name)
        if binarizer is not None:
            self.label_binarizer_ = binarizer
        return y

    def _column_labels(self, width: int) -> np.ndarray:
        binarizer = getattr(self, "label_binarizer_", None)
        if binarizer is not None:
            return np.asarray(binarizer.classes_)
        if self.classes is not None and len(self.classes) == width:
            return self.classes
        return np.arange(width)

    @property
    def labels_(self) -> np.ndarray:
        """Multi-label: the label of each column of the 0/1 table, in column order.

        The binarizer's classes when the labels were given as lists, ``classes`` when
        given with one entry per column, else ``0 .. L-1``.
        """
        if self.y_training_ is None or self.y_training_.ndim != 2:
            raise AttributeError("labels_ is set once the learner has learnt multi-label targets.")
        return self._column_labels(self.y_training_.shape[1])

    def teach(self, X: Any, y: Any, only_new: bool = False) -> ActiveLearner:
        """Add labeled rows and update the model.

        Parameters
        ----------
        X, y : the new rows and their labels.
        only_new : bool, default=False
            ``False``: refit a fresh clone on the whole training set.  ``True``: update
            the model with ``partial_fit`` on the new rows only (for estimators that
            learn incrementally, e.g. ``SGDClassifier``, ``MultinomialNB``).  The
            training set grows in both cases.

        Raises
        ------
        TypeError
            With ``only_new=True`` when the estimator has no ``partial_fit``.
        ValueError
            With ``only_new=True`` when the new labels hold a class the model has not
            learnt (``partial_fit`` cannot add classes): refit with ``only_new=False``
            or give every class up front with ``classes=``.
            For multi-label learners: labels that are not in the learner's table, or
            targets of another shape than the table's rows (1-D after 2-D).
        """
        y = self._teach_targets(X, y)
        X, y = _check_new_rows(X, y)
        if only_new:
            self._teach_incremental(X, y)
        else:
            y_all = y if self.y_training_ is None else np.concatenate([self.y_training_, y])
            self.fit(_stack(self.X_training_, X), y_all)
        return self

    def _teach_targets(self, X: Any, y: Any) -> Any:
        """The new targets as the training table's kind (label lists mapped, a single
        row's 0/1 vector made a 1 x L table); refuses a change of kind."""
        y = self._label_table(y, "y")
        previous = self.y_training_
        width = previous.shape[1] if previous is not None and previous.ndim == 2 else None
        y = labelsets.single_row_labels(y, n_rows(X), width)
        labelsets.check_same_kind(previous, y)
        return y

    def _teach_incremental(self, X: Any, y: np.ndarray) -> None:
        task = self._set_task(y)
        if task is Task.MULTILABEL:
            raise ValueError(
                "teach(only_new=True) is for classification and regression; refit multi-label "
                "models with teach(X, Y)."
            )
        if task is Task.REGRESSION:
            y = check_targets(y, X.shape[0], task, "y")
            if not hasattr(self.estimator, "partial_fit"):
                self._incremental_classes(y)  # raises the clear TypeError
            model = self.estimator_ if self.is_fitted else clone(self.estimator)
            self.estimator_ = model.partial_fit(X, y)
        else:
            self._partial_fit(X, y, self._incremental_classes(y))
        self._grow(X, y)

    def _grow(self, X: Any, y: np.ndarray) -> None:
        self.X_training_ = _stack(self.X_training_, X)
        self.y_training_ = y if self.y_training_ is None else np.concatenate([self.y_training_, y])

    def _incremental_classes(self, y: np.ndarray, classes: Any = None) -> np.ndarray:
        """The classes for ``partial_fit``; refuses what incremental training cannot do.

        ``classes`` (from a committee) is used when the learner was given none itself.
        """
        if not hasattr(self.estimator, "partial_fit"):
            raise TypeError(
                f"teach(only_new=True) updates the model with partial_fit, which "
                f"{type(self.estimator).__name__} does not have; use teach(X, y) (a refit on "
                "all labels) or an incremental estimator such as SGDClassifier or "
                "MultinomialNB."
            )
        given = self.classes if self.classes is not None or classes is None else np.asarray(classes)
        _check_known(y, given)
        if not self.is_fitted:
            known = given if given is not None else np.unique(y)
            if known.size < 2:
                raise ValueError(
                    f"the first incremental batch holds a single class ({known[0]!r}) and no "
                    "classes were given; pass classes=[...all classes...] to the learner."
                )
            return known
        known = np.asarray(self.estimator_.classes_)
        new = np.setdiff1d(np.unique(y), known)
        if new.size:
            raise ValueError(
                f"the new labels hold class(es) {new.tolist()} that the model has not learnt "
                f"(it knows {known.tolist()}), and partial_fit cannot add classes; use "
                "teach(X, y, only_new=False) to refit on all labels, or give every class up "
                "front (ActiveLearner(..., classes=[...]) without X_training, then "
                "teach(..., only_new=True))."
            )
        return known

    def _partial_fit(self, X: Any, y: np.ndarray, classes: np.ndarray) -> None:
        if self.is_fitted:
            self.estimator_.partial_fit(X, y)
        else:
            self.estimator_ = clone(self.estimator).partial_fit(X, y, classes=classes)

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
        """Predicted classes (multi-label: the n x L 0/1 table, columns as ``labels_``)."""
        pred = self._fitted().predict(materialize(X))
        if self.task_ is Task.MULTILABEL:
            pred = pred.toarray() if sp.issparse(pred) else np.asarray(pred)
            return pred.astype(np.int8)
        return pred

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, n x C (multi-label: P(label j applies), n x L)."""
        if self.task_ is Task.MULTILABEL:
            return label_marginals(self._fitted(), X)
        return predict_proba_chunked(self._fitted(), X)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy on ``X, y`` (subset accuracy for multi-label, R² for regression)."""
        if self.task_ is Task.REGRESSION:
            return float(r2_score(np.asarray(y, dtype=np.float64), self.predict(X)))
        if self.task_ is Task.MULTILABEL:
            y = self._label_table(y, "y")
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
        X_pool = as_rows(X_pool, "X_pool")  # a list of rows is converted once
        result = self.query_result(X_pool, n_instances, **kwargs)
        return result.ids, take_rows(X_pool, result.ids)

    # ----------------------------------------------------------- save, load
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the learner to ``path`` with skops (a safe format; never pickle).

        The file holds the estimator (fitted and unfitted), the training set, the
        strategy's name, parameters and seed, ``classes`` and the random state, so that
        :meth:`load` gives a learner that predicts and queries like this one.  State a
        strategy learns while running (the ``auto`` bandit's arm weights) is not saved.

        Raises
        ------
        TypeError
            When the strategy is a plain function or an unregistered class (it could
            not be rebuilt by name), or has parameters that are not plain values.
        ImportError
            Without skops (``pip install 'activelab[app]'``).
        """
        return _write_file(path, "ActiveLearner", self._state())

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, trusted: Sequence[str] = ()) -> ActiveLearner:
        """Load a learner written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
        trusted : sequence of str, default=()
            Fully qualified names of further types to trust.  Classes of scikit-learn,
            NumPy, SciPy and activelab are trusted; any other type the file holds (see
            ``skops.io.get_untrusted_types``) is refused with its name, unless listed here.

        Raises
        ------
        TypeError
            When the file holds types that are not trusted.
        ValueError
            When the file is not a learner file, or holds a :class:`Committee`.
        """
        return cls._from_state(_read_file(path, "ActiveLearner", trusted))

    def _state(self) -> dict[str, Any]:
        return {
            "estimator": clone(self.estimator),
            "estimator_": getattr(self, "estimator_", None),
            **_query_state(self),
            "classes": self.classes,
            "fit_kwargs": dict(self.fit_kwargs),
            "X_training": self.X_training_,
            "y_training": self.y_training_,
            "label_binarizer": getattr(self, "label_binarizer_", None),
        }

    @classmethod
    def _from_state(cls, state: dict[str, Any]) -> ActiveLearner:
        learner = cls.__new__(cls)
        learner.estimator = state["estimator"]
        _restore_query_state(learner, state)
        learner.classes = state["classes"]
        learner.fit_kwargs = dict(state["fit_kwargs"])
        learner.X_training_, learner.y_training_ = state["X_training"], state["y_training"]
        learner.task_ = infer_task(learner.y_training_, learner.estimator)
        if state.get("label_binarizer") is not None:
            learner.label_binarizer_ = state["label_binarizer"]
        if state["estimator_"] is not None:
            learner.estimator_ = state["estimator_"]
        return learner

    def __repr__(self) -> str:
        return (
            f"ActiveLearner(estimator={self.estimator!r}, "
            f"query_strategy={self.query_strategy!r})"
        )


#: The committee strategy when none is named, per task of the members.
_COMMITTEE_DEFAULTS = {Task.CLASSIFICATION: "vote_entropy", Task.REGRESSION: "qbc_variance",
                       Task.MULTILABEL: "multilabel_margin"}


def _committee_task(members: Sequence[ActiveLearner]) -> Task:
    """Regression when every member is a regressor, classification when none is."""
    kinds = {infer_task(None, m.estimator) is Task.REGRESSION for m in members}
    if len(kinds) > 1:
        raise ValueError(
            "the committee mixes classifiers and regressors; give members of one kind."
        )
    if kinds == {True}:
        return Task.REGRESSION
    if any(m.is_fitted and m.task_ is Task.MULTILABEL for m in members):
        return Task.MULTILABEL
    return Task.CLASSIFICATION


def _strategy_task(strategy: Strategy, task: Task) -> Task:
    """Multi-label for classifier members whose strategy serves multi-label only."""
    if task is Task.CLASSIFICATION and tasks_of(strategy) == {Task.MULTILABEL}:
        return Task.MULTILABEL
    return task


class Committee:
    """A committee of learners whose disagreement drives the queries (modAL-compatible).

    Members may be different algorithms (e.g. random forest, logistic regression,
    ``SVC(probability=True)``) and may have seen different classes; their
    probabilities are aligned on the union of classes before being combined.  Members
    may also be regressors (all of them): the committee then predicts the mean of their
    predictions and its queries read :meth:`committee_predictions` (``qbc_variance``).

    Parameters
    ----------
    learner_list : list of ActiveLearner, classifiers or regressors
        The members.  Plain estimators are wrapped in :class:`ActiveLearner`.
    query_strategy : str, Strategy, callable or None, default="vote_entropy"
        None, or the default ``"vote_entropy"`` with regressors, is the committee
        strategy of the members' task: ``vote_entropy`` for classifiers,
        ``qbc_variance`` for regressors.
    bootstrap : bool, default=False
        When True, every :meth:`teach` refits each member on its own bootstrap
        resample of all the committee's labels (bagging).
    random_state : int, RandomState or None
    classes : array-like, optional
        Every class the labels can take, for incremental training
        (``teach(..., only_new=True)``); see :class:`ActiveLearner`.

    Notes
    -----
    Like modAL's, a committee is a sequence of its members: ``len(committee)``,
    ``for learner in committee`` and ``committee[i]`` give the member
    :class:`ActiveLearner` objects.

    Examples
    --------
    >>> committee = Committee.bagging(LogisticRegression(), n_members=5,
    ...                               X_training=X0, y_training=y0)   # doctest: +SKIP
    >>> [len(member.y_training_) for member in committee]             # doctest: +SKIP
    """

    def __init__(
        self,
        learner_list: Sequence[Any],
        query_strategy: Any = "vote_entropy",
        *,
        bootstrap: bool = False,
        random_state: Any = None,
        classes: Any = None,
    ) -> None:
        if len(learner_list) < 2:
            raise ValueError(
                f"a committee needs at least 2 members, got {len(learner_list)}."
            )
        self.learner_list = [
            m if isinstance(m, ActiveLearner) else ActiveLearner(m, query_strategy="random")
            for m in learner_list
        ]
        self.task_ = _committee_task(self.learner_list)
        if query_strategy is None or (query_strategy == "vote_entropy"
                                      and self.task_ is Task.REGRESSION):
            query_strategy = _COMMITTEE_DEFAULTS[self.task_]
        self.query_strategy = query_strategy
        self.bootstrap = bootstrap
        self.random_state = random_state
        self._rng = check_random_state(random_state)
        self.strategy_ = get_strategy(query_strategy, random_state=self._rng)
        self.task_ = _strategy_task(self.strategy_, self.task_)
        check_strategy_task(self.strategy_, self.task_)
        self.classes = _check_classes(classes)
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
        classes: Any = None,
    ) -> Committee:
        """A committee of ``n_members`` clones of one estimator, each on a bootstrap resample."""
        if n_members < 2:
            raise ValueError(f"n_members must be at least 2, got {n_members}.")
        committee = cls(
            [ActiveLearner(clone(estimator), query_strategy="random") for _ in range(n_members)],
            query_strategy=query_strategy,
            bootstrap=True,
            random_state=random_state,
            classes=classes,
        )
        if X_training is not None:
            committee.teach(X_training, y_training)
        return committee

    # ------------------------------------------------------------ members
    def __len__(self) -> int:
        """Number of members."""
        return len(self.learner_list)

    def __iter__(self) -> Iterator[ActiveLearner]:
        """The member learners, in order."""
        return iter(self.learner_list)

    def __getitem__(self, index: int) -> ActiveLearner:
        """Member ``index`` (a slice gives a list of members)."""
        return self.learner_list[index]

    @property
    def is_fitted(self) -> bool:
        return all(m.is_fitted for m in self.learner_list)

    @property
    def classes_(self) -> np.ndarray:
        if not self.is_fitted:
            raise ValueError("the committee has no training data yet: call teach() first.")
        if self._multilabel():  # the label columns, as OneVsRestClassifier's classes_
            return np.arange(self.y_training_.shape[1])
        return np.unique(np.concatenate([np.asarray(m.classes_) for m in self.learner_list]))

    def _bootstrap_positions(self, y: np.ndarray) -> np.ndarray:
        if y.ndim == 2:  # multi-label: keep both values of every label that has both
            return labelsets.bootstrap_rows(y, self._rng)
        n = y.shape[0]
        positions = self._rng.randint(0, n, size=n)
        if self.task_ is not Task.CLASSIFICATION:
            return positions
        missing = np.setdiff1d(np.unique(y), np.unique(y[positions]))
        if missing.size:
            # keep every class present so each member can be fitted
            extra = [self._rng.choice(np.flatnonzero(y == c)) for c in missing]
            positions = np.concatenate([positions, np.asarray(extra, dtype=np.int64)])
        return positions

    def teach(self, X: Any, y: Any, only_new: bool = False) -> Committee:
        """Teach every member the new labels.

        Parameters
        ----------
        X, y : the new rows and their labels.
        only_new : bool, default=False
            ``False``: each member is refitted (on its bootstrap resample of all the
            committee's labels when ``bootstrap``, else on all its labels).  ``True``:
            each member is updated with ``partial_fit`` on the new rows only (on its own
            bootstrap resample of them when ``bootstrap``); see
            :meth:`ActiveLearner.teach` for what is refused.
        """
        if labelsets.is_label_lists(y):
            raise TypeError(
                "a Committee learns multi-label targets as an n x L 0/1 table; turn the lists "
                "of labels into one first, e.g. MultiLabelBinarizer().fit_transform(y)."
            )
        labelsets.check_same_kind(self.y_training_, y)
        X, y = _check_new_rows(X, y)
        self._task_of_labels(y)
        if only_new:
            self._teach_incremental(X, y)
            return self
        self.X_training_ = _stack(self.X_training_, X)
        self.y_training_ = y if self.y_training_ is None else np.concatenate([self.y_training_, y])
        if self.bootstrap:
            check_targets(self.y_training_, self.y_training_.shape[0], self.task_)
            for member in self.learner_list:
                pos = self._bootstrap_positions(self.y_training_)
                member.fit(take_rows(self.X_training_, pos), self.y_training_[pos])
        else:
            for member in self.learner_list:
                member.teach(X, y)
        return self

    def _task_of_labels(self, y: np.ndarray) -> None:
        """A label table makes the committee multi-label (the default ``vote_entropy``
        becomes ``multilabel_margin``); refuses a strategy that does not serve the task."""
        if self.task_ is Task.REGRESSION:
            return
        task = Task.MULTILABEL if y.ndim == 2 else Task.CLASSIFICATION
        if task is Task.MULTILABEL and self.task_ is not task and \
                self.query_strategy == _COMMITTEE_DEFAULTS[Task.CLASSIFICATION]:
            self.strategy_ = get_strategy(_COMMITTEE_DEFAULTS[task], random_state=self._rng)
        check_strategy_task(self.strategy_, task)
        self.task_ = task

    def _teach_incremental(self, X: Any, y: np.ndarray) -> None:
        if self.task_ is Task.REGRESSION:
            self._teach_incremental_regression(X, y)
            return
        classes = self.classes
        if classes is None:
            seen = y if self.y_training_ is None else np.concatenate([self.y_training_, y])
            classes = np.unique(seen)
        # check every member before changing any
        known = [m._incremental_classes(y, classes) for m in self.learner_list]
        for member, member_classes in zip(self.learner_list, known, strict=True):
            if self.bootstrap:
                pos = self._rng.randint(0, y.shape[0], size=y.shape[0])
                X_m, y_m = take_rows(X, pos), y[pos]
            else:
                X_m, y_m = X, y
            member._partial_fit(X_m, y_m, member_classes)
            member._grow(X_m, y_m)
        self.X_training_ = _stack(self.X_training_, X)
        self.y_training_ = y if self.y_training_ is None else np.concatenate([self.y_training_, y])

    def _teach_incremental_regression(self, X: Any, y: np.ndarray) -> None:
        y = check_targets(y, X.shape[0], Task.REGRESSION, "y")
        for member in self.learner_list:  # each checks partial_fit before any fits
            if not hasattr(member.estimator, "partial_fit"):
                member._incremental_classes(y)  # raises the clear TypeError
        for member in self.learner_list:
            pos = self._rng.randint(0, y.shape[0], size=y.shape[0]) if self.bootstrap \
                else np.arange(y.shape[0])
            member.teach(take_rows(X, pos), y[pos], only_new=True)
        self.X_training_ = _stack(self.X_training_, X)
        self.y_training_ = y if self.y_training_ is None else np.concatenate([self.y_training_, y])

    def committee_proba(self, X: Any) -> np.ndarray:
        """Member probabilities aligned on :attr:`classes_`, shape (M, n, C).

        Multi-label: each member's P(label j applies), shape (M, n, L).
        """
        if self._multilabel():
            return np.stack([m.predict_proba(X) for m in self.learner_list])
        classes = self.classes_
        return np.stack(
            [align_proba(m.predict_proba(X), m.classes_, classes) for m in self.learner_list]
        )

    def predict_proba(self, X: Any) -> np.ndarray:
        """Consensus probabilities (mean of the aligned member probabilities)."""
        return self.committee_proba(X).mean(axis=0)

    def predict(self, X: Any) -> np.ndarray:
        """The consensus: most probable class, the members' mean prediction (regression), or
        the labels whose mean P is at least 0.5 (multi-label)."""
        if self.task_ is Task.REGRESSION:
            return self.committee_predictions(X).mean(axis=0)
        if self._multilabel():
            return (self.predict_proba(X) >= 0.5).astype(np.int8)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def _multilabel(self) -> bool:
        """Whether the committee learns an n x L label table."""
        return self.task_ is Task.MULTILABEL

    def committee_predictions(self, X: Any) -> np.ndarray:
        """Regression: each member's prediction, shape (M, n), float64."""
        if not self.is_fitted:
            raise ValueError("the committee has no training data yet: call teach() first.")
        return np.stack(
            [np.asarray(m.predict(X), dtype=np.float64).ravel() for m in self.learner_list]
        )

    def vote(self, X: Any) -> np.ndarray:
        """Each member's predicted class, shape (n, M)."""
        return np.stack([m.predict(X) for m in self.learner_list], axis=1)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy on ``X, y`` (R² for a committee of regressors)."""
        if self.task_ is Task.REGRESSION:
            return float(r2_score(np.asarray(y, dtype=np.float64), self.predict(X)))
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
        if self._multilabel():
            check_strategy_task(self.strategy_, Task.MULTILABEL)
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
        X_pool = as_rows(X_pool, "X_pool")  # a list of rows is converted once
        result = self.query_result(X_pool, n_instances, **kwargs)
        return result.ids, take_rows(X_pool, result.ids)

    # ----------------------------------------------------------- save, load
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the committee (every member, the strategy, the labels) with skops.

        See :meth:`ActiveLearner.save`; the members' own strategies are saved too.
        """
        state = {
            "members": [m._state() for m in self.learner_list],
            **_query_state(self),
            "bootstrap": bool(self.bootstrap),
            "classes": self.classes,
            "X_training": self.X_training_,
            "y_training": self.y_training_,
        }
        return _write_file(path, "Committee", state)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, trusted: Sequence[str] = ()) -> Committee:
        """Load a committee written by :meth:`save` (``trusted`` as in
        :meth:`ActiveLearner.load`)."""
        state = _read_file(path, "Committee", trusted)
        committee = cls.__new__(cls)
        committee.learner_list = [ActiveLearner._from_state(m) for m in state["members"]]
        _restore_query_state(committee, state)
        committee.bootstrap = state["bootstrap"]
        committee.task_ = _committee_task(committee.learner_list)
        committee.classes = state["classes"]
        committee.X_training_, committee.y_training_ = state["X_training"], state["y_training"]
        return committee

    def __repr__(self) -> str:
        return f"Committee(n_members={len(self.learner_list)}, query_strategy={self.query_strategy!r})"
