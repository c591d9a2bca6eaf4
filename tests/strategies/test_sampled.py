"""Strategies over sampled probabilities, worked out by hand (no torch needed):
variation ratios, mean STD, MC entropy, PowerBALD and EPIG."""

from __future__ import annotations

import numpy as np
import pytest

from _sampled_cases import SAMPLED, entropy_of, two_class
from activelab.strategies.base import QueryContext
from activelab.strategies.bayesian import bald_utility
from activelab.strategies.registry import get_strategy
from activelab.strategies.sampled import (
    EPIG,
    PowerBALD,
    epig_utility,
    mc_entropy_utility,
    mean_std_utility,
    target_positions,
    uniform_at,
    variation_ratios_utility,
)
from activelab.testing import check_strategy

SAMPLED_STRATEGIES = ["bald", "batchbald", "variation_ratios", "mean_std", "mc_entropy",
                      "power_bald", "epig"]


IDS = [10, 11, 12, 13, 14]


@pytest.mark.parametrize("name", SAMPLED_STRATEGIES)
def test_sampled_strategies_keep_the_contract(name):
    check_strategy(name)


def test_variation_ratios_by_hand():
    # A, A2, D: two of four draws vote for the modal class; E and F (a tie, which votes
    # for the first class) always agree
    np.testing.assert_allclose(variation_ratios_utility(SAMPLED), [0.5, 0.5, 0.5, 0.0, 0.0])
    # three classes, five draws voting 0, 0, 1, 2, 0: the mode has 3 of 5 votes
    votes = np.array([0, 0, 1, 2, 0])
    p = np.full((5, 1, 3), 0.1)
    p[np.arange(5), 0, votes] = 0.8
    np.testing.assert_allclose(variation_ratios_utility(p), [1 - 3 / 5])
    ctx = QueryContext(IDS, extras={"sampled_proba": SAMPLED})
    result = get_strategy("variation_ratios", random_state=0).select(ctx, 3)
    assert sorted(result.ids.tolist()) == [10, 11, 12]


def test_mean_std_by_hand():
    # population std of P(class 0) over the draws; both classes have the same std
    expected = [0.5, np.sqrt(0.4901 - 0.25), np.sqrt(0.4525 - 0.25), 0.0, 0.0]
    np.testing.assert_allclose(expected[1:3], [0.49, 0.45])
    np.testing.assert_allclose(mean_std_utility(SAMPLED), expected, atol=1e-12)
    ctx = QueryContext(IDS, extras={"sampled_proba": SAMPLED})
    assert get_strategy("mean_std", random_state=0).select(ctx, 2).ids.tolist() == [10, 11]


def test_mc_entropy_is_the_entropy_of_the_mean_draw():
    # the mean draw is 50/50 for A, A2, D and F, and certain for E
    log2 = np.log(2)
    np.testing.assert_allclose(mc_entropy_utility(SAMPLED), [log2, log2, log2, 0.0, log2],
                               atol=1e-12)
    ctx = QueryContext(IDS, extras={"sampled_proba": SAMPLED})
    result = get_strategy("mc_entropy", random_state=0).select(ctx, 4)
    assert sorted(result.ids.tolist()) == [10, 11, 12, 14]  # F counts, unlike for BALD


def test_uniform_draws_follow_positions_not_the_query():
    u = uniform_at(np.arange(1000), key=3)
    assert u.min() > 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.03
    np.testing.assert_array_equal(uniform_at(np.arange(200, 300), key=3), u[200:300])
    assert not np.array_equal(uniform_at(np.arange(1000), key=4), u)


def test_power_bald_scores_by_hand():
    ctx = QueryContext(IDS, extras={"sampled_proba": SAMPLED, "query_seed": 5})
    result = PowerBALD(beta=2.0, random_state=0).select(ctx, 5)
    gumbel = -np.log(-np.log(uniform_at(np.arange(5), 5)))
    with np.errstate(divide="ignore"):
        expected = 2.0 * np.log(bald_utility(SAMPLED)) + gumbel
    np.testing.assert_allclose(result.utilities, expected)
    # E and F have BALD 0: score -inf, chosen last
    assert set(result.ids[-2:].tolist()) == {13, 14}
    assert result.info["beta"] == 2.0
    np.testing.assert_allclose(result.info["bald_max"], np.log(2))


def test_power_bald_samples_in_proportion_to_bald_power():
    # the first pick is candidate 0 with probability b0^beta / (b0^beta + b1^beta)
    p = two_class((1.0, 0.0), (0.8, 0.2))
    b0, b1 = bald_utility(p)
    assert b0 > 2 * b1 > 0
    for beta in (1.0, 2.0):
        strategy = PowerBALD(beta=beta, random_state=0)
        first = [
            int(np.argmax(strategy.utility(
                QueryContext([0, 1], extras={"sampled_proba": p, "query_seed": key}))))
            for key in range(4000)  # queries, not rows
        ]
        share = b0**beta / (b0**beta + b1**beta)
        assert abs(np.mean(np.asarray(first) == 0) - share) < 0.025


def test_power_bald_draws_a_new_batch_each_query_and_repeats_with_the_seed():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(3), size=(8, 50))
    strategy = get_strategy("power_bald", random_state=1)
    first = strategy.select(QueryContext(np.arange(50), extras={"sampled_proba": p}), 5)
    second = strategy.select(QueryContext(np.arange(50), extras={"sampled_proba": p}), 5)
    assert first.ids.tolist() != second.ids.tolist()
    again = get_strategy("power_bald", random_state=1).select(
        QueryContext(np.arange(50), extras={"sampled_proba": p}), 5)
    assert again.ids.tolist() == first.ids.tolist()
    with pytest.raises(ValueError, match="beta"):
        PowerBALD(beta=0).select(QueryContext(np.arange(50), extras={"sampled_proba": p}), 5)


def test_epig_by_hand():
    # two draws; the target input is A itself (0 | 1 certain, flipping between draws)
    cand = two_class((1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.5, 0.5), (0.9, 0.1))
    target = two_class((1.0, 0.0))
    log2 = np.log(2)
    # A and its mirror tell the target's label exactly (log 2); a constant or a coin
    # tells nothing; (0.9 | 0.1) tells log 2 - H(0.9, 0.1), its BALD
    expected = [log2, log2, 0.0, 0.0, log2 - entropy_of(0.9, 0.1)]
    np.testing.assert_allclose(epig_utility(cand, target), expected, atol=1e-12)
    np.testing.assert_allclose(epig_utility(cand, target, block=2), expected, atol=1e-12)
    ctx = QueryContext(np.arange(5), extras={"sampled_proba": cand,
                                             "epig_target": {"sampled_proba": target}})
    np.testing.assert_allclose(EPIG(random_state=0).select(ctx, 1).utilities, expected,
                               atol=1e-12)


def test_epig_targets_the_candidates_by_default():
    # with n_target at least the candidates, the target is every candidate:
    # EPIG(A) = mean(I(A; A), I(A; C)) = log 2 / 2, EPIG(C) = 0
    cand = two_class((1.0, 0.0), (1.0, 1.0))
    ctx = QueryContext([7, 8], extras={"sampled_proba": cand})
    result = EPIG(n_target=100, random_state=0).select(ctx, 2)
    np.testing.assert_allclose(result.utilities, [np.log(2) / 2, 0.0], atol=1e-12)
    assert result.ids.tolist() == [7, 8]
    # a smaller target sample: n_target positions drawn by the query key
    pos = target_positions(50, 10, key=3)
    assert pos.size == 10 and np.unique(pos).size == 10 and np.all(np.diff(pos) > 0)
    np.testing.assert_array_equal(pos, np.sort(np.argsort(uniform_at(np.arange(50), 3))[:10]))
    with pytest.raises(ValueError, match="n_target"):
        EPIG(n_target=0).select(ctx, 1)
    with pytest.raises(ValueError, match="epig_target"):
        EPIG().select(QueryContext([7, 8], extras={"sampled_proba": cand,
                                                  "epig_target": {"rows": 1}}), 1)


def test_epig_prefers_what_matters_for_the_target():
    # B is as uncertain about the parameters as A (same BALD), but only A's label says
    # anything about the target's: EPIG ranks A first where BALD ties them
    cand = two_class((1.0, 1.0, 0.0, 0.0), (1.0, 0.0, 1.0, 0.0))
    target = two_class((1.0, 1.0, 0.0, 0.0))
    np.testing.assert_allclose(bald_utility(cand), [np.log(2)] * 2)
    np.testing.assert_allclose(epig_utility(cand, target), [np.log(2), 0.0], atol=1e-12)


def test_epig_checks_the_draws_match():
    with pytest.raises(ValueError, match="same draws"):
        epig_utility(SAMPLED, SAMPLED[:2])
