"""Resuming a run from its JSONL event log: the same result as a run never interrupted."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from activelab.events import JSONLSink, read_events, replay, split_runs, to_jsonable
from activelab.loop import run
from activelab.oracles import NoisyOracle, Oracle, OracleAnswer
from activelab.stopping import PerformancePlateau, StabilizingPredictions

TIMING_KEYS = ("fit_seconds", "query_seconds", "label_seconds", "eval_seconds")


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    order = np.random.RandomState(0).permutation(len(y))
    return X[order[:110]], y[order[:110]], X[order[110:]], y[order[110:]]


def _lr() -> LogisticRegression:
    return LogisticRegression(max_iter=300)


class Interrupting(Oracle):
    """Answers like ``inner`` until its ``n_calls + 1``-th call, which raises (Ctrl-C)."""

    def __init__(self, inner: Oracle | np.ndarray, n_calls: int) -> None:
        self.inner = inner
        self.n_calls = n_calls
        self.calls = 0

    def label(self, ids: np.ndarray, pool) -> OracleAnswer:
        self.calls += 1
        if self.calls > self.n_calls:
            raise KeyboardInterrupt
        if isinstance(self.inner, np.ndarray):
            return OracleAnswer(ids=ids, labels=self.inner[ids])
        return self.inner.label(ids, pool)


class Skipping(Oracle):
    """Knows ``y`` but declines the ids in ``skip``; keeps every batch it was asked."""

    def __init__(self, y: np.ndarray, skip) -> None:
        self.y = y
        self.skip = np.asarray(skip)
        self.asked: list[np.ndarray] = []

    def label(self, ids: np.ndarray, pool) -> OracleAnswer:
        self.asked.append(np.asarray(ids).copy())
        declined = np.isin(ids, self.skip)
        return OracleAnswer(ids=ids[~declined], labels=self.y[ids[~declined]],
                            skipped=ids[declined])


def _args(iris, **change):
    X, y, X_test, y_test = iris
    args = dict(X_test=X_test, y_test=y_test, initial=6, batch_size=4, budget=34,
                random_state=3)
    args.update(change)
    return args


def _rounds(result) -> list[dict]:
    return [{k: v for k, v in r.to_dict().items() if k not in TIMING_KEYS}
            for r in result.rounds]


def _assert_same_run(resumed, whole) -> None:
    np.testing.assert_array_equal(resumed.labeled_ids, whole.labeled_ids)
    np.testing.assert_array_equal(resumed.labels, whole.labels)
    assert _rounds(resumed) == _rounds(whole)  # ids, utilities, labels, metrics, info
    assert (resumed.stop_kind, resumed.stopped_by) == (whole.stop_kind, whole.stopped_by)
    assert to_jsonable(resumed.oracle_info) == to_jsonable(whole.oracle_info)


def _interrupted(iris, path, oracle, **change):
    X = iris[0]
    with pytest.raises(KeyboardInterrupt):
        run(_lr(), X, oracle, sinks=[JSONLSink(path)], **_args(iris, **change))


@pytest.mark.parametrize("strategy", ["margin", "random", "auto", "vote_entropy"])
def test_a_resumed_run_ends_as_the_uninterrupted_run(iris, tmp_path, strategy):
    X, y = iris[0], iris[1]
    whole = run(_lr(), X, y, strategy=strategy, **_args(iris))
    path = tmp_path / "run.jsonl"
    # initial set + rounds 0, 1, 2 answered; Ctrl-C while round 3 asks
    _interrupted(iris, path, Interrupting(y, n_calls=4), strategy=strategy)
    logged = read_events(path)
    assert [e["event"] for e in logged] == ["run_start"] + ["round"] * 3 + ["run_end"]
    assert logged[-1]["stop_kind"] == "error"

    resumed = run(_lr(), X, y, strategy=strategy, resume=path, **_args(iris))
    _assert_same_run(resumed, whole)
    assert resumed.n_labeled == 34 and resumed.pool.n_labeled == 34
    # the log now reads as one run, from which replay gives the whole run
    events = read_events(path)
    assert len(split_runs(events)) == 1
    assert [e["event"] for e in events].count("round") == len(whole.rounds)
    np.testing.assert_array_equal(replay(path).labeled_ids, whole.labeled_ids)
    assert replay(path).stop_kind == "budget"


def test_a_resumed_noisy_oracle_gives_the_same_wrong_labels(iris, tmp_path):
    X, y = iris[0], iris[1]

    def noisy(seed=5):
        return NoisyOracle(y, error_rate=0.3, random_state=seed)

    whole = run(_lr(), X, noisy(), **_args(iris))
    assert whole.oracle_info["n_corrupted"] > 0
    path = tmp_path / "run.jsonl"
    _interrupted(iris, path, Interrupting(noisy(), n_calls=3))
    resumed = run(_lr(), X, noisy(), resume=path, **_args(iris))
    _assert_same_run(resumed, whole)  # corrupted ids included
    # an oracle with another noise seed would have given other labels
    _interrupted(iris, tmp_path / "b.jsonl", Interrupting(noisy(), n_calls=3))
    with pytest.raises(ValueError, match="oracle's labels differ"):
        run(_lr(), X, noisy(seed=6), resume=tmp_path / "b.jsonl", **_args(iris))


def test_skipped_ids_stay_skipped_after_a_resume(iris, tmp_path):
    X, y = iris[0], iris[1]
    skip = np.arange(0, 110, 3)
    whole = run(_lr(), X, Skipping(y, skip), **_args(iris))
    assert sum(r.skipped_ids.size for r in whole.rounds) > 0
    path = tmp_path / "run.jsonl"
    _interrupted(iris, path, Interrupting(Skipping(y, skip), n_calls=5))
    logged = replay(path)
    before = set(np.concatenate([r.query_ids for r in logged.rounds]).tolist())
    oracle = Skipping(y, skip)
    resumed = run(_lr(), X, oracle, resume=path, **_args(iris))
    _assert_same_run(resumed, whole)
    asked = np.concatenate(oracle.asked)
    assert not set(asked.tolist()) & before  # nothing the log answered is asked again


def test_stopping_criteria_see_the_replayed_rounds(iris, tmp_path):
    X, y = iris[0], iris[1]
    stopping = [PerformancePlateau(window=3, threshold=0.001),
                StabilizingPredictions(stop_set_size=40, window=3, threshold=0.999,
                                       random_state=0)]
    whole = run(_lr(), X, y, stopping=stopping, **_args(iris, budget=None, batch_size=3))
    assert whole.stop_kind == "criterion" and len(whole.rounds) == 8
    path = tmp_path / "run.jsonl"
    # rounds 0..3 logged: the criteria must count those rounds to stop at round 7 again
    _interrupted(iris, path, Interrupting(y, n_calls=5), stopping=stopping, budget=None,
                 batch_size=3)
    resumed = run(_lr(), X, y, stopping=stopping, resume=path,
                  **_args(iris, budget=None, batch_size=3))
    _assert_same_run(resumed, whole)


def test_a_run_interrupted_twice_resumes_twice(iris, tmp_path):
    X, y = iris[0], iris[1]
    whole = run(_lr(), X, y, strategy="random", **_args(iris))
    path = tmp_path / "run.jsonl"
    _interrupted(iris, path, Interrupting(y, n_calls=2), strategy="random")
    with pytest.raises(KeyboardInterrupt):
        run(_lr(), X, Interrupting(y, n_calls=2), strategy="random", resume=path,
            **_args(iris))
    assert [e["event"] for e in read_events(path)].count("round") == 3  # 1 + 2 more
    resumed = run(_lr(), X, y, strategy="random", resume=path, **_args(iris))
    _assert_same_run(resumed, whole)


def test_a_line_cut_off_mid_write_is_ignored(iris, tmp_path):
    X, y = iris[0], iris[1]
    whole = run(_lr(), X, y, **_args(iris))
    path = tmp_path / "run.jsonl"
    _interrupted(iris, path, Interrupting(y, n_calls=4))
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    # killed: no run_end, and the last round's line is half written
    path.write_text("".join(lines[:-2]) + lines[-2][:40], encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_events(path)
    resumed = run(_lr(), X, y, resume=path, sinks=[JSONLSink(path)], **_args(iris))
    _assert_same_run(resumed, whole)
    events = read_events(path)  # strict JSON again: the cut-off line is gone
    assert [e["event"] for e in events].count("round") == len(whole.rounds)
    assert [e["event"] for e in events].count("run_start") == 1
    np.testing.assert_array_equal(replay(events).labeled_ids, whole.labeled_ids)


def test_a_log_cut_off_after_the_last_round_only_ends_the_run(iris, tmp_path):
    X, y = iris[0], iris[1]
    path = tmp_path / "run.jsonl"
    whole = run(_lr(), X, y, sinks=[JSONLSink(path)], **_args(iris))
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")  # killed before run_end
    resumed = run(_lr(), X, y, resume=path, **_args(iris))
    _assert_same_run(resumed, whole)
    added = read_events(path)[len(lines) - 1:]
    assert [e["event"] for e in added] == ["run_end"]


def test_a_log_from_other_arguments_is_refused(iris, tmp_path):
    X, y = iris[0], iris[1]
    path = tmp_path / "run.jsonl"
    _interrupted(iris, path, Interrupting(y, n_calls=3))
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"other arguments \(strategy: 'margin' in the log, "
                                         r"'entropy' now\)"):
        run(_lr(), X, y, strategy="entropy", resume=path, **_args(iris))
    with pytest.raises(ValueError, match=r"other arguments \(random_state: 3 in the log, 4"):
        run(_lr(), X, y, resume=path, **_args(iris, random_state=4))
    with pytest.raises(ValueError, match="batch_size"):
        run(_lr(), X, y, resume=path, **_args(iris, batch_size=5))
    # same settings, other data: the replay chooses other ids than the log
    with pytest.raises(ValueError, match="does not match this run"):
        run(_lr(), X[::-1].copy(), y, resume=path, **_args(iris))
    assert path.read_bytes() == before  # a refused resume writes nothing


def test_resume_needs_an_unfinished_run_and_a_seed(iris, tmp_path):
    X, y = iris[0], iris[1]
    path = tmp_path / "run.jsonl"
    run(_lr(), X, y, sinks=[JSONLSink(path)], **_args(iris))
    with pytest.raises(ValueError, match="is complete .*nothing to resume"):
        run(_lr(), X, y, resume=path, **_args(iris))
    with pytest.raises(ValueError, match="integer random_state"):
        run(_lr(), X, y, resume=path, **_args(iris, random_state=None))
    with pytest.raises(FileNotFoundError, match="folder .* does not exist"):
        run(_lr(), X, y, resume=tmp_path / "no-such-dir" / "run.jsonl", **_args(iris))
    with pytest.raises(TypeError, match="resume must be the path"):
        run(_lr(), X, y, resume=3, **_args(iris))


@pytest.mark.parametrize("existing", [None, "", "\n"])
def test_resume_with_nothing_logged_starts_fresh_and_writes_the_log(iris, tmp_path, existing):
    X, y = iris[0], iris[1]
    path = tmp_path / "run.jsonl"
    if existing is not None:
        path.write_text(existing, encoding="utf-8")
    whole = run(_lr(), X, y, **_args(iris))
    fresh = run(_lr(), X, y, resume=path, **_args(iris))
    _assert_same_run(fresh, whole)
    assert [e["event"] for e in read_events(path)][0] == "run_start"
    _assert_same_run(replay(path), whole)


def test_one_script_serves_the_first_run_and_the_restart(iris, tmp_path):
    X, y = iris[0], iris[1]
    path = tmp_path / "run.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run(_lr(), X, Interrupting(y, 3), resume=path, **_args(iris))
    resumed = run(_lr(), X, y, resume=path, **_args(iris))
    _assert_same_run(resumed, run(_lr(), X, y, **_args(iris)))
