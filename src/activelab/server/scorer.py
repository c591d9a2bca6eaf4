"""Background retraining and queue scoring for a labeling project.

The scorer keeps the annotators' queue full without making anyone wait: requests for the next
item only read the published queue, while the scorer (a daemon thread, optionally handing the
heavy work to a separate process) retrains the model after every ``retrain_every`` new labels,
scores the unlabeled items with the project's strategy and publishes a new ranked queue.  Only
one process retrains a project at a time (a lease row in the database), so several server
workers can share one project.

With no labels (or one class only) the queue comes from :func:`activelab.cold_start.cold_start`
(k-means by default), followed by a seeded random order.  Once a model ranks the queue of a
classification project, a share of it are random checks (:mod:`activelab.server.probes`),
and after each retrain the scorer scores the labeled checks for the live verdict
(:mod:`activelab.server.verdict`).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone

from ..store import Store
from ..store.targets import consensus_targets
from ..store.versions import trainer_owner_id
from ..strategies.base import Needs
from .probes import DEFAULT_RANDOM_SHARE, QueueRows, draw_probes, probe_ranks
from .tasks import ranking_strategy

__all__ = ["Scorer", "ScorerProcess", "ScoreResult", "train_and_score", "save_features",
           "load_features", "could_stop", "first_queue", "default_queue_size",
           "SCORER_PROVIDES"]

#: What the scorer gives a strategy: one fitted classifier (its probabilities and itself),
#: the candidates' features and the labeled set.  A strategy needing more (a committee,
#: sampled probabilities, costs, embeddings) cannot rank the app's queue.
SCORER_PROVIDES = frozenset({Needs.PROBA, Needs.FEATURES, Needs.ESTIMATOR, Needs.LABELED})

log = logging.getLogger("activelab.server")

_FEATURE_CACHE: dict[str, Any] = {}


def save_features(path: str | os.PathLike[str], X: Any) -> Path:
    """Write a feature matrix: ``.npz`` for sparse matrices, ``.npy`` for dense arrays."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if sp.issparse(X):
        out = path.with_suffix(".npz")
        sp.save_npz(out, sp.csr_matrix(X), compressed=False)
    else:
        out = path.with_suffix(".npy")
        np.save(out, np.ascontiguousarray(X))
    return out


def load_features(path: str | os.PathLike[str]) -> Any:
    """Read a matrix written by :func:`save_features` (memory-mapped when dense)."""
    key = str(Path(path).resolve())
    if key not in _FEATURE_CACHE:
        if key.endswith(".npz"):
            _FEATURE_CACHE[key] = sp.load_npz(key).tocsr()
        else:
            _FEATURE_CACHE[key] = np.load(key, mmap_mode="r")
    return _FEATURE_CACHE[key]


def _worker_init() -> None:
    """Lower the training process's priority: answering annotators comes first."""
    try:
        os.nice(10)
    except OSError:  # pragma: no cover - not permitted on this system
        pass


def _warm_up(path: str) -> int:
    """Import the scoring code and load the features in a worker process."""
    from ..strategies import get_strategy

    get_strategy("margin")
    return int(load_features(path).shape[0])


def _rows(X: Any, ids: np.ndarray) -> Any:
    return X[ids] if sp.issparse(X) else np.asarray(X[ids])


@dataclass
class ScoreResult:
    """What one retraining produced.

    ``guess_ok`` says whether the model beats chance (its cross-validated accuracy is above
    the share of the commonest label): only then are its guesses worth showing.
    """

    model: Any
    ids: np.ndarray
    utilities: np.ndarray
    guesses: list[str]
    confidences: np.ndarray | None
    cv_accuracy: float | None
    stop_predictions: list[str]
    fit_seconds: float
    info: dict[str, Any] = field(default_factory=dict)
    guess_ok: bool = False
    #: Rows from this one on are the reserve (:func:`reserve_ids`), ranked by
    #: ``reserve_strategy``; None: every row was chosen by the strategy.
    n_ranked: int | None = None
    reserve_strategy: str = ""


def reserve_ids(res: Any, n: int, random_state: int) -> tuple[np.ndarray, np.ndarray, str]:
    """The next ``n`` candidates by the query's own utilities, after the ones it chose.

    A queue runs dry when annotators label faster than the model retrains; its reserve
    keeps them served meanwhile.  A batch strategy (``cluster_margin`` for ``auto``)
    chooses the head of the queue for diversity; the reserve follows it in plain utility
    order (the margins it ranked by).  Returns the ids, their utilities and the name of
    what ranked them; nothing when the strategy gives no utility per candidate.
    """
    from ..strategies import top_k

    u = np.array(res.utilities, dtype=np.float64)
    cand = np.asarray(res.candidate_ids, dtype=np.int64)
    none = (np.zeros(0, np.int64), np.zeros(0), "")
    if n <= 0 or u.shape != cand.shape:
        return none
    u[~np.isfinite(u)] = -np.inf
    u[np.isin(cand, res.ids)] = -np.inf
    n = min(int(n), int(np.isfinite(u).sum()))
    if n <= 0:
        return none
    pos = top_k(u, n, random_state)
    return cand[pos], u[pos], str(res.info.get("utility", res.strategy))


def _cv_accuracy(estimator: Any, X: Any, y: np.ndarray, random_state: int) -> float | None:
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    _, counts = np.unique(y, return_counts=True)
    k = int(min(5, counts.min()))
    if len(counts) < 2 or k < 2:
        return None
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state)
    return float(cross_val_score(clone(estimator), X, y, cv=cv, n_jobs=None).mean())


def train_and_score(
    X: Any,
    labeled_ids: np.ndarray,
    y: np.ndarray,
    candidate_ids: np.ndarray,
    *,
    estimator: Any,
    strategy: str,
    queue_size: int,
    stop_ids: np.ndarray,
    random_state: int = 0,
    model: Any = None,
    save_path: str | None = None,
    task: str = "classification",
    labels: Any = (),
    reserve: int = 0,
) -> ScoreResult:
    """Fit on the labeled items and rank the candidates by the strategy's utility.

    Parameters
    ----------
    X : ndarray or sparse matrix, or str
        The project's features (or the path of a file written by :func:`save_features`).
    labeled_ids, y : ndarray
        Labeled pool ids and their labels.
    candidate_ids : ndarray of int
        Items that may be queued.
    estimator : classifier
        Cloned before fitting (ignored when ``model`` is given).
    strategy : str
        A registered strategy name.
    queue_size : int
        How many candidates to rank.
    stop_ids : ndarray of int
        The fixed stop set whose predictions are compared between model versions.
    random_state : int
    model : fitted classifier, optional
        Re-score with this model instead of fitting a new one.
    save_path : str, optional
        Save the fitted model there with skops.
    task : {"classification", "multilabel", "regression"}
        For the two latter ``y`` is an ``n x L`` 0/1 matrix or floats, and
        :func:`train_and_score_task` does the work.
    labels : sequence of str
        The project's labels (the columns of a multi-label ``y``).
    reserve : int, default=0
        Classification: rank up to this many more candidates after the ``queue_size``
        the strategy chose, by its utilities (:func:`reserve_ids`).

    Returns
    -------
    ScoreResult
    """
    from ..strategies.query import query_once

    if isinstance(X, (str, os.PathLike)):
        X = load_features(X)
    if task != "classification":
        return train_and_score_task(X, labeled_ids, y, candidate_ids, estimator=estimator,
                                    strategy=strategy, queue_size=queue_size,
                                    stop_ids=stop_ids, random_state=random_state,
                                    model=model, save_path=save_path, task=task,
                                    labels=labels)
    t0 = time.perf_counter()
    cv = None
    X_lab = _rows(X, labeled_ids)
    if model is None:
        model = clone(estimator)
        if "random_state" in model.get_params():
            model.set_params(random_state=random_state)
        model.fit(X_lab, y)
        cv = _cv_accuracy(estimator, X_lab, y, random_state)
    chance = (np.unique(np.asarray(y).astype(str), return_counts=True)[1].max() / len(y)
              if len(y) else 1.0)  # re-scoring with no labels: no guess is shown
    fit_seconds = time.perf_counter() - t0
    if save_path is not None:
        import skops.io as sio

        Path(save_path).parent.mkdir(parents=True, exist_ok=True)
        sio.dump(model, save_path)
    candidate_ids = np.asarray(candidate_ids, dtype=np.int64)
    k = int(min(queue_size, candidate_ids.size))
    classes = np.asarray(model.classes_)
    more, more_util, more_by = np.zeros(0, np.int64), np.zeros(0), ""
    if k == 0:
        ids = np.zeros(0, np.int64)
        util = np.zeros(0)
        proba = np.zeros((0, len(classes)))
    else:
        res = query_once(model, _rows(X, candidate_ids), candidate_ids,
                         ranking_strategy(strategy), k,
                         random_state=random_state, X_labeled=X_lab, y_labeled=y,
                         classes=classes)
        ids = np.asarray(res.ids, dtype=np.int64)
        util = res.utility_of(ids)
        more, more_util, more_by = reserve_ids(res, reserve, random_state)
        proba = model.predict_proba(_rows(X, np.concatenate([ids, more])))
    best = proba.argmax(axis=1) if len(proba) else np.zeros(0, np.int64)
    stop_pred = model.predict(_rows(X, stop_ids)) if len(stop_ids) else np.zeros(0)
    return ScoreResult(
        model=model, ids=np.concatenate([ids, more]),
        utilities=np.concatenate([np.asarray(util, float), more_util]),
        guesses=[str(c) for c in classes[best]],
        confidences=proba.max(axis=1) if len(proba) else np.zeros(0),
        cv_accuracy=cv, stop_predictions=[str(p) for p in stop_pred], fit_seconds=fit_seconds,
        guess_ok=cv is not None and cv > chance,
        n_ranked=int(ids.size) if more.size else None, reserve_strategy=more_by,
    )


def _fit_and_save(estimator: Any, X_lab: Any, y: np.ndarray, random_state: int,
                  save_path: str | None) -> Any:
    model = clone(estimator)
    if "random_state" in model.get_params():
        model.set_params(random_state=random_state)
    model.fit(X_lab, y)
    if save_path is not None:
        import skops.io as sio

        Path(save_path).parent.mkdir(parents=True, exist_ok=True)
        sio.dump(model, save_path)
    return model


def train_and_score_task(X: Any, labeled_ids: np.ndarray, y: np.ndarray,
                         candidate_ids: np.ndarray, *, estimator: Any, strategy: str,
                         queue_size: int, stop_ids: np.ndarray, random_state: int,
                         model: Any, save_path: str | None, task: str, labels: Any
                         ) -> ScoreResult:
    """:func:`train_and_score` for multi-label and regression projects.

    The guesses are stored answers (:func:`activelab.server.task_scoring.task_guesses`);
    ``cv_accuracy`` holds the task's cross-validated score (micro F1, or R²).
    """
    from ..strategies.query import query_once
    from .task_scoring import fit_quality, task_guesses

    t0 = time.perf_counter()
    X_lab = _rows(X, labeled_ids)
    cv, ok = None, False
    if model is None:
        model = _fit_and_save(estimator, X_lab, y, random_state, save_path)
        cv, ok = fit_quality(estimator, X_lab, y, task, random_state)
    fit_seconds = time.perf_counter() - t0
    candidate_ids = np.asarray(candidate_ids, dtype=np.int64)
    k = int(min(queue_size, candidate_ids.size))
    ids, util = np.zeros(0, np.int64), np.zeros(0)
    if k:
        res = query_once(model, _rows(X, candidate_ids), candidate_ids,
                         ranking_strategy(strategy), k,
                         random_state=random_state, X_labeled=X_lab, y_labeled=y)
        ids = np.asarray(res.ids, dtype=np.int64)
        util = np.asarray(res.utility_of(ids), float)
    guesses, sure = task_guesses(model, _rows(X, ids), task, labels) if k else ([], None)
    stop = task_guesses(model, _rows(X, stop_ids), task, labels)[0] if len(stop_ids) else []
    return ScoreResult(model=model, ids=ids, utilities=util, guesses=guesses,
                       confidences=sure, cv_accuracy=cv, stop_predictions=stop,
                       fit_seconds=fit_seconds, guess_ok=ok)


def _score_probes_in(features_path: str, template: Any, cases: list[Any]) -> list[Any]:
    """:func:`activelab.server.verdict.score_cases` on the project's features file."""
    from .verdict import score_cases

    return score_cases(load_features(features_path), template, cases)


def _agreement(prev: list[str] | None, cur: list[str]) -> float | None:
    """Cohen's kappa between two prediction vectors (1.0 when identical)."""
    if prev is None or len(prev) != len(cur) or not cur:
        return None
    a = np.asarray(prev, dtype=object)
    b = np.asarray(cur, dtype=object)
    if np.array_equal(a, b):
        return 1.0
    from sklearn.metrics import cohen_kappa_score

    k = cohen_kappa_score(a.astype(str), b.astype(str))
    return None if not np.isfinite(k) else float(k)


def could_stop(agreements: list[float | None], window: int = 3, threshold: float = 0.99) -> bool:
    """Stabilizing predictions: the last ``window`` agreements all reach ``threshold``."""
    last = agreements[-window:]
    return len(last) == window and all(a is not None and a >= threshold for a in last)


#: The reserve ranked after a published queue, in queue lengths.
RESERVE_FACTOR = 4


def default_queue_size(batch: int) -> int:
    """Ranked items per published queue for a batch size."""
    return max(200, 20 * int(batch))


def first_queue(store: Store, project_id: int, batch: int, random_state: int = 0) -> int:
    """Publish a seeded random queue at once, so that a new project serves items before its
    scorer has started; the scorer replaces it with its cold-start picks.  Returns the
    queue version."""
    n = int(store.project(project_id)["n_items"])
    rng = np.random.default_rng(random_state)
    ids = rng.permutation(n)[:default_queue_size(batch)]
    version = store.write_queue(project_id, ids, utilities=None, guesses=None,
                                confidences=None, model_version=0, strategy="random")
    store.log_event(project_id, "first_queue", {"queue_version": version,
                                                "n_items": int(ids.size)})
    return version


class _LeaseKeeper:
    """Holds a project's trainer lease: taken when free, renewed by a heartbeat thread every
    third of ``ttl`` once started (during a long fit too), given back at the end."""

    def __init__(self, store: Store, project_id: int, owner: str, ttl: float) -> None:
        self.store, self.project_id, self.owner, self.ttl = store, project_id, owner, ttl
        self._held = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _renew(self) -> bool:
        with self._lock:
            self._held = self.store.try_acquire_trainer(self.project_id, self.owner, self.ttl)
            return self._held

    def hold(self) -> bool:
        """Whether this process holds the lease now (taking it when it is free)."""
        return self._held or self._renew()

    def start(self) -> None:
        """Renew the lease in a heartbeat thread until :meth:`release` (idempotent)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._beat, name="activelab-lease",
                                            daemon=True)
            self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                if self._held and not self._renew():
                    log.warning("trainer lease lost to another process")
            except Exception:  # database unreachable for a moment: try again next beat
                log.exception("trainer lease renewal failed")

    def release(self) -> None:
        """Stop renewing and give the lease back."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            self._held = False
            try:
                self.store.release_trainer(self.project_id, self.owner)
            except Exception:  # database already gone at shutdown
                pass


class Scorer:
    """Keeps a project's queue scored and its model fresh, in the background.

    Parameters
    ----------
    store : Store
    project_id : int
    features_path : path-like
        File written by :func:`save_features` (rows are pool ids).
    strategy : str, default="margin"
    estimator : classifier or str, optional
        A classifier, or a name of :data:`activelab.engine.models.MODELS`; default
        ``"logreg"``, the same model as ``activelab simulate --model logreg``.
    batch : int, default=10
        Items an annotator sees per batch; the default retraining period.
    retrain_every : int, optional
        Retrain after this many new labeled items (default ``batch``).
    queue_size : int, optional
        Ranked items per published queue (default ``max(200, 20 * batch)``).
    overlap : int, default=1
        Annotators per item.
    cold_start : str, default="kmeans"
        Method of :func:`activelab.cold_start.cold_start` for the first items.
    stop_set_size : int, default=1000
    model_dir : path-like, optional
        Where model versions are saved with skops.
    random_share : float in [0, 1), default=0.1
        Share of the served items that are random checks once a model ranks the queue
        (classification projects; 0: none).
    use_process : bool, default=False
        Fit and score in a separate process so that request handling never competes with
        training for the interpreter.
    random_state : int, default=0
    poll_seconds : float, default=0.5
    task : {"classification", "multilabel", "regression"}, default="classification"
        What the project's answers are: the model is ``estimator`` in the task's form
        (:func:`activelab.server.tasks.task_model`) and learns from
        :func:`activelab.store.targets.consensus_targets`.
    lease_seconds : float, default=30.0
        The trainer lease: renewed every third of it while this scorer runs (also during a
        long fit), so another process takes over within this time of a crash on another
        machine, and at once of a crash on this one.
    """

    def __init__(
        self,
        store: Store,
        project_id: int,
        features_path: str | os.PathLike[str],
        *,
        strategy: str = "margin",
        estimator: Any = None,
        batch: int = 10,
        retrain_every: int | None = None,
        queue_size: int | None = None,
        overlap: int = 1,
        cold_start: str = "kmeans",
        stop_set_size: int = 1000,
        model_dir: str | os.PathLike[str] | None = None,
        use_process: bool = False,
        random_state: int = 0,
        poll_seconds: float = 0.5,
        lease_seconds: float = 30.0,
        task: str = "classification",
        random_share: float = DEFAULT_RANDOM_SHARE,
    ) -> None:
        from .options import check_random_share
        from .tasks import task_model

        self.store = store
        self.project_id = project_id
        self.features_path = str(features_path)
        self.strategy = strategy
        self.task = task or "classification"
        self.labels = list(store.project(project_id)["labels"])
        self.estimator = task_model("logreg" if estimator is None else estimator, self.task,
                                    random_state=int(random_state))
        self.batch = int(batch)
        self.retrain_every = int(retrain_every or batch)
        self.queue_size = int(queue_size or default_queue_size(self.batch))
        #: Candidates ranked past the queue, so that fast annotators are not left waiting
        #: while the model retrains (classification; see :func:`reserve_ids`).
        self.reserve_size = RESERVE_FACTOR * self.queue_size
        self.overlap = int(overlap)
        self.cold_start = cold_start
        self.model_dir = None if model_dir is None else Path(model_dir)
        self.use_process = use_process
        self.random_state = int(random_state)
        self.poll_seconds = float(poll_seconds)
        self.random_share = check_random_share(random_share)
        self.owner = trainer_owner_id()
        self.lease_ttl = float(lease_seconds)
        self._lease = _LeaseKeeper(store, project_id, self.owner, self.lease_ttl)
        X = load_features(self.features_path)
        self.n_items_ = X.shape[0]
        rng = np.random.default_rng(self.random_state)
        self.stop_ids_ = np.sort(rng.choice(self.n_items_, min(stop_set_size, self.n_items_),
                                            replace=False)).astype(np.int64)
        self.model_: Any = None
        self.model_version_ = 0
        self.guess_ok_ = False
        self.last_error_: str | None = None
        self._executor: Executor | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._probes_left = False  # labeled checks still to score
        self._checks_seen = (0, 0)  # Store.check_signal when the checks were last scored

    # -------------------------------------------------------------- decisions
    def _available(self) -> np.ndarray:
        busy = self.store.unavailable_ids(self.project_id, self.overlap)
        mask = np.ones(self.n_items_, dtype=bool)
        mask[busy[busy < self.n_items_]] = False
        return np.flatnonzero(mask).astype(np.int64)

    def _cold_queue(self, version_seed: int) -> tuple[np.ndarray, list[str]]:
        """Cold-start picks first (``batch`` of them), then a seeded random order; with the
        strategy each row is labeled with."""
        from ..cold_start import cold_start

        X = load_features(self.features_path)
        avail = self._available()
        rng = np.random.default_rng(self.random_state + version_seed)
        if avail.size == 0:
            return avail, []
        n_first = int(min(max(self.batch, 2), avail.size))
        sample = avail if avail.size <= 20000 else np.sort(rng.choice(avail, 20000, False))
        try:
            first = sample[cold_start(_rows(X, sample), n_first, method=self.cold_start,
                                      random_state=self.random_state + version_seed)]
        except ValueError:
            first = rng.choice(sample, n_first, replace=False)
        rest = np.setdiff1d(avail, first)
        rest = rng.permutation(rest)[: max(self.queue_size - first.size, 0)]
        why = [f"cold_start:{self.cold_start}"] * first.size + ["random"] * rest.size
        return np.concatenate([first, rest]).astype(np.int64), why

    def _write_cold_queue(self, version_seed: int) -> None:
        ids, why = self._cold_queue(version_seed)
        self.store.write_queue(self.project_id, ids, utilities=None, guesses=None,
                               confidences=None, model_version=self.model_version_,
                               strategy=why)

    def _needs_cold_start(self, queue_version: int) -> bool:
        """No queue yet, or only the stand-in :func:`first_queue` published."""
        if queue_version == 0:
            return True
        if self.model_version_ != 0:
            return False
        first = self.store.last_event(self.project_id, "first_queue")
        return first is not None and int(first["queue_version"]) == queue_version

    def step(self) -> str:
        """Take one decision now; returns what was done.

        ``"cold_start"`` (published a first queue), ``"trained"`` (new model version and
        queue, then up to :data:`~activelab.server.verdict.PROBES_PER_RETRAIN` random checks
        scored), ``"refilled"`` (re-scored with the current model), ``"scored"`` (random
        checks labeled since, or left over, scored), ``"idle"`` or ``"busy"`` (another
        process holds the trainer lease).
        """
        if not self._lease.hold():
            return "busy"
        proj = self.store.project(self.project_id)
        self.model_version_ = int(proj["model_version"])
        if self._needs_cold_start(int(proj["queue_version"])):
            self._write_cold_queue(0)
            return "cold_start"
        from .task_scoring import trainable

        lab_ids, y = consensus_targets(self.store, self.project_id, self.task, self.labels)
        last = self.store.last_model(self.project_id)
        last_n = last["n_labels"] if last else 0
        can_train = trainable(y, self.task)
        low = max(3 * self.batch, 10)
        if can_train and (last is None or lab_ids.size - last_n >= self.retrain_every):
            self._train(lab_ids, y, last)
            return "trained"
        remaining = self.store.queue_remaining(self.project_id, self.overlap)
        # refill a running-low queue, unless it already offers everything still available
        if remaining < low and self._available().size > remaining:
            if self.model_ is not None and can_train:
                res = self._run(lab_ids, y, self._available(), model=self.model_)
                self._publish(res, np.ones(res.ids.size, bool), self.model_version_)
            else:
                self._write_cold_queue(int(proj["queue_version"]))
            return "refilled"
        if self._probes_left or self._new_checks():
            self._score_probes()
            return "scored"
        return "idle"

    def _new_checks(self) -> bool:
        """Whether checks were labeled, or labels changed, since the last scoring (two cheap
        queries)."""
        return (self.task == "classification" and
                self.store.check_signal(self.project_id) != self._checks_seen)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)``, in the worker process when the scorer uses one."""
        if self.use_process:
            from concurrent.futures.process import BrokenProcessPool

            try:
                return self._pool().submit(fn, *args, **kwargs).result()
            except BrokenProcessPool:  # the worker died (killed, out of memory): start anew
                self._executor = None
                raise
        return fn(*args, **kwargs)

    def _run(self, lab_ids: np.ndarray, y: np.ndarray, candidates: np.ndarray,
             model: Any = None, save_path: str | None = None) -> ScoreResult:
        return self._call(train_and_score, self.features_path, lab_ids, y, candidates,
                          estimator=self.estimator, strategy=self.strategy,
                          queue_size=self.queue_size, stop_ids=self.stop_ids_,
                          random_state=self.random_state, model=model, save_path=save_path,
                          task=self.task, labels=self.labels, reserve=self.reserve_size)

    def _train(self, lab_ids: np.ndarray, y: np.ndarray, last: dict[str, Any] | None) -> None:
        version = self.model_version_ + 1
        path = None
        if self.model_dir is not None:
            path = str(self.model_dir / f"model-v{version}.skops")
        res = self._run(lab_ids, y, self._available(), save_path=path)
        if not self._lease.hold():  # another process took over while we fitted
            return
        prev = last["stop_predictions"] if last else None
        if self.task == "classification":
            agreement = _agreement(prev, res.stop_predictions)
        else:
            from .task_scoring import stop_agreement

            agreement = stop_agreement(prev, res.stop_predictions, self.task)
        version = self.store.record_model(
            self.project_id, n_labels=int(lab_ids.size), cv_accuracy=res.cv_accuracy,
            stop_agreement=agreement, fit_seconds=res.fit_seconds, path=path,
            stop_predictions=res.stop_predictions)
        self.model_ = res.model
        self.model_version_ = version
        self.guess_ok_ = res.guess_ok
        # items leased while we trained are no longer candidates
        busy = self.store.unavailable_ids(self.project_id, self.overlap)
        self._publish(res, ~np.isin(res.ids, busy), version)
        log.info("model v%d on %d labels (cv accuracy %s)", version, lab_ids.size,
                 res.cv_accuracy)
        self._score_probes()

    def _publish(self, res: ScoreResult, keep: np.ndarray, version: int) -> None:
        """Publish a scored queue, with its random checks; the guesses of ranked items only
        when the model beats chance (a check's guess is stored always, never shown)."""
        n = int(keep.sum())
        show = self.guess_ok_
        none = np.full(n, None, dtype=object)
        sure = res.confidences[keep] if show and res.confidences is not None else none
        by = np.full(res.ids.size, self.strategy, dtype=object)
        n_head = res.ids.size if res.n_ranked is None else res.n_ranked
        by[n_head:] = res.reserve_strategy
        rows = QueueRows(
            ids=res.ids[keep], utilities=res.utilities[keep],
            guesses=np.asarray(res.guesses, dtype=object)[keep] if show else none,
            confidences=np.asarray(sure, dtype=object), strategy=by[keep])
        # the random checks go among the strategy's own picks; the reserve follows, without
        # the items drawn as checks
        head = int(keep[:n_head].sum())
        ranked, reserve = rows.take(slice(0, head)), rows.take(slice(head, None))
        if self.task == "classification" and self.random_share > 0:
            ranked = self._with_probes(ranked, res.model)
        rows = ranked.then(reserve)
        self.store.write_queue(self.project_id, rows.ids, utilities=rows.utilities,
                               guesses=rows.guesses.tolist(),
                               confidences=rows.confidences.tolist(), model_version=version,
                               strategy=rows.strategy.tolist())

    def _with_probes(self, rows: QueueRows, model: Any) -> QueueRows:
        """``rows`` with random checks drawn from the items nobody holds or labeled, seeded by
        the project's ``random_state`` and the queue version about to be published."""
        free = np.ones(self.n_items_, dtype=bool)  # one pass, not a sort of every id
        free[self.store.unavailable_ids(self.project_id, 1)] = False
        free[rows.ids] = False
        pool = np.flatnonzero(free)
        served, checks = self.store.served_counts(self.project_id)
        ranks = probe_ranks(rows.ids.size, self.random_share, served, checks)
        version = abs(int(self.store.project(self.project_id)["queue_version"])) + 1
        drawn = draw_probes(pool, ranks.size,
                            np.random.default_rng([self.random_state, version]))
        if drawn.size == 0:
            return rows
        proba = model.predict_proba(_rows(load_features(self.features_path), drawn))
        best = proba.argmax(axis=1)
        return rows.with_probes(drawn, ranks, np.asarray(model.classes_)[best].astype(str),
                                proba[np.arange(drawn.size), best])

    def _score_probes(self) -> None:
        """Score up to :data:`~activelab.server.verdict.PROBES_PER_RETRAIN` labeled random
        checks (both models fitted, in the worker process when there is one) and store
        their outcomes."""
        from .verdict import outcome_rows, pending_probes

        self._probes_left = False
        if self.task != "classification":
            return
        self._checks_seen = self.store.check_signal(self.project_id)
        cases, drop, left = pending_probes(self.store, self.project_id)
        if not cases and not drop:
            return
        outcomes = (self._call(_score_probes_in, self.features_path, self.estimator, cases)
                    if any(c.comparable for c in cases) else [None] * len(cases))
        if not self._lease.hold():  # another process took over meanwhile
            return
        self.store.save_probe_outcomes(
            self.project_id, outcome_rows(cases, outcomes, self.model_version_), drop)
        self._probes_left = left > 0

    # -------------------------------------------------------------- thread
    def poke(self) -> None:
        """Ask the background loop to look again now (e.g. after a label)."""
        self._wake.set()

    def _pool(self) -> Executor:
        if self._executor is None:
            import multiprocessing as mp

            self._executor = ProcessPoolExecutor(max_workers=1,
                                                 mp_context=mp.get_context("spawn"),
                                                 initializer=_worker_init)
        return self._executor

    def start(self) -> Scorer:
        """Start the daemon thread (idempotent); a worker process is warmed up first."""
        if self.use_process:
            self._pool().submit(_warm_up, self.features_path)  # import and load now
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._lease.start()
            self._thread = threading.Thread(target=self._loop, name="activelab-scorer",
                                            daemon=True)
            self._thread.start()
        return self

    def run_once(self) -> None:
        """Step until idle; an error is logged and recorded as a ``scorer_error`` event."""
        try:
            while self.step() not in ("idle", "busy") and not self._stop.is_set():
                pass
            self.last_error_ = None
        except Exception as exc:  # keep serving; the error is visible to the admin
            self.last_error_ = f"{type(exc).__name__}: {exc}"
            log.exception("scorer step failed")
            try:
                self.store.log_event(self.project_id, "scorer_error", {"error": self.last_error_})
            except Exception:  # the database itself is the problem
                pass

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread, the worker process and give the trainer lease back."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        self._lease.release()


def _die_with_parent(parent_pid: int, use_signal: bool) -> None:
    """End this process when ``parent_pid`` ends, even mid-fit and even after ``kill -9``.

    On Linux the kernel sends SIGKILL when the parent dies (``PR_SET_PDEATHSIG``; only when
    the parent started us from its main thread, since the signal follows the starting
    thread); everywhere a watchdog thread checks every 0.2 s that the parent is still ours.
    """
    if use_signal and sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no prctl here
            pass
    if os.getppid() != parent_pid:  # the parent died before we could watch it
        os._exit(0)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, name="activelab-parent-watch", daemon=True).start()


def _scorer_main(db_url: str, project_id: int, features_path: str, kwargs: dict[str, Any],
                 reader: Any, parent_pid: int | None = None, use_signal: bool = False) -> None:
    """Body of :class:`ScorerProcess`: a :class:`Scorer` loop with its own connections.

    ``reader`` is the read end of a pipe: a byte means "look now", end-of-file (the server
    closed it, or died) means "stop".  The process also ends when ``parent_pid`` does.
    """
    import select

    if parent_pid is not None:
        _die_with_parent(parent_pid, use_signal)
    _worker_init()
    fd = reader.fileno()
    store = Store(db_url, create=False)
    scorer = Scorer(store, project_id, features_path, use_process=False, **kwargs)
    scorer._lease.start()
    try:
        while True:
            scorer.run_once()
            ready, _, _ = select.select([fd], [], [], scorer.poll_seconds)
            if ready and not os.read(fd, 4096):
                break  # end of file: the server is gone or asked us to stop
    finally:
        scorer.stop()
        store.close()


class ScorerProcess:
    """A :class:`Scorer` in its own low-priority process.

    The server process then spends no interpreter time on retraining: database reads, fitting,
    scoring and publishing all happen in the child, which has its own connections.  The two
    talk through a pipe only (no shared locks), and the child ends with its server process,
    even after ``kill -9`` and in the middle of a fit (parent-death signal on Linux, a
    watchdog thread everywhere); a lease it leaves behind is taken over at once.

    Parameters
    ----------
    db_url : str
        The project's database URL.
    project_id : int
    features_path : path-like
    **kwargs
        Passed to :class:`Scorer` (strategy, batch, retrain_every, overlap, cold_start,
        model_dir, random_state, poll_seconds).
    """

    model_: Any = None  # the model lives in the child; guesses come from the queue
    model_version_: int = 0

    def __init__(self, db_url: str, project_id: int, features_path: str | os.PathLike[str],
                 **kwargs: Any) -> None:
        self.db_url = db_url
        self.project_id = project_id
        self.features_path = str(features_path)
        self.kwargs = kwargs
        self.last_error_: str | None = None
        self._proc: Any = None
        self._writer: Any = None
        self._lock = threading.Lock()

    def start(self) -> ScorerProcess:
        """Start the child process (idempotent)."""
        import multiprocessing as mp

        if self._proc is not None and self._proc.is_alive():
            return self
        ctx = mp.get_context("spawn")
        reader, writer = ctx.Pipe(duplex=False)
        main_thread = threading.current_thread() is threading.main_thread()
        self._proc = ctx.Process(
            target=_scorer_main, name="activelab-scorer", daemon=True,
            args=(self.db_url, self.project_id, self.features_path, self.kwargs, reader,
                  os.getpid(), main_thread))
        self._proc.start()
        reader.close()  # only the child reads; its end-of-file is our exit
        os.set_blocking(writer.fileno(), False)
        self._writer = writer
        return self

    def poke(self) -> None:
        """Ask the child to look again now (never blocks)."""
        with self._lock:
            if self._writer is not None:
                try:
                    os.write(self._writer.fileno(), b"p")
                except OSError:  # pipe full (already poked) or child gone
                    pass

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the child (terminated if it does not finish within ``timeout``)."""
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        if self._proc is None:
            return
        self._proc.join(timeout)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)
        self._proc = None
