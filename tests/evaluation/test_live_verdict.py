"""The live verdict's interval: hand-worked values and coverage where the answer is known."""

import math

import numpy as np
import pytest

from activelab.evaluation.live_verdict import paired_verdict, wilson_interval


def test_hand_worked_interval():
    # 100 picks: both right on 60, only the active model right on 30, both wrong on 10.
    active = np.r_[np.ones(90, bool), np.zeros(10, bool)]
    random = np.r_[np.ones(60, bool), np.zeros(40, bool)]
    v = paired_verdict(active, random, label_counts=[21] * 50 + [70] * 50)
    # b = 30, c = 0: b' = 30.5, c' = 0.5, n' = 102, d = 30 / 102
    d = 30 / 102
    half = 1.959964 * math.sqrt(31 - 30**2 / 102) / 102
    assert v.mean == pytest.approx(0.3)
    assert (v.low, v.high) == (pytest.approx(d - half, abs=1e-5), pytest.approx(d + half, abs=1e-5))
    assert v.words == "ahead of random"
    assert (v.active_accuracy, v.random_accuracy) == (0.9, 0.6)
    assert (v.labels_from, v.labels_to) == (21, 70)
    assert "ahead of random" in v.summary() and "100 random picks" in v.summary()


def test_no_picks_and_mismatched_input():
    v = paired_verdict([], [])
    assert v.n == 0 and v.words == "no evidence yet" and math.isnan(v.mean)
    assert v.to_dict()["mean"] is None
    with pytest.raises(ValueError, match="one outcome per random pick"):
        paired_verdict([1, 0], [1])


def test_coverage_when_there_is_no_gain():
    # both models right 80 % of the time, disagreeing on 15 % of the picks, no true gain:
    # the 95 % interval should contain 0 in about 95 % of 2,000 runs of 40 picks
    rng = np.random.RandomState(0)
    covered = 0
    for _ in range(2000):
        u = rng.random_sample(40)
        active = u < 0.8
        random = (u < 0.725) | ((u >= 0.8) & (u < 0.875))
        v = paired_verdict(active, random)
        covered += v.low <= 0 <= v.high
    assert 0.93 <= covered / 2000 <= 0.995


def test_coverage_of_a_known_gain():
    # the active model is right on 85 %, the random one on 75 % (gain 0.10)
    rng = np.random.RandomState(1)
    covered = 0
    for _ in range(2000):
        u = rng.random_sample(60)
        v = paired_verdict(u < 0.85, u < 0.75)
        covered += v.low <= 0.10 <= v.high
    assert covered / 2000 >= 0.93


def test_wilson():
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_pooled_verdict_adds_the_counts_of_independent_runs():
    from activelab.evaluation.live_verdict import pooled_verdict

    one = paired_verdict([1, 1, 0, 1], [0, 1, 0, 1], label_counts=[21, 22, 23, 24])
    two = paired_verdict([0, 1], [1, 1], label_counts=[30, 31])
    pooled = pooled_verdict([one, two.to_dict(), paired_verdict([], [])])
    both = paired_verdict([1, 1, 0, 1, 0, 1], [0, 1, 0, 1, 1, 1])
    assert (pooled.n, pooled.active_only, pooled.random_only) == (6, 1, 1)
    assert (pooled.low, pooled.high, pooled.mean) == (both.low, both.high, both.mean)
    assert (pooled.labels_from, pooled.labels_to) == (21, 31)
    assert pooled.active_accuracy == pytest.approx(4 / 6)
