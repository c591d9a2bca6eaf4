"""The optional compiled kernels: hand-worked values, the same ids as numpy, the fallbacks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, SGDClassifier

from activelab.compiled import (
    compiled_utilities,
    exact_near_cut,
    kernels_available,
    kernels_off,
    tolerance,
)
from activelab.engine.models import make_model
from activelab.pool import RowView
from activelab.proba import reduce_proba
from activelab.strategies import top_k
from activelab.strategies._shared import entropy_block
from activelab.strategies.query import query_once
from activelab.strategies.uncertainty import least_confident_block, margin_block

needs_kernels = pytest.mark.skipif(
    not kernels_available(),
    reason="the compiled kernels (pip install ./kernels) are not installed or this CPU lacks "
    "AVX2 and AVX-512",
)


def _simd_levels():
    """The instruction sets this processor can run the kernels with, best first."""
    if not kernels_available():
        return []
    import activelab_kernels

    best = activelab_kernels.simd()
    return ["avx512", "avx2"] if best == "avx512" else [best]


@pytest.fixture(params=["avx512", "avx2"])
def simd(request):
    """Each instruction set in turn (skipped where the processor lacks it)."""
    if request.param not in _simd_levels():
        pytest.skip(f"this processor cannot run the {request.param} kernels")
    import activelab_kernels

    before = activelab_kernels.simd()
    activelab_kernels.set_simd(request.param)
    yield request.param
    activelab_kernels.set_simd(before)
BLOCKS = {"entropy": entropy_block, "margin": margin_block,
          "least_confident": least_confident_block}


# ------------------------------------------------------------------ exact_near_cut
def test_exact_near_cut_rescores_the_band_and_keeps_the_rest():
    approx = np.array([0.5, 0.9, 0.8999, 0.1, 0.2])
    truth = np.array([0.5, 0.8998, 0.9, 0.1, 0.2])
    asked = []

    def exact(positions):
        asked.append(positions.copy())
        return truth[positions]

    out = exact_near_cut(approx.copy(), 1, exact, 1e-3, n_check=0)
    # the band is every value >= 0.9 - 1e-3 * 1.9: positions 1 and 2
    np.testing.assert_array_equal(asked[0], [1, 2])
    np.testing.assert_array_equal(out, [0.5, 0.8998, 0.9, 0.1, 0.2])
    assert int(np.argmax(out)) == 2


def test_exact_near_cut_widens_the_margin_when_the_differences_are_larger():
    # approximations off by 0.2 at position 2: the first band (position 0 alone) is too
    # narrow, the check on a random position sees a difference of 0.1 and widens it
    approx = np.array([0.9, 0.5, 0.8, 0.3])
    truth = np.array([0.8, 0.5, 0.95, 0.4])
    out = exact_near_cut(approx.copy(), 1, lambda p: truth[p], 1e-6, n_check=2)
    assert int(np.argmax(out)) == 2
    assert out[2] == 0.95 and out[0] == 0.8


def test_exact_near_cut_with_k_equal_to_n_rescores_everything():
    approx = np.array([3.0, 1.0, 2.0])
    out = exact_near_cut(approx.copy(), 3, lambda p: approx[p] + 0.5, 1e-3, n_check=0)
    np.testing.assert_array_equal(out, [3.5, 1.5, 2.5])


# ------------------------------------------------------------------ the kernel itself
def _fixed_model(coef, intercept, classes):
    model = LogisticRegression()
    model.coef_ = np.asarray(coef, dtype=float)
    model.intercept_ = np.asarray(intercept, dtype=float)
    model.classes_ = np.asarray(classes)
    return model


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hand_worked_values(dtype, simd):
    if simd == "avx2" and dtype == np.float64:
        assert compiled_utilities(_fixed_model([[1.0]], [0.0], [0, 1]),
                                  np.zeros((2, 1)), "entropy") is None  # float32 only
        return
    # three classes, logits (x0, 0, -x0): row 0 has x0 = 0 (uniform), row 1 x0 = ln 2
    model = _fixed_model([[1.0], [0.0], [-1.0]], [0.0, 0.0, 0.0], [0, 1, 2])
    X = np.array([[0.0], [np.log(2.0)]], dtype=dtype)
    # row 1: e = (2, 1, 1/2), s = 3.5, p = (4/7, 2/7, 1/7)
    p = np.array([4, 2, 1]) / 7
    expected = {
        "entropy": [np.log(3), -(p * np.log(p)).sum()],
        "margin": [0.0, -(4 / 7 - 2 / 7)],
        "least_confident": [2 / 3, 1 - 4 / 7],
    }
    atol = 1e-6 if dtype == np.float32 else 1e-12
    for measure, values in expected.items():
        got = compiled_utilities(model, X, measure)
        np.testing.assert_allclose(got, values, rtol=0, atol=atol)


@needs_kernels
def test_binary_model_is_the_softmax_of_zero_and_its_logit():
    model = _fixed_model([[2.0]], [0.0], [0, 1])
    X = np.array([[0.0], [0.5 * np.log(3.0)]])  # p1 = 1/2, then 3/4
    got = compiled_utilities(model, X, "least_confident")
    np.testing.assert_allclose(got, [0.5, 0.25], atol=1e-12)
    np.testing.assert_allclose(compiled_utilities(model, X, "margin"), [0.0, -0.5], atol=1e-12)


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_portable_loops_agree_with_the_simd_ones(dtype, simd):
    import activelab_kernels

    if simd == "avx2" and dtype == np.float64:
        pytest.skip("the AVX2 kernels are float32 ones (float64 runs the portable loops)")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1003, 7)).astype(dtype)  # 1003 rows: a tail after the tiles
    model = LogisticRegression(max_iter=500).fit(X[:300], rng.integers(0, 5, 300))
    W = np.zeros((7, 16), dtype=dtype)
    W[:, :5] = model.coef_.T
    b = np.zeros(16, dtype=dtype)
    b[:5] = model.intercept_
    rows = np.arange(1002, -1, -1, dtype=np.int64)  # every row, in reverse order

    def run(code, row_numbers):
        out = np.empty(1003)
        activelab_kernels.score(X, 7, X.itemsize, row_numbers, 0, 1003, W, b, 5, code, out)
        return out

    for code, measure in enumerate(BLOCKS):
        fast = run(code, None)
        np.testing.assert_array_equal(run(code, rows), fast[::-1])
        activelab_kernels.set_simd("portable")
        try:
            portable = run(code, None)
        finally:
            activelab_kernels.set_simd(simd)
        np.testing.assert_allclose(portable, fast, rtol=0, atol=1e-6)
        exact = reduce_proba(model, X, BLOCKS[measure])
        np.testing.assert_allclose(fast, exact, rtol=0, atol=1e-6)


@needs_kernels
def test_the_kernel_refuses_bad_sizes():
    import activelab_kernels

    X = np.zeros((4, 3), dtype=np.float32)
    W = np.zeros((3, 16), dtype=np.float32)
    b = np.zeros(16, dtype=np.float32)
    out = np.empty(4)
    with pytest.raises(ValueError, match="n_classes"):
        activelab_kernels.score(X, 3, 4, None, 0, 4, W, b, 17, 0, out)
    with pytest.raises(ValueError, match="smaller"):
        activelab_kernels.score(X, 3, 4, None, 0, 5, W, b, 2, 0, out)
    with pytest.raises(IndexError, match="outside"):
        activelab_kernels.score(X, 3, 4, np.array([0, 4, 1, 2]), 0, 4, W, b, 2, 0, out)


# ------------------------------------------------------------------ same ids as numpy
def _pool(dtype, n_classes, seed):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((40_000, 12)) * 3).astype(dtype)
    X[1000:1200] = X[5000:5200]  # duplicated rows: exact ties
    y = rng.integers(0, n_classes, 600)
    return X, y


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_classes", [2, 3, 10])
@pytest.mark.parametrize("model_name", ["plain", "pipeline"])
def test_same_ids_and_close_utilities_as_numpy(dtype, n_classes, model_name, simd):
    X, y = _pool(dtype, n_classes, seed=n_classes)
    est = (LogisticRegression(max_iter=500) if model_name == "plain"
           else make_model("logreg", random_state=0)).fit(X[:600], y)
    rng = np.random.default_rng(1)
    candidates = np.sort(rng.choice(X.shape[0], 25_000, replace=False))
    for measure in BLOCKS:
        for k, cand in ((1, None), (7, candidates), (500, None), (3000, candidates)):
            Xq = X if cand is None else RowView(X, cand)
            fast = query_once(est, Xq, cand, measure, k, random_state=3)
            with kernels_off():
                slow = query_once(est, Xq, cand, measure, k, random_state=3)
            np.testing.assert_array_equal(fast.ids, slow.ids)
            np.testing.assert_allclose(fast.utilities, slow.utilities, rtol=0,
                                       atol=tolerance(dtype) / 10)
            chosen = np.searchsorted(slow.candidate_ids, slow.ids)
            np.testing.assert_array_equal(fast.utilities[chosen], slow.utilities[chosen])


@needs_kernels
@pytest.mark.parametrize("n_classes", [2, 3])
def test_same_ids_as_the_plain_computation_with_many_exact_ties(n_classes, simd):
    # integer weights and features: the logits are exact, most utilities are tied, and
    # the compiled path must still draw the seeded ties the way numpy does
    rng = np.random.default_rng(0)
    X = rng.integers(-3, 4, size=(20_000, 4)).astype(np.float32 if simd == "avx2" else np.float64)
    est = LogisticRegression(max_iter=100).fit(X[:300], rng.integers(0, n_classes, 300))
    est.coef_ = rng.integers(-2, 3, size=est.coef_.shape).astype(np.float64)
    est.intercept_ = rng.integers(-1, 2, size=est.intercept_.shape).astype(np.float64)
    for measure in BLOCKS:
        exact = reduce_proba(est, X, BLOCKS[measure])
        assert np.unique(exact).size < 2_000  # many ties
        for seed in range(3):
            fast = query_once(est, X, None, measure, 60, random_state=seed)
            np.testing.assert_array_equal(fast.ids, top_k(exact, 60, seed))


@needs_kernels
def test_the_compiled_path_is_taken():
    X, y = _pool(np.float32, 4, seed=0)
    est = LogisticRegression(max_iter=500).fit(X[:600], y)
    fast = compiled_utilities(est, X, "entropy")
    exact = reduce_proba(est, X, entropy_block)
    assert fast is not None
    # not bit-equal (another exp), but within the tolerance
    assert np.any(fast != exact)
    assert np.max(np.abs(fast - exact)) < tolerance(np.float32) / 100


# ------------------------------------------------------------------ where it does not apply
def test_models_and_pools_the_kernel_does_not_cover_get_none():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 4))
    y = rng.integers(0, 3, 500)
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    assert compiled_utilities(forest, X, "entropy") is None
    ovr = SGDClassifier(loss="log_loss", random_state=0).fit(X, y)  # one-vs-rest link
    assert compiled_utilities(ovr, X, "entropy") is None
    many = LogisticRegression(max_iter=200).fit(X, np.arange(500) % 17)  # 17 classes
    assert compiled_utilities(many, X, "entropy") is None
    est = LogisticRegression(max_iter=200).fit(X, y)
    assert compiled_utilities(est, np.asfortranarray(X), "entropy") is None
    assert compiled_utilities(est, X.astype(np.int64), "entropy") is None
    assert compiled_utilities(est, X, "vote_entropy") is None
    with kernels_off():
        assert compiled_utilities(est, X, "entropy") is None


@pytest.mark.parametrize("value", ["0", "off", "False", " no "])
def test_switched_off_by_the_environment(monkeypatch, value):
    monkeypatch.setenv("ACTIVELAB_KERNELS", value)
    assert not kernels_available()
