"""Learning-curve statistics, AULC, labels to target, cost analysis and plots."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from activelab.evaluation import (
    aulc,
    compare_to_random,
    cost_analysis,
    full_pool_score,
    labels_to_target,
    learning_curve_stats,
    plot_learning_curves,
    step_interpolate,
)

T_975_DF1 = 12.706204736  # Student t, 97.5 % quantile, 1 degree of freedom (table value)
T_975_DF2 = 4.302652730  # 2 degrees of freedom


# ----------------------------------------------------------------------------- AULC
def test_aulc_trapezoid_over_range_divided_by_length():
    # area: 0..10 rises 0 -> 1 (5), 10..20 flat at 1 (10); range 20 -> 15 / 20
    assert aulc([0, 10, 20], [0.0, 1.0, 1.0]) == pytest.approx(0.75)


def test_aulc_uneven_spacing_and_unsorted_input():
    # (0.5+0.7)/2*10 + (0.7+0.9)/2*20 = 6 + 16 = 22 over the 30 labels from 10 to 40
    assert aulc([40, 10, 20], [0.9, 0.5, 0.7]) == pytest.approx(22 / 30)


def test_aulc_sub_range_interpolates_at_the_ends():
    # value at 15 is 0.6: (0.6+0.7)/2*5 + (0.7+0.9)/2*10 = 3.25 + 8 = 11.25 over 15
    assert aulc([10, 20, 30], [0.5, 0.7, 0.9], start=15, end=30) == pytest.approx(0.75)


def test_aulc_of_constant_curve_is_the_constant_and_perfect_is_one():
    assert aulc([20, 30, 50], [0.4, 0.4, 0.4]) == pytest.approx(0.4)
    assert aulc([20, 30, 50], [1.0, 1.0, 1.0]) == pytest.approx(1.0)


def test_aulc_single_point_and_zero_range():
    assert aulc([20], [0.8]) == pytest.approx(0.8)
    assert aulc([10, 20], [0.2, 0.6], start=15, end=15) == pytest.approx(0.4)


def test_aulc_rejects_range_outside_the_curve_and_bad_input():
    with pytest.raises(ValueError, match="goes beyond"):
        aulc([10, 20], [0.5, 0.6], start=0)
    with pytest.raises(ValueError, match="end"):
        aulc([10, 20], [0.5, 0.6], start=20, end=10)
    with pytest.raises(ValueError, match="one value per label count"):
        aulc([10, 20], [0.5])
    with pytest.raises(ValueError, match="appears twice"):
        aulc([10, 10], [0.5, 0.6])
    with pytest.raises(ValueError, match="empty"):
        aulc([], [])


# ---------------------------------------------------------------- labels to target
def test_labels_to_target_first_reaching_point():
    assert labels_to_target([10, 20, 30], [0.5, 0.9, 0.8], 0.85) == 20
    assert labels_to_target([10, 20, 30], [0.5, 0.9, 0.8], 0.9) == 20  # >= counts
    assert labels_to_target([10, 20, 30], [0.5, 0.9, 0.8], 0.5) == 10


def test_labels_to_target_never_reached_is_nan():
    assert math.isnan(labels_to_target([10, 20, 30], [0.5, 0.6, 0.7], 0.95))


def test_labels_to_target_as_fraction_of_full_pool():
    full = 0.96
    # 0.95 * 0.96 = 0.912 -> first reached at 40
    assert labels_to_target([10, 20, 30, 40], [0.7, 0.9, 0.91, 0.93], 0.95 * full) == 40


def test_labels_to_target_rejects_missing_target():
    with pytest.raises(ValueError, match="target"):
        labels_to_target([10], [0.5], float("nan"))


# ----------------------------------------------------------------- curves over seeds
def test_step_interpolation_holds_last_value_and_is_nan_outside():
    out = step_interpolate([10, 20, 30], [0.5, 0.6, 0.7], [5, 10, 15, 29, 30, 31])
    assert np.isnan(out[0]) and np.isnan(out[-1])
    np.testing.assert_allclose(out[1:-1], [0.5, 0.5, 0.6, 0.7])


def test_learning_curve_stats_t_interval_on_constructed_seeds():
    curves = [([10, 20], [0.5, 0.8]), ([10, 20], [0.7, 0.8]), ([10, 20], [0.9, 0.8])]
    s = learning_curve_stats(curves)
    np.testing.assert_allclose(s["n_labeled"], [10, 20])
    np.testing.assert_allclose(s["mean"], [0.7, 0.8])
    # at 10 labels: sd 0.2, sem 0.2 / sqrt(3); at 20 labels no spread
    half = T_975_DF2 * 0.2 / math.sqrt(3)
    np.testing.assert_allclose(s["low"], [0.7 - half, 0.8], rtol=1e-6)
    np.testing.assert_allclose(s["high"], [0.7 + half, 0.8], rtol=1e-6)
    assert s["n_seeds"].tolist() == [3, 3]


def test_learning_curve_stats_puts_different_label_counts_on_one_grid():
    a = ([10, 20, 30], [0.5, 0.6, 0.9])
    b = ([10, 25], [0.7, 0.8])  # stopped early at 25
    s = learning_curve_stats([a, b])
    np.testing.assert_allclose(s["n_labeled"], [10, 20, 25, 30])
    # b at 20 is its value at 10 (0.7); a at 25 is its value at 20 (0.6); b is gone at 30
    np.testing.assert_allclose(s["mean"], [0.6, 0.65, 0.7, 0.9])
    assert s["n_seeds"].tolist() == [2, 2, 2, 1]
    assert np.isnan(s["low"][-1]) and np.isnan(s["high"][-1])


def test_learning_curve_stats_single_seed_has_no_interval_and_custom_grid():
    s = learning_curve_stats([([10, 20], [0.5, 0.7])], grid=[10, 15, 20])
    np.testing.assert_allclose(s["mean"], [0.5, 0.5, 0.7])
    assert np.isnan(s["low"]).all() and np.isnan(s["high"]).all()
    with pytest.raises(ValueError, match="empty"):
        learning_curve_stats([])


# ------------------------------------------------------------------------------ cost
def test_cost_analysis_arithmetic():
    c = cost_analysis([100, 120], cost_per_label=0.5, seconds_per_label=36)
    assert c.labels.mean == pytest.approx(110)
    assert c.hours.mean == pytest.approx(110 * 36 / 3600)
    assert c.money.mean == pytest.approx(55)
    # sd of (100, 120) is sqrt(200); sem = 10; the t-interval reaches below 0 labels,
    # which no count or cost can: it is cut at 0
    assert c.labels.high == pytest.approx(110 + T_975_DF1 * 10, rel=1e-6)
    assert c.money.high == pytest.approx((110 + T_975_DF1 * 10) * 0.5, rel=1e-6)
    assert c.labels.low == 0 and c.money.low == 0 and c.hours.low == 0
    assert (c.n_seeds, c.n_reached) == (2, 2)
    narrow = cost_analysis([100, 102, 104], cost_per_label=0.5)
    assert narrow.labels.half_width == pytest.approx(T_975_DF2 * 2 / np.sqrt(3), rel=1e-6)


def test_cost_analysis_leaves_out_unreached_seeds():
    c = cost_analysis([100, float("nan"), 140], cost_per_label=2.0, seconds_per_label=0)
    assert (c.n_seeds, c.n_reached) == (3, 2)
    assert c.labels.mean == pytest.approx(120)
    assert c.money.mean == pytest.approx(240)
    assert c.hours.mean == 0


def test_compare_to_random_is_paired_by_seed():
    s = compare_to_random(
        [60, 80, float("nan")], [100, 100, 90], cost_per_label=2.0, seconds_per_label=36
    )
    assert (s.n_pairs, s.n_unreached) == (2, 1)
    assert s.labels.mean == pytest.approx(30)  # savings 40 and 20
    assert s.money.mean == pytest.approx(60)
    assert s.hours.mean == pytest.approx(30 * 36 / 3600)
    assert s.percent.mean == pytest.approx(30)  # 40 % and 20 %
    assert s.labels.half_width == pytest.approx(T_975_DF1 * 10, rel=1e-6)


def test_compare_to_random_pairing_differs_from_unpaired_difference():
    # a strategy always 10 labels better on seeds of very different difficulty:
    # paired savings are exactly 10 with no spread
    s = compare_to_random([90, 190, 290], [100, 200, 300])
    assert s.labels.mean == pytest.approx(10)
    assert s.labels.half_width == pytest.approx(0)


def test_cost_inputs_are_checked():
    with pytest.raises(ValueError, match="cost_per_label"):
        cost_analysis([10], cost_per_label=-1)
    with pytest.raises(TypeError, match="seconds_per_label"):
        cost_analysis([10], seconds_per_label="slow")
    with pytest.raises(ValueError, match="same seed order"):
        compare_to_random([10, 20], [30])
    with pytest.raises(ValueError, match="negative"):
        cost_analysis([-5])


# ------------------------------------------------------------------- full-pool score
def test_full_pool_score_fits_on_the_whole_pool():
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    y = np.array([0, 0, 1, 1])
    est = KNeighborsClassifier(n_neighbors=1)
    X_test = np.array([[0.5], [10.5], [5.4]])  # 5.4 is nearer to 1 than to 10
    assert full_pool_score(est, X, y, X_test, [0, 1, 0]) == pytest.approx(1.0)
    assert full_pool_score(est, X, y, X_test, [0, 1, 1]) == pytest.approx(2 / 3)
    assert not hasattr(est, "classes_")  # the given estimator is not fitted


# ----------------------------------------------------------------------------- plots
def test_plot_writes_png_with_baseline_last_and_dashed(tmp_path):
    curves = {
        "random": [([10, 20, 30], [0.5, 0.6, 0.7]), ([10, 20, 30], [0.55, 0.62, 0.71])],
        "margin": [([10, 20, 30], [0.5, 0.7, 0.8]), ([10, 20, 30], [0.55, 0.72, 0.83])],
    }
    path = tmp_path / "curves.png"
    fig = plot_learning_curves(curves, target=0.75, path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = fig.axes[0].get_lines()
    labels = [ln.get_label() for ln in lines]
    assert labels[0].startswith("margin") and labels[1].startswith("random (baseline)")
    assert lines[1].get_linestyle() == "--"


def test_plot_rejects_empty_input():
    with pytest.raises(ValueError, match="empty"):
        plot_learning_curves({})


def test_evaluation_import_does_not_load_matplotlib():
    code = "import sys, activelab.evaluation; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
