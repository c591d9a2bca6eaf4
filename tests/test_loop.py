"""Tests of the active-learning loop: accounting, reproducibility, stopping, oracles, errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC, LinearSVC
from threadpoolctl import threadpool_limits

from activelab.learners import ActiveLearner, Committee
from activelab.loop import (
    STOP_BUDGET,
    STOP_CRITERION,
    STOP_ORACLE,
    STOP_POOL,
    LoopState,
    RoundRecord,
    RunResult,
    run,
)
from activelab.oracles import NoisyOracle, Oracle, OracleAnswer, SimulatedOracle
from activelab.pool import Pool
from activelab.stopping import BudgetExhausted, PerformancePlateau
from activelab.strategies.base import QueryContext, UtilityStrategy
from activelab.strategies.committee import vote_entropy_utility

TIMING_KEYS = ("fit_seconds", "query_seconds", "label_seconds", "eval_seconds")


def _lr() -> LogisticRegression:
    return LogisticRegression(max_iter=300)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # tiny fits are much slower with several BLAS threads on a shared machine
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    rng = np.random.RandomState(0)
    order = rng.permutation(len(y))
    pool, test = order[:300], order[300:600]
    return X[pool] / 16.0, y[pool], X[test] / 16.0, y[test]


def _first_of_each_class(y: np.ndarray, per_class: int = 1) -> np.ndarray:
    """The first ``per_class`` ids of every class (a fixed, deterministic initial set)."""
    return np.concatenate([np.flatnonzero(y == c)[:per_class] for c in np.unique(y)])


def _without_timings(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in records]


class SkippingOracle(Oracle):
    """Knows ``y`` but declines the ids in ``skip``; remembers every batch it was asked."""

    def __init__(self, y: np.ndarray, skip: np.ndarray) -> None:
        self.y = np.asarray(y)
        self.skip = set(np.asarray(skip).tolist())
        self.asked: list[np.ndarray] = []

    def label(self, ids: np.ndarray, pool: Pool) -> OracleAnswer:
        ids = np.asarray(ids, dtype=np.int64)
        self.asked.append(ids.copy())
        mask = np.array([i in self.skip for i in ids.tolist()], dtype=bool)
        return OracleAnswer(ids=ids[~mask], labels=self.y[ids[~mask]], skipped=ids[mask])


class QuittingOracle(Oracle):
    """Gives ``n_answers`` labels in total, then presses quit in the middle of a batch."""

    def __init__(self, y: np.ndarray, n_answers: int) -> None:
        self.y = np.asarray(y)
        self.left = n_answers

    def label(self, ids: np.ndarray, pool: Pool) -> OracleAnswer:
        ids = np.asarray(ids, dtype=np.int64)
        given = ids[: self.left]
        self.left -= given.size
        return OracleAnswer(
            ids=given, labels=self.y[given], skipped=np.empty(0, dtype=np.int64),
            stop=given.size < ids.size,
        )


class StateRecorder:
    """A stopping criterion that never fires and keeps what it saw each round."""

    name = "recorder"
    reason = None

    def __init__(self) -> None:
        self.seen: list[dict] = []

    def should_stop(self, state: LoopState) -> bool:
        self.seen.append(
            {
                "round": state.round,
                "n_labeled": state.n_labeled,
                "n_queried": state.n_queried,
                "pool_labeled": state.pool.n_labeled,
                "pool_unlabeled": state.pool.n_unlabeled,
                "current_is_last": state.history[-1].round == state.round,
                "fitted": state.learner.is_fitted,
            }
        )
        return False


class FeatureZero(UtilityStrategy):
    """Utility = the first feature of each candidate row (tests the id <-> row mapping)."""

    name = "feature_zero_test"
    needs = frozenset({"features"})

    def utility(self, context: QueryContext) -> np.ndarray:
        return np.asarray(context.X)[:, 0].astype(np.float64)


class CheapestFirst(UtilityStrategy):
    """Utility = minus the cost of each candidate (tests that costs follow the ids)."""

    name = "cheapest_first_test"
    needs = frozenset({"costs"})

    def utility(self, context: QueryContext) -> np.ndarray:
        return -context.costs


# --------------------------------------------------------------------------- accounting
def test_accounting_adds_up_when_batch_does_not_divide_budget(digits):
    X, y, X_test, y_test = digits
    initial = _first_of_each_class(y)  # 10 ids
    recorder = StateRecorder()
    result = run(
        _lr(), X, y, X_test=X_test, y_test=y_test, initial=initial, batch_size=7,
        budget=40, stopping=recorder, random_state=0,
    )
    assert result.stop_kind == STOP_BUDGET
    assert [r.n_labeled for r in result.rounds] == [10, 17, 24, 31, 38, 40]
    assert [r.n_new_labels for r in result.rounds] == [7, 7, 7, 7, 2, 0]
    labeled = result.labeled_ids
    assert labeled.size == np.unique(labeled).size == 40  # no id labeled twice
    assert result.n_labeled == initial.size + sum(r.labels.size for r in result.rounds)
    np.testing.assert_array_equal(result.pool.labeled_ids, labeled)
    np.testing.assert_array_equal(labeled[:10], initial)
    assert result.pool.n_labeled + result.pool.n_unlabeled == len(y)
    np.testing.assert_array_equal(result.pool.labels_of(labeled), y[labeled])
    np.testing.assert_array_equal(result.labels, y[labeled])
    # the pool shrinks by exactly what each round labeled, and the state agrees with it
    pairs = zip(recorder.seen, recorder.seen[1:], result.rounds[:-1], strict=False)
    for before, after, record in pairs:
        assert before["pool_unlabeled"] - after["pool_unlabeled"] == record.n_new_labels
    for seen in recorder.seen:
        assert seen["n_labeled"] == seen["pool_labeled"] == 10 + seen["n_queried"]
        assert seen["pool_labeled"] + seen["pool_unlabeled"] == len(y)
        assert seen["current_is_last"] and seen["fitted"]
    # each round's queried ids are fresh (not labeled before)
    seen_ids = set(initial.tolist())
    for record in result.rounds:
        assert not seen_ids & set(record.query_ids.tolist())
        np.testing.assert_array_equal(record.query_ids, record.labeled_ids)
        seen_ids |= set(record.query_ids.tolist())


def test_round_records_hold_metrics_utilities_and_timings(digits):
    X, y, X_test, y_test = digits
    result = run(
        _lr(), X, y, X_test=X_test, y_test=y_test, initial=_first_of_each_class(y),
        batch_size=5, budget=20, random_state=0,
    )
    for record in result.rounds:
        assert set(record.metrics) == {"accuracy", "f1_macro", "balanced_accuracy"}
        assert all(0.0 <= v <= 1.0 for v in record.metrics.values())
        assert record.fit_seconds > 0 and record.query_seconds >= 0
        assert record.label_seconds >= 0 and record.eval_seconds > 0
    first = result.rounds[0]
    assert first.info["strategy"] == "margin"
    assert first.query_utilities.shape == first.query_ids.shape
    assert np.all(np.isfinite(first.query_utilities))
    # margin utilities are minus the gap, so they lie in [-1, 0] and come best first
    assert np.all(first.query_utilities <= 0) and np.all(first.query_utilities >= -1)
    assert np.all(np.diff(first.query_utilities) <= 1e-12)
    n, acc = result.curve("accuracy")
    np.testing.assert_array_equal(n, [10, 15, 20])
    assert acc.shape == (3,)
    assert acc[0] == result.rounds[0].metrics["accuracy"]
    rows = result.to_records()
    assert len(rows) == 3 and rows[1]["n_labeled"] == 15 and rows[1]["accuracy"] == acc[1]


def test_margin_loop_picks_the_points_nearest_the_boundary():
    # 1-D, symmetric initial set {-3 -> 0, 3 -> 1}: by symmetry the fitted boundary is at
    # x = 0, so the margin grows with |x|: the two smallest are x = -0.1 (id 3), x = 0.2 (id 4).
    x = np.array([-3.0, -2.0, -1.0, -0.1, 0.2, 1.5, 2.0, 3.0])
    y = (x > 0).astype(int)
    result = run(
        LogisticRegression(C=1.0), x[:, None], y, initial=[0, 7], batch_size=2, budget=4,
        random_state=0,
    )
    assert result.rounds[0].query_ids.tolist() == [3, 4]
    assert result.labeled_ids.tolist() == [0, 7, 3, 4]
    assert result.rounds[0].metrics == {}  # no test set, no metrics


def test_ids_map_to_their_rows_and_costs():
    n = 30
    X = np.column_stack([np.arange(n, dtype=float), np.tile([0.0, 1.0], n // 2)])
    y = np.tile([0, 1], n // 2)
    # feature 0 is the id: the largest unlabeled ids must come first
    result = run(_lr(), X, y, strategy=FeatureZero(), initial=[0, 1, 29], batch_size=3,
                 budget=9, random_state=0)
    assert result.rounds[0].query_ids.tolist() == [28, 27, 26]
    assert result.rounds[1].query_ids.tolist() == [25, 24, 23]
    # costs are indexed by pool id: the cheapest unlabeled ids must come first
    costs = np.linspace(5.0, 1.0, n)
    costs[[4, 10]] = 0.0
    result = run(_lr(), X, y, strategy=CheapestFirst(), initial=[0, 1, 29], batch_size=3,
                 budget=6, costs=costs, random_state=0)
    assert result.rounds[0].query_ids.tolist() == [4, 10, 28]
    np.testing.assert_allclose(result.rounds[0].query_utilities, -costs[[4, 10, 28]])


def test_pool_exhausted_stops_with_every_item_labeled():
    X, y = make_classification(n_samples=30, n_features=4, random_state=0)
    result = run(_lr(), X, y, X_test=X, y_test=y, initial=_first_of_each_class(y, 5),
                 batch_size=7, random_state=0)
    assert result.stop_kind == STOP_POOL
    assert "pool exhausted" in result.stopped_by
    assert [r.n_new_labels for r in result.rounds] == [7, 7, 6, 0]
    assert result.pool.n_unlabeled == 0 and result.n_labeled == 30
    assert sorted(result.labeled_ids.tolist()) == list(range(30))


# --------------------------------------------------------------------------- reproducibility
def test_same_seed_gives_the_same_run_bit_for_bit(digits):
    X, y, X_test, y_test = digits
    kwargs = dict(X_test=X_test, y_test=y_test, initial=20, batch_size=10, budget=50)
    a = run(_lr(), X, y, random_state=3, **kwargs)
    b = run(_lr(), X, y, random_state=3, **kwargs)
    assert _without_timings(a.to_records()) == _without_timings(b.to_records())
    np.testing.assert_array_equal(a.labeled_ids, b.labeled_ids)


def test_different_seeds_give_different_queries(digits):
    X, y, X_test, y_test = digits
    kwargs = dict(X_test=X_test, y_test=y_test, initial=20, batch_size=10, budget=40)
    a = run(_lr(), X, y, random_state=1, **kwargs)
    b = run(_lr(), X, y, random_state=2, **kwargs)
    assert a.labeled_ids.tolist() != b.labeled_ids.tolist()
    # the random baseline from one fixed initial set differs too (only the seed changes)
    init = _first_of_each_class(y)
    c = run(_lr(), X, y, strategy="random", initial=init, batch_size=10, budget=30,
            random_state=1)
    d = run(_lr(), X, y, strategy="random", initial=init, batch_size=10, budget=30,
            random_state=2)
    assert c.rounds[0].query_ids.tolist() != d.rounds[0].query_ids.tolist()
    # and within one run, rounds do not repeat the same random draw
    assert set(c.rounds[0].query_ids.tolist()).isdisjoint(c.rounds[1].query_ids.tolist())


def test_estimator_random_state_is_seeded_and_user_objects_untouched(iris):
    X, y = iris
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(n_estimators=5)
    kwargs = dict(initial=_first_of_each_class(y, 2), batch_size=5, budget=21,
                  X_test=X, y_test=y)
    a = run(forest, X, y, random_state=7, **kwargs)
    b = run(forest, X, y, random_state=7, **kwargs)
    assert _without_timings(a.to_records()) == _without_timings(b.to_records())
    assert forest.random_state is None and not hasattr(forest, "estimators_")


def test_cold_start_methods_choose_the_initial_set(iris):
    X, y = iris
    for method in ("random", "kmeans"):
        result = run(_lr(), X, y, initial=12, cold_start=method, batch_size=4, budget=20,
                     random_state=0)
        assert result.initial_ids.size == 12
        assert result.n_labeled == 20
        assert result.config["cold_start"] == method


# --------------------------------------------------------------------------- stopping
def test_stopping_criterion_ends_the_run_and_says_why(iris):
    X, y = iris
    init = _first_of_each_class(y, 2)
    result = run(_lr(), X, y, initial=init, batch_size=5, stopping=BudgetExhausted(16),
                 random_state=0)
    assert result.stop_kind == STOP_CRITERION
    assert result.stopped_by.startswith("stopping criterion:")
    assert [r.n_labeled for r in result.rounds] == [6, 11, 16]
    plateau = PerformancePlateau(window=2, threshold=1.0)
    result = run(_lr(), X, y, X_test=X, y_test=y, initial=init, batch_size=5, budget=100,
                 stopping=plateau, random_state=0)
    assert result.stop_kind == STOP_CRITERION
    assert result.n_labeled < 100
    assert plateau.reason is None  # the run used its own copy


def test_stopping_as_a_list_means_any_of(iris):
    X, y = iris
    result = run(_lr(), X, y, initial=_first_of_each_class(y, 2), batch_size=5,
                 stopping=[BudgetExhausted(11), BudgetExhausted(500)], random_state=0)
    assert result.stop_kind == STOP_CRITERION and result.n_labeled == 11


def test_oracle_quit_ends_the_run_after_fitting_what_it_gave(iris):
    X, y = iris
    init = _first_of_each_class(y, 2)  # 6 ids
    oracle = QuittingOracle(y, n_answers=6 + 5 + 3)  # quits 3 labels into round 1
    result = run(_lr(), X, oracle, X_test=X, y_test=y, initial=init, batch_size=5,
                 random_state=0)
    assert result.stop_kind == STOP_ORACLE and "oracle" in result.stopped_by
    assert [r.n_labeled for r in result.rounds] == [6, 11, 14]
    assert result.rounds[1].labeled_ids.size == 3 and result.rounds[1].skipped_ids.size == 0
    assert result.pool.n_labeled == 14
    # quitting exactly at a batch boundary ends without refitting an unchanged set
    oracle = QuittingOracle(y, n_answers=6 + 5)
    result = run(_lr(), X, oracle, initial=init, batch_size=5, random_state=0)
    assert result.stop_kind == STOP_ORACLE
    assert [r.n_labeled for r in result.rounds] == [6, 11]


def test_oracle_quit_before_any_label_returns_an_empty_run(iris):
    X, y = iris
    result = run(_lr(), X, QuittingOracle(y, 0), initial=[0, 50, 100], random_state=0)
    assert result.stop_kind == STOP_ORACLE and result.rounds == []
    assert result.n_labeled == 0


def test_skipped_ids_are_not_labeled_and_not_asked_again(iris):
    X, y = iris
    init = _first_of_each_class(y, 2)
    skip = np.arange(60, 100, 2)  # 20 ids of class 1 that nobody can label
    oracle = SkippingOracle(y, skip)
    result = run(_lr(), X, oracle, initial=init, batch_size=6, budget=42, random_state=0)
    assert result.stop_kind == STOP_BUDGET and result.n_labeled == 42
    skipped = np.concatenate([r.skipped_ids for r in result.rounds])
    assert skipped.size > 0 and set(skipped.tolist()) <= set(skip.tolist())
    assert not set(skipped.tolist()) & set(result.labeled_ids.tolist())
    asked = np.concatenate(oracle.asked)
    assert asked.size == np.unique(asked).size  # nothing asked twice, in a round or later
    for record in result.rounds[:-1]:
        assert record.n_new_labels == 6  # skipped ids were replaced within the round
        assert set(record.query_ids.tolist()) == set(record.labeled_ids.tolist()) | set(
            record.skipped_ids.tolist()
        )


def test_oracle_that_skips_everything_left_ends_the_run():
    X, y = make_classification(n_samples=20, n_features=3, n_redundant=0, random_state=1)
    init = _first_of_each_class(y, 3)
    rest = np.setdiff1d(np.arange(20), init)
    oracle = SkippingOracle(y, rest[4:])  # only 4 more items can be labeled
    result = run(_lr(), X, oracle, initial=init, batch_size=3, random_state=0)
    assert result.stop_kind == STOP_POOL
    assert result.n_labeled == 10
    assert result.pool.n_unlabeled == 10


def test_noisy_oracle_facts_are_reported(digits):
    X, y, _, _ = digits
    oracle = NoisyOracle(y, error_rate=0.3, random_state=0)
    result = run(_lr(), X, oracle, initial=_first_of_each_class(y, 3), batch_size=10,
                 budget=60, random_state=0)
    facts = result.oracle_info
    np.testing.assert_array_equal(facts["corrupted_ids"], oracle.corrupted_ids_)
    assert facts["n_corrupted"] == oracle.corrupted_ids_.size > 0
    wrong = result.pool.labels_of(facts["corrupted_ids"]) != y[facts["corrupted_ids"]]
    assert wrong.all()
    assert run(_lr(), X, y, initial=_first_of_each_class(y), budget=10).oracle_info == {}


def test_callable_oracle_and_explicit_oracle_object(iris):
    X, y = iris
    init = _first_of_each_class(y, 2)
    a = run(_lr(), X, lambda ids, rows: y[ids], initial=init, budget=16, batch_size=5,
            random_state=0)
    b = run(_lr(), X, SimulatedOracle(y), initial=init, budget=16, batch_size=5,
            random_state=0)
    np.testing.assert_array_equal(a.labeled_ids, b.labeled_ids)


# --------------------------------------------------------------------------- learners
def test_committee_strategy_uses_a_bagging_committee(iris):
    X, y = iris
    init = _first_of_each_class(y, 2)
    seen: list[np.ndarray] = []

    def check(state: LoopState) -> bool:
        seen.append(vote_entropy_utility(state.learner.committee_proba(X)))
        return False

    class Check:
        def should_stop(self, state):
            return check(state)

    result = run(_lr(), X, y, strategy="vote_entropy", committee_size=4, initial=init,
                 batch_size=5, budget=21, stopping=Check(), random_state=0)
    assert isinstance(result.learner, Committee)
    assert len(result.learner.learner_list) == 4 and result.learner.bootstrap
    assert result.config["committee_size"] == 4
    assert len(seen) == len(result.rounds) - 1  # the final round stops on the budget first
    for record, utility in zip(result.rounds, seen, strict=False):
        if record.query_ids.size:
            # the chosen ids carry the committee's vote entropy, and nobody beats them
            np.testing.assert_allclose(record.query_utilities, utility[record.query_ids])
            unlabeled_before = np.setdiff1d(
                np.arange(len(y)), result.labeled_ids[: record.n_labeled]
            )
            kth_best = np.sort(utility[unlabeled_before])[-record.query_ids.size]
            assert record.query_utilities.min() >= kth_best - 1e-12
    again = run(_lr(), X, y, strategy="vote_entropy", committee_size=4, initial=init,
                batch_size=5, budget=21, random_state=0)
    np.testing.assert_array_equal(result.labeled_ids, again.labeled_ids)


def test_learner_and_committee_objects_are_copied_not_changed(iris):
    X, y = iris
    init = _first_of_each_class(y, 2)
    learner = ActiveLearner(_lr(), query_strategy="entropy")
    result = run(learner, X, y, initial=init, budget=11, batch_size=5, random_state=0)
    assert not learner.is_fitted and result.learner is not learner
    assert result.learner.is_fitted
    committee = Committee([_lr(), GaussianNB()])
    result = run(committee, X, y, strategy="consensus_entropy", initial=init, budget=11,
                 batch_size=5, random_state=0)
    assert isinstance(result.learner, Committee) and not committee.is_fitted
    assert result.n_labeled == 11


def test_pool_with_labels_starts_from_them(iris):
    X, y = iris
    pool = Pool(X, labeled_ids=[0, 50, 100], labels=y[[0, 50, 100]])
    result = run(_lr(), pool, y, batch_size=4, budget=11, random_state=0)
    assert result.labeled_ids[:3].tolist() == [0, 50, 100]
    assert result.n_labeled == 11 and pool.n_labeled == 3


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda a: a.update(X=np.where(np.eye(150, 4) > 0, np.nan, a["X"])), ValueError, "NaN"),
        (lambda a: a.update(oracle=a["oracle"][:-1]), ValueError, "one label per row"),
        (lambda a: a.update(X_test=a["X"][:, :3], y_test=a["oracle"]), ValueError,
         "features"),
        (lambda a: a.update(X_test=a["X"], y_test=a["oracle"][:10]), ValueError,
         "one label per test row"),
        (lambda a: a.update(X_test=a["X"]), ValueError, "both X_test and y_test"),
        (lambda a: a.update(initial=151), ValueError, "larger than the pool"),
        (lambda a: a.update(initial=[0, 0, 50]), ValueError, "twice"),
        (lambda a: a.update(initial=[0, 500]), ValueError, "between 0 and 149"),
        (lambda a: a.update(batch_size=0), ValueError, "batch_size"),
        (lambda a: a.update(batch_size=2.5), TypeError, "batch_size"),
        (lambda a: a.update(budget=5), ValueError, "smaller than the initial set"),
        (lambda a: a.update(initial=[0, 1, 2, 3]), ValueError, "cold_start='kmeans'"),
        (lambda a: a.update(estimator=LinearSVC()), TypeError, "predict_proba"),
        (lambda a: a.update(estimator=SVC()), TypeError, "CalibratedClassifierCV"),
        (lambda a: a.update(strategy="no_such_strategy"), ValueError, "unknown query strategy"),
        (lambda a: a.update(metrics=["accuracy", "auc_typo"]), ValueError, "unknown metric"),
        (lambda a: a.update(costs=np.ones(3)), ValueError, "one cost per row"),
        (lambda a: a.update(stopping=5), TypeError, "StoppingCriterion"),
        (lambda a: a.update(sinks=[print]), TypeError, "CallbackSink"),
        (lambda a: a.update(estimator="forest"), TypeError, "classifier"),
        (lambda a: a.update(strategy="vote_entropy", committee_size=1), ValueError,
         "committee_size"),
    ],
)
def test_bad_input_gives_a_clear_error_before_any_output(iris, tmp_path, change, error, match):
    from activelab.events import JSONLSink

    X, y = iris
    log = tmp_path / "run.jsonl"
    args = dict(estimator=_lr(), X=X.copy(), oracle=y.copy(), initial=[0, 50, 100, 1, 51, 101],
                batch_size=5, budget=20, sinks=[JSONLSink(log)])
    change(args)
    estimator, X_, oracle = args.pop("estimator"), args.pop("X"), args.pop("oracle")
    with pytest.raises(error, match=match):
        run(estimator, X_, oracle, random_state=0, **args)
    assert not log.exists()


def test_without_predict_proba_a_strategy_that_needs_none_still_runs(iris):
    X, y = iris
    result = run(LinearSVC(), X, y, strategy="random", initial=_first_of_each_class(y, 2),
                 budget=16, batch_size=5, random_state=0, X_test=X, y_test=y)
    assert result.n_labeled == 16 and result.curve()[1].size == 3


def test_curve_without_a_test_set_says_what_to_do(iris):
    X, y = iris
    result = run(_lr(), X, y, initial=_first_of_each_class(y, 2), budget=6)
    with pytest.raises(ValueError, match="X_test and y_test"):
        result.curve()
    result = run(_lr(), X, y, X_test=X, y_test=y, initial=_first_of_each_class(y, 2),
                 budget=6, metrics=["accuracy"])
    with pytest.raises(ValueError, match="choose one of: accuracy"):
        result.curve("f1_macro")


def test_round_record_round_trips_through_a_dict():
    record = RoundRecord(
        round=2, n_labeled=12, metrics={"accuracy": 0.5}, query_ids=np.array([4, 1]),
        query_utilities=np.array([0.3, np.nan]), labels=np.array(["a"]),
        skipped_ids=np.array([1]), labeled_ids=np.array([4]), info={"strategy": "x"},
    )
    back = RoundRecord.from_dict(record.to_dict())
    assert back.to_dict() == record.to_dict()
    assert np.isnan(back.query_utilities[1])
    assert isinstance(RunResult([back], "done", None, None, {}).labeled_ids, np.ndarray)


def test_sparse_pool_and_string_labels(iris):
    import scipy.sparse as sp

    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    result = run(_lr(), sp.csr_matrix(X), names, X_test=sp.csr_matrix(X), y_test=names,
                 strategy="vote_entropy", committee_size=3, initial=[0, 50, 100], budget=13,
                 batch_size=5, random_state=0)
    assert result.n_labeled == 13
    np.testing.assert_array_equal(result.labels, names[result.labeled_ids])
    assert result.labels.dtype.kind == "U"
    assert result.curve()[1].shape == (3,)


def test_missing_predict_proba_is_reported_before_anyone_labels(iris):
    X, y = iris
    oracle = SkippingOracle(y, np.empty(0, dtype=np.int64))
    with pytest.raises(TypeError, match="LinearSVC has no predict_proba"):
        run(LinearSVC(), X, oracle, initial=[0, 50, 100], budget=10)
    with pytest.raises(TypeError, match="committee member LinearSVC"):
        run(Committee([_lr(), LinearSVC()]), X, oracle, strategy="vote_entropy",
            initial=[0, 50, 100], budget=10)
    assert oracle.asked == []



def test_blas_threads_limits_blas_during_the_run_and_restores_it():
    from threadpoolctl import threadpool_info

    def blas_threads():
        return max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")

    X, y = load_iris(return_X_y=True)
    seen = []

    class Watch:
        def emit(self, event):
            seen.append(blas_threads())

        def close(self):
            pass

    with threadpool_limits(limits=2, user_api="blas"):
        outside = blas_threads()
        plain = run(LogisticRegression(max_iter=300), X, y, initial=10, batch_size=5,
                    budget=25, random_state=0)
        limited = run(LogisticRegression(max_iter=300), X, y, initial=10, batch_size=5,
                      budget=25, random_state=0, blas_threads=1, sinks=[Watch()])
        assert blas_threads() == outside
    assert seen and set(seen) == {1}
    assert np.array_equal(plain.labeled_ids, limited.labeled_ids)
    with pytest.raises(ValueError, match="blas_threads"):
        run(LogisticRegression(), X, y, blas_threads=0)


def test_strategies_with_update_receive_each_rounds_labels():
    from activelab.strategies.uncertainty import Margin

    class Recording(Margin):
        name = "recording_margin"

        def __init__(self, random_state=None):
            super().__init__(random_state=random_state)
            self.calls = []

        def update(self, pool_ids, labels, learner):
            assert learner.is_fitted
            self.calls.append((np.asarray(pool_ids).copy(), np.asarray(labels).copy()))

    X, y = load_iris(return_X_y=True)
    strategy = Recording()
    result = run(LogisticRegression(max_iter=300), X, y, strategy=strategy, initial=10,
                 batch_size=5, budget=30, random_state=0)
    used = result.learner.strategy_  # the run works on its own copy of the strategy
    assert isinstance(used, Recording) and strategy.calls == []
    queried = [r.labeled_ids for r in result.rounds if len(r.labeled_ids)]
    assert len(used.calls) == len(queried) == 4
    for (ids, labels), expected in zip(used.calls, queried, strict=True):
        assert np.array_equal(ids, expected)
        assert np.array_equal(labels, y[expected])
