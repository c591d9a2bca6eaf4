"""The model table: one meaning per model name, for every face.

``activelab simulate``, ``activelab benchmark``, the labeling app, the Label Studio backend
and the reproductions all build their classifiers with :func:`make_model`, so ``logreg``
trains the same model everywhere.  Scaling is sparse-safe (dense features are centred and
scaled, sparse ones only scaled, so TF-IDF matrices stay sparse) and ``svm`` is calibrated
(Platt scaling by cross-validation) rather than the deprecated ``SVC(probability=True)``.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    TransformerMixin,
    clone,
    is_classifier,
    is_regressor,
)
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "MODELS",
    "REGRESSION_MODELS",
    "DEFAULT_MODELS",
    "make_model",
    "multilabel_model",
    "SparseSafeScaler",
    "CalibratedSVC",
    "AutoNaiveBayes",
]

#: Model names accepted by :func:`make_model` and what each builds.
MODELS: dict[str, str] = {
    "logreg": "SparseSafeScaler + LogisticRegression(max_iter=1000)",
    "rf": "RandomForestClassifier(n_estimators=100)",
    "svm": "SparseSafeScaler + CalibratedSVC (SVC with sigmoid calibration by CV)",
    "knn": "SparseSafeScaler + KNeighborsClassifier(n_neighbors=5)",
    "nb": "AutoNaiveBayes (GaussianNB on dense features, ComplementNB on sparse ones)",
}


#: Regressor names accepted by ``make_model(..., task="regression")``.
REGRESSION_MODELS: dict[str, str] = {
    "ridge": "SparseSafeScaler + Ridge(alpha=1.0)",
    "bayes_ridge": "SparseSafeScaler + BayesianRidge (predictive std)",
    "gp": "SparseSafeScaler + GaussianProcessRegressor(RBF + white noise, normalize_y)",
    "rf": "RandomForestRegressor(n_estimators=100)",
    "knn": "SparseSafeScaler + KNeighborsRegressor(n_neighbors=5)",
    "svm": "SparseSafeScaler + SVR(C=1.0)",
    "qrf": "quantile_forest.RandomForestQuantileRegressor(n_estimators=100) (extra 'quantile')",
}

#: The model a face builds when the user names none, per task.
DEFAULT_MODELS: dict[str, str] = {
    "classification": "logreg", "multilabel": "logreg", "regression": "ridge",
}


class SparseSafeScaler(TransformerMixin, BaseEstimator):
    """Standardise features: centre and scale dense input, only scale sparse input.

    A ``StandardScaler`` that never fails with "Cannot center sparse matrices" and never
    turns a sparse matrix dense.

    Attributes
    ----------
    scaler_ : StandardScaler
        The fitted scaler (``with_mean=False`` when the training input was sparse).
    """

    def fit(self, X: Any, y: Any = None) -> SparseSafeScaler:
        from sklearn.preprocessing import StandardScaler

        self.scaler_ = StandardScaler(with_mean=not sp.issparse(X)).fit(X)
        return self

    def transform(self, X: Any) -> Any:
        check_is_fitted(self, "scaler_")
        if sp.issparse(X) and self.scaler_.with_mean:
            X = X.toarray()
        return self.scaler_.transform(X)


class CalibratedSVC(ClassifierMixin, BaseEstimator):
    """An RBF support vector classifier with calibrated probabilities.

    Sigmoid (Platt) calibration by stratified cross-validation with
    ``min(cv, smallest class count)`` folds, so that it fits on the small labeled sets of
    active learning; with a class of one example the calibration is fitted on the training
    set itself.

    Parameters
    ----------
    C : float, default=1.0
    cv : int, default=5
        Largest number of calibration folds.
    random_state : int, RandomState or None
    """

    def __init__(self, C: float = 1.0, cv: int = 5, random_state: Any = None) -> None:
        self.C = C
        self.cv = cv
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> CalibratedSVC:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import SVC

        y = np.asarray(y)
        self.classes_, counts = np.unique(y, return_counts=True)
        svc = SVC(C=self.C, random_state=self.random_state)
        folds = int(min(self.cv, counts.min()))
        if folds >= 2:
            self.model_ = CalibratedClassifierCV(svc, cv=folds, ensemble=False).fit(X, y)
        else:
            from sklearn.frozen import FrozenEstimator

            self.model_ = CalibratedClassifierCV(FrozenEstimator(svc.fit(X, y))).fit(X, y)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class AutoNaiveBayes(ClassifierMixin, BaseEstimator):
    """Naive Bayes that fits the features it is given.

    ``GaussianNB`` on dense features; ``ComplementNB`` on sparse ones (word counts, TF-IDF),
    where a Gaussian model would need a dense copy and fits poorly.
    """

    def fit(self, X: Any, y: Any) -> AutoNaiveBayes:
        from sklearn.naive_bayes import ComplementNB, GaussianNB

        self.model_ = (ComplementNB() if sp.issparse(X) else GaussianNB()).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict(X)


def _build_named(name: str, random_state: Any) -> Any:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline

    if name == "logreg":
        return make_pipeline(
            SparseSafeScaler(), LogisticRegression(max_iter=1000, random_state=random_state)
        )
    if name == "rf":
        return RandomForestClassifier(n_estimators=100, random_state=random_state)
    if name == "svm":
        return make_pipeline(SparseSafeScaler(), CalibratedSVC(random_state=random_state))
    if name == "knn":
        return make_pipeline(SparseSafeScaler(), KNeighborsClassifier(n_neighbors=5))
    return AutoNaiveBayes()


def _build_regressor(name: str, random_state: Any) -> Any:
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
    from sklearn.linear_model import BayesianRidge, Ridge
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVR

    if name == "rf":
        return RandomForestRegressor(n_estimators=100, random_state=random_state)
    if name == "qrf":
        return _quantile_forest(random_state)
    kernel = ConstantKernel() * RBF() + WhiteKernel()
    final = {
        "ridge": lambda: Ridge(alpha=1.0),
        "bayes_ridge": BayesianRidge,
        "gp": lambda: GaussianProcessRegressor(
            kernel, normalize_y=True, random_state=random_state),
        "knn": lambda: KNeighborsRegressor(n_neighbors=5),
        "svm": lambda: SVR(C=1.0),
    }[name]()
    return make_pipeline(SparseSafeScaler(), final)


def _quantile_forest(random_state: Any) -> Any:
    try:
        from quantile_forest import RandomForestQuantileRegressor
    except ImportError:
        raise ImportError(
            "model 'qrf' is a quantile regression forest from the quantile-forest package: "
            "pip install 'activelab[quantile]' (or pip install quantile-forest)."
        ) from None
    return RandomForestQuantileRegressor(n_estimators=100, random_state=random_state)


def _import_class(spec: str) -> type:
    if ":" in spec:
        module_name, _, class_name = spec.partition(":")
    else:
        module_name, _, class_name = spec.rpartition(".")
    if not module_name or not class_name:
        raise ValueError(
            f"unknown model {spec!r}; choose one of {', '.join(MODELS)} or give "
            "'module:Class' (e.g. sklearn.ensemble:ExtraTreesClassifier)."
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(
            f"cannot import module {module_name!r} for model {spec!r} ({exc}); check the "
            "spelling or install the package."
        ) from exc
    cls = getattr(module, class_name, None)
    if cls is None or not inspect.isclass(cls):
        raise ValueError(
            f"module {module_name!r} has no class {class_name!r}; check the model name {spec!r}."
        )
    return cls


def _check_proba(est: Any, name: str) -> None:
    if not hasattr(est, "predict_proba"):
        raise TypeError(
            f"model {name!r} has no predict_proba, which query strategies need; use a "
            "probabilistic classifier (for a support vector machine use 'svm')."
        )


def make_model(spec: Any = "logreg", random_state: Any = None, task: Any = None) -> Any:
    """A probabilistic classifier (or a regressor) from a name, an import path, or an estimator.

    Parameters
    ----------
    spec : str or classifier, default="logreg"
        One of :data:`MODELS` (``logreg``, ``rf``, ``svm``, ``knn``, ``nb``; case does not
        matter); or ``"module:Class"`` / ``"module.Class"`` naming any scikit-learn style
        classifier, built with its defaults (and ``random_state`` when it takes one); or an
        estimator, which is cloned.
    random_state : int, RandomState or None
        Seed of the models that take one.
    task : {"classification", "multilabel", "regression"}, optional
        ``"regression"`` reads names from :data:`REGRESSION_MODELS` (``ridge``,
        ``bayes_ridge``, ``gp``, ``rf``, ``knn``, ``svm``) and wants a regressor, which
        needs no ``predict_proba``; a regressor given as an object or import path is
        accepted whatever ``task`` says.  ``"multilabel"`` wraps a classifier that is not
        natively multi-label (``logreg``, ``svm``, ``nb``) in ``OneVsRestClassifier``
        (:func:`multilabel_model`).

    Returns
    -------
    classifier or regressor
        An unfitted estimator (a classifier with ``predict_proba``).

    Raises
    ------
    ValueError
        For an unknown name or an import path that cannot be imported.
    TypeError
        When the object or class is not a classifier with ``predict_proba``.

    Examples
    --------
    >>> make_model("rf", random_state=0)
    RandomForestClassifier(random_state=0)
    >>> make_model("sklearn.tree:DecisionTreeClassifier", random_state=0)
    DecisionTreeClassifier(random_state=0)
    """
    est = _make_model(spec, random_state, task)
    return multilabel_model(est) if task is not None and str(task) == "multilabel" else est


def multilabel_model(estimator: Any) -> Any:
    """``estimator`` when it learns an ``n x L`` label table itself (random forests, k-NN,
    ``OneVsRestClassifier``, ``MultiOutputClassifier``, ``ClassifierChain``), else
    ``OneVsRestClassifier(estimator)`` (one binary model per label)."""
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.utils import get_tags

    tags = get_tags(estimator).classifier_tags
    if (tags is not None and tags.multi_label) or type(estimator).__name__ in (
            "OneVsRestClassifier", "MultiOutputClassifier", "ClassifierChain"):
        return estimator
    return OneVsRestClassifier(estimator)


def _make_model(spec: Any, random_state: Any, task: Any) -> Any:
    if not isinstance(spec, str):
        if not hasattr(spec, "fit"):
            raise TypeError(
                f"model must be a name ({', '.join(MODELS)}), 'module:Class' or a classifier, "
                f"got {type(spec).__name__}."
            )
        est = clone(spec)
        if not is_regressor(est):
            _check_proba(est, type(spec).__name__)
        return est
    key = spec.strip()
    if task is not None and str(task) == "regression":
        return _named_regressor(key, random_state)
    if key.lower() in MODELS:
        return _build_named(key.lower(), random_state)
    cls = _import_class(key)
    params = {}
    if random_state is not None and "random_state" in inspect.signature(cls).parameters:
        params["random_state"] = random_state
    try:
        est = cls(**params)
    except Exception as exc:
        raise TypeError(f"could not build {spec!r} with default arguments: {exc}.") from exc
    if not (is_classifier(est) or hasattr(est, "predict")) or not hasattr(est, "fit"):
        raise TypeError(f"{spec!r} is not a classifier (it needs fit and predict).")
    if not is_regressor(est):
        _check_proba(est, spec)
    return est


def _named_regressor(key: str, random_state: Any) -> Any:
    """A regressor of :data:`REGRESSION_MODELS`, or one named by an import path."""
    if key.lower() in REGRESSION_MODELS:
        return _build_regressor(key.lower(), random_state)
    if not any(c in key for c in ":."):
        raise ValueError(
            f"unknown regression model {key!r}; choose one of {', '.join(REGRESSION_MODELS)} "
            "or give 'module:Class' (e.g. sklearn.linear_model:Lasso)."
        )
    est = make_model(key, random_state)
    if not is_regressor(est):
        raise TypeError(
            f"{key!r} is not a regressor; for regression use one of "
            f"{', '.join(REGRESSION_MODELS)} or a scikit-learn regressor."
        )
    return est
