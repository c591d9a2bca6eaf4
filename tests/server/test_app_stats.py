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


def test_classification_and_multilabel_figures_are_the_shares_they_were() -> None:
    items = np.array([0, 0, 0, 1, 1, 2])
    labels = np.array(["a", "a", "b", "x", "x", "z"], dtype=object)
    people = np.array([1, 2, 3, 1, 2, 1])
    expected = {"items_multi": 2, "all_agree": 0.5, "pairwise": 0.5,
                "per_annotator": {1: 1.0, 2: 1.0, 3: 0.0}}
    for task in ("classification", "multilabel"):
        assert stats.agreement(items, labels, people, task=task) == expected
    guesses = np.array(["a", "b", None, "x", "x", "y"], dtype=object)
    rows = stats.quality_over_time(items, labels, people, guesses, block=2,
                                   task="classification")
    assert rows == stats.quality_over_time(items, labels, people, guesses, block=2)
    # person 1 labeled 0, 1, 2 (a, x, z; guesses a, x, y); person 3 said b where most said a
    assert rows == [
        {"annotator_id": 1, "block": 0, "n": 2, "agree_consensus": 1.0, "agree_model": 1.0},
        {"annotator_id": 1, "block": 1, "n": 1, "agree_consensus": 1.0, "agree_model": 0.0},
        {"annotator_id": 2, "block": 0, "n": 2, "agree_consensus": 1.0, "agree_model": 0.5},
        {"annotator_id": 3, "block": 0, "n": 1, "agree_consensus": 0.0, "agree_model": None}]


def test_number_agreement_by_hand() -> None:
    # item 0: 3.0, 3.5, 5.0 (persons 1, 2, 3); item 1: 2.0, 2.4 (persons 1, 2); item 2 once
    items = np.array([0, 1, 0, 2, 0, 1])
    labels = np.array(["3.0", "2.0", "5.0", "7.0", "3.5", "2.4"], dtype=object)
    people = np.array([1, 1, 3, 1, 2, 2])
    out = stats.agreement(items, labels, people, task="regression")
    assert out["items_multi"] == 2
    # pairs: item 0 -> 0.5, 2.0, 1.5; item 1 -> 0.4; median of 0.4, 0.5, 1.5, 2.0 = 1.0
    assert out["median_difference"] == pytest.approx(1.0)
    # person 1: |3.0 - median(3.5, 5.0)| = 1.25 and |2.0 - 2.4| = 0.4 -> 0.825
    # person 2: |3.5 - median(3.0, 5.0)| = 0.5 and |2.4 - 2.0| = 0.4 -> 0.45
    # person 3: |5.0 - median(3.0, 3.5)| = 1.75
    assert out["per_annotator_difference"] == {1: pytest.approx(0.825),
                                               2: pytest.approx(0.45), 3: 1.75}
    assert (out["all_agree"], out["pairwise"], out["per_annotator"]) == (None, None, {})
    # numbers that are equal as numbers but not as text differ by 0
    same = stats.agreement(np.array([5, 5]), np.array(["1.5", "1.50"], dtype=object),
                           np.array([1, 2]), task="regression")
    assert same["median_difference"] == 0.0
    assert same["per_annotator_difference"] == {1: 0.0, 2: 0.0}
    alone = stats.agreement(np.array([1, 2]), np.array(["1.0", "2.0"], dtype=object),
                            np.array([1, 1]), task="regression")
    assert (alone["items_multi"], alone["median_difference"]) == (0, None)


def test_number_quality_blocks_by_hand() -> None:
    # person 7 labels items 0, 1, 2, 3; person 8 items 0 and 1
    items = np.array([0, 1, 0, 2, 3, 1])
    labels = np.array(["3.5", "2.0", "4.5", "1.0", "6.0", "3.5"], dtype=object)
    people = np.array([7, 7, 8, 7, 7, 8])
    guesses = np.array(["3.0", None, "3.0", "1.25", "5.5", None], dtype=object)
    rows = stats.quality_over_time(items, labels, people, guesses, block=2, task="regression")
    # item medians: 0 -> 4.0, 1 -> 2.75, 2 -> 1.0, 3 -> 6.0
    assert [(r["annotator_id"], r["block"], r["n"]) for r in rows] == [(7, 0, 2), (7, 1, 2),
                                                                        (8, 0, 2)]
    # 7/0: guessed only item 0, |3.5 - 3.0|; off the median by 0.5 and 0.75
    # 7/1: |1.0 - 1.25| = 0.25, |6.0 - 5.5| = 0.5; alone on items 2 and 3
    # 8/0: guessed only item 0, |4.5 - 3.0|; off the median by 0.5 and 0.75
    assert [r["model_error"] for r in rows] == [0.5, 0.375, 1.5]
    assert [r["consensus_error"] for r in rows] == [0.625, 0.0, 0.625]
    assert all(r["agree_model"] is None and r["agree_consensus"] is None for r in rows)
    no_guess = stats.quality_over_time(items[:2], labels[:2], people[:2],
                                       np.array([None, None]), task="regression")
    assert no_guess[0]["model_error"] is None
    assert stats.quality_over_time(items[:0], labels[:0], people[:0], guesses[:0],
                                   task="regression") == []
