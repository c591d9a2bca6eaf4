"""Hand-worked cases for the uncertainty and committee measures and for top-k."""

from __future__ import annotations

import math

import numpy as np
import pytest

from activelab.strategies import (
    QueryContext,
    consensus_entropy_utility,
    entropy_utility,
    get_strategy,
    kl_max_disagreement_utility,
    least_confident_utility,
    margin_utility,
    top_k,
    vote_entropy_utility,
)

P = np.array([[0.9, 0.1, 0.0], [0.6, 0.3, 0.1], [0.4, 0.4, 0.2]])


def h(*ps: float) -> float:
    return -sum(p * math.log(p) for p in ps if p > 0)


def test_least_confident_by_hand():
    np.testing.assert_allclose(least_confident_utility(P), [0.1, 0.4, 0.6])


def test_margin_is_minus_the_gap_of_the_two_best():
    # gaps: 0.9-0.1 = 0.8, 0.6-0.3 = 0.3, 0.4-0.4 = 0
    np.testing.assert_allclose(margin_utility(P), [-0.8, -0.3, 0.0], atol=1e-12)


def test_margin_with_one_column_means_no_uncertainty():
    np.testing.assert_allclose(margin_utility(np.ones((2, 1))), [-1.0, -1.0])


def test_entropy_by_hand_with_zero_probability():
    np.testing.assert_allclose(
        entropy_utility(P), [h(0.9, 0.1), h(0.6, 0.3, 0.1), h(0.4, 0.4, 0.2)]
    )


def test_utilities_reject_one_dimensional_input():
    with pytest.raises(ValueError, match="2-D"):
        entropy_utility(np.array([0.5, 0.5]))


# committee: 3 members, 2 samples, 2 classes
M = np.array(
    [
        [[0.8, 0.2], [0.3, 0.7]],
        [[0.6, 0.4], [0.4, 0.6]],
        [[0.4, 0.6], [0.2, 0.8]],
    ]
)


def test_vote_entropy_by_hand():
    # sample 0: votes 0, 0, 1 -> (2/3, 1/3); sample 1: all vote 1 -> 0
    np.testing.assert_allclose(vote_entropy_utility(M), [h(2 / 3, 1 / 3), 0.0], atol=1e-12)


def test_consensus_entropy_by_hand():
    # consensus: (0.6, 0.4) and (0.3, 0.7)
    np.testing.assert_allclose(consensus_entropy_utility(M), [h(0.6, 0.4), h(0.3, 0.7)])


def test_kl_max_disagreement_by_hand():
    def kl(p, q):
        return sum(a * math.log(a / b) for a, b in zip(p, q, strict=True))

    expected0 = max(kl((0.8, 0.2), (0.6, 0.4)), 0.0, kl((0.4, 0.6), (0.6, 0.4)))
    expected1 = max(kl((0.3, 0.7), (0.3, 0.7)), kl((0.4, 0.6), (0.3, 0.7)), kl((0.2, 0.8), (0.3, 0.7)))
    np.testing.assert_allclose(kl_max_disagreement_utility(M), [expected0, expected1])
    assert expected0 == pytest.approx(0.8 * math.log(0.8 / 0.6) + 0.2 * math.log(0.5))


def test_committee_measures_reject_2d_input():
    with pytest.raises(ValueError, match="n_members"):
        vote_entropy_utility(P)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("least_confident", [30, 20]), ("margin", [30, 20]), ("entropy", [30, 20])],
)
def test_strategies_return_pool_ids_not_positions(name, expected):
    ctx = QueryContext([10, 20, 30], proba=P)
    result = get_strategy(name, random_state=0).select(ctx, 2)
    assert result.ids.tolist() == expected
    assert result.utility_of([30]).tolist() == pytest.approx([result.utilities[2]])


def test_committee_strategy_picks_the_disputed_sample():
    ctx = QueryContext([7, 8], committee_proba=M)
    assert get_strategy("vote_entropy").select(ctx, 1).ids.tolist() == [7]
    assert get_strategy("consensus_entropy").select(ctx, 1).ids.tolist() == [7]


def test_top_k_largest_first():
    assert top_k(np.array([0.1, 0.5, 0.3, 0.9]), 3, 0).tolist() == [3, 1, 2]


def test_top_k_breaks_ties_at_random_but_reproducibly():
    u = np.array([1.0, 3.0, 3.0, 2.0, 3.0])
    picks = {tuple(top_k(u, 2, seed).tolist()) for seed in range(40)}
    # always two of the three tied maxima, every tied item chosen for some seed
    assert all(set(p) <= {1, 2, 4} and len(set(p)) == 2 for p in picks)
    assert set().union(*picks) == {1, 2, 4}
    assert top_k(u, 2, 5).tolist() == top_k(u, 2, 5).tolist()
    # k = 4 takes all three maxima, then the 2.0
    four = top_k(u, 4, 3)
    assert set(four[:3].tolist()) == {1, 2, 4} and four[3] == 3


def test_top_k_ranks_nan_last():
    assert top_k(np.array([np.nan, 0.1, 0.2]), 2, 0).tolist() == [2, 1]


def test_top_k_whole_pool_and_bad_k():
    assert sorted(top_k(np.array([0.2, 0.1]), 2, 0).tolist()) == [0, 1]
    with pytest.raises(ValueError, match="at least 1"):
        top_k(np.array([0.2]), 0)
    with pytest.raises(ValueError, match="larger than"):
        top_k(np.array([0.2]), 2)


@pytest.mark.parametrize("candidate_ids", [[3, 7, 10, 42], [42, 3, 10, 7]])
def test_utility_of_maps_ids_whether_or_not_candidates_are_sorted(candidate_ids):
    from activelab.strategies.base import QueryResult

    utilities = np.array([0.1, 0.2, 0.3, 0.4])
    result = QueryResult(ids=np.array([candidate_ids[3]]),
                         candidate_ids=np.array(candidate_ids), utilities=utilities)
    lookup = dict(zip(candidate_ids, utilities, strict=True))
    asked = [10, 42, 5, 3]
    got = result.utility_of(asked)
    assert got[:2].tolist() == [lookup[10], lookup[42]]
    assert np.isnan(got[2]) and got[3] == lookup[3]
