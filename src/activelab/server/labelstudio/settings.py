"""Settings of the Label Studio backend (``activelab ls-backend``) and the models it trains."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...engine.models import MODELS, make_model
from ..ls_scoring import check_backend_strategy

__all__ = ["LSBackendConfig", "ESTIMATORS", "make_estimator"]

#: Model names accepted by ``--model``: the whole model table
#: (:data:`activelab.engine.models.MODELS`), so each name means what it means in
#: ``activelab simulate`` and ``activelab benchmark``; ``"module:Class"`` paths work too.
ESTIMATORS = tuple(MODELS)


def make_estimator(name: str, random_state: int | None = 0) -> Any:
    """A fresh classifier for ``--model``, from the one model table.

    ``logreg`` is sparse-safe scaling and a logistic regression, ``nb`` a naive Bayes that
    fits the features (complement NB on sparse TF-IDF, Gaussian NB on dense ones), ``rf``
    a random forest of 100 trees, ``svm`` an RBF SVC with calibrated probabilities,
    ``knn`` scaled 5-nearest neighbours; ``"module:Class"`` names any classifier with
    ``predict_proba``: :func:`activelab.engine.models.make_model` builds them all.

    Raises
    ------
    ValueError
        For a name that is neither in :data:`ESTIMATORS` nor an importable path.
    TypeError
        For a class without ``predict_proba``.
    """
    return make_model(name, random_state=random_state)


def model_meaning(name: str) -> str:
    """What ``name`` builds: its line of the model table, or the import path itself."""
    return MODELS.get(name.strip().lower(), name)


@dataclass
class LSBackendConfig:
    """Settings of the Label Studio backend.

    Attributes
    ----------
    labels : tuple of str, optional
        The classes to learn; must be choices of the labeling config.  All of the
        config's choices when omitted.
    strategy : str, default="entropy"
        A strategy with a per-task utility (see :mod:`activelab.server.ls_scoring`), for
        single-choice configs.
    multilabel_strategy : str, optional
        The strategy of multiple-choice configs (multi-label); the multi-label default
        (``multilabel_margin``) when omitted.
    regression_strategy : str, optional
        The strategy of ``<Number>`` configs (regression); the regression default
        (``greedy_io``) when omitted.
    model : str, default="logreg"
        One of :data:`ESTIMATORS` or ``"module:Class"`` (see :func:`make_estimator`).
    db : str, default="sqlite:///ls-backend.db"
        Database URL of the state (``sqlite:///file.db`` or ``postgresql://...``).
    text_method : str, default="tfidf"
        ``"tfidf"`` or ``"minilm"`` (see :func:`activelab.featurize.text_features`).
    image_root : str, optional
        Folder that image tasks are read from; Label Studio's ``/data/upload/...``
        maps to ``image_root/upload/...`` and ``/data/local-files/?d=p`` to
        ``image_root/p``.  Remote URLs are never fetched.
    image_size : (int, int), default=(16, 16)
    basic_auth : (str, str), optional
        User and password required on ``/setup``, ``/predict``, ``/versions`` and ``/train``.
    webhook_secret : str, optional
        Value required in the ``X-Activelab-Secret`` header of ``/webhook``.
    push_predictions : bool, default=False
        After a retrain, import predictions of the unlabeled tasks into Label Studio under
        one stable version (``activelab-<strategy>-ranked``, made the project's model
        version) so that its Uncertainty sampling follows activelab's ranking.  Only
        predictions that changed are sent again, each replacing the one before.
    push_interval : float, default=30.0
        At most one push per project in this many seconds: retrains in between are
        covered by the next push.
    push_tolerance : float, default=0.05
        A task's prediction is sent again when its label changes or its score moves by
        more than this.
    ls_url, ls_token : str, optional
        Label Studio URL and legacy API token, overriding what ``/setup`` sends.
    committee_size : int, default=5
        Members of the bagging committee of committee strategies.
    random_state : int, default=0
    ls_timeout : float, default=30.0
        Seconds allowed for each call to Label Studio's API.
    """

    labels: tuple[str, ...] | None = None
    strategy: str = "entropy"
    multilabel_strategy: str | None = None
    regression_strategy: str | None = None
    model: str = "logreg"
    db: str = "sqlite:///ls-backend.db"
    text_method: str = "tfidf"
    image_root: str | None = None
    image_size: tuple[int, int] = (16, 16)
    basic_auth: tuple[str, str] | None = None
    webhook_secret: str | None = None
    push_predictions: bool = False
    push_interval: float = 30.0
    push_tolerance: float = 0.05
    ls_url: str | None = None
    ls_token: str | None = None
    committee_size: int = 5
    random_state: int = 0
    ls_timeout: float = 30.0

    def validate(self) -> None:
        """Check the settings; raises ValueError/TypeError naming the bad one."""
        if self.labels is not None:
            self.labels = _checked_labels(self.labels)
        make_estimator(self.model)  # an unknown name or a class without predict_proba fails
        if self.text_method not in ("tfidf", "minilm"):
            raise ValueError(f"text_method must be 'tfidf' or 'minilm', got {self.text_method!r}.")
        check_backend_strategy(self.strategy)
        self._validate_task_strategies()
        self._validate_secrets()
        if self.image_root is not None and not Path(self.image_root).is_dir():
            raise FileNotFoundError(
                f"image_root {self.image_root!r} is not a folder; give the folder that holds "
                "Label Studio's media (or local files)."
            )
        for name in ("push_interval", "push_tolerance"):
            if float(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be at least 0, got {getattr(self, name)}.")
        if isinstance(self.committee_size, bool) or int(self.committee_size) < 2:
            raise ValueError(f"committee_size must be at least 2, got {self.committee_size}.")

    def _validate_task_strategies(self) -> None:
        """A multi-label or regression strategy that is named must serve its task."""
        from ...engine.tasks import Task
        from .targets import task_strategy_for

        if self.multilabel_strategy is not None:
            task_strategy_for(self, Task.MULTILABEL)
        if self.regression_strategy is not None:
            task_strategy_for(self, Task.REGRESSION)

    def _validate_secrets(self) -> None:
        if self.basic_auth is not None and (
            len(self.basic_auth) != 2 or not self.basic_auth[0] or ":" in self.basic_auth[0]
        ):
            raise ValueError("basic_auth must be (user, password) with a user without ':'.")
        if self.webhook_secret is not None and not self.webhook_secret:
            raise ValueError("webhook_secret is empty; give a long random string or leave it out.")


def _checked_labels(given: tuple[str, ...]) -> tuple[str, ...]:
    labels = tuple(str(x).strip() for x in given if str(x).strip())
    if not labels:
        raise ValueError("labels is empty; give the classes, e.g. --labels Pos,Neg.")
    if len(set(labels)) != len(labels):
        raise ValueError("labels lists a class twice; give each class once.")
    return labels
