"""Evaluation: learning curves over seeds, AULC, labels to target, cost and savings, plots.

Plotting imports matplotlib only when :func:`plot_learning_curves` is called.
"""

from __future__ import annotations

from typing import Any

from .cost import CostEstimate, Estimate, Savings, compare_to_random, cost_analysis
from .curves import (
    aulc,
    common_grid,
    labels_to_target,
    learning_curve_stats,
    mean_and_interval,
    step_interpolate,
)
from .metrics import METRICS, full_pool_score, get_metric

__all__ = [
    "METRICS",
    "CostEstimate",
    "Estimate",
    "Savings",
    "aulc",
    "common_grid",
    "compare_to_random",
    "cost_analysis",
    "full_pool_score",
    "get_metric",
    "labels_to_target",
    "learning_curve_stats",
    "mean_and_interval",
    "plot_learning_curves",
    "step_interpolate",
]


def plot_learning_curves(*args: Any, **kwargs: Any) -> Any:
    """Plot mean learning curves with 95 % bands against random.

    See :func:`activelab.evaluation.plots.plot_learning_curves` for the parameters.
    """
    from .plots import plot_learning_curves as _plot

    return _plot(*args, **kwargs)
