"""Model-change strategies: expected gradient length, BADGE and expected error reduction,
checked against brute-force computations on tiny problems."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import entr
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

from activelab.strategies import QueryContext, get_strategy
from activelab.strategies.badge import gradient_embedding_factors, kmeans_pp_factored


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Tiny fits run faster (and steadier on a shared machine) with one BLAS thread."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def tiny_problem(n_classes=3, seed=0):
    rng = np.random.RandomState(seed)
    centres = rng.randn(n_classes, 2) * 2
    y = np.repeat(np.arange(n_classes), 4)
    X = centres[y] + rng.randn(y.size, 2)
    Xc = rng.randn(8, 2) * 2
    return X, y, Xc


def log_loss_of_params(W, b, x, y, binary):
    """Per-example log-loss of a linear model with parameters (W, b)."""
    z = W @ x + b
    if binary:
        p1 = 1 / (1 + np.exp(-z[0]))
        return -np.log(p1 if y == 1 else 1 - p1)
    z = z - z.max()
    return -(z[y] - np.log(np.exp(z).sum()))


def numeric_gradient_norm(model, x, y, eps=1e-6):
    W, b = model.coef_.astype(float), model.intercept_.astype(float)
    binary = W.shape[0] == 1
    theta = np.concatenate([W.ravel(), b])
    grads = np.empty_like(theta)
    for j in range(theta.size):
        hi, lo = theta.copy(), theta.copy()
        hi[j] += eps
        lo[j] -= eps

        def f(t):
            return log_loss_of_params(t[: W.size].reshape(W.shape), t[W.size :], x, y, binary)

        grads[j] = (f(hi) - f(lo)) / (2 * eps)
    return np.linalg.norm(grads)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_egl_matches_finite_difference_gradients(n_classes):
    X, y, Xc = tiny_problem(n_classes)
    model = LogisticRegression(C=10.0).fit(X, y)
    proba = model.predict_proba(Xc)
    brute = [
        sum(proba[i, k] * numeric_gradient_norm(model, Xc[i], k) for k in range(n_classes))
        for i in range(len(Xc))
    ]
    ctx = QueryContext(np.arange(len(Xc)), Xc, estimator=model)
    result = get_strategy("expected_gradient_length").select(ctx, 3)
    np.testing.assert_allclose(result.utilities, brute, rtol=1e-5)
    assert result.ids.tolist() == np.argsort(brute)[::-1][:3].tolist()


def test_egl_through_a_pipeline_uses_the_transformed_features():
    X, y, Xc = tiny_problem(3)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    lr, Z = pipe[-1], pipe[0].transform(Xc)
    proba = pipe.predict_proba(Xc)
    brute = [sum(proba[i, k] * numeric_gradient_norm(lr, Z[i], k) for k in range(3)) for i in range(8)]
    ctx = QueryContext(np.arange(8), Xc, estimator=pipe)
    np.testing.assert_allclose(
        get_strategy("expected_gradient_length").select(ctx, 1).utilities, brute, rtol=1e-5
    )


def test_egl_by_hand_with_embeddings():
    # p = (.5, .5): |p - e_y| = sqrt(.5) for both labels; h = (3,) with bias -> |h~| = sqrt(10)
    ctx = QueryContext(
        [4, 9], proba=np.array([[0.5, 0.5], [1.0, 0.0]]), extras={"embeddings": np.array([[3.0], [3.0]])}
    )
    result = get_strategy("expected_gradient_length").select(ctx, 1)
    np.testing.assert_allclose(result.utilities, [np.sqrt(5.0), 0.0])
    assert result.ids.tolist() == [4]


def test_gradient_strategies_refuse_non_linear_models():
    X, y, Xc = tiny_problem(2)
    tree = DecisionTreeClassifier(random_state=0).fit(X, y)
    ctx = QueryContext(np.arange(8), Xc, estimator=tree)
    for name in ("expected_gradient_length", "badge"):
        with pytest.raises(TypeError, match="embeddings"):
            get_strategy(name).select(ctx, 1)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_badge_embedding_is_the_gradient_at_the_predicted_label(n_classes):
    X, y, Xc = tiny_problem(n_classes)
    model = LogisticRegression(C=10.0).fit(X, y)
    proba = model.predict_proba(Xc)
    A, Ht = gradient_embedding_factors(proba, Xc, binary_sigmoid=n_classes == 2)
    norms = np.linalg.norm(A, axis=1) * np.linalg.norm(Ht, axis=1)
    brute = [numeric_gradient_norm(model, Xc[i], proba[i].argmax()) for i in range(8)]
    np.testing.assert_allclose(norms, brute, rtol=1e-5, atol=1e-9)


def reference_kmeans_pp(G, n, rng):
    """k-means++ seeding on explicit embedding rows (first = largest norm)."""
    norms = (G**2).sum(axis=1)
    chosen = [int(np.argmax(norms))]
    for _ in range(n - 1):
        d = ((G[:, None, :] - G[chosen][None]) ** 2).sum(axis=2).min(axis=1)
        chosen.append(int(rng.choice(len(G), p=d / d.sum())))
    return chosen


def test_factored_kmeans_pp_matches_explicit_embeddings():
    rng = np.random.RandomState(1)
    proba = rng.dirichlet([1, 1, 1], size=30)
    H = rng.randn(30, 4)
    A, Ht = gradient_embedding_factors(proba, H)
    G = (A[:, :, None] * Ht[:, None, :]).reshape(30, -1)  # explicit a ⊗ h
    got = kmeans_pp_factored(A, Ht, 6, random_state=7)
    # the same draws: top_k with a unique maximum consumes one uniform per call
    ref_rng = np.random.RandomState(7)
    ref_rng.random_sample(1)
    assert got.tolist() == reference_kmeans_pp(G, 6, ref_rng)


def test_badge_by_hand():
    # rows 0 and 1 are identical and have the largest gradient, |a| |h~| = sqrt(.5) sqrt(5);
    # one of them is the first pick.  The other is then at distance 0, so k-means++ must
    # draw row 2, whatever the seed.
    proba = np.array([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])
    H = np.array([[2.0], [2.0], [1.0]])
    ctx = QueryContext([10, 11, 12], proba=proba, extras={"embeddings": H})
    result = get_strategy("badge", random_state=0).select(ctx, 2)
    assert result.ids[0] in (10, 11) and result.ids[1] == 12
    np.testing.assert_allclose(result.utilities, np.sqrt(0.5) * np.sqrt([5, 5, 2]))
    assert result.info["embedding"] == "extras"


def brute_force_eer(est, XL, yL, Xc, loss):
    base = clone(est).fit(XL, yL)
    proba = base.predict_proba(Xc)
    out = []
    for i in range(len(Xc)):
        total = 0.0
        for k, c in enumerate(base.classes_):
            model = clone(est).fit(np.vstack([XL, Xc[i : i + 1]]), np.append(yL, c))
            p = model.predict_proba(Xc)
            value = entr(p).sum(axis=1).mean() if loss == "log" else (1 - p.max(axis=1)).mean()
            total += proba[i, k] * value
        out.append(-total)
    return base, np.array(out)


@pytest.mark.parametrize("loss", ["log", "zero_one"])
def test_expected_error_matches_brute_force(loss):
    X, y, Xc = tiny_problem(3)
    est = LogisticRegression(C=1.0)
    model, brute = brute_force_eer(est, X, y, Xc, loss)
    ctx = QueryContext(np.arange(8) + 50, Xc, estimator=model, X_labeled=X, y_labeled=y)
    strategy = get_strategy(
        "expected_error", loss=loss, n_candidates=None, n_eval=None, refit="full", random_state=0
    )
    result = strategy.select(ctx, 2)
    np.testing.assert_allclose(result.utilities, brute, rtol=1e-6)
    assert result.ids.tolist() == (np.argsort(-brute)[:2] + 50).tolist()
    assert result.info["n_fits"] == 8 * 3


def test_expected_error_warm_start_agrees_with_full_refits():
    X, y, Xc = tiny_problem(3)
    est = LogisticRegression(C=1.0, tol=1e-10, max_iter=5000)
    model, brute = brute_force_eer(est, X, y, Xc, "log")
    coef_before = model.coef_.copy()
    ctx = QueryContext(np.arange(8), Xc, estimator=model, X_labeled=X, y_labeled=y)
    result = get_strategy("expected_error", n_candidates=None, n_eval=None).select(ctx, 1)
    assert result.info["refit"] == "warm_start"
    np.testing.assert_allclose(result.utilities, brute, rtol=1e-4)
    np.testing.assert_array_equal(model.coef_, coef_before)  # the model was not touched
    assert model.warm_start is False


def test_expected_error_partial_fit_for_incremental_models():
    X, y, Xc = tiny_problem(2)
    nb = GaussianNB().fit(X, y)
    ctx = QueryContext(np.arange(8), Xc, estimator=nb, X_labeled=X, y_labeled=y)
    result = get_strategy("expected_error", n_candidates=4, random_state=0).select(ctx, 2)
    assert result.info["refit"] == "partial_fit"
    assert np.isfinite(result.utilities).sum() == 4
    assert set(result.ids.tolist()) <= set(np.flatnonzero(np.isfinite(result.utilities)))


def test_expected_error_subsample_and_whole_pool():
    X, y, Xc = tiny_problem(3)
    model = LogisticRegression().fit(X, y)
    ctx = QueryContext(np.arange(8), Xc, estimator=model, X_labeled=X, y_labeled=y)
    result = get_strategy("expected_error", n_candidates=3, random_state=1).select(ctx, 8)
    assert np.isfinite(result.utilities).sum() == 3
    assert sorted(result.ids.tolist()) == list(range(8))
    # the scored candidates come first
    assert set(result.ids[:3].tolist()) == set(np.flatnonzero(np.isfinite(result.utilities)))


def test_expected_error_bad_input():
    X, y, Xc = tiny_problem(2)
    sgd = SGDClassifier(loss="log_loss", random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="loss"):
        get_strategy("expected_error", loss="hinge")
    with pytest.raises(ValueError, match="n_candidates"):
        get_strategy("expected_error", n_candidates=0)
    ctx = QueryContext(np.arange(8), Xc, estimator=sgd)
    with pytest.raises(ValueError, match="X_labeled"):
        get_strategy("expected_error").select(ctx, 1)
    tree = DecisionTreeClassifier().fit(X, y)
    ctx = QueryContext(np.arange(8), Xc, estimator=tree, X_labeled=X, y_labeled=y)
    with pytest.raises(ValueError, match="warm_start"):
        get_strategy("expected_error", refit="warm_start").select(ctx, 1)


def test_expected_error_needs_a_single_estimator():
    from activelab import Committee

    X, y, Xc = tiny_problem(2)
    committee = Committee.bagging(LogisticRegression(), 2, X, y, random_state=0)
    ctx = QueryContext(np.arange(8), Xc, estimator=committee, X_labeled=X, y_labeled=y)
    with pytest.raises(TypeError, match="single classifier"):
        get_strategy("expected_error").select(ctx, 1)
