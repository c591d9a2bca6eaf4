"""Every registered strategy passes the same contract checks.

n unique valid ids among the candidates, deterministic for a seed, n = 1 and n = pool
size work, inputs are not mutated, utilities are aligned with the candidate ids.
Committee strategies (and those that need sampled probabilities) get a
:class:`activelab.Committee`.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from threadpoolctl import threadpool_limits

from activelab import Committee
from activelab.engine.tasks import tasks_of
from activelab.pool import RowView
from activelab.strategies import QueryContext, QueryResult, available_strategies, get_strategy

N_POOL = 60


@pytest.fixture(autouse=True)
def one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    centres = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 1.0], [0.0, 3.0, -1.0]])
    y = np.repeat([0, 1, 2], 30)
    X = centres[y] + rng.randn(90, 3)
    order = rng.permutation(90)
    X, y = X[order], y[order]
    # pool ids 0..89: ids 0..29 are labeled, the other 60 are the candidates
    labeled = np.arange(30)
    candidates = np.arange(30, 90)
    assert candidates.size == N_POOL
    return X, y, labeled, candidates


def _estimator(name, X, y, labeled):
    """A model for the strategy's task: regression-only strategies get a regressor
    (a linear one for emcm, a forest, whose trees are members, for the others) fitted on
    real targets."""
    strategy = get_strategy(name)
    if "classification" in tasks_of(strategy):
        return None, y
    y_real = X @ np.array([1.5, -2.0, 0.5]) + 0.1 * y
    model = Ridge() if name == "emcm" else RandomForestRegressor(n_estimators=10, random_state=0)
    return model.fit(X[labeled], y_real[labeled]), y_real


def make_context(name, data, as_view=False):
    X, y, labeled, candidates = data
    needs = get_strategy(name).needs
    regressor, y = _estimator(name, X, y, labeled)
    if regressor is not None:
        estimator = regressor
    elif needs & {"committee_proba", "sampled_proba"}:  # sampled outputs come from members
        estimator = Committee.bagging(
            LogisticRegression(max_iter=500), 3, X[labeled], y[labeled], random_state=0
        )
    else:
        estimator = LogisticRegression(max_iter=500).fit(X[labeled], y[labeled])
    X_cand = RowView(X, candidates) if as_view else X[candidates].copy()
    costs = 1.0 + (candidates % 3).astype(float)
    return QueryContext(
        candidates,
        X_cand,
        estimator=estimator,
        X_labeled=X[labeled].copy(),
        y_labeled=y[labeled].copy(),
        costs=costs,
    )


def check_result(result, context, n):
    assert isinstance(result, QueryResult)
    ids = np.asarray(result.ids)
    assert ids.shape == (n,)
    assert np.issubdtype(ids.dtype, np.integer)
    assert np.unique(ids).size == n
    assert np.isin(ids, context.candidate_ids).all()
    np.testing.assert_array_equal(result.candidate_ids, context.candidate_ids)
    assert np.asarray(result.utilities).shape == context.candidate_ids.shape
    assert isinstance(result.info, dict)


# classification contexts here; the multi-label strategies have their own contract test
# (tests/strategies/test_strategies_multilabel.py)
ALL = available_strategies(task="classification")


def test_the_new_families_are_registered():
    expected = {
        "kmeans", "coreset", "hybrid", "ranked_batch", "information_density", "class_balanced",
        "expected_error", "expected_gradient_length", "badge", "cost_aware", "auto", "albl", "cluster_margin",
    }
    assert expected <= set(ALL)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("n", [1, 7])
def test_valid_unique_ids(name, n, data):
    context = make_context(name, data)
    check_result(get_strategy(name, random_state=0).select(context, n), context, n)


@pytest.mark.parametrize("name", ALL)
def test_whole_pool(name, data):
    context = make_context(name, data)
    result = get_strategy(name, random_state=0).select(context, N_POOL)
    check_result(result, context, N_POOL)
    assert sorted(result.ids.tolist()) == context.candidate_ids.tolist()


@pytest.mark.parametrize("name", ALL)
def test_deterministic_for_a_seed(name, data):
    a = get_strategy(name, random_state=42).select(make_context(name, data), 5)
    b = get_strategy(name, random_state=42).select(make_context(name, data), 5)
    assert a.ids.tolist() == b.ids.tolist()
    np.testing.assert_array_equal(a.utilities, b.utilities)


@pytest.mark.parametrize("name", ALL)
def test_inputs_are_not_mutated(name, data):
    X, y, labeled, candidates = data
    X0, y0 = X.copy(), y.copy()
    context = make_context(name, data)
    before = {
        "X": np.asarray(context.X).copy(),
        "XL": context.X_labeled.copy(),
        "yL": context.y_labeled.copy(),
        "costs": context.costs.copy(),
        "ids": context.candidate_ids.copy(),
    }
    estimator = context.estimator
    params = estimator.get_params() if hasattr(estimator, "get_params") else None
    get_strategy(name, random_state=0).select(context, 5)
    np.testing.assert_array_equal(np.asarray(context.X), before["X"])
    np.testing.assert_array_equal(context.X_labeled, before["XL"])
    np.testing.assert_array_equal(context.y_labeled, before["yL"])
    np.testing.assert_array_equal(context.costs, before["costs"])
    np.testing.assert_array_equal(context.candidate_ids, before["ids"])
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    if params is not None:
        assert estimator.get_params() == params


@pytest.mark.parametrize("name", ALL)
def test_row_view_gives_the_same_choice(name, data):
    a = get_strategy(name, random_state=3).select(make_context(name, data), 4)
    b = get_strategy(name, random_state=3).select(make_context(name, data, as_view=True), 4)
    assert a.ids.tolist() == b.ids.tolist()


@pytest.mark.parametrize("name", ALL)
def test_bad_batch_sizes_are_refused(name, data):
    context = make_context(name, data)
    with pytest.raises(ValueError):
        get_strategy(name, random_state=0).select(context, 0)
    with pytest.raises(ValueError):
        get_strategy(name, random_state=0).select(context, N_POOL + 1)


@pytest.mark.parametrize(
    "name",
    [n for n in ALL if not get_strategy(n).needs & {"committee_proba", "sampled_proba"}],
)
def test_usable_from_an_active_learner(name, data):
    from activelab import ActiveLearner

    X, y, labeled, candidates = data
    regressor, y = _estimator(name, X, y, labeled)
    learner = ActiveLearner(
        LogisticRegression(max_iter=500) if regressor is None else regressor,
        query_strategy=name, X_training=X[labeled], y_training=y[labeled], random_state=0,
    )
    extra = {"costs": np.ones(candidates.size)} if "costs" in learner.strategy_.needs else {}
    positions, rows = learner.query(X[candidates], n_instances=3, **extra)
    assert np.unique(positions).size == 3
    assert positions.min() >= 0 and positions.max() < candidates.size
    np.testing.assert_array_equal(rows, X[candidates][positions])
