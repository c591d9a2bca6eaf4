"""The score sent to Label Studio: ascending score = descending informativeness."""

from __future__ import annotations

import numpy as np
import pytest

from activelab.server.ls_scoring import (
    check_backend_strategy,
    strategy_scores,
    task_uniform,
    utility_scores,
)
from activelab.strategies import get_strategy

# Worked by hand.  Rows: task ids 10, 11, 12, 13.
PROBA = np.array(
    [
        [0.50, 0.50, 0.00],  # a coin flip between two classes
        [0.90, 0.05, 0.05],  # sure
        [0.40, 0.35, 0.25],  # unsure among three
        [0.70, 0.20, 0.10],
    ]
)
IDS = np.array([10, 11, 12, 13])


def _order(scores):
    return IDS[np.argsort(scores, kind="stable")].tolist()


def test_least_confident_score_is_top_probability():
    s = strategy_scores(check_backend_strategy("least_confident"), IDS, PROBA)
    np.testing.assert_allclose(s, [0.5, 0.9, 0.4, 0.7])
    assert _order(s) == [12, 10, 13, 11]


def test_margin_score_is_gap_between_top_two():
    s = strategy_scores(check_backend_strategy("margin"), IDS, PROBA)
    np.testing.assert_allclose(s, [0.0, 0.85, 0.05, 0.5])
    assert _order(s) == [10, 12, 13, 11]


def test_entropy_score_is_one_minus_normalised_entropy():
    s = strategy_scores(check_backend_strategy("entropy"), IDS, PROBA)
    h = np.array([np.log(2), -(0.9 * np.log(0.9) + 2 * 0.05 * np.log(0.05)),
                  -(0.4 * np.log(0.4) + 0.35 * np.log(0.35) + 0.25 * np.log(0.25)),
                  -(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1))])
    np.testing.assert_allclose(s, 1 - h / np.log(3))
    # H: 12 -> 1.08, 13 -> 0.80, 10 -> log 2 = 0.69, 11 -> 0.39
    assert _order(s) == [12, 13, 10, 11]
    uniform = strategy_scores(check_backend_strategy("entropy"), [1], np.full((1, 4), 0.25))
    np.testing.assert_allclose(uniform, [0.0], atol=1e-12)


def test_committee_scores():
    # two members; task 0 they agree, task 1 they disagree completely
    members = np.array([[[1.0, 0.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]])
    ids = np.array([0, 1])
    vote = strategy_scores(check_backend_strategy("vote_entropy"), ids, members.mean(0),
                           committee_proba=members)
    np.testing.assert_allclose(vote, [1.0, 0.0], atol=1e-12)
    kl = strategy_scores(check_backend_strategy("kl_max_disagreement"), ids, members.mean(0),
                         committee_proba=members)
    assert kl[0] == pytest.approx(1.0)
    assert kl[1] == pytest.approx(np.exp(-np.log(2)))


def test_random_score_depends_on_task_id_only():
    strategy = check_backend_strategy("random")
    alone = strategy_scores(strategy, np.array([5]), np.zeros((1, 2)), seed=3)
    batch = strategy_scores(strategy, np.array([9, 5, 1]), np.zeros((3, 2)), seed=3)
    assert alone[0] == batch[1]
    assert np.all((batch >= 0) & (batch < 1))
    assert not np.array_equal(task_uniform(np.arange(50), 3), task_uniform(np.arange(50), 4))
    draws = task_uniform(np.arange(20000), 0)
    assert abs(draws.mean() - 0.5) < 0.01


def test_utility_scores_of_task_strategies():
    """Multi-label and regression strategies: lower score = higher utility, per task alone."""
    ids = np.array([1, 2, 3])
    # a distance-like utility (never negative): 1 / (1 + u)
    np.testing.assert_allclose(utility_scores(get_strategy("coreset"), ids, np.array([0, 1, 3])),
                               [1.0, 0.5, 0.25])
    # any other utility: 1 / (1 + exp(u)); ln 3 gives 1/4
    np.testing.assert_allclose(
        utility_scores(check_backend_strategy("margin"), ids, np.array([0.0, np.log(3), -np.log(3)])),
        [0.5, 0.25, 0.75])
    # random: the seeded draw per task id, whatever the utility
    np.testing.assert_array_equal(utility_scores(get_strategy("random"), ids, None, seed=4),
                                  task_uniform(ids, 4))


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="unknown query strategy"):
        check_backend_strategy("no_such_strategy")
