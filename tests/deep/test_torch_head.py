"""A frozen encoder and a trainable head: each pool row is encoded once."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

torch = pytest.importorskip("torch", reason="the deep extra needs torch==2.13.0")

from activelab.torch import FrozenEncoder, FrozenEncoderClassifier, TorchClassifier  # noqa: E402
from activelab.torch.head import row_fingerprints  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 3.0, 0.0], [3.0, -1.0, 1.0], [-3.0, -1.0, 2.0]])
    y = np.repeat([0, 1, 2], 60)
    X = (centers[y] + rng.standard_normal((180, 3)) * 0.7).astype(np.float32)
    return X, y


class CountingEncoder:
    """(x0, x1 + x2), recording how many rows it was given."""

    def __init__(self):
        self.rows = 0

    def __call__(self, X):
        self.rows += X.shape[0]
        return np.stack([X[:, 0], X[:, 1] + X[:, 2]], axis=1)


def test_fingerprints_tell_rows_apart():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2000, 7)).astype(np.float32)
    keys = row_fingerprints(X)
    assert keys.shape == (2000,) and np.unique(keys).size == 2000
    np.testing.assert_array_equal(row_fingerprints(X[[5, 5, 9]]), keys[[5, 5, 9]])
    flipped = X[:1].copy()
    flipped.view(np.uint32)[0, 6] ^= 1  # one bit of the last value
    assert row_fingerprints(flipped)[0] != keys[0]


def test_each_distinct_row_is_encoded_once(blobs):
    X, _ = blobs
    fn = CountingEncoder()
    enc = FrozenEncoder(fn)
    expected = np.stack([X[:, 0], X[:, 1] + X[:, 2]], axis=1)
    np.testing.assert_allclose(enc(X[:100]), expected[:100])
    assert fn.rows == enc.n_encoded_ == 100
    np.testing.assert_allclose(enc(X[[99, 3, 3, 150]]), expected[[99, 3, 3, 150]])
    assert fn.rows == 101  # only row 150 was new
    np.testing.assert_allclose(enc(X), expected)
    assert fn.rows == 180


def test_a_module_encoder_is_run_without_gradients(blobs):
    X, _ = blobs
    trunk = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh())
    enc = FrozenEncoder(trunk, device="cpu")
    with torch.no_grad():
        expected = trunk(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(enc(X), expected, atol=1e-6)
    whole = torch.nn.Sequential(trunk, torch.nn.Linear(5, 2))
    np.testing.assert_allclose(FrozenEncoder(whole, layer="0")(X), expected, atol=1e-6)


def test_the_head_learns_and_the_clones_share_the_encodings(blobs):
    from activelab import run

    X, y = blobs
    fn = CountingEncoder()
    clf = FrozenEncoderClassifier(
        FrozenEncoder(fn), head=TorchClassifier(hidden_units=(16,), dropout=0.3, epochs=20,
                                                lr=1e-2, random_state=0))
    assert clone(clf).encoder is clf.encoder
    fitted = clone(clf).fit(X, y)
    assert fitted.score(X, y) > 0.9
    assert fitted.sample_proba(X[:7], n_samples=4).shape == (4, 7, 3)
    assert fitted.embed(X[:2]).shape == (2, 2)
    assert fn.rows == 180
    result = run(clf, X, y, strategy="bald", initial=9, batch_size=6, budget=33,
                 random_state=0)
    assert result.n_labeled == 33
    assert fn.rows == 180  # five rounds of fitting and scoring, no row encoded again


def test_a_head_that_does_not_sample_says_so(blobs):
    from sklearn.linear_model import LogisticRegression

    X, y = blobs
    clf = FrozenEncoderClassifier(CountingEncoder(), head=LogisticRegression()).fit(X, y)
    assert clf.predict_proba(X).shape == (180, 3)
    with pytest.raises(TypeError, match="sample"):
        clf.sample_proba(X)
    with pytest.raises(TypeError, match="encoder"):
        FrozenEncoder("not an encoder")
