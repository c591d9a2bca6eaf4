"""Statistics of a benchmark on constructed results: paired tests, AULC, labels-to-target,
savings, ranks and the words of the verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from activelab.lab.stats import min_seeds_for, paired_test, rank_table, summarize
from activelab.lab.zhan2021 import aubc


def run(dataset, strategy, seed, n, v, *, full=1.0, metric="accuracy", model="logreg",
        noise=0.0):
    """A run result as the runner writes it, around a hand-made curve."""
    from activelab.evaluation import aulc

    return {
        "dataset": dataset, "strategy": strategy, "model": model, "noise": noise,
        "seed": seed, "primary_metric": metric, "aulc": aulc(n, v), "final": v[-1],
        "full_score": full, "seconds": 1.0, "fit_seconds": 0.5, "query_seconds": 0.1,
        "curves": {metric: {"n_labeled": list(n), "values": list(v)}},
    }


# ------------------------------------------------------------------ AULC and target
def test_aulc_of_a_hand_made_curve():
    # trapezoids: 10 * (0.5 + 0.7) / 2 + 10 * (0.7 + 0.9) / 2 = 14 over a range of 20
    assert aubc([20, 30, 40], [0.5, 0.7, 0.9]) == pytest.approx(0.7)
    assert aubc([20, 21], [0.6, 0.8]) == pytest.approx(0.7)
    assert aubc([20], [0.6]) == pytest.approx(0.6)


def test_labels_to_target_and_savings_on_hand_made_curves():
    n = [10, 20, 30, 40]
    rows = []
    for seed in range(3):
        # random reaches 0.9 (target = 0.9 * full 1.0) at 40 labels, margin at 20
        rows.append(run("d", "random", seed, n, [0.5, 0.6, 0.8, 0.9]))
        rows.append(run("d", "margin", seed, n, [0.5, 0.9, 0.95, 0.95]))
    (setting,) = summarize(rows, target=0.9)
    assert setting.target == pytest.approx(0.9)
    rnd, mar = setting.strategies["random"], setting.strategies["margin"]
    assert rnd.labels_to_target[0] == 40 and rnd.labels_to_target[3] == 3
    assert mar.labels_to_target[0] == 20
    # paired savings: 20 labels = 50 % of random's 40, in every seed
    assert mar.savings.labels.mean == pytest.approx(20)
    assert mar.savings.percent.mean == pytest.approx(50)
    assert mar.savings.money.mean == pytest.approx(20)  # 1 per label
    # AULC by hand: random (0.55 + 0.7 + 0.85) * 10 / 30 = 0.7
    assert rnd.aulc[0] == pytest.approx(0.7)
    assert rnd.norm_aulc == pytest.approx(0.7)


def test_target_never_reached_is_counted_not_invented():
    n = [10, 20]
    rows = [run("d", "random", s, n, [0.5, 0.6]) for s in range(2)]
    rows += [run("d", "margin", s, n, [0.5, 0.96]) for s in range(2)]
    (setting,) = summarize(rows, target=0.95)
    assert math.isnan(setting.strategies["random"].labels_to_target[0])
    assert setting.strategies["random"].labels_to_target[3] == 0
    assert setting.strategies["margin"].savings.n_pairs == 0
    assert setting.strategies["margin"].savings.n_unreached == 2


# ------------------------------------------------------------------ paired test
def test_paired_test_on_constructed_results():
    rnd = np.linspace(0.70, 0.80, 10)
    better = rnd + np.arange(1, 11) / 100  # every seed better, differences 0.01 .. 0.10
    t = paired_test(better, rnd)
    assert t.n == 10
    assert t.mean_diff == pytest.approx(0.055)
    assert t.statistic == 0.0  # no negative differences
    assert t.p_value == pytest.approx(2 / 2**10)  # exact two-sided p with 10 pairs
    assert t.significant()
    assert t.low < 0.055 < t.high


def test_paired_test_needs_six_seeds_for_p_below_005():
    rnd = np.full(5, 0.7)
    t = paired_test(rnd + 0.05 + np.arange(5) / 1000, rnd)
    assert t.p_value == pytest.approx(2 / 2**5)  # 0.0625: not significant
    assert not t.significant()
    assert min_seeds_for(0.05) == 6


def test_paired_test_identical_results_and_nan_pairs():
    t = paired_test([0.7, 0.8, 0.9], [0.7, 0.8, 0.9])
    assert (t.p_value, t.mean_diff) == (1.0, 0.0)
    t = paired_test([0.7, np.nan, 0.9], [0.6, 0.8, 0.8])
    assert t.n == 2
    with pytest.raises(ValueError, match="one value per seed"):
        paired_test([0.7], [0.7, 0.8])


# ------------------------------------------------------------------ verdicts
def make_setting(diffs, seeds):
    rows = []
    for seed in range(seeds):
        base = 0.6 + 0.01 * seed
        rows.append(run("d", "random", seed, [10, 20], [base, base]))
        d = diffs[seed]
        rows.append(run("d", "margin", seed, [10, 20], [base + d, base + d]))
    (setting,) = summarize(rows, min_effect=0.005)
    return setting


def test_verdict_says_no_strategy_beat_random_when_equal():
    setting = make_setting([0.0] * 8, 8)
    assert "no strategy beat random here (8 seeds)" in setting.verdict
    assert "not significantly different" in setting.verdict


def test_verdict_names_a_clear_win_with_p_and_seeds():
    setting = make_setting([0.02 + 0.001 * k for k in range(8)], 8)
    assert "margin" in setting.verdict and "beat random" in setting.verdict
    assert "no strategy beat random" not in setting.verdict
    assert "8 seeds" in setting.verdict and "p = 0.00781" in setting.verdict


def test_verdict_does_not_claim_a_win_from_a_tiny_difference():
    # consistently better, so significant, but by 0.001 AULC only
    setting = make_setting([0.001 + 0.0001 * k for k in range(8)], 8)
    assert "no strategy beat random here" in setting.verdict
    assert "negligible" in setting.verdict


def test_verdict_with_few_seeds_says_so():
    setting = make_setting([0.05] * 4, 4)
    assert "no strategy beat random here (4 seeds)" in setting.verdict
    assert "fewer than 6 seeds" in setting.verdict


def test_verdict_reports_a_strategy_worse_than_random():
    setting = make_setting([-0.03 - 0.001 * k for k in range(8)], 8)
    assert "no strategy beat random here" in setting.verdict
    assert "Worse than random: margin" in setting.verdict


def test_rank_table_orders_by_mean_aulc_within_settings():
    rows = []
    for dataset, (r, m, e) in {"a": (0.6, 0.7, 0.65), "b": (0.8, 0.85, 0.9)}.items():
        for seed in range(3):
            rows.append(run(dataset, "random", seed, [10, 20], [r, r]))
            rows.append(run(dataset, "margin", seed, [10, 20], [m, m]))
            rows.append(run(dataset, "entropy", seed, [10, 20], [e, e]))
    table = rank_table(summarize(rows))
    ranks = {r["strategy"]: r["mean_rank"] for r in table}
    # a: margin 1, entropy 2, random 3; b: entropy 1, margin 2, random 3
    assert ranks == {"margin": 1.5, "entropy": 1.5, "random": 3.0}
    assert table[-1]["strategy"] == "random"
    assert {r["n_settings"] for r in table} == {2}
