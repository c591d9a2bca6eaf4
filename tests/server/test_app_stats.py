"""Progress figures of the labeling app, on cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from activelab.server import stats
from activelab.server.scorer import _agreement, could_stop


def test_speed_is_the_median_of_recent_durations() -> None:
    assert stats.speed(np.array([100.0, 2.0, 4.0, 3.0]), last=3) == 3.0
    assert stats.speed(np.array([np.nan, 5.0])) == 5.0
    assert stats.speed(np.array([])) is None


def test_session_and_break_reminder() -> None:
    # labels every minute for 50 minutes after a 20-minute pause
    t = np.r_[0.0, 60.0, np.arange(50) * 60.0 + 60.0 + 1200.0]
    now = t[-1] + 30.0
    s = stats.session(t, now, break_after_s=45 * 60)
    assert s["minutes"] == pytest.approx((now - t[2]) / 60, abs=0.05)
    assert s["take_a_break"] is True
    assert stats.session(t, now, break_after_s=60 * 60)["take_a_break"] is False
    assert stats.session(t, t[-1] + 700.0, 60.0) == {"minutes": 0.0, "take_a_break": False}


def test_stop_signal_needs_three_stable_versions() -> None:
    assert _agreement(None, ["a"]) is None
    assert _agreement(["a", "b"], ["a", "b"]) == 1.0
    # 4 items, one changed: kappa = (0.75 - 0.5) / (1 - 0.5) = 0.5
    assert _agreement(["a", "a", "b", "b"], ["a", "b", "b", "b"]) == pytest.approx(0.5)
    assert could_stop([None, 0.5, 1.0, 0.995, 1.0]) is True
    assert could_stop([1.0, 1.0, 0.9, 1.0, 1.0]) is False
    assert could_stop([1.0, 1.0]) is False


def test_agreement_by_hand() -> None:
    items = np.array([0, 0, 0, 1, 1, 2])
    labels = np.array(["a", "a", "b", "x", "x", "z"], dtype=object)
    people = np.array([1, 2, 3, 1, 2, 1])
    out = stats.agreement(items, labels, people)
    # item 0: pairs (a,a) agree, (a,b) twice disagree -> 1 of 3; item 1: 1 of 1
    assert out["items_multi"] == 2
    assert out["pairwise"] == pytest.approx(2 / 4)
    assert out["all_agree"] == pytest.approx(1 / 2)
    # person 3 said b where the others said a,a; persons 1 and 2 always match the others
    assert out["per_annotator"] == {1: 1.0, 2: 1.0, 3: 0.0}


def test_quality_blocks_by_hand() -> None:
    items = np.array([0, 1, 2, 3, 4])
    labels = np.array(["a", "b", "a", "a", "b"], dtype=object)
    people = np.array([7, 7, 7, 7, 7])
    guesses = np.array(["a", "a", None, "a", "b"], dtype=object)
    rows = stats.quality_over_time(items, labels, people, guesses, block=2)
    assert [(r["block"], r["n"]) for r in rows] == [(0, 2), (1, 2), (2, 1)]
    assert [r["agree_model"] for r in rows] == [0.5, 1.0, 1.0]
    assert all(r["agree_consensus"] == 1.0 for r in rows)
