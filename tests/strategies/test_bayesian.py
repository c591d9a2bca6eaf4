"""BALD and BatchBALD on sampled probabilities worked out by hand (no torch needed)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from _sampled_cases import SAMPLED, entropy_of
from activelab.learners import ActiveLearner, Committee
from activelab.strategies.base import QueryContext
from activelab.strategies.bayesian import (
    BALD,
    BatchBALD,
    bald_utility,
    batchbald_select,
)
from activelab.strategies.registry import get_strategy

BALD_BY_HAND = [
    np.log(2),
    np.log(2) - entropy_of(0.99, 0.01),
    np.log(2) - entropy_of(0.95, 0.05),
    0.0,
    0.0,
]


def test_bald_values_by_hand():
    np.testing.assert_allclose(bald_utility(SAMPLED), BALD_BY_HAND, atol=1e-12)


def test_bald_query_picks_the_redundant_pair():
    ctx = QueryContext([10, 11, 12, 13, 14], extras={"sampled_proba": SAMPLED})
    result = BALD(random_state=0).select(ctx, 2)
    assert result.ids.tolist() == [10, 11]


def test_batchbald_skips_the_near_duplicate():
    ctx = QueryContext([10, 11, 12, 13, 14], extras={"sampled_proba": SAMPLED})
    result = get_strategy("batchbald", random_state=0).select(ctx, 2)
    # after A, A2 adds nothing (A already tells the draws apart as A2 would); D is
    # independent of A, so the batch {A, D} carries log 2 + BALD(D)
    assert result.ids.tolist() == [10, 12]
    np.testing.assert_allclose(
        result.info["batch_mutual_information"], [np.log(2), np.log(2) + BALD_BY_HAND[2]],
        atol=1e-12,
    )
    np.testing.assert_allclose(result.utilities, BALD_BY_HAND, atol=1e-12)


def test_batchbald_of_one_is_bald():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(3), size=(6, 40))
    chosen, mi = batchbald_select(p, 1, random_state=0)
    assert chosen[0] == int(np.argmax(bald_utility(p)))
    np.testing.assert_allclose(mi[0], bald_utility(p).max(), atol=1e-12)


def test_sampled_joint_agrees_with_exact():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(3) * 0.5, size=(8, 30))
    exact_ids, exact_mi = batchbald_select(p, 4, num_samples=10_000, random_state=0)
    sampled_ids, sampled_mi = batchbald_select(p, 4, num_samples=9, random_state=0)
    # the first two picks need at most 9 configurations: identical
    np.testing.assert_array_equal(sampled_ids[:2], exact_ids[:2])
    np.testing.assert_allclose(sampled_mi[:2], exact_mi[:2], atol=1e-12)
    many_ids, many_mi = batchbald_select(p, 4, num_samples=20_000 // 3, random_state=0)
    np.testing.assert_allclose(many_mi, exact_mi, rtol=0.05)
    assert np.all(np.diff(exact_mi) >= -1e-12)  # adding a label never loses information


def test_prefilter_limits_the_search():
    ctx = QueryContext([10, 11, 12, 13, 14], extras={"sampled_proba": SAMPLED})
    result = BatchBALD(prefilter=2, random_state=0).select(ctx, 2)
    assert result.ids.tolist() == [10, 11]  # D was filtered out by BALD
    assert result.info["prefilter"] == 2
    with pytest.raises(ValueError, match="prefilter"):
        BatchBALD(prefilter=1).select(ctx, 2)


def test_committee_members_serve_as_samples():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((120, 3))
    y = (X[:, 0] + 0.3 * rng.standard_normal(120) > 0).astype(int)
    committee = Committee([LogisticRegression(), GaussianNB()], query_strategy="bald")
    committee.teach(X[:40], y[:40])
    result = committee.query_result(X[40:], 5)
    expected = np.argsort(-bald_utility(committee.committee_proba(X[40:])), kind="stable")[:5]
    np.testing.assert_array_equal(result.ids, expected)


def test_missing_samples_and_bad_shapes_raise():
    with pytest.raises(ValueError, match="sampled probabilities"):
        BALD().select(QueryContext([0, 1], proba=np.full((2, 2), 0.5)), 1)
    with pytest.raises(ValueError, match="shape"):
        bald_utility(np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="axis 1"):
        BALD().select(QueryContext([0, 1, 2], extras={"sampled_proba": SAMPLED}), 1)
    learner = ActiveLearner(LogisticRegression(), query_strategy="bald",
                            X_training=np.eye(2), y_training=[0, 1])
    with pytest.raises(ValueError, match="sampled_proba"):
        learner.query(np.eye(2), 1)
