"""The active-learning loop: fit, evaluate, check stopping, query, label, repeat.

:func:`run` drives one :class:`~activelab.engine.session.Session` through its rounds.
Each round it

1. fits the learner on every label obtained so far,
2. evaluates it on the test set (when one is given),
3. asks the stopping rules whether to end,
4. asks the strategy for a batch of unlabeled pool ids,
5. asks the oracle for their labels and records them in the pool,

and reports what happened to its event sinks (progress bar, JSONL log, callbacks).
Everything a round did is kept in a :class:`RoundRecord`; the whole run in a
:class:`RunResult`.  A run interrupted part way continues from its event log with
``run(..., resume=path)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .engine.checks import check_blas_threads
from .engine.records import (
    STOP_BUDGET,
    STOP_CRITERION,
    STOP_ORACLE,
    STOP_POOL,
    LoopState,
    RoundRecord,
    RunResult,
)
from .engine.session import Session
from .evaluation.metrics import METRICS

__all__ = [
    "LoopState",
    "RoundRecord",
    "RunResult",
    "run",
    "METRICS",
    "STOP_BUDGET",
    "STOP_POOL",
    "STOP_CRITERION",
    "STOP_ORACLE",
]


def run(
    estimator: Any,
    X: Any,
    oracle: Any,
    *,
    strategy: Any = None,
    X_test: Any = None,
    y_test: Any = None,
    initial: Any = 20,
    cold_start: str = "random",
    batch_size: int = 10,
    budget: int | None = None,
    stopping: Any = None,
    committee_size: int = 5,
    random_state: Any = None,
    sinks: Iterable[Any] = (),
    progress: bool = False,
    metrics: Any = ("accuracy", "f1_macro", "balanced_accuracy"),
    costs: Any = None,
    run_name: str | None = None,
    blas_threads: int | None = None,
    resume: Any = None,
    candidate_subset: int | None = None,
    task: Any = None,
) -> RunResult:
    """Run pool-based active learning until the budget, the pool, a stopping rule or the
    oracle ends it.

    Parameters
    ----------
    estimator : classifier, regressor, ActiveLearner or Committee
        A scikit-learn estimator is cloned (an unset ``random_state`` is fixed from
        ``random_state``).  With a committee strategy (one whose ``needs`` holds
        ``"committee_proba"``) a plain classifier becomes
        ``Committee.bagging(estimator, committee_size)``.  An ``ActiveLearner`` or
        ``Committee`` given here lends its estimators and settings; the run fits fresh
        copies and never changes the object passed in.
    X : array-like, sparse matrix, DataFrame or Pool, shape (n_samples, n_features)
        The pool.  Pool ids are the row positions.  A :class:`Pool` that already holds
        labels uses them as the initial set.
    oracle : Oracle, callable or array-like
        Who labels the queried ids: an object with ``label(ids, pool) -> OracleAnswer``,
        a function ``f(ids, X_rows) -> labels`` (see :func:`activelab.oracles.as_oracle`),
        or the true labels of every row (a simulation).
    strategy : str, Strategy, callable or None, default=None
        The query strategy (see :func:`activelab.available_strategies`); None is the
        task's default: ``"margin"`` for classification, ``"greedy_io"`` for regression,
        ``"multilabel_margin"`` for multi-label targets.
    X_test, y_test : array-like, optional
        Held-out data to evaluate after every fit; without them no metrics are recorded.
    initial : int or array-like of int, default=20
        Size of the initial set (chosen by ``cold_start``) or its pool ids.
    cold_start : {"random", "kmeans", "typiclust"}, default="random"
        How an initial set of size ``initial`` is chosen.
    batch_size : int, default=10
        Ids queried per round (fewer when the budget or the pool has fewer left).
    budget : int, optional
        Total number of labels, the initial set included; ``None`` runs until the pool
        is empty.
    stopping : StoppingCriterion, optional
        Checked once per round after evaluation.  Copied, so one object can serve several
        runs.
    committee_size : int, default=5
        Members of the bagging committee built for committee strategies.
    random_state : int, RandomState or None
        Seeds the cold start, the estimator, the committee's bootstraps and the strategy's
        tie breaking: the same seed gives the same queries, labels and metrics.
    sinks : iterable of sinks
        Receive the ``run_start``, ``round`` and ``run_end`` events (see
        :mod:`activelab.events`); closed when the run ends.
    progress : bool, default=False
        Show a progress line or bar on stderr (adds a :class:`activelab.events.ProgressSink`).
    metrics : sequence of str or dict, default=("accuracy", "f1_macro", "balanced_accuracy")
        Names from :data:`METRICS`, or a dict of name -> ``f(y_true, y_pred) -> float``.
        For regression the default stands for ``("r2", "rmse", "mae")``, for multi-label
        targets for ``("f1_micro", "f1_macro", "hamming_loss", "subset_accuracy")``.
    costs : array-like of shape (n_samples,), optional
        Labeling cost of every pool item, passed to cost-aware strategies.
    blas_threads : int, optional
        Limit BLAS (OpenBLAS/MKL) to this many threads for the run.  On small matrices
        and busy machines one thread is often several times faster than the default;
        ``None`` leaves the process's setting alone.
    run_name : str, optional
        A name carried in the config and every event.
    resume : str or path-like, optional
        The JSONL event log (:class:`activelab.JSONLSink`) of an interrupted run with the
        same arguments, to continue it: the result is the one the run would have had
        without the interrupt (same ids, labels and metrics).  The logged rounds are
        replayed, not asked again: each is fitted and queried again exactly as before (the
        same seed gives the same random draws), its chosen ids are checked against the
        log, and its labels are taken from the log (an oracle with a ``recall`` method,
        like :class:`activelab.SimulatedOracle`, is told them, so a noisy oracle's draws
        continue as they would have).  The first round the log lacks is run live, and
        its events are appended to the same log (a :class:`JSONLSink` on ``resume`` is
        added when no sink writes there); the sinks receive only the new events.  The
        latest run of the log is resumed; a last line cut off mid-write is ignored and
        removed.  When nothing is logged at ``resume`` yet (no file, or an empty one) the
        run starts fresh and writes its log there, so one script serves the first run and
        every restart.  Needs an integer ``random_state``.  The timings of replayed rounds are
        those logged; ``total_seconds`` and time-based stopping count from the resume.
    candidate_subset : int, optional
        Score only this many unlabeled items per query, drawn at random (seeded by
        ``random_state``) from all of them each round: Baal's ``max_sample``, and the
        random 2,000 of the pool that Gal et al. (2017) score with 100 MC-dropout draws.
        ``None`` (default) scores every unlabeled item.
    task : {"classification", "multilabel", "regression"}, optional
        The kind of target; inferred when omitted (a regressor means regression, an
        ``n x L`` 0/1 oracle table multi-label), see :func:`activelab.engine.tasks.infer_task`.

    Returns
    -------
    RunResult

    Raises
    ------
    ValueError
        For bad settings or data (NaN features, mismatched shapes, an initial set larger
        than the pool, ``batch_size < 1``, ``budget`` below the initial set, initial labels
        of a single class); with ``resume``, for a log that holds no unfinished run, was
        written with other arguments, or whose rounds the replay does not reproduce.
    TypeError
        For arguments of the wrong kind, or an estimator without ``predict_proba`` when
        the strategy needs probabilities.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> result = run(LogisticRegression(max_iter=500), X, y, X_test=X, y_test=y,
    ...              initial=10, batch_size=5, budget=30, random_state=0)
    >>> result.n_labeled
    30
    >>> result.stop_kind
    'budget'
    """
    with blas_limits(check_blas_threads(blas_threads)):
        session = Session(
            estimator, X, oracle, strategy=strategy, X_test=X_test, y_test=y_test,
            initial=initial, cold_start=cold_start, batch_size=batch_size, budget=budget,
            stopping=stopping, committee_size=committee_size, random_state=random_state,
            sinks=sinks, progress=progress, metrics=metrics, costs=costs,
            run_name=run_name, resume=resume, candidate_subset=candidate_subset, task=task,
        )
        return drive(session)


def drive(session: Session) -> RunResult:
    """Run a :class:`~activelab.engine.session.Session` to its end.

    On any exception (Ctrl-C included) the session reports ``run_end`` with
    ``stop_kind="error"`` and the exception propagates; the sinks are closed either way.
    """
    try:
        if not session.start():
            return session.result()
        while True:
            session.evaluate()
            if session.stop_reason() or not session.query_and_label():
                return session.finish()
            session.fit()
    except BaseException as exc:
        session.fail(exc)
        raise
    finally:
        session.close()


@contextmanager
def blas_limits(threads: int | None) -> Iterator[None]:
    """Limit BLAS (OpenBLAS/MKL) to ``threads`` threads inside the block (``None``: leave it).

    Uses threadpoolctl; without it the limit is skipped with a warning that says so.
    """
    if threads is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn installs threadpoolctl
        warnings.warn(
            f"blas_threads={threads} is ignored: threadpoolctl is not installed "
            "(pip install threadpoolctl).",
            RuntimeWarning,
            stacklevel=3,
        )
        yield
        return
    with threadpool_limits(limits=threads, user_api="blas"):
        yield
