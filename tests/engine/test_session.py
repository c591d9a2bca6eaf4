"""The engine's Session: one run as short steps, each testable on its own."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info, threadpool_limits

from activelab.engine.checks import check_blas_threads, check_int, check_sinks
from activelab.engine.records import STOP_BUDGET, STOP_ORACLE, STOP_POOL
from activelab.engine.session import Session
from activelab.events import CallbackSink, JSONLSink, ProgressSink
from activelab.loop import blas_limits, run
from activelab.oracles import Oracle, OracleAnswer
from activelab.strategies.uncertainty import Margin

INIT = [0, 1, 50, 51, 100, 101]


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def _lr() -> LogisticRegression:
    return LogisticRegression(max_iter=300)


class LearningMargin(Margin):
    """Margin that records what the session feeds it."""

    name = "learning_margin_test"

    def __init__(self, random_state=None):
        super().__init__(random_state=random_state)
        self.fed: list[tuple[list[int], list[int]]] = []

    def update(self, pool_ids, labels, learner):
        assert learner.is_fitted
        self.fed.append((np.asarray(pool_ids).tolist(), np.asarray(labels).tolist()))


def test_stepping_a_session_by_hand_is_a_run(iris):
    X, y = iris
    events: list[dict] = []
    session = Session(_lr(), X, y, initial=INIT, batch_size=4, budget=14, random_state=0,
                      sinks=[CallbackSink(events.append)])
    assert events == []  # the checks write nothing
    assert session.start()
    assert [e["event"] for e in events] == ["run_start"]
    assert session.learner.is_fitted and session.pool.n_labeled == 6

    record = session.evaluate()
    assert (record.round, record.n_labeled) == (0, 6)
    assert session.stop_reason() == ""
    assert session.query_and_label()
    assert record.labeled_ids.size == 4 and session.pool.n_labeled == 10
    assert [e["event"] for e in events] == ["run_start", "round"]
    session.fit()
    session.evaluate()
    assert session.stop_reason() == ""
    assert session.query_and_label()
    session.fit()
    session.evaluate()
    assert session.stop_reason() == "budget reached: 14 of 14 labels"
    assert session.stop_kind == STOP_BUDGET
    result = session.finish()
    assert [e["event"] for e in events] == ["run_start", "round", "round", "round", "run_end"]
    assert [r.n_labeled for r in result.rounds] == [6, 10, 14]

    whole = run(_lr(), X, y, initial=INIT, batch_size=4, budget=14, random_state=0)
    np.testing.assert_array_equal(result.labeled_ids, whole.labeled_ids)


def test_the_session_owns_one_strategy_and_feeds_it(iris):
    X, y = iris
    given = LearningMargin()
    session = Session(_lr(), X, y, strategy=given, initial=INIT, batch_size=5, budget=16,
                      random_state=0)
    assert session.strategy is not given  # the run works on its own copy
    assert session.learner.strategy_ is session.strategy  # resolved once, shared
    session.start()
    assert session.strategy.fed == []  # nothing fed for the initial fit
    session.evaluate()
    session.query_and_label()
    first = session.rounds[0].labeled_ids.tolist()
    assert session.strategy.fed == []  # fed after the refit, not before
    session.fit()
    assert session.strategy.fed == [(first, y[first].tolist())]
    assert given.fed == []


def test_query_and_label_ends_the_run_when_nothing_can_be_labeled(iris):
    rows = np.r_[0:10, 50:60]  # 20 items of two classes
    X, y = iris[0][rows], iris[1][rows]
    initial = [0, 1, 2, 10, 11, 12]

    class SkipAllButTheInitialSet(Oracle):
        def label(self, ids, pool):
            known = np.isin(ids, initial)
            return OracleAnswer(ids=ids[known], labels=y[ids[known]], skipped=ids[~known])

    session = Session(_lr(), X, SkipAllButTheInitialSet(), initial=initial, batch_size=4,
                      random_state=0)
    session.start()
    session.evaluate()
    assert session.stop_reason() == ""
    assert not session.query_and_label()  # asked for replacements until none were left
    assert session.stop_kind == STOP_POOL
    assert session.stopped_by == "pool exhausted: the oracle skipped every item left"
    assert session.rounds[0].skipped_ids.size == 14
    assert session.rounds[0].query_ids.size == 14


def test_an_initial_set_skipped_entirely_is_a_clear_error(iris):
    X, y = iris

    class SkipAll(Oracle):
        def label(self, ids, pool):
            return OracleAnswer(ids=ids[:0], labels=y[:0], skipped=ids)

    with pytest.raises(ValueError, match="skipped every item of the initial set"):
        run(_lr(), X, SkipAll(), initial=INIT, random_state=0)


def test_start_is_false_when_the_oracle_quits_at_once(iris):
    X, y = iris

    class Quit(Oracle):
        def label(self, ids, pool):
            return OracleAnswer(ids=ids[:0], labels=y[:0], stop=True)

    events: list[dict] = []
    session = Session(_lr(), X, Quit(), initial=INIT, random_state=0,
                      sinks=[CallbackSink(events.append)])
    assert not session.start()
    assert session.stop_kind == STOP_ORACLE and events == []
    assert session.result().n_labeled == 0


def test_fail_reports_an_error_only_once_the_run_has_started(iris):
    X, y = iris
    events: list[dict] = []
    session = Session(_lr(), X, y, initial=INIT, random_state=0,
                      sinks=[CallbackSink(events.append)])
    session.fail(RuntimeError("early"))
    assert events == []
    session.start()
    session.fail(RuntimeError("broken"))
    assert events[-1]["event"] == "run_end" and events[-1]["stop_kind"] == "error"
    assert events[-1]["stopped_by"] == "error: RuntimeError: broken"


def test_checks_name_the_argument_and_the_fix(tmp_path):
    with pytest.raises(TypeError, match="batch_size must be an integer, got float; go"):
        check_int(2.0, "batch_size", 1, "go")
    with pytest.raises(ValueError, match="budget must be at least 1, got 0; fix"):
        check_int(0, "budget", 1, "fix")
    assert check_int(np.int64(3), "n", 1, "") == 3
    assert check_blas_threads(None) is None and check_blas_threads(2) == 2
    for bad in (0, True, 1.5):
        with pytest.raises(ValueError, match="blas_threads must be a positive integer"):
            check_blas_threads(bad)
    with pytest.raises(TypeError, match="emit"):
        check_sinks([object()], progress=False)
    log = tmp_path / "run.jsonl"
    given = JSONLSink(log)
    assert check_sinks([given], progress=False, log_path=log) == [given]
    added = check_sinks([], progress=True, log_path=log)
    assert isinstance(added[0], ProgressSink) and isinstance(added[1], JSONLSink)
    assert added[1].path == log


def test_blas_limits_limits_only_inside_the_block():
    def blas():
        return max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")

    with threadpool_limits(limits=2, user_api="blas"):
        with blas_limits(1):
            assert blas() == 1
        assert blas() == 2
        with blas_limits(None):
            assert blas() == 2


def test_importing_the_events_does_not_import_the_loop():
    code = (
        "import sys, activelab.events, activelab.engine.records; "
        "print('activelab.loop' in sys.modules, 'activelab.engine.session' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False"]
