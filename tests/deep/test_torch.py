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


# ----------------------------------------------------------------- consistent MC dropout
def test_mc_draws_share_one_mask_per_layer_across_rows(blobs):
    torch = _torch()
    X, y = blobs
    clf = _small().fit(X, y)
    twice = np.vstack([X[:5], X[:5]])
    s = clf.sample_proba(twice, n_samples=6)
    # draw t is one thinned network: two copies of a row get the same probabilities
    np.testing.assert_array_equal(s[:, :5], s[:, 5:])
    assert not np.allclose(s[0], s[1])
    # a row's draws do not depend on the rows it is scored with
    whole = clf.sample_proba(X, n_samples=6)
    np.testing.assert_allclose(clf.sample_proba(X[37:61], n_samples=6), whole[:, 37:61],
                               atol=1e-6)
    from activelab.torch import mc_dropout_proba

    small_batches = mc_dropout_proba(clf.module_, X.astype(np.float32), 6,
                                     random_state=clf.mc_seed_, batch_rows=7)
    np.testing.assert_allclose(small_batches, whole, atol=1e-6)
    assert not clf.module_.training
    assert torch.get_num_threads() == 1


def test_mc_dropout_runs_the_layers_before_dropout_once(blobs):
    torch = _torch()
    from activelab.torch import mc_dropout_proba

    X, y = blobs
    clf = _small().fit(X, y)
    calls = []
    first = clf.module_[0]
    handle = first.register_forward_hook(lambda *a: calls.append(1))

    class Wrapped(torch.nn.Module):  # not a Sequential: every draw runs the whole module
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x)

    X32 = X.astype(np.float32)
    fast = mc_dropout_proba(clf.module_, X32, 5, random_state=3)
    assert len(calls) == 1  # one batch, one pass of the first layer for all five draws
    slow = mc_dropout_proba(Wrapped(clf.module_), X32, 5, random_state=3)
    assert len(calls) == 1 + 5
    handle.remove()
    np.testing.assert_allclose(fast, slow, atol=1e-6)


def test_channel_dropout_masks_whole_channels():
    torch = _torch()
    from activelab.torch import mc_dropout_proba

    net = torch.nn.Sequential(torch.nn.Dropout2d(0.5), torch.nn.Flatten(),
                              torch.nn.Linear(36, 2))
    captured = []
    net[1].register_forward_hook(lambda m, i, o: captured.append(i[0].clone()))
    x = np.ones((2, 4, 3, 3), dtype=np.float32)
    assert mc_dropout_proba(net, x, 3, random_state=0).shape == (3, 2, 2)
    assert len(captured) == 3
    for draw in captured:
        for channel in draw[0]:  # each channel is all dropped (0) or all kept (x 2)
            assert float(channel.min()) == float(channel.max()) in (0.0, 2.0)
        torch.testing.assert_close(draw[0], draw[1])  # the same mask for both rows


# ----------------------------------------------------------------- training settings
def test_patience_on_the_training_loss_stops_early(blobs):
    _torch()
    X, y = blobs
    # lr=0 and no dropout: the loss never improves after the first epoch
    clf = _small(lr=0.0, dropout=0.0, epochs=50, patience=3).fit(X, y)
    assert clf.n_epochs_ == 1 + 3 and len(clf.loss_curve_) == 4 and clf.best_epoch_ == 0
    full = _small(lr=0.0, dropout=0.0, epochs=6).fit(X, y)
    assert full.n_epochs_ == 6
    with pytest.raises(ValueError, match="patience"):
        _small(patience=0).fit(X, y)


def test_validation_split_restores_the_best_epoch(blobs):
    _torch()
    X, y = blobs
    clf = _small(epochs=40, lr=0.05, validation_fraction=0.25, patience=5, tol=0.0).fit(X, y)
    curve = clf.validation_loss_curve_
    assert len(curve) == clf.n_epochs_ == len(clf.loss_curve_)
    assert clf.best_epoch_ == int(np.argmin(curve))
    assert clf.n_epochs_ == 40 or clf.n_epochs_ == clf.best_epoch_ + 1 + 5
    assert clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="validation_fraction"):
        _small(validation_fraction=1.5).fit(X, y)


def test_weights_reset_or_carry_over_between_fits(blobs):
    _torch()
    from activelab.torch import WarmStart

    X, y = blobs
    reset = _small(epochs=2)
    a, b = clone(reset).fit(X, y), clone(reset).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))  # same start
    store = WarmStart()
    warm = _small(epochs=2, warm_start=store)
    first = clone(warm).fit(X, y)
    assert store.n_fits == 1 and clone(warm).warm_start is store
    frozen = clone(warm).set_params(lr=0.0).fit(X, y)  # lr=0: the stored weights as they were
    np.testing.assert_allclose(frozen.predict_proba(X), first.predict_proba(X), atol=1e-12)
    second = clone(warm).fit(X, y)
    assert second.loss_curve_[0] < first.loss_curve_[0]  # it went on from where it was
    # a new class: the output layer starts fresh, the hidden layer is carried over
    y4 = y.copy()
    y4[:10] = 3
    grown = clone(warm).set_params(lr=0.0).fit(X, y4)
    np.testing.assert_array_equal(grown.module_[0].weight.detach().numpy(),
                                  second.module_[0].weight.detach().numpy())
    assert grown.predict_proba(X).shape == (120, 4)
    same = _small(epochs=2, warm_start=True).fit(X, y)
    before = same.loss_curve_[0]
    assert same.fit(X, y).loss_curve_[0] < before
    with pytest.raises(TypeError, match="warm_start"):
        _small(warm_start="yes").fit(X, y)


def test_warm_start_carries_over_between_rounds_of_a_run(blobs):
    _torch()
    from activelab import run
    from activelab.torch import WarmStart

    X, y = blobs
    store = WarmStart()
    result = run(_small(epochs=3, warm_start=store), X, y, strategy="bald", initial=12,
                 batch_size=6, budget=30, random_state=0)
    assert store.n_fits == len(result.rounds) == 4


def test_device_amp_and_threads(blobs):
    torch = _torch()
    X, y = blobs
    auto = _small(epochs=3).fit(X, y)
    assert auto.device_.type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            _small(device="cuda").fit(X, y)
    with pytest.raises(ValueError, match="device"):
        _small(device="gpu please").fit(X, y)
    amp = _small(epochs=3, amp=True, device="cpu").fit(X, y)  # bfloat16 autocast on the CPU
    proba = amp.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert amp.sample_proba(X[:4], n_samples=3).shape == (3, 4, 3)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        _small(epochs=1, n_threads=1).fit(X, y)
        assert torch.get_num_threads() == 2  # restored
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match="n_threads"):
        _small(n_threads=0).fit(X, y)


def test_train_transform_runs_on_every_batch(blobs):
    _torch()
    X, y = blobs
    seen = []

    def flip_sign_noise(xb):
        seen.append(xb.shape[0])
        return xb + 0.01 * __import__("torch").randn_like(xb)

    a = _small(epochs=2, batch_size=50, train_transform=flip_sign_noise).fit(X, y)
    assert seen == [50, 50, 20] * 2
    b = _small(epochs=2, batch_size=50, train_transform=flip_sign_noise).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))  # seeded noise


# ----------------------------------------------------------------- inputs
def test_images_as_nd_arrays_and_as_flat_rows():
    _torch()
    from activelab.torch import TorchClassifier, make_cnn

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    images = rng.random((60, 1, 10, 10)).astype(np.float32) * 0.2
    images[y == 1, :, :5] += 0.8  # class 1: a bright top half
    # built inside fit, under the classifier's seed: a module built here would start from
    # whatever the process's torch generator holds after the tests before this one

    def cnn(n_features: int, n_classes: int):
        return make_cnn((1, 10, 10), n_classes, filters=4, kernel_size=3, hidden_units=16,
                        dropout=(0.1, 0.2))

    clf = TorchClassifier(cnn, epochs=15, lr=1e-2, batch_size=16, random_state=0)
    clf.fit(images, y)
    assert clf.input_shape_ == (1, 10, 10) and clf.n_features_in_ == 100
    flat = images.reshape(60, -1)
    np.testing.assert_allclose(clf.predict_proba(flat), clf.predict_proba(images))
    assert clf.score(images, y) > 0.9
    assert clf.sample_proba(flat, n_samples=4).shape == (4, 60, 2)
    # fitted on flat rows with input_shape: what a Pool (2-D) holds
    flat_fit = TorchClassifier(cnn, input_shape=(1, 10, 10), epochs=15, lr=1e-2,
                               batch_size=16, random_state=0).fit(flat, y)
    np.testing.assert_allclose(flat_fit.predict_proba(flat), clf.predict_proba(images),
                               atol=1e-6)
    with pytest.raises(ValueError, match="features"):
        clf.predict_proba(flat[:, :50])
    with pytest.raises(ValueError, match="input_shape"):
        TorchClassifier(cnn, input_shape=(1, 9, 9)).fit(flat, y)


def test_a_torch_dataset_is_read_every_epoch(blobs):
    torch = _torch()
    from torch.utils.data import Dataset

    X, y = blobs

    class Counting(Dataset):
        def __init__(self):
            self.reads = 0

        def __len__(self):
            return len(y)

        def __getitem__(self, i):
            self.reads += 1
            return torch.tensor(X[i], dtype=torch.float32), int(y[i])

    data = Counting()
    clf = _small(epochs=4).fit(data)
    # one pass to learn the labels (no `targets` attribute), one item for the input shape,
    # then every item once per epoch
    assert data.reads == len(y) + 1 + 4 * len(y)
    assert clf.classes_.tolist() == [0, 1, 2] and clf.n_features_in_ == 2
    assert clf.score(X, y) > 0.9
    np.testing.assert_allclose(clf.predict_proba(data), clf.predict_proba(X), atol=1e-6)
    data.targets = y
    data.reads = 0
    _small(epochs=1).fit(data)
    assert data.reads == 1 + len(y)  # the labels came from `targets`


def test_scikit_learn_surface_is_kept(blobs):
    _torch()
    from sklearn.model_selection import cross_val_score

    X, y = blobs
    clf = _small(epochs=10, patience=3, validation_fraction=0.2, device="cpu", amp=False)
    params = clone(clf).get_params()
    assert params["patience"] == 3 and params["device"] == "cpu"
    scores = cross_val_score(clf, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8


# ----------------------------------------------------------------- embeddings
def test_embedding_is_the_penultimate_layer(blobs):
    torch = _torch()
    X, y = blobs
    clf = _small().fit(X, y)
    net = clf.module_
    with torch.no_grad():
        by_hand = torch.relu(net[0](torch.tensor(X, dtype=torch.float32))).numpy()
    np.testing.assert_allclose(clf.embed(X), by_hand, atol=1e-6)
    first_layer = clf.set_params(embedding_layer="0").embed(X)
    assert first_layer.shape == (120, 16)
    with pytest.raises(ValueError, match="embedding_layer"):
        clf.set_params(embedding_layer="nope").embed(X)


def test_strategies_that_need_embeddings_get_them_from_the_model(blobs):
    _torch()
    from activelab.strategies.base import Needs, UtilityStrategy
    from activelab.strategies.query import query_once

    X, y = blobs
    clf = _small().fit(X, y)

    class EmbeddingNorm(UtilityStrategy):
        name = "test_embedding_norm"
        needs = frozenset({Needs.EMBEDDINGS})

        def utility(self, context):
            return np.linalg.norm(context.extras["embeddings"], axis=1)

    result = query_once(clf, X, None, EmbeddingNorm(), 5)
    expected = np.linalg.norm(clf.embed(X), axis=1)
    np.testing.assert_allclose(result.utilities, expected, rtol=1e-6)
    given = np.ones((120, 3))
    given[7] = 5.0
    assert query_once(clf, X, None, EmbeddingNorm(), 1, extras={"embeddings": given}).ids[0] == 7


def test_coreset_and_badge_of_a_network_work_in_its_embedding(blobs):
    _torch()
    from activelab.learners import ActiveLearner
    from activelab.strategies.query import query_once

    X, y = blobs
    taught = np.arange(120) % 6 == 0  # 20 labels of every class
    XL, pool = X[taught], X[~taught]
    learner = ActiveLearner(_small(), query_strategy="coreset", X_training=XL,
                            y_training=y[taught])
    idx, _ = learner.query(pool, n_instances=3)
    assert learner.last_query_.info["space"] == "embeddings"
    clf = learner.estimator_
    by_hand = query_once(None, pool, None, "coreset", 3, X_labeled=XL,
                         extras={"embeddings": clf.embed(pool),
                                 "labeled_embeddings": clf.embed(XL)})
    assert idx.tolist() == by_hand.ids.tolist()
    badge = query_once(clf, pool, None, "badge", 3, random_state=0)
    assert badge.info["embedding"] == "extras"  # no coef_: only the embedding makes it run


def test_entropy_reads_dropout_off_mc_entropy_reads_the_draws(blobs):
    _torch()
    from scipy.stats import entropy

    from activelab.strategies.query import utilities_once

    X, y = blobs
    clf = _small().fit(X, y)
    np.testing.assert_allclose(utilities_once(clf, X, None, "entropy"),
                               entropy(clf.predict_proba(X), axis=1), rtol=1e-9)
    mc = utilities_once(clf, X, None, "mc_entropy")
    np.testing.assert_allclose(mc, entropy(clf.sample_proba(X).mean(axis=0), axis=1),
                               rtol=1e-9)
    assert not np.allclose(mc, utilities_once(clf, X, None, "entropy"))


def test_a_fixed_output_layer_needs_every_class(blobs):
    torch = _torch()
    from activelab.torch import TorchClassifier

    X, y = blobs
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                              torch.nn.Linear(8, 4))  # four outputs, three classes in y
    with pytest.raises(ValueError, match="4 outputs but there are 3 classes"):
        TorchClassifier(net, epochs=1).fit(X, y)
    clf = TorchClassifier(net, epochs=5, classes=[0, 1, 2, 3], random_state=0).fit(X, y)
    assert clf.classes_.tolist() == [0, 1, 2, 3]
    assert clf.predict_proba(X).shape == (120, 4)
    with pytest.raises(ValueError, match="classes"):
        TorchClassifier(net, classes=[0, 1]).fit(X, y)
