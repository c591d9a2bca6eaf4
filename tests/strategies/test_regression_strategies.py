"""Regression strategies: hand-worked choices, the contract, and clear refusals."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import BayesianRidge, LinearRegression, LogisticRegression, Ridge

import activelab as al
from activelab.engine.models import make_model
from activelab.strategies import available_strategies, get_strategy
from activelab.strategies.query import query_context
from activelab.testing import check_strategy

REGRESSION = ["emcm", "greedy_io", "greedy_x", "max_std", "qbc_variance"]
IDS = np.array([10, 11, 12, 13], dtype=np.int64)


def _select(name, n, model=None, X=None, ids=IDS, **context):
    ctx = query_context(model, X, ids[: len(X) if X is not None else None], **context)
    return get_strategy(name, random_state=0).select(ctx, n)


def test_the_regression_strategies_are_registered_for_regression_only():
    assert set(REGRESSION) <= set(available_strategies(task="regression"))
    for name in REGRESSION:
        assert name not in available_strategies(task="classification")


@pytest.mark.parametrize("name", REGRESSION)
def test_contract(name):
    check_strategy(name)


def test_greedy_x_takes_the_farthest_from_the_labeled_rows_one_by_one():
    X = np.array([[0.0], [1.0], [3.0], [6.0]])
    # distances to the labeled 0.5: 0.5, 0.5, 2.5, 5.5 -> 6 first; then to {0.5, 6}:
    # 0.5, 0.5, 2.5 -> 3; then 0.5, 0.5 (a tie: the earlier candidate) -> 0
    result = _select("greedy_x", 3, X=X, X_labeled=np.array([[0.5]]), y_labeled=np.array([1.0]))
    assert result.ids.tolist() == [13, 12, 10]
    assert result.utilities.tolist() == [0.5, 0.5, 2.5, 5.5]


def test_greedy_x_without_labels_starts_nearest_the_centroid():
    X = np.array([[0.0], [1.0], [2.0], [10.0]])  # centroid 3.25: 2 is nearest
    # then to {2}: 2, 1, -, 8 -> 10; then to {2, 10}: 2, 1 -> 0
    assert _select("greedy_x", 3, X=X).ids.tolist() == [12, 13, 10]


def test_greedy_io_weighs_input_distance_by_output_distance():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    f = np.array([0.0, 5.0, 1.0, 1.0])  # the model's predictions
    # labeled (0, y=0): |dx| 0,1,2,3 times |f - 0| 0,5,1,1 -> 0,5,2,3: 1 first.
    # with (1, f=5): |dx| 1,0,1,2 times |f-5| 5,0,4,4 -> 5,0,4,8; min 0,-,2,3: 3 next.
    # with (3, f=1): |dx| 3,2,1 times |f-1| 1,4,0 -> 3,8,0; min 0,-,0: a tie -> 0.
    result = _select("greedy_io", 3, X=X, X_labeled=np.array([[0.0]]),
                     y_labeled=np.array([0.0]), extras={"predictions": f})
    assert result.ids.tolist() == [11, 13, 10]
    assert result.utilities.tolist() == [0.0, 5.0, 2.0, 3.0]
    # input space alone picks 3 first, then 1 (2 and 1 tie at distance 1 from {0, 3})
    assert _select("greedy_x", 2, X=X, X_labeled=np.array([[0.0]])).ids.tolist() == [13, 11]


def test_qbc_variance_ranks_by_the_members_variance():
    members = np.array([[1.0, 2.0, 3.0], [1.0, 4.0, 3.0], [1.0, 0.0, 6.0]])
    # variances: 0; mean 2 -> (0 + 4 + 4) / 3 = 8/3; mean 4 -> (1 + 1 + 4) / 3 = 2
    result = _select("qbc_variance", 3, ids=IDS[:3], extras={"committee_predictions": members})
    assert result.ids.tolist() == [11, 12, 10]
    assert np.allclose(result.utilities, [0.0, 8 / 3, 2.0])


def test_max_std_ranks_by_the_predictive_std():
    result = _select("max_std", 2, ids=IDS[:3], extras={"predictive_std": np.array([0.1, 0.5, 0.3])})
    assert result.ids.tolist() == [11, 12]


def test_emcm_by_hand_with_one_bootstrap_model():
    XL, yL = np.array([[0.0], [1.0], [2.0]]), np.array([0.0, 1.0, 0.0])
    model = LinearRegression().fit(XL, yL)  # slope 0: f(x) = 1/3
    # RandomState(0).randint(0, 3, 3) = [0, 1, 0]: the bootstrap fit on (0,0),(1,1),(0,0)
    # has slope 1 and intercept 0, so f_1(x) = x.  Utility ||x|| * |f(x) - f_1(x)|:
    # x=3: 3 * 8/3 = 8; x=-1: 1 * 4/3; x=0.5: 0.5 * 1/6 = 1/12
    X = np.array([[3.0], [-1.0], [0.5]])
    ctx = query_context(model, X, IDS[:3], X_labeled=XL, y_labeled=yL)
    result = get_strategy("emcm", n_members=1, random_state=0).select(ctx, 3)
    assert np.allclose(result.utilities, [8.0, 4 / 3, 1 / 12])
    assert result.ids.tolist() == [10, 11, 12]


X_D, Y_D = load_diabetes(return_X_y=True)


def test_qbc_variance_with_a_committee_of_regressors_and_with_a_forest():
    committee = al.Committee([Ridge(alpha=a) for a in (0.01, 1.0, 100.0)], query_strategy=None)
    committee.teach(X_D[:30], Y_D[:30])
    assert committee.strategy_.name == "qbc_variance"
    members = committee.committee_predictions(X_D[30:40])
    assert members.shape == (3, 10)
    assert np.allclose(committee.predict(X_D[30:40]), members.mean(axis=0))
    ids, _ = committee.query(X_D[30:40], n_instances=2)
    assert ids.tolist() == np.argsort(-members.var(axis=0))[:2].tolist()
    forest = al.ActiveLearner(RandomForestRegressor(n_estimators=5, random_state=0),
                              "qbc_variance", X_D[:30], Y_D[:30])
    trees = np.array([t.predict(X_D[30:40]) for t in forest.estimator_.estimators_])
    assert forest.query(X_D[30:40], n_instances=1)[0][0] == np.argmax(trees.var(axis=0))


@pytest.mark.parametrize("model", [BayesianRidge(), make_model("gp", 0, task="regression")])
def test_max_std_reads_return_std(model):
    learner = al.ActiveLearner(model, "max_std", X_D[:30], Y_D[:30])
    std = learner.estimator_.predict(X_D[30:60], return_std=True)[1]
    assert learner.query(X_D[30:60], n_instances=1)[0][0] == np.argmax(std)


def test_greedy_x_needs_no_model():
    ctx = query_context(None, X_D[:50], np.arange(50), X_labeled=X_D[50:55])
    assert len(get_strategy("greedy_x").select(ctx, 3).ids) == 3


def test_refusals_name_the_fix():
    with pytest.raises(TypeError, match="emcm is for linear models"):
        al.ActiveLearner(RandomForestRegressor(n_estimators=3), "emcm", X_D[:20],
                         Y_D[:20]).query(X_D[20:30])
    with pytest.raises(TypeError, match="no predictive uncertainty"):
        al.ActiveLearner(Ridge(), "max_std", X_D[:20], Y_D[:20]).query(X_D[20:30])
    with pytest.raises(ValueError, match="'margin' is for classification, not regression"):
        al.ActiveLearner(Ridge(), "margin", X_D[:20], Y_D[:20])
    with pytest.raises(ValueError, match="'greedy_io' is for regression"):
        al.ActiveLearner(LogisticRegression(), "greedy_io", X_D[:20], (Y_D[:20] > 140).astype(int))
    with pytest.raises(ValueError, match="mixes classifiers and regressors"):
        al.Committee([Ridge(), LogisticRegression()])


def test_max_std_of_a_quantile_forest_is_half_its_one_sigma_interval():
    pytest.importorskip("quantile_forest", reason="the quantile extra (quantile-forest) is not installed")
    learner = al.ActiveLearner(make_model("qrf", 0, task="regression"), "max_std",
                               X_D[:60], Y_D[:60])
    q = learner.estimator_.predict(X_D[60:90], quantiles=[0.15865525393145707,
                                                          0.8413447460685429])
    std = (q[:, 1] - q[:, 0]) / 2
    result = learner.query_result(X_D[60:90], 3)
    assert np.allclose(result.utilities, std)
    assert sorted(result.ids.tolist()) == sorted(np.argsort(-std)[:3].tolist())


def test_the_cli_and_the_model_table_list_the_same_regressors():
    from activelab.cli._checks import REGRESSION_MODEL_NAMES
    from activelab.engine.models import REGRESSION_MODELS

    assert set(REGRESSION_MODEL_NAMES) == set(REGRESSION_MODELS)
