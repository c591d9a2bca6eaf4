"""Stopping criteria, each fired by a constructed case and left alone by a near miss."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score

from activelab.learners import ActiveLearner
from activelab.pool import Pool
from activelab.stopping import (
    AllOf,
    AnyOf,
    BudgetExhausted,
    PerformancePlateau,
    StabilizingPredictions,
    StoppingCriterion,
    TimeLimit,
    UncertaintyBelow,
    as_stopping,
    cohens_kappa,
)


def make_state(**kw):
    base = dict(round=0, pool=None, learner=None, n_labeled=0, n_queried=0, history=[],
                elapsed_seconds=0.0)
    base.update(kw)
    return SimpleNamespace(**base)


def records(values, metric="accuracy"):
    return [SimpleNamespace(metrics={metric: v}, n_labeled=10 * (i + 1))
            for i, v in enumerate(values)]


class FirstColumnProba:
    """A fitted binary model whose confidence in class 0 is the item's first feature."""

    classes_ = np.array([0, 1])

    def predict_proba(self, X):
        p = np.asarray(X)[:, 0]
        return np.column_stack([p, 1.0 - p])


class ThresholdModel:
    """Predicts 1 when the first feature exceeds ``cut`` (changed between rounds)."""

    def __init__(self, cut):
        self.cut = cut

    def predict(self, X):
        return (np.asarray(X)[:, 0] > self.cut).astype(int)


# --------------------------------------------------------------------- budget
def test_budget_fires_at_the_budget_not_before():
    stop = BudgetExhausted(100)
    assert not stop.should_stop(make_state(n_labeled=99))
    assert stop.reason is None and stop.triggered is None
    assert stop.should_stop(make_state(round=1, n_labeled=100))
    assert stop.reason == "label budget reached: 100 labels >= budget 100"
    assert stop.triggered == "budget"


def test_budget_validation():
    with pytest.raises(ValueError, match="budget must be >= 1"):
        BudgetExhausted(0)
    with pytest.raises(TypeError, match="budget must be an integer"):
        BudgetExhausted(10.5)


# -------------------------------------------------------------------- plateau
def test_plateau_fires_when_spread_is_below_threshold():
    stop = PerformancePlateau(window=3, threshold=0.01)
    state = make_state(history=records([0.70, 0.900, 0.905, 0.909]))
    assert stop.should_stop(state)
    assert "0.900, 0.905, 0.909" in stop.reason and "0.0090" in stop.reason


def test_plateau_near_miss_and_short_history():
    stop = PerformancePlateau(window=3, threshold=0.01)
    assert not stop.should_stop(make_state(round=0, history=records([0.900, 0.905, 0.911])))
    assert not stop.should_stop(make_state(round=1, history=records([0.9, 0.9])))


def test_plateau_uses_the_named_metric_and_explains_missing_metrics():
    stop = PerformancePlateau(window=2, threshold=0.05, metric="f1_macro")
    assert stop.should_stop(make_state(history=records([0.5, 0.52], metric="f1_macro")))
    with pytest.raises(ValueError, match="record only"):
        PerformancePlateau().should_stop(make_state(history=records([0.5], metric="f1")))
    empty = [SimpleNamespace(metrics={}, n_labeled=10)]
    with pytest.raises(ValueError, match="needs a test set"):
        PerformancePlateau().should_stop(make_state(history=empty))
    with pytest.raises(ValueError, match="window must be >= 2"):
        PerformancePlateau(window=1)


# ---------------------------------------------------------------- uncertainty
def confidence_pool():
    # first feature = the model's probability of class 0 for that item
    X = np.array([[0.5, 0.0], [0.97, 0.0], [0.99, 0.0], [0.04, 0.0]])
    pool = Pool(X)
    pool.label([0], [1])  # the only uncertain item is labeled, so it does not count
    return pool


def test_uncertainty_below_fires_on_a_confident_pool():
    pool = confidence_pool()
    stop = UncertaintyBelow(0.05)
    assert stop.should_stop(make_state(pool=pool, learner=FirstColumnProba()))
    # the most uncertain unlabeled item is id 3 (1 - 0.96 = 0.04)
    assert stop.reason == "max uncertainty 0.040 over 3 unlabeled items < 0.05"


def test_uncertainty_below_near_miss():
    stop = UncertaintyBelow(0.035)
    assert not stop.should_stop(make_state(pool=confidence_pool(), learner=FirstColumnProba()))


def test_uncertainty_below_sample_is_seeded_and_drawn_from_unlabeled():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.uniform(0.5, 1.0, 200), np.zeros(200)])
    pool = Pool(X)
    pool.label(np.arange(100), np.zeros(100, dtype=int))
    a = UncertaintyBelow(0.6, sample_size=10, random_state=4)
    b = UncertaintyBelow(0.6, sample_size=10, random_state=4)
    state = make_state(pool=pool, learner=FirstColumnProba())
    assert a.should_stop(state) and b.should_stop(state)
    assert a.reason == b.reason and "a sample of 10 unlabeled items" in a.reason
    expected = 1.0 - X[100:, 0]
    value = float(a.reason.split()[2])
    assert expected.min() - 1e-3 <= value <= expected.max() + 1e-3


def test_uncertainty_below_with_no_unlabeled_items():
    pool = Pool(np.zeros((2, 1)), labeled_ids=[0, 1], labels=[0, 1])
    stop = UncertaintyBelow(0.1)
    assert stop.should_stop(make_state(pool=pool, learner=FirstColumnProba()))
    assert stop.reason == "no unlabeled items left"


# ----------------------------------------------------------------------- time
def test_time_limit():
    stop = TimeLimit(60)
    assert not stop.should_stop(make_state(elapsed_seconds=59.9))
    assert stop.should_stop(make_state(round=1, elapsed_seconds=60.0))
    assert stop.reason == "time limit reached: 60.0 s >= 60 s"
    with pytest.raises(ValueError, match="seconds must be > 0"):
        TimeLimit(0)


# ------------------------------------------------------ stabilizing predictions
def test_cohens_kappa_hand_worked():
    a = np.array([0] * 5 + [1] * 5)
    b = np.array([0] * 4 + [1] * 6)
    # p_o = 0.9, p_e = 0.5 * 0.4 + 0.5 * 0.6 = 0.5, kappa = 0.4 / 0.5
    assert cohens_kappa(a, b) == pytest.approx(0.8)
    assert cohens_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    assert cohens_kappa(["x"] * 4, ["x"] * 4) == 1.0
    with pytest.raises(ValueError, match="same length"):
        cohens_kappa([1, 2], [1])


def stabilizing_pool():
    # 50 items; first feature i / 10 for item i; ids 0..39 labeled, 40..49 unlabeled
    X = np.column_stack([np.arange(50) / 10.0, np.zeros(50)])
    pool = Pool(X)
    pool.label(np.arange(40), np.zeros(40, dtype=int))
    return pool


def test_stabilizing_predictions_fires_after_window_agreeing_rounds():
    pool = stabilizing_pool()
    model = ThresholdModel(cut=4.45)  # stop set = ids 40..49, values 4.0 .. 4.9
    stop = StabilizingPredictions(stop_set_size=1000, window=2, threshold=0.99,
                                  measure="agreement", random_state=0)
    cuts = [4.45, 4.55, 4.55, 4.55]  # round 1 changes one of ten predictions
    decisions = []
    for rnd, cut in enumerate(cuts):
        model.cut = cut
        decisions.append(stop.should_stop(make_state(round=rnd, pool=pool, learner=model)))
    assert stop.stop_set_ids_.tolist() == list(range(40, 50))
    assert stop.agreements_ == pytest.approx([0.9, 1.0, 1.0])
    assert decisions == [False, False, False, True]
    assert stop.reason == (
        "predictions stabilised: agreement 1.000, 1.000 over the last 2 rounds >= 0.99"
    )


def test_stabilizing_predictions_kappa_near_miss_and_same_round_asked_twice():
    pool = stabilizing_pool()
    model = ThresholdModel(cut=4.45)
    stop = StabilizingPredictions(window=1, threshold=0.81, random_state=0)
    assert not stop.should_stop(make_state(round=0, pool=pool, learner=model))
    model.cut = 4.55  # 5/5 split -> 6/4 split: kappa 0.8, just below 0.81
    state = make_state(round=1, pool=pool, learner=model)
    assert not stop.should_stop(state)
    assert not stop.should_stop(state)
    assert stop.agreements_ == pytest.approx([0.8])
    loose = StabilizingPredictions(window=1, threshold=0.8, random_state=0)
    model.cut = 4.45
    loose.should_stop(make_state(round=0, pool=pool, learner=model))
    model.cut = 4.55
    assert loose.should_stop(make_state(round=1, pool=pool, learner=model))
    assert "kappa 0.800 over the last round" in loose.reason


def test_stabilizing_predictions_stop_set_is_fixed_seeded_and_reset():
    X = np.column_stack([np.arange(300) / 10.0, np.zeros(300)])
    pool = Pool(X)
    pool.label(np.arange(0, 300, 3), np.zeros(100, dtype=int))
    model = ThresholdModel(cut=10.0)
    stop = StabilizingPredictions(stop_set_size=50, random_state=5)
    stop.should_stop(make_state(round=0, pool=pool, learner=model))
    first = stop.stop_set_ids_.copy()
    assert first.size == 50 and not pool.is_labeled(first).any()
    pool.label(first[:5], np.zeros(5, dtype=int))  # later labels do not move the stop set
    stop.should_stop(make_state(round=1, pool=pool, learner=model))
    assert np.array_equal(stop.stop_set_ids_, first)
    stop.reset()
    assert stop.stop_set_ids_ is None and stop.agreements_ == [] and stop.reason is None
    with pytest.raises(ValueError, match="measure"):
        StabilizingPredictions(measure="f1")


def test_stabilizing_and_uncertainty_with_a_real_learner():
    X, y = make_blobs(n_samples=300, centers=[[-5, 0], [5, 0]], random_state=0)
    pool = Pool(X)
    first = np.r_[np.flatnonzero(y == 0)[:5], np.flatnonzero(y == 1)[:5]]
    pool.label(first, y[first])
    learner = ActiveLearner(LogisticRegression(), X_training=pool.X_labeled,
                            y_training=pool.y_labeled)
    stop = StabilizingPredictions(stop_set_size=100, window=2, threshold=0.99, random_state=0)
    fired = [stop.should_stop(make_state(round=r, pool=pool, learner=learner))
             for r in range(3)]
    assert fired == [False, False, True]  # the same model agrees with itself
    sure = UncertaintyBelow(0.5)
    assert sure.should_stop(make_state(pool=pool, learner=learner))


# --------------------------------------------------------------- combinations
def test_any_of_reports_the_member_that_fired():
    budget, time = BudgetExhausted(100), TimeLimit(60)
    stop = budget | time
    assert isinstance(stop, AnyOf)
    assert not stop.should_stop(make_state(round=0, n_labeled=50, elapsed_seconds=10))
    assert stop.should_stop(make_state(round=1, n_labeled=50, elapsed_seconds=61))
    assert stop.fired == [time] and stop.triggered == "time"
    assert stop.reason == time.reason


def test_all_of_needs_every_member_in_the_same_round():
    budget, time = BudgetExhausted(100), TimeLimit(60)
    stop = budget & time
    assert isinstance(stop, AllOf)
    assert not stop.should_stop(make_state(round=0, n_labeled=50, elapsed_seconds=61))
    assert stop.fired == [time]
    assert stop.should_stop(make_state(round=1, n_labeled=100, elapsed_seconds=61))
    assert stop.fired == [budget, time] and stop.triggered == "budget, time"
    assert stop.reason == f"{budget.reason} and {time.reason}"


def test_combinations_flatten_evaluate_every_member_and_reset():
    pool = stabilizing_pool()
    stable = StabilizingPredictions(window=1, threshold=0.5, random_state=0)
    stop = BudgetExhausted(10) | TimeLimit(60) | stable
    assert len(stop.criteria) == 3
    state = make_state(round=0, pool=pool, learner=ThresholdModel(4.45), n_labeled=40)
    assert stop.should_stop(state)
    assert stable.stop_set_ids_ is not None  # evaluated although the budget fired first
    stop.reset()
    assert stable.stop_set_ids_ is None and stop.reason is None and stop.fired == []
    nested = AllOf(BudgetExhausted(1), AnyOf(TimeLimit(1), BudgetExhausted(2)))
    assert nested.should_stop(make_state(n_labeled=5, elapsed_seconds=0.5))
    assert nested.triggered == "budget, budget"


def test_combination_and_conversion_errors():
    with pytest.raises(TypeError, match="stopping criteria"):
        AnyOf(BudgetExhausted(5), 5)
    with pytest.raises(ValueError, match="at least one"):
        AllOf()
    assert as_stopping(None) is None
    one = TimeLimit(5)
    assert as_stopping(one) is one
    assert isinstance(as_stopping([one, BudgetExhausted(3)]), AnyOf)
    with pytest.raises(TypeError, match="stopping must be"):
        as_stopping("budget")
    assert isinstance(one, StoppingCriterion)
