"""Tests of the event sinks, the JSONL log and replaying a run from its log."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from activelab.events import (
    CallbackSink,
    JSONLSink,
    ProgressSink,
    read_events,
    replay,
    split_runs,
    to_jsonable,
)
from activelab.loop import run
from activelab.oracles import Oracle, OracleAnswer


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # tiny fits are much slower with several BLAS threads on a shared machine
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


INIT = [0, 1, 50, 51, 100, 101]


def _lr() -> LogisticRegression:
    return LogisticRegression(max_iter=300)


def _strict_loads(line: str) -> dict:
    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant} in the log")

    return json.loads(line, parse_constant=refuse)


class SkipEvenOracle(Oracle):
    """Labels odd ids and skips even ones (exercises skipped ids in the log)."""

    def __init__(self, y: np.ndarray) -> None:
        self.y = y

    def label(self, ids: np.ndarray, pool) -> OracleAnswer:
        odd = ids[ids % 2 == 1]
        return OracleAnswer(ids=odd, labels=self.y[odd], skipped=ids[ids % 2 == 0])


class FailingOracle(Oracle):
    """Answers the initial set, then fails."""

    def __init__(self, y: np.ndarray) -> None:
        self.y = y
        self.calls = 0

    def label(self, ids: np.ndarray, pool) -> OracleAnswer:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("annotation service is down")
        return OracleAnswer(ids=ids, labels=self.y[ids])


def test_jsonl_log_is_one_strict_json_object_per_line(iris, tmp_path):
    X, y = iris
    path = tmp_path / "run.jsonl"
    result = run(_lr(), X, SkipEvenOracle(y), X_test=X, y_test=y, initial=[1, 3, 51, 53, 101],
                 batch_size=4, budget=17, random_state=0, sinks=[JSONLSink(path)],
                 run_name="odd")
    lines = path.read_text(encoding="utf-8").splitlines()
    events = [_strict_loads(line) for line in lines]
    assert all(isinstance(e, dict) for e in events)
    kinds = [e["event"] for e in events]
    assert kinds == ["run_start"] + ["round"] * len(result.rounds) + ["run_end"]
    assert all(e["run_name"] == "odd" for e in events)
    start, end = events[0], events[-1]
    assert start["config"]["budget"] == 17 and start["config"]["strategy"] == "margin"
    assert start["initial_ids"] == [1, 3, 51, 53, 101]
    assert end["stopped_by"] == result.stopped_by and end["n_labeled"] == 17
    rounds = events[1:-1]
    assert [e["n_labeled"] for e in rounds] == [r.n_labeled for r in result.rounds]
    assert any(e["skipped_ids"] for e in rounds)
    for event, record in zip(rounds, result.rounds, strict=True):
        assert event["query_ids"] == record.query_ids.tolist()
        assert event["labels"] == record.labels.tolist()
        assert event["metrics"] == record.metrics
    assert read_events(path) == events


def test_replaying_the_log_rebuilds_labeled_set_and_curve(iris, tmp_path):
    X, y = iris
    path = tmp_path / "run.jsonl"
    result = run(_lr(), X, SkipEvenOracle(y), X_test=X, y_test=y, initial=[1, 3, 51, 53, 101],
                 batch_size=4, budget=21, random_state=0, sinks=[JSONLSink(path)])
    again = replay(path)
    assert again.pool is None and again.learner is None
    np.testing.assert_array_equal(again.labeled_ids, result.labeled_ids)
    np.testing.assert_array_equal(again.labeled_ids, result.pool.labeled_ids)
    np.testing.assert_array_equal(again.labels, result.labels)
    for metric in ("accuracy", "f1_macro", "balanced_accuracy"):
        n0, v0 = result.curve(metric)
        n1, v1 = again.curve(metric)
        np.testing.assert_array_equal(n0, n1)
        np.testing.assert_array_equal(v0, v1)
    assert again.to_records() == result.to_records()
    assert again.stopped_by == result.stopped_by and again.stop_kind == result.stop_kind
    assert again.n_labeled == result.n_labeled == 21


def test_replay_handles_nan_utilities_and_several_runs_in_one_file(iris, tmp_path):
    X, y = iris
    path = tmp_path / "runs.jsonl"
    sink = JSONLSink(path)

    def first_rows(estimator, X_pool, n_instances):
        return np.arange(n_instances)  # a modAL-style function: no utilities (NaN)

    a = run(_lr(), X, y, strategy=first_rows, initial=INIT, batch_size=5, budget=16,
            random_state=0, sinks=[sink])
    b = run(_lr(), X, y, initial=INIT, batch_size=3, budget=12, random_state=1, sinks=[sink])
    events = read_events(path)
    assert [len(r) for r in split_runs(events)] == [len(a.rounds) + 2, len(b.rounds) + 2]
    first = replay(events, run=0)
    assert first.rounds[0].query_ids.tolist() == [2, 3, 4, 5, 6]
    assert np.isnan(first.rounds[0].query_utilities).all()
    np.testing.assert_array_equal(first.labeled_ids, a.labeled_ids)
    np.testing.assert_array_equal(replay(events).labeled_ids, b.labeled_ids)
    with pytest.raises(ValueError, match="holds 2 run"):
        replay(events, run=2)


def test_replay_of_an_interrupted_log(iris, tmp_path):
    X, y = iris
    path = tmp_path / "run.jsonl"
    result = run(_lr(), X, y, initial=INIT, batch_size=5, budget=21, random_state=0,
                 sinks=[JSONLSink(path)])
    events = read_events(path)[:-3]  # lost the last two rounds and run_end
    partial = replay(events)
    assert partial.stop_kind == "incomplete"
    assert partial.labeled_ids.tolist() == result.labeled_ids[:16].tolist()
    with pytest.raises(ValueError, match="no run"):
        replay(events[1:])


def test_jsonl_sink_converts_numpy_values_and_appends(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = JSONLSink(path)
    assert not path.exists()  # opened on the first event only
    sink.emit({"event": "round", "a": np.int64(3), "b": np.array([1.5, np.nan]),
               "c": np.float32(2.0), "d": np.array(["x", "y"]), "e": np.bool_(True)})
    sink.close()
    sink.emit({"event": "run_end", "inf": float("inf")})
    sink.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [_strict_loads(line) for line in lines] == [
        {"event": "round", "a": 3, "b": [1.5, None], "c": 2.0, "d": ["x", "y"], "e": True},
        {"event": "run_end", "inf": None},
    ]
    assert sink.n_written_ == 2


def test_jsonl_sink_flushes_every_line(tmp_path):
    path = tmp_path / "live.jsonl"
    with JSONLSink(path) as sink:
        sink.emit({"event": "run_start"})
        assert read_events(path) == [{"event": "run_start"}]  # readable while still open
        sink.emit({"event": "round", "round": 0})
        assert len(read_events(path)) == 2


def test_jsonl_sink_does_not_create_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="create it first"):
        JSONLSink(tmp_path / "missing" / "run.jsonl")
    with pytest.raises(ValueError, match="is a folder"):
        JSONLSink(tmp_path)
    assert not (tmp_path / "missing").exists()


def test_read_events_names_the_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"event": "run_start"}\n\n{"event": "round", "rou\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 3"):
        read_events(path)
    path.write_text('{"event": "run_start"}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 2 is not an event"):
        read_events(path)
    with pytest.raises(FileNotFoundError):
        read_events(tmp_path / "nope.jsonl")


def test_callback_sink_receives_the_events_and_is_closed(iris):
    X, y = iris
    everything, rounds, closed = [], [], []
    result = run(
        _lr(), X, y, initial=INIT, batch_size=5, budget=16, random_state=0,
        sinks=[CallbackSink(everything.append, on_close=lambda: closed.append(1)),
               CallbackSink(rounds.append, events=["round"])],
    )
    assert [e["event"] for e in everything] == ["run_start", "round", "round", "round", "run_end"]
    assert [e["round"] for e in rounds] == [0, 1, 2]
    assert [e["labeled_ids"] for e in rounds] == [r.labeled_ids.tolist() for r in result.rounds]
    assert closed == [1]
    with pytest.raises(ValueError, match="unknown event kinds"):
        CallbackSink(print, events=["rounds"])
    with pytest.raises(TypeError, match="callable"):
        CallbackSink("not a function")


def test_a_failing_run_logs_the_error_and_closes_its_sinks(iris, tmp_path):
    X, y = iris
    path = tmp_path / "run.jsonl"
    closed = []
    with pytest.raises(RuntimeError, match="service is down"):
        run(_lr(), X, FailingOracle(y), initial=INIT, batch_size=5, budget=16,
            sinks=[JSONLSink(path), CallbackSink(lambda e: None,
                                                 on_close=lambda: closed.append(1))])
    events = read_events(path)
    assert [e["event"] for e in events] == ["run_start", "run_end"]
    assert events[-1]["stop_kind"] == "error" and "service is down" in events[-1]["stopped_by"]
    assert closed == [1]


def test_progress_sink_writes_one_plain_line_per_round(iris):
    X, y = iris
    stream = io.StringIO()
    run(_lr(), X, y, X_test=X, y_test=y, initial=INIT, batch_size=5, budget=16,
        random_state=0, sinks=[ProgressSink(stream)])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("round 0: 11/16 labels, accuracy ")
    assert lines[1].startswith("round 1: 16/16 labels, accuracy ")
    assert lines[2].startswith("round 2: 16/16 labels, accuracy ")
    assert lines[3] == "stopped after 16 labels: budget reached: 16 of 16 labels"
    # without a budget the total is the pool size, and no test set means no accuracy
    stream = io.StringIO()
    run(_lr(), X, y, initial=INIT, batch_size=100, random_state=0,
        sinks=[ProgressSink(stream)])
    assert stream.getvalue().splitlines()[0] == "round 0: 106/150 labels"


def test_progress_sink_draws_a_rich_bar_when_asked(iris):
    X, y = iris
    stream = io.StringIO()
    sink = ProgressSink(stream, use_rich=True)
    run(_lr(), X, y, X_test=X, y_test=y, initial=INIT, batch_size=5, budget=16,
        random_state=0, sinks=[sink])
    text = stream.getvalue()
    assert "16/16" in text and "stopped after 16 labels" in text
    assert sink._progress is None  # the bar was stopped


def test_progress_flag_adds_a_progress_sink(iris, capsys):
    X, y = iris
    run(_lr(), X, y, initial=INIT, batch_size=5, budget=11, random_state=0, progress=True)
    err = capsys.readouterr().err
    assert "round 0: 11/11 labels" in err and "stopped after 11 labels" in err


def test_to_jsonable_leaves_plain_values_and_reprs_the_rest():
    class Thing:
        def __repr__(self) -> str:
            return "Thing()"

    value = {"n": 1, "s": "x", "none": None, "nested": [(1, np.int32(2))], "obj": Thing(),
             3: b"raw"}
    assert to_jsonable(value) == {"n": 1, "s": "x", "none": None, "nested": [[1, 2]],
                                  "obj": "Thing()", "3": "raw"}


def test_replay_keeps_string_labels(iris, tmp_path):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    path = tmp_path / "run.jsonl"
    result = run(_lr(), X, names, initial=INIT, batch_size=5, budget=16, random_state=0,
                 sinks=[JSONLSink(path)])
    again = replay(path)
    np.testing.assert_array_equal(again.labels, result.labels)
    np.testing.assert_array_equal(again.labels, names[again.labeled_ids])


def test_read_events_can_ignore_a_last_line_cut_off_mid_write(tmp_path):
    path = tmp_path / "killed.jsonl"
    path.write_text('{"event": "run_start"}\n{"event": "round", "rou', encoding="utf-8")
    with pytest.raises(ValueError, match="line 2 is not valid JSON"):
        read_events(path)
    assert read_events(path, ignore_cut_off=True) == [{"event": "run_start"}]
    path.write_text('{"event": "run_start"}\n{"event": "ro\n{"event": "run_end"}\n',
                    encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):  # only the very last line may be cut
        read_events(path, ignore_cut_off=True)
