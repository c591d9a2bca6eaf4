"""PyTorch adapters: TorchClassifier, MC dropout, deep ensembles, and BALD on them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.neural_network import MLPClassifier

from activelab.learners import ActiveLearner
from activelab.strategies.bayesian import bald_utility
from activelab.torch import DeepEnsemble


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 3.0], [3.0, -1.0], [-3.0, -1.0]])
    y = np.repeat([0, 1, 2], 40)
    X = centers[y] + rng.standard_normal((120, 2)) * 0.7
    return X, y


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny networks run fastest on one thread (and the test machine is shared)."""
    try:
        import torch
    except ImportError:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _torch():
    return pytest.importorskip("torch", reason="the deep extra needs torch==2.13.0")


def _small(**kw):
    from activelab.torch import TorchClassifier

    params = {"hidden_units": (16,), "dropout": 0.3, "epochs": 25, "batch_size": 32,
              "lr": 1e-2, "random_state": 0}
    params.update(kw)
    return TorchClassifier(**params)


def test_fit_predict_proba_is_seeded_and_learns(blobs):
    _torch()
    X, y = blobs
    clf = _small().fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert clf.score(X, y) > 0.9
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    np.testing.assert_array_equal(_small().fit(X, y).predict_proba(X), proba)
    assert not np.array_equal(_small(random_state=1).fit(X, y).predict_proba(X), proba)


def test_given_module_is_copied_not_trained(blobs):
    torch = _torch()
    X, y = blobs
    module = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(),
                                 torch.nn.Dropout(0.2), torch.nn.Linear(8, 3))
    before = [p.detach().clone() for p in module.parameters()]
    clf = _small(module=module)
    fitted = clone(clf).fit(X, y)
    for a, b in zip(before, module.parameters(), strict=True):
        assert torch.equal(a, b)
    assert fitted.module_ is not module
    with pytest.raises(ValueError, match="features"):
        fitted.predict_proba(np.zeros((3, 5)))


def test_mc_dropout_samples(blobs):
    _torch()
    X, y = blobs
    clf = _small().fit(X, y)
    s1 = clf.sample_proba(X[:30], n_samples=8)
    assert s1.shape == (8, 30, 3)
    np.testing.assert_allclose(s1.sum(axis=2), 1.0, atol=1e-12)
    assert not np.allclose(s1[0], s1[1])  # dropout is on while sampling
    np.testing.assert_array_equal(clf.sample_proba(X[:30], n_samples=8), s1)  # seeded
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))  # off again
    with pytest.raises(ValueError, match="no dropout"):
        _small(dropout=0.0).fit(X, y).sample_proba(X)


def test_bald_query_with_mc_dropout(blobs):
    _torch()
    X, y = blobs
    first = np.r_[0:5, 40:45, 80:85]
    learner = ActiveLearner(_small(), query_strategy="bald",
                            X_training=X[first], y_training=y[first], random_state=0)
    result = learner.query_result(X, 6)
    utilities = bald_utility(learner.estimator_.sample_proba(X))
    np.testing.assert_allclose(result.utilities, utilities, atol=1e-12)
    np.testing.assert_array_equal(result.ids, np.argsort(-utilities, kind="stable")[:6])
    batch = ActiveLearner(_small(), query_strategy="batchbald", X_training=X[first],
                          y_training=y[first], random_state=0).query_result(X, 4)
    assert np.unique(batch.ids).size == 4


def test_deep_ensemble_of_torch_members(blobs):
    _torch()
    X, y = blobs
    ens = DeepEnsemble(_small(epochs=10), n_members=3, random_state=0).fit(X, y)
    samples = ens.sample_proba(X[:20])
    assert samples.shape == (3, 20, 3)
    np.testing.assert_allclose(ens.predict_proba(X[:20]), samples.mean(axis=0))
    seeds = [m.random_state for m in ens.estimators_]
    assert len(set(seeds)) == 3


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # small MLPs
def test_deep_ensemble_without_torch(blobs):
    X, y = blobs
    base = MLPClassifier(hidden_layer_sizes=(8,), max_iter=200, random_state=None)
    ens = DeepEnsemble(base, n_members=2, random_state=0)
    ens.fit(X, y)
    samples = ens.sample_proba(X)
    assert samples.shape == (2, 120, 3)
    learner = ActiveLearner(ens, query_strategy="bald", X_training=X, y_training=y)
    expected = np.argsort(-bald_utility(learner.estimator_.sample_proba(X)), kind="stable")[:3]
    np.testing.assert_array_equal(learner.query(X, 3)[0], expected)
    with pytest.raises(ValueError, match="n_members"):
        DeepEnsemble(base, n_members=1).fit(X, y)
