"""The blocked, threaded committee, core-set, ranked-batch, BADGE and top-k paths pick the plain ids.

Each is compared with the straightforward computation written plainly here (the whole
tensor or distance matrix, one pick at a time); on data where every distance is exact
(small integers, mean exactly 0) they agree to the bit, ties included, and on random
data they agree with themselves whatever the number of threads.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state

from activelab.learners import ActiveLearner, Committee
from activelab.parallel import scoring_threads
from activelab.proba import KERNEL_ROWS
from activelab.strategies import (
    QueryContext,
    consensus_entropy_utility,
    get_strategy,
    kl_max_disagreement_utility,
    top_k,
    vote_entropy_utility,
)
from activelab.strategies.badge import kmeans_pp_factored
from activelab.strategies.base import check_n_instances
from activelab.strategies.diversity import GREEDY_ROWS, k_center_greedy
from activelab.strategies.query import query_once

COMMITTEE = {
    "vote_entropy": vote_entropy_utility,
    "consensus_entropy": consensus_entropy_utility,
    "kl_max_disagreement": kl_max_disagreement_utility,
}


# ----------------------------------------------------------------- top-k
def plain_top_k(utilities, k, random_state=None):
    """top_k partitioning the whole pool (the implementation before the sampled bound)."""
    u = np.asarray(utilities, dtype=np.float64)
    k = check_n_instances(k, u.shape[0])
    u = np.where(np.isnan(u), -np.inf, u)
    if k == u.shape[0]:
        chosen = np.arange(u.shape[0])
    else:
        threshold = u[np.argpartition(-u, k - 1)[:k]].min()
        above = np.flatnonzero(u > threshold)
        tied = np.flatnonzero(u == threshold)
        if tied.size > k - above.size:
            tied = check_random_state(random_state).choice(tied, size=k - above.size,
                                                           replace=False)
        chosen = np.concatenate([above, tied])
    keys = check_random_state(random_state).random_sample(chosen.size)
    return chosen[np.lexsort((keys, -u[chosen]))]


@pytest.mark.parametrize("kind", ["continuous", "coarse", "constant", "nan", "neg_inf"])
@pytest.mark.parametrize("k", [1, 100, 3000])
def test_sampled_top_k_equals_partitioning_the_whole_pool(kind, k):
    rng = np.random.default_rng(len(kind) * 7 + k)
    n = 200_001
    u = {
        "continuous": rng.random(n),
        "coarse": np.round(rng.random(n) * 40) / 40,  # thousands tied at every value
        "constant": np.zeros(n),
        "nan": np.where(rng.random(n) < 0.3, np.nan, rng.random(n)),
        "neg_inf": np.where(np.arange(n) < 50, 1.0, -np.inf),
    }[kind]
    for seed in (0, 1):
        np.testing.assert_array_equal(top_k(u, k, seed), plain_top_k(u, k, seed))
        a, b = np.random.RandomState(seed), np.random.RandomState(seed)
        np.testing.assert_array_equal(top_k(u, k, a), plain_top_k(u, k, b))
        assert a.randint(10**9) == b.randint(10**9)  # the generator advanced alike


# ----------------------------------------------------------------- committees
def committee_and_pool(dtype, n=2 * KERNEL_ROWS + 33, missing_class=False):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((n, 6)).astype(dtype)
    X[[i for i in (1, KERNEL_ROWS + 2, n - 1) if i < n]] = X[4]
    X_train = rng.standard_normal((600, 6)).astype(dtype)
    y = rng.integers(0, 4, 600)
    members = []
    for m in range(3):
        rows = rng.integers(0, 600, 600)
        yy = y[rows]
        if missing_class and m == 1:
            rows, yy = rows[yy != 3], yy[yy != 3]  # this member never saw class 3
        members.append(ActiveLearner(LogisticRegression(max_iter=300, C=0.3 + m),
                                     X_training=X_train[rows], y_training=yy))
    return Committee(members, random_state=0), X


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("missing_class", [False, True])
@pytest.mark.parametrize("measure", sorted(COMMITTEE))
def test_committee_fused_equals_the_member_tensor(dtype, missing_class, measure, monkeypatch):
    committee, X = committee_and_pool(dtype, missing_class=missing_class)
    plain = COMMITTEE[measure](committee.committee_proba(X))

    def refuse(self, X):
        raise AssertionError("the members x n x C tensor was built")

    monkeypatch.setattr(Committee, "committee_proba", refuse)
    for threads in (1, 2):
        with scoring_threads(threads):
            result = query_once(committee, X, None, measure, 40, random_state=3)
        np.testing.assert_array_equal(result.utilities, plain)
        np.testing.assert_array_equal(result.ids, top_k(plain, 40, 3))


def test_committee_measures_equal_plain_numpy_formulas():
    committee, X = committee_and_pool(np.float64, n=500)
    P = committee.committee_proba(X)
    votes = np.eye(P.shape[2])[P.argmax(axis=2)].sum(axis=0) / P.shape[0]
    q = P.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        vote = -np.nansum(votes * np.log(votes), axis=1)
        consensus = -np.nansum(q * np.log(q), axis=1)
        kl = np.nansum(P * np.log(P / q), axis=2).max(axis=0)
    np.testing.assert_allclose(vote_entropy_utility(P), vote, rtol=0, atol=1e-13)
    np.testing.assert_allclose(consensus_entropy_utility(P), consensus, rtol=0, atol=1e-13)
    np.testing.assert_allclose(kl_max_disagreement_utility(P), kl, rtol=0, atol=1e-13)


# ----------------------------------------------------------------- core-set and ranked batch
def exact_points(n, seed=0):
    """Integer points and their mirror images (mean exactly 0): every distance is exact."""
    rng = np.random.default_rng(seed)
    half = rng.integers(-6, 7, size=(n // 2, 3)).astype(np.float64)
    return np.concatenate([half, -half])


def plain_k_center(X, XL, n):
    mind = ((X[:, None, :] - XL[None]) ** 2).sum(axis=2).min(axis=1)
    picks = []
    for _ in range(n):
        p = int(np.argmax(mind))
        picks.append(p)
        mind = np.minimum(mind, ((X - X[p]) ** 2).sum(axis=1))
        mind[p] = -np.inf
    return np.array(picks), mind


def test_coreset_equals_plain_k_center_on_exact_data_with_ties():
    X = exact_points(2 * GREEDY_ROWS + 1000)
    XL = np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 5.0], [-4.0, 2.0, 0.0]])
    expected, mind = plain_k_center(X, XL, 60)
    for threads in (1, 2):
        with scoring_threads(threads):
            result = get_strategy("coreset").select(
                QueryContext(np.arange(X.shape[0]) + 7, X, X_labeled=XL), 60)
        np.testing.assert_array_equal(result.ids, expected + 7)
        assert result.info["radius"] == np.sqrt(max(mind.max(), 0.0))


def test_coreset_and_k_center_do_not_depend_on_the_thread_count():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((GREEDY_ROWS + 5000, 16))
    XL = rng.standard_normal((300, 16))
    runs = []
    for threads in (1, 2):
        with scoring_threads(threads):
            res = get_strategy("coreset").select(QueryContext(np.arange(len(X)), X,
                                                              X_labeled=XL), 40)
            runs.append((res.ids, res.utilities, res.info["radius"],
                         k_center_greedy(X, 20, random_state=0)[0]))
    for a, b in zip(runs[0], runs[1], strict=True):
        np.testing.assert_array_equal(a, b)
    # the float32 picks are those of the float64 plain computation (no near-ties here)
    np.testing.assert_array_equal(runs[0][0], plain_k_center(X, XL, 40)[0])


def plain_ranked_batch(X, XL, u, n):
    mind = ((X[:, None, :] - XL[None]) ** 2).sum(axis=2).min(axis=1)
    dis = 1.0 - 1.0 / (1.0 + np.sqrt(mind))
    N, L = X.shape[0], XL.shape[0]
    chosen = []
    for i in range(n):
        alpha = (N - i) / (N + L)
        score = alpha * dis + (1.0 - alpha) * u
        score[chosen] = -np.inf
        p = int(np.argmax(score))
        chosen.append(p)
        d = ((X - X[p]) ** 2).sum(axis=1)
        closer = d < mind
        mind[closer] = d[closer]
        dis[closer] = 1.0 - 1.0 / (1.0 + np.sqrt(mind[closer]))
    return np.array(chosen)


def test_ranked_batch_equals_plain_ranking_on_exact_data():
    X = exact_points(GREEDY_ROWS + 3000, seed=1)
    XL = np.array([[1.0, 1.0, 1.0], [-3.0, 0.0, 2.0]])
    rng = np.random.default_rng(5)
    proba = rng.dirichlet(np.ones(3), size=X.shape[0])
    u = 1.0 - proba.max(axis=1)
    expected = plain_ranked_batch(X, XL, u, 30)
    for threads in (1, 2):
        with scoring_threads(threads):
            result = get_strategy("ranked_batch").select(
                QueryContext(np.arange(X.shape[0]), X, proba=proba, X_labeled=XL), 30)
        np.testing.assert_array_equal(result.ids, expected)


# ----------------------------------------------------------------- BADGE
def plain_kmeans_pp(A, Ht, n, random_state):
    rng = check_random_state(random_state)
    g_sq = np.einsum("ij,ij->i", A, A) * np.einsum("ij,ij->i", Ht, Ht)
    mind = np.full(A.shape[0], np.inf)
    chosen = np.zeros(A.shape[0], dtype=bool)
    picks = []
    for i in range(n):
        if i == 0:
            p = int(top_k(g_sq, 1, rng)[0])
        else:
            w = np.where(chosen, 0.0, mind)
            total = w.sum()
            if total > 0:
                p = int(rng.choice(A.shape[0], p=w / total))
            else:
                p = int(rng.choice(np.flatnonzero(~chosen)))
        picks.append(p)
        chosen[p] = True
        d = g_sq + g_sq[p] - 2.0 * (A @ A[p]) * (Ht @ Ht[p])
        mind = np.minimum(mind, np.maximum(d, 0.0))
    return np.array(picks)


@pytest.mark.parametrize("zero", [False, True])
def test_badge_seeding_equals_plain_kmeans_pp(zero):
    rng = np.random.default_rng(6)
    n = GREEDY_ROWS + 2500
    A = np.zeros((n, 4)) if zero else rng.standard_normal((n, 4))
    Ht = np.hstack([rng.integers(-3, 4, size=(n, 5)).astype(float), np.ones((n, 1))])
    expected = plain_kmeans_pp(A, Ht, 25, 11)
    for threads in (1, 2):
        with scoring_threads(threads):
            np.testing.assert_array_equal(kmeans_pp_factored(A, Ht, 25, 11), expected)
