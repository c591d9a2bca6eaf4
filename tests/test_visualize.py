"""Tests of activelab.visualize: what the figures contain (points, colours), not pixels."""

from __future__ import annotations

import os
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

import activelab as al  # noqa: E402
from activelab.strategies import margin_utility, vote_entropy_utility  # noqa: E402
from activelab.visualize import (  # noqa: E402
    batch_spread,
    plot_query_batch,
    plot_uncertainty,
    project_2d,
    strategy_utilities,
)


class TableClassifier(ClassifierMixin, BaseEstimator):
    """Probabilities read from a table: row ``i`` of ``proba`` for a row whose feature 0 is i."""

    def __init__(self, proba=None):
        self.proba = proba

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.asarray(self.proba)[np.asarray(X)[:, 0].astype(int)]

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


# 5 items on a plane; feature 0 is the row number (so TableClassifier can look it up).
X5 = np.array([[0.0, 0.0], [1.0, 2.0], [2.0, -1.0], [3.0, 0.5], [4.0, 3.0]])
P5 = np.array([[0.9, 0.1], [0.6, 0.4], [0.5, 0.5], [0.75, 0.25], [0.2, 0.8]])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _layers(fig):
    return {c.get_label(): c for c in fig.axes[0].collections}


def _fitted_table():
    return TableClassifier(P5).fit(X5, [0, 1, 0, 1, 0])


# ------------------------------------------------------------------ plot_uncertainty
def test_colours_are_the_hand_worked_margins():
    # margin utility = -(p_best - p_second): 0.6/0.4 -> -0.2, 0.5/0.5 -> 0, 0.75 -> -0.5,
    # 0.8 -> -0.6; row 0 is labeled and not coloured.
    fig = plot_uncertainty(
        _fitted_table(), X5, labeled_ids=[0], query_ids=[2], projection="features"
    )
    layers = _layers(fig)
    np.testing.assert_allclose(layers["unlabeled"].get_offsets(), X5[[1, 2, 3, 4]])
    np.testing.assert_allclose(layers["unlabeled"].get_array(), [-0.2, 0.0, -0.5, -0.6])
    np.testing.assert_allclose(layers["labeled"].get_offsets(), X5[[0]])
    np.testing.assert_allclose(layers["queried"].get_offsets(), X5[[2]])
    assert "margin" in fig.axes[0].get_title()


def test_least_confident_and_entropy_colours():
    fig = plot_uncertainty(_fitted_table(), X5, strategy="least_confident",
                           projection="features")
    np.testing.assert_allclose(_layers(fig)["unlabeled"].get_array(),
                               [0.1, 0.4, 0.5, 0.25, 0.2])
    fig = plot_uncertainty(_fitted_table(), X5, strategy="entropy", projection="features")
    colours = _layers(fig)["unlabeled"].get_array()
    assert colours[2] == pytest.approx(np.log(2))  # 50/50 is the most uncertain
    assert colours[0] == pytest.approx(-(0.9 * np.log(0.9) + 0.1 * np.log(0.1)))


def test_cost_aware_colours_are_utility_per_cost():
    # cost_aware maps margin to 1 - gap, then divides by the cost:
    # rows 1..4: (0.8, 1.0, 0.5, 0.4) / (2, 1, 1, 4)
    costs = np.array([1.0, 2.0, 1.0, 1.0, 4.0])
    fig = plot_uncertainty(_fitted_table(), X5, labeled_ids=[0], strategy="cost_aware",
                           costs=costs, projection="features")
    np.testing.assert_allclose(_layers(fig)["unlabeled"].get_array(), [0.4, 1.0, 0.5, 0.1])
    with pytest.raises(ValueError, match="one cost per pool row"):
        strategy_utilities(_fitted_table(), X5, strategy="cost_aware", costs=costs[:2])


def test_pca_projection_draws_every_unlabeled_item_with_its_utility():
    X, y = load_iris(return_X_y=True)
    init = np.arange(0, 150, 15)
    learner = al.ActiveLearner(LogisticRegression(max_iter=500), "margin", X[init], y[init],
                               random_state=0)
    query, _ = learner.query(X, 5)
    fig = plot_uncertainty(learner, X, labeled_ids=init, query_ids=query, random_state=0)
    layers = _layers(fig)
    unlabeled = np.setdiff1d(np.arange(150), init)
    assert len(layers["unlabeled"].get_offsets()) == 140
    assert len(layers["labeled"].get_offsets()) == 10
    assert len(layers["queried"].get_offsets()) == 5
    expected = margin_utility(learner.predict_proba(X[unlabeled]))
    np.testing.assert_allclose(layers["unlabeled"].get_array(), expected)
    # the queried items are the 5 highest-utility dots
    np.testing.assert_allclose(
        np.sort(expected)[-5:], np.sort(learner.last_query_.utility_of(query))
    )


def test_pool_labels_are_marked_without_labeled_ids():
    X, y = load_iris(return_X_y=True)
    pool = al.Pool(X)
    pool.label([0, 50, 100], y[[0, 50, 100]])
    est = LogisticRegression(max_iter=500).fit(pool.X_labeled, pool.y_labeled)
    fig = plot_uncertainty(est, pool, random_state=0)
    layers = _layers(fig)
    assert len(layers["labeled"].get_offsets()) == 3
    assert len(layers["unlabeled"].get_offsets()) == 147


def test_max_points_samples_but_keeps_the_queried_items():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 3))
    X[:, 0] = np.arange(400)  # feature 0 is the row id for the table classifier
    proba = np.column_stack([np.linspace(0.5, 1, 400), 1 - np.linspace(0.5, 1, 400)])
    est = TableClassifier(proba).fit(X, [0, 1] * 200)
    coords = np.column_stack([np.arange(400.0), np.zeros(400)])
    query = np.array([399, 398, 7])
    fig = plot_uncertainty(est, X, query_ids=query, projection=coords, max_points=50,
                           random_state=1)
    drawn = _layers(fig)["unlabeled"].get_offsets()[:, 0].astype(int)
    assert 50 <= drawn.size <= 53
    assert set(query) <= set(drawn)
    np.testing.assert_allclose(_layers(fig)["unlabeled"].get_array(),
                               margin_utility(proba[drawn]))


def test_committee_strategy_colours_with_a_committee():
    X, y = load_iris(return_X_y=True)
    init = np.arange(0, 150, 10)
    committee = al.Committee.bagging(LogisticRegression(max_iter=500), 3, X[init], y[init],
                                     random_state=0)
    fig = plot_uncertainty(committee, X, labeled_ids=init, strategy="vote_entropy")
    unlabeled = np.setdiff1d(np.arange(150), init)
    np.testing.assert_allclose(
        _layers(fig)["unlabeled"].get_array(),
        vote_entropy_utility(committee.committee_proba(X[unlabeled])),
    )


def test_batch_aware_strategy_colours_by_its_ranking_score():
    # core-set ranks by the distance to the nearest labeled item: |x - 0| on a line.
    X = np.array([[0.0], [1.0], [3.0], [-2.0]])
    learner = al.ActiveLearner(LogisticRegression(), "coreset", X[[0, 1]], [0, 1])
    u = strategy_utilities(learner, X, [2, 3], strategy="coreset")
    np.testing.assert_allclose(u, [2.0, 2.0])  # 3 is 2 from item 1, -2 is 2 from item 0


def test_a_strategy_object_is_not_changed():
    strategy = al.get_strategy("entropy")
    u = strategy_utilities(_fitted_table(), X5, strategy=strategy, random_state=3)
    assert strategy.random_state is None
    assert u[2] == pytest.approx(np.log(2))


def test_draws_into_a_given_axes():
    fig0, ax = plt.subplots()
    fig = plot_uncertainty(_fitted_table(), X5, projection="features", ax=ax)
    assert fig is fig0
    assert len(_layers(fig)["unlabeled"].get_offsets()) == 5


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"labeled_ids": [9]}, ValueError, "labeled_ids"),
        ({"query_ids": [0.5]}, TypeError, "query_ids"),
        ({"labeled_ids": [0, 1, 2, 3, 4]}, ValueError, "every pool item is labeled"),
        ({"projection": np.zeros((4, 2))}, ValueError, "shape (5, 2)"),
        ({"projection": "tsne"}, ValueError, "projection must be"),
        ({"strategy": 3}, TypeError, "strategy"),
        ({"max_points": 0}, ValueError, "max_points"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, fragment):
    with pytest.raises(error) as info:
        plot_uncertainty(_fitted_table(), X5, **{"projection": "features", **kwargs})
    assert fragment in str(info.value)


def test_unfitted_estimator_is_refused():
    with pytest.raises(ValueError, match="not fitted"):
        plot_uncertainty(LogisticRegression(), X5)


def test_committee_strategy_needs_a_committee():
    with pytest.raises(ValueError, match="committee"):
        plot_uncertainty(_fitted_table(), X5, strategy="vote_entropy", projection="features")


def test_project_2d_features_and_pca():
    np.testing.assert_array_equal(project_2d(X5, "features"), X5)
    X, _ = load_iris(return_X_y=True)
    coords = project_2d(X, "pca", random_state=0)
    assert coords.shape == (150, 2)
    # first component carries the most variance, and the two are uncorrelated
    assert coords[:, 0].var() > coords[:, 1].var()
    assert abs(np.corrcoef(coords.T)[0, 1]) < 1e-8
    with pytest.raises(ValueError, match="exactly 2 features"):
        project_2d(X, "features")


# ------------------------------------------------------------------ batch spread & plot
def test_batch_spread_hand_worked():
    # every pair of rows of the identity is sqrt(2) apart: any batch is as spread as random
    assert batch_spread(np.eye(6), [0, 3, 5], random_state=0) == pytest.approx(1.0)
    # two copies of one item are a clump
    X = np.array([[0.0], [0.0], [1.0], [1.0]])
    assert batch_spread(X, [0, 1], random_state=0) == 0.0
    assert np.isnan(batch_spread(np.zeros((4, 2)), [0, 1]))
    with pytest.raises(ValueError, match="at least 2"):
        batch_spread(X, [0])


def test_clumped_batch_has_a_smaller_spread_than_a_diverse_one():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 2))
    near0 = np.argsort(np.linalg.norm(X - X[0], axis=1))[:10]  # item 0 and its neighbours
    spread_random = batch_spread(X, rng.choice(300, 10, replace=False), random_state=0)
    assert batch_spread(X, near0, random_state=0) < 0.5 < spread_random < 1.5


def test_plot_query_batch_content():
    fig = plot_query_batch(X5, [4, 2, 1], labeled_ids=[0], projection="features",
                           random_state=0)
    layers = _layers(fig)
    assert len(layers["pool"].get_offsets()) == 5
    np.testing.assert_allclose(layers["batch"].get_offsets(), X5[[4, 2, 1]])  # in batch order
    np.testing.assert_allclose(layers["labeled"].get_offsets(), X5[[0]])
    ranks = [t.get_text() for t in fig.axes[0].texts]
    assert ranks == ["1", "2", "3"]
    spread = batch_spread(X5, [4, 2, 1], random_state=np.random.RandomState(0))
    assert fig.axes[0].get_title().startswith(f"batch of 3: spread {spread:.2f}")


def test_plot_query_batch_colours_by_utilities():
    u = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    fig = plot_query_batch(X5, [4], utilities=u, projection="features", annotate=False)
    np.testing.assert_allclose(_layers(fig)["pool"].get_array(), u)
    assert len(fig.axes[0].texts) == 0
    with pytest.raises(ValueError, match="one utility per pool row"):
        plot_query_batch(X5, [4], utilities=u[:3], projection="features")
    with pytest.raises(ValueError, match="empty"):
        plot_query_batch(X5, [], projection="features")


def test_importing_does_not_import_matplotlib():
    code = (
        "import sys, activelab.visualize; print('matplotlib' in sys.modules)"
    )
    env = {**os.environ, "MPLBACKEND": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    assert out.stdout.strip() == "False"
