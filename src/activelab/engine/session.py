"""The :class:`Session`: one active-learning run, as short steps a driver calls in order.

A driver (:func:`activelab.run`, and through it the lab and the command line) does::

    session = Session(estimator, X, oracle, ...)   # checks every argument
    try:
        if not session.start():                     # initial set, first fit, run_start
            return session.result()                 # the oracle quit at once
        while True:
            session.evaluate()                      # test-set metrics of the fit
            if session.stop_reason() or not session.query_and_label():
                return session.finish()             # run_end
            session.fit()                           # refit on the new labels
    except BaseException as exc:
        session.fail(exc)                           # run_end with stop_kind "error"
        raise
    finally:
        session.close()                             # close the sinks

The session resolves the strategy once and owns it: the learner queries through it, and a
strategy that learns from feedback (one with ``update(pool_ids, labels, learner)``, e.g.
the ``auto`` bandit) is fed each round's labels by the session.

Resuming (``resume=path``) replays the log of an interrupted run: every logged round is
fitted and queried again exactly as before (same seed, same random draws), its ids are
checked against the log and its labels are taken from the log instead of the oracle; the
first round the log lacks is run live.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from ..cold_start import cold_start as choose_initial
from ..learners import ActiveLearner, Committee
from ..oracles import check_answer
from ..strategies.base import Strategy
from .checks import (
    check_budget,
    check_candidate_subset,
    check_committee_size,
    check_costs,
    check_initial,
    check_int,
    check_pool,
    check_proba_support,
    check_resume,
    check_sinks,
    check_stopping,
    check_task_metrics,
    check_test_set,
    make_oracle,
    resolve_strategy,
    run_task,
)
from .records import (
    EMPTY_IDS,
    STOP_BUDGET,
    STOP_CRITERION,
    STOP_ERROR,
    STOP_ORACLE,
    STOP_POOL,
    LoopState,
    RoundRecord,
    RunResult,
    to_jsonable,
)
from .resume import LoggedRound, ResumeLog, is_new_log, log_mismatch, read_resume_log
from .tasks import Task, check_targets

__all__ = ["Session", "make_learner"]

DEFAULT_METRICS = ("accuracy", "f1_macro", "balanced_accuracy")


class Session:
    """One run of pool-based active learning, step by step.

    The parameters are those of :func:`activelab.run` (see there), less ``blas_threads``;
    every one is checked here, before anything is labeled or written.

    Attributes
    ----------
    pool : Pool
        The run's own pool (labels are recorded in it).
    oracle : Oracle
    strategy : Strategy
        The run's strategy object, owned by the session.
    task : Task
        Classification, multi-label or regression: the ``task`` given, else inferred from
        the estimator and the oracle's labels
        (:func:`~activelab.engine.checks.run_task`).
    learner : ActiveLearner or Committee
    config : dict
        The run's settings, JSON-able.
    rounds : list of RoundRecord
    stopped_by, stop_kind : str
        Why the run ended (empty while it runs).
    started : bool
        Whether the run has reported ``run_start`` (or resumed a log that has it).
    """

    def __init__(
        self, estimator: Any, X: Any, oracle: Any, *, strategy: Any = None,
        X_test: Any = None, y_test: Any = None, initial: Any = 20, cold_start: str = "random",
        batch_size: int = 10, budget: int | None = None, stopping: Any = None,
        committee_size: int = 5, random_state: Any = None, sinks: Any = (),
        progress: bool = False, metrics: Any = DEFAULT_METRICS, costs: Any = None,
        run_name: str | None = None, resume: Any = None, candidate_subset: int | None = None,
        task: Any = None,
    ) -> None:
        self.started_at = time.perf_counter()
        self.task = run_task(estimator, oracle, task)
        self._check_data(X, X_test, y_test, initial, batch_size, budget, metrics, costs)
        self.candidate_subset = check_candidate_subset(candidate_subset, self.batch_size)
        self.stopping = check_stopping(stopping)
        self.strategy: Strategy = resolve_strategy(strategy, self.task)
        self._needs = set(getattr(self.strategy, "needs", frozenset()))
        committee_size = check_committee_size(committee_size, self.strategy, estimator)
        self.oracle = make_oracle(oracle, self.pool.n_samples)
        rng = check_random_state(random_state)
        self._cold_seed, learner_seed, est_seed = (
            int(s) for s in rng.randint(0, 2**31 - 1, size=3)
        )
        self.learner = make_learner(
            estimator, self.strategy, committee_size, learner_seed, est_seed
        )
        # drawn only when used, so that runs without a subset keep their seeds
        self._subset_rng = None if self.candidate_subset is None else np.random.RandomState(
            int(rng.randint(0, 2**31 - 1)))
        # the learner seeds an unseeded strategy with a copy; the session owns that copy
        self.strategy = self.learner.strategy_
        name = str(getattr(self.strategy, "name", ""))
        check_proba_support(self.learner, self._needs, name, fitted=False)
        self._resume = check_resume(resume, random_state)
        self.sinks = check_sinks(sinks, progress, self._resume)
        if self._resume is not None and is_new_log(self._resume):
            self._resume = None  # nothing logged yet: a fresh run that writes the log
        self.run_name = run_name
        self._cold_start = cold_start
        self.config = self._make_config(estimator, cold_start, committee_size, random_state)
        self._init_state()

    # ------------------------------------------------------------------ set-up
    def _check_data(
        self, X: Any, X_test: Any, y_test: Any, initial: Any, batch_size: Any, budget: Any,
        metrics: Any, costs: Any,
    ) -> None:
        self.pool, self._preset_ids, self._preset_labels = check_pool(X)
        n_samples, n_features = self.pool.n_samples, int(self.pool.X.shape[1])
        self.batch_size = check_int(
            batch_size, "batch_size", 1, "query at least one item per round."
        )
        self._initial_ids, self.n_initial = check_initial(initial, self._preset_ids, n_samples)
        self.budget = check_budget(budget, self.n_initial)
        self.X_test, self.y_test = check_test_set(X_test, y_test, n_features, self.task)
        self.metric_funcs = check_task_metrics(metrics, self.task)
        if self.X_test is None:
            self.metric_funcs = {}
        self.costs = check_costs(costs, n_samples)

    def _make_config(
        self, estimator: Any, cold_start: str, committee_size: Any, random_state: Any
    ) -> dict[str, Any]:
        chosen = self._initial_ids is None
        return {
            "run_name": self.run_name,
            "estimator": repr(estimator),
            "strategy": getattr(self.strategy, "name", "") or repr(self.strategy),
            "learner": type(self.learner).__name__,
            "initial": self.n_initial if chosen else "ids",
            "cold_start": cold_start if chosen else None,
            "batch_size": self.batch_size,
            "budget": self.budget,
            "stopping": _describe(self.stopping),
            "committee_size": committee_size if isinstance(self.learner, Committee) else None,
            "random_state": _describe(random_state),
            "metrics": list(self.metric_funcs),
            "n_samples": self.pool.n_samples,
            "n_features": int(self.pool.X.shape[1]),
            "n_test": None if self.X_test is None else int(self.X_test.shape[0]),
            "costs": self.costs is not None,
            # only when set, so that the logs of runs without it stay as they were
            **({} if self.candidate_subset is None else {
                "candidate_subset": self.candidate_subset}),
            **({} if self.task is Task.CLASSIFICATION else {"task": self.task.value}),
        }

    def _init_state(self) -> None:
        self.rounds: list[RoundRecord] = []
        self.round_no = 0
        self.stopped_by, self.stop_kind = "", ""
        self.started = False
        self.initial_ids = EMPTY_IDS.copy()
        self.initial_labels = np.empty(0, dtype=object)
        self._excluded = np.zeros(self.pool.n_samples, dtype=bool)
        self._n_queried = 0
        self._oracle_stop = False
        self._new_ids, self._new_labels = EMPTY_IDS, np.empty(0)
        self._fit_seconds = 0.0
        self._pending: RoundRecord | None = None
        self._log: ResumeLog | None = None
        self._replay: LoggedRound | None = None

    # ------------------------------------------------------------------ steps
    def start(self) -> bool:
        """Choose and label the initial set, fit on it, and report ``run_start``.

        Returns
        -------
        bool
            False when the oracle asked to stop before labeling any initial item; the
            run is then over (``stop_kind="oracle"``) and has reported nothing.
        """
        if self._resume is not None:
            self._log = read_resume_log(self._resume, self.config)
        asked = self._initial_asked()
        t0 = time.perf_counter()
        got, labels, skipped, stop = self._initial_answer(asked)
        label_seconds = time.perf_counter() - t0
        if got.size:
            self.pool.label(got, labels)
        self._excluded[skipped] = True
        if got.size == 0 and stop:
            self._set_stop("oracle asked to stop before labeling the initial set", STOP_ORACLE)
            return False
        if got.size == 0:
            need = ("labels of at least two classes" if self.task is Task.CLASSIFICATION
                    else "at least one label")
            raise ValueError(
                f"the oracle skipped every item of the initial set; the model needs {need} "
                "to start: give other initial ids or a larger initial set."
            )
        self._oracle_stop = stop
        self.initial_ids, self.initial_labels = got, labels
        y_init = check_targets(
            self.pool.labels_of(got), got.size, self.task, name="the initial labels")
        self._new_ids, self._new_labels = got, y_init
        self.fit()
        check_proba_support(self.learner, self._needs, self.config["strategy"], fitted=True)
        if self._log is None:
            self._emit_start(asked, skipped, label_seconds)
        self.started = True
        return True

    def fit(self) -> None:
        """Fit the learner on the labels obtained since the last fit (all, the first time).

        After a refit, a strategy with ``update(pool_ids, labels, learner)`` sees the
        round's labels.
        """
        t0 = time.perf_counter()
        self.learner.teach(self.pool.X[self._new_ids], self._new_labels)
        self._fit_seconds = time.perf_counter() - t0
        update = getattr(self.strategy, "update", None)
        if self.round_no > 0 and callable(update) and len(self._new_ids):
            update(self._new_ids, self._new_labels, self.learner)

    def evaluate(self) -> RoundRecord:
        """Score the fit on the test set and open this round's record."""
        logged = self._logged(self.round_no)
        t0 = time.perf_counter()
        if logged is not None:
            record = RoundRecord(
                round=self.round_no, n_labeled=self.pool.n_labeled, metrics=dict(logged.metrics),
                fit_seconds=logged.fit_seconds, eval_seconds=logged.eval_seconds,
            )
        else:
            scores = self._scores()
            record = RoundRecord(
                round=self.round_no, n_labeled=self.pool.n_labeled, metrics=scores,
                fit_seconds=self._fit_seconds, eval_seconds=time.perf_counter() - t0,
            )
        self.rounds.append(record)
        self._pending = None if logged is not None else record
        return record

    def stop_reason(self) -> str:
        """Why the run ends after this round's evaluation, in words; ``""`` to go on."""
        stopped_by, stop_kind = self._why_stop()
        if stop_kind:
            if self._replay is not None and self._replay.record.query_ids.size:
                raise log_mismatch(
                    self._replay.path,
                    f"this run stops at round {self.round_no} ({stopped_by}) where the log "
                    "goes on",
                )
            self._set_stop(stopped_by, stop_kind)
        return stopped_by

    def query_and_label(self) -> bool:
        """Query a batch through the learner and have the oracle label it.

        Ids the oracle skips are not asked again; replacements are queried until the
        batch is full, the candidates run out or the oracle asks to stop.

        Returns
        -------
        bool
            True when new labels came in (fit again); False when the run ends.
        """
        record = self.rounds[-1]
        want = self.batch_size
        if self.budget is not None:
            want = min(want, self.budget - record.n_labeled)
        batch = _Batch()
        candidates = self._candidates()
        while want > 0 and candidates.size and not self._oracle_stop:
            ids = self._query(candidates, min(want, candidates.size), batch)
            got, skipped = self._label(ids, batch)
            want -= int(got.size)
            candidates = candidates[~np.isin(candidates, np.concatenate([got, skipped]))]
            if skipped.size == 0:
                break
        batch.fill(record)
        if self._replay is not None:
            self._replay.check_done()
            record.query_seconds = self._replay.record.query_seconds
            record.label_seconds = self._replay.record.label_seconds
        self._emit_round()
        return self._after_round(record)

    def finish(self) -> RunResult:
        """Report the last round and ``run_end``; the run's result."""
        self._emit_round()
        result = self.result()
        self._emit(
            {
                "event": "run_end",
                "run_name": self.run_name,
                "stopped_by": self.stopped_by,
                "stop_kind": self.stop_kind,
                "n_labeled": self.pool.n_labeled,
                "n_rounds": len(self.rounds),
                "total_seconds": result.total_seconds,
                "oracle_info": to_jsonable(result.oracle_info),
            }
        )
        return result

    @property
    def replaying(self) -> bool:
        """Whether the current round is one the log being resumed already holds."""
        return self._replay is not None

    def fail(self, exc: BaseException) -> None:
        """Report ``run_end`` with ``stop_kind="error"``.

        Only once the run has reported something of its own: a run that fails its checks,
        or a resumed run that fails while replaying its log, leaves the log as it was.
        """
        if not self.started or self.replaying:
            return
        self._emit(
            {
                "event": "run_end",
                "run_name": self.run_name,
                "stopped_by": f"error: {type(exc).__name__}: {exc}",
                "stop_kind": STOP_ERROR,
                "n_labeled": self.pool.n_labeled,
                "total_seconds": time.perf_counter() - self.started_at,
            }
        )

    def close(self) -> None:
        """Close every sink."""
        for sink in self.sinks:
            close = getattr(sink, "close", None)
            if callable(close):
                close()

    def result(self) -> RunResult:
        """The run so far as a :class:`RunResult`."""
        labels = self.initial_labels
        return RunResult(
            rounds=self.rounds,
            stopped_by=self.stopped_by,
            pool=self.pool,
            learner=self.learner,
            config=self.config,
            initial_ids=self.initial_ids,
            initial_labels=np.asarray(labels.tolist()) if labels.size else labels,
            oracle_info=oracle_facts(self.oracle),
            stop_kind=self.stop_kind,
            total_seconds=time.perf_counter() - self.started_at,
        )

    # ------------------------------------------------------------------ the initial set
    def _initial_asked(self) -> np.ndarray:
        if self._initial_ids is not None:
            asked = self._initial_ids
        else:
            asked = np.asarray(
                choose_initial(
                    self.pool.X, self.n_initial, method=self._cold_start,
                    random_state=self._cold_seed,
                ),
                dtype=np.int64,
            )
        if self._log is not None and not np.array_equal(asked, self._log.initial_asked):
            raise log_mismatch(self._log.path, "the initial set differs")
        return asked

    def _initial_answer(
        self, asked: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        if self._preset_ids.size:
            return self._preset_ids, np.asarray(self._preset_labels, dtype=object), EMPTY_IDS, False
        if self._log is not None:
            log = self._log
            self._recall(log.initial_ids, log.initial_labels)
            return log.initial_ids, log.initial_labels, log.initial_skipped, False
        return check_answer(self.oracle.label(asked, self.pool), asked)

    def _emit_start(self, asked: np.ndarray, skipped: np.ndarray, label_seconds: float) -> None:
        self._emit(
            {
                "event": "run_start",
                "run_name": self.run_name,
                "config": to_jsonable(self.config),
                "initial_asked": to_jsonable(asked),
                "initial_ids": to_jsonable(self.initial_ids),
                "initial_labels": to_jsonable(self.initial_labels),
                "initial_skipped": to_jsonable(skipped),
                "initial_label_seconds": label_seconds,
                **self._start_task_fields(),
                "time": time.time(),
            }
        )

    def _start_task_fields(self) -> dict[str, Any]:
        """``classes`` of a classifier; ``task`` (and a multi-label model's label count)
        otherwise -- optional fields, so that classification logs stay as they were."""
        if self.task is Task.CLASSIFICATION:
            return {"classes": to_jsonable(np.asarray(self.learner.classes_))}
        fields: dict[str, Any] = {"task": self.task.value}
        if self.task is Task.MULTILABEL:
            fields["n_labels"] = int(np.asarray(self.pool.labels_of(self.initial_ids)).shape[1])
        return fields

    # ------------------------------------------------------------------ a round's parts
    def _logged(self, round_no: int) -> RoundRecord | None:
        """The log's record of ``round_no`` while replaying it (and the replay set up)."""
        if self._log is None or round_no >= len(self._log.rounds):
            self._replay = None
            return None
        logged = self._log.rounds[round_no]
        if logged.n_labeled != self.pool.n_labeled:
            raise log_mismatch(
                self._log.path,
                f"round {round_no} fits on {self.pool.n_labeled} labels where the log has "
                f"{logged.n_labeled}",
            )
        self._replay = LoggedRound(logged, self._log.path)
        return logged

    def _scores(self) -> dict[str, float]:
        if not self.metric_funcs:
            return {}
        y_pred = self.learner.predict(self.X_test)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return {k: float(f(self.y_test, y_pred)) for k, f in self.metric_funcs.items()}

    def _candidates(self) -> np.ndarray:
        return np.flatnonzero(~(self.pool.labeled_mask | self._excluded)).astype(np.int64)

    def _why_stop(self) -> tuple[str, str]:
        n_labeled = self.pool.n_labeled
        if self._oracle_stop:
            return "oracle asked to stop", STOP_ORACLE
        if self.budget is not None and n_labeled >= self.budget:
            return f"budget reached: {n_labeled} of {self.budget} labels", STOP_BUDGET
        if self._candidates().size == 0:
            n_left = self.pool.n_unlabeled
            if n_left == 0:
                return "pool exhausted: every item is labeled", STOP_POOL
            return (
                f"pool exhausted: the {n_left} unlabeled items left were all skipped",
                STOP_POOL,
            )
        if self.stopping is not None and self.stopping.should_stop(self._loop_state()):
            reason = getattr(self.stopping, "reason", None) or getattr(
                self.stopping, "name", type(self.stopping).__name__
            )
            return f"stopping criterion: {reason}", STOP_CRITERION
        return "", ""

    def _loop_state(self) -> LoopState:
        return LoopState(
            round=self.round_no,
            pool=self.pool,
            learner=self.learner,
            n_labeled=self.pool.n_labeled,
            n_queried=self._n_queried,
            history=self.rounds,
            elapsed_seconds=time.perf_counter() - self.started_at,
            started_at=self.started_at,
        )

    def _query(self, candidates: np.ndarray, k: int, batch: _Batch) -> np.ndarray:
        """Ask the strategy (through the learner) for ``k`` of ``candidates`` (of a random
        ``candidate_subset`` of them, when set)."""
        if self._subset_rng is not None and candidates.size > self.candidate_subset:
            candidates = np.sort(self._subset_rng.choice(
                candidates, self.candidate_subset, replace=False))
        pool = self.pool
        view = pool.unlabeled_view() if candidates.size == pool.n_unlabeled else pool.view(candidates)
        context = {} if self.costs is None else {"costs": self.costs[candidates]}
        t0 = time.perf_counter()
        result = self.learner.query_result(view, k, candidate_ids=candidates, **context)
        batch.query_seconds += time.perf_counter() - t0
        ids = np.asarray(result.ids, dtype=np.int64)
        if not batch.info:
            batch.info = {"strategy": result.strategy, **dict(result.info)}
        batch.asked.append(ids)
        batch.utilities.append(result.utility_of(ids))
        return ids

    def _label(self, ids: np.ndarray, batch: _Batch) -> tuple[np.ndarray, np.ndarray]:
        """Get the labels of ``ids`` (from the log while replaying) and record them."""
        t0 = time.perf_counter()
        if self._replay is not None:
            got, labels, skipped = self._replay.answer(ids)
            self._recall(got, labels)
        else:
            got, labels, skipped, self._oracle_stop = check_answer(
                self.oracle.label(ids, self.pool), ids
            )
        batch.label_seconds += time.perf_counter() - t0
        if got.size:
            self.pool.label(got, labels)
        self._excluded[skipped] = True
        batch.got.append(got)
        batch.labels.append(labels)
        batch.skipped.append(skipped)
        return got, skipped

    def _recall(self, ids: np.ndarray, labels: np.ndarray) -> None:
        recall = getattr(self.oracle, "recall", None)
        if callable(recall) and len(ids):
            recall(ids, labels, self.pool)

    def _after_round(self, record: RoundRecord) -> bool:
        new_ids = record.labeled_ids
        self._n_queried += int(new_ids.size)
        if new_ids.size == 0:
            # nothing new to fit on: the oracle quit, or it skipped every item left
            if self._oracle_stop:
                self._set_stop("oracle asked to stop", STOP_ORACLE)
            else:
                self._set_stop("pool exhausted: the oracle skipped every item left", STOP_POOL)
            return False
        self._new_ids, self._new_labels = new_ids, self.pool.labels_of(new_ids)
        self.round_no += 1
        return True

    # ------------------------------------------------------------------ reporting
    def _set_stop(self, stopped_by: str, stop_kind: str) -> None:
        self.stopped_by, self.stop_kind = stopped_by, stop_kind

    def _emit(self, event: dict[str, Any]) -> None:
        for sink in self.sinks:
            sink.emit(event)

    def _emit_round(self) -> None:
        if self._pending is not None:
            record, self._pending = self._pending, None
            self._emit({"event": "round", "run_name": self.run_name, **record.to_dict()})


@dataclass
class _Batch:
    """What one round's query asked and got, over its asks for replacements."""

    asked: list[np.ndarray] = field(default_factory=list)
    utilities: list[np.ndarray] = field(default_factory=list)
    got: list[np.ndarray] = field(default_factory=list)
    labels: list[np.ndarray] = field(default_factory=list)
    skipped: list[np.ndarray] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    query_seconds: float = 0.0
    label_seconds: float = 0.0

    def fill(self, record: RoundRecord) -> None:
        """Write the batch into the round's record."""
        record.query_ids = _joined(self.asked, EMPTY_IDS)
        record.query_utilities = _joined(self.utilities, np.empty(0))
        record.labeled_ids = _joined(self.got, EMPTY_IDS)
        record.labels = (
            np.asarray(np.concatenate(self.labels).tolist())
            if self.labels
            else np.empty(0, dtype=object)
        )
        record.skipped_ids = _joined(self.skipped, EMPTY_IDS)
        record.query_seconds = self.query_seconds
        record.label_seconds = self.label_seconds
        record.info = self.info


def _joined(parts: list[np.ndarray], empty: np.ndarray) -> np.ndarray:
    return np.concatenate(parts) if parts else empty.copy()


# --------------------------------------------------------------------------- building
def _seeded_estimator(estimator: Any, seed: int) -> Any:
    """A clone of ``estimator`` whose unset ``random_state`` is fixed to ``seed``."""
    est = clone(estimator)
    params = est.get_params(deep=False) if hasattr(est, "get_params") else {}
    if "random_state" in params and params["random_state"] is None:
        est.set_params(random_state=seed)
    return est


def make_learner(
    estimator: Any, strategy: Strategy, committee_size: int, seed: int, est_seed: int
) -> ActiveLearner | Committee:
    """The run's learner: fresh, seeded copies of the estimator(s), querying with ``strategy``.

    A committee strategy with a plain classifier gets ``Committee.bagging``; an
    ``ActiveLearner`` or ``Committee`` lends its estimators and settings.
    """
    needs_committee = needs_bagging(strategy, estimator)
    if isinstance(estimator, Committee):
        members = [
            ActiveLearner(
                _seeded_estimator(m.estimator, est_seed + i),
                query_strategy="random",
                **m.fit_kwargs,
            )
            for i, m in enumerate(estimator.learner_list)
        ]
        return Committee(
            members, query_strategy=strategy, bootstrap=estimator.bootstrap, random_state=seed
        )
    fit_kwargs: dict[str, Any] = {}
    if isinstance(estimator, ActiveLearner):
        fit_kwargs = dict(estimator.fit_kwargs)
        estimator = estimator.estimator
    if not hasattr(estimator, "fit"):
        raise TypeError(
            "estimator must be a scikit-learn style classifier (with fit and predict), an "
            f"ActiveLearner or a Committee; got {type(estimator).__name__}."
        )
    base = _seeded_estimator(estimator, est_seed)
    if needs_committee:
        if fit_kwargs:
            raise ValueError(
                "fit keyword arguments cannot be passed to a bagging committee; give a "
                "Committee of ActiveLearners instead."
            )
        return Committee.bagging(
            base, committee_size, query_strategy=strategy, random_state=seed
        )
    return ActiveLearner(base, query_strategy=strategy, random_state=seed, **fit_kwargs)


def needs_bagging(strategy: Any, estimator: Any) -> bool:
    """Whether the run builds a bagging committee of ``estimator`` for ``strategy``.

    Committee strategies of classification read member probabilities; those of
    regression read member predictions, which a scikit-learn ensemble (random forest,
    bagging) gives by itself, so it is used as it is.
    """
    needs = {str(n) for n in getattr(strategy, "needs", frozenset())}
    if "committee_proba" in needs:
        return True
    if "committee_predictions" not in needs or isinstance(estimator, Committee):
        return False
    from sklearn.ensemble import BaseEnsemble

    inner = getattr(estimator, "estimator", estimator) if isinstance(estimator, ActiveLearner) \
        else estimator
    steps = getattr(inner, "steps", None)
    final = steps[-1][1] if steps else inner
    return not isinstance(final, BaseEnsemble)


def _describe(obj: Any) -> Any:
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return repr(obj)


def oracle_facts(oracle: Any) -> dict[str, Any]:
    """What a (noisy) oracle knows about its own answers; empty for a perfect one."""
    facts: dict[str, Any] = {}
    corrupted = getattr(oracle, "corrupted_ids_", None)
    if corrupted is None:
        return facts
    corrupted = np.asarray(corrupted, dtype=np.int64)
    facts["corrupted_ids"] = corrupted
    facts["n_corrupted"] = int(corrupted.size)
    for attr, key in (
        ("n_asked_", "n_asked"),
        ("n_labeled_", "n_labeled"),
        ("observed_error_rate_", "observed_error_rate"),
        ("error_rate", "error_rate"),
        ("noise_matrix", "noise_matrix"),
    ):
        value = getattr(oracle, attr, None)
        if value is not None:
            facts[key] = value
    return facts
