"""Learning curves: putting seeds on one grid, their mean and interval, AULC, labels to target.

A *learning curve* is a pair ``(n_labeled, values)``: the number of labels the model was
trained on after each round, and a test metric (usually accuracy) of that model.

Curves of different seeds or strategies may have been measured at different label counts
(a run stopped early, an oracle skipped items).  They are put on a common grid by **step
interpolation**: the value of a curve at ``g`` labels is the value measured at the largest
label count ``<= g``.  This is what a user would actually hold with ``g`` labels: the model
of the last finished round.  Outside the range a curve covers (before its first or after
its last point) the value is missing (NaN) and that seed is left out of the statistics at
that grid point.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "check_curve",
    "step_interpolate",
    "common_grid",
    "learning_curve_stats",
    "mean_and_interval",
    "aulc",
    "labels_to_target",
]


def check_curve(n_labeled: Any, values: Any, name: str = "curve") -> tuple[np.ndarray, np.ndarray]:
    """Validate one learning curve and return it as float arrays sorted by label count.

    Raises
    ------
    ValueError
        When the arrays are empty, not 1-D, differ in length, hold NaN label counts, or
        repeat a label count.
    """
    n = np.asarray(n_labeled, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if n.ndim != 1 or v.ndim != 1:
        raise ValueError(
            f"{name}: n_labeled and values must be 1-D, got shapes {n.shape} and {v.shape}."
        )
    if n.shape != v.shape:
        raise ValueError(
            f"{name}: n_labeled has {n.size} points but values has {v.size}; "
            "give one value per label count."
        )
    if n.size == 0:
        raise ValueError(f"{name} is empty; a learning curve needs at least one point.")
    if not np.isfinite(n).all():
        raise ValueError(f"{name}: n_labeled holds NaN or infinite label counts.")
    order = np.argsort(n, kind="stable")
    n, v = n[order], v[order]
    if np.any(np.diff(n) == 0):
        raise ValueError(
            f"{name}: the label count {n[np.flatnonzero(np.diff(n) == 0)[0]]:g} appears twice; "
            "keep one value per label count."
        )
    return n, v


def step_interpolate(n_labeled: Any, values: Any, grid: Any) -> np.ndarray:
    """Value of a curve at each grid point by step interpolation.

    The value at ``g`` is the value measured at the largest label count ``<= g``; grid
    points before the first or after the last label count of the curve get NaN.

    Examples
    --------
    >>> step_interpolate([10, 20, 30], [0.5, 0.6, 0.7], [5, 10, 15, 30, 35]).tolist()
    [nan, 0.5, 0.5, 0.7, nan]
    """
    n, v = check_curve(n_labeled, values)
    grid = np.asarray(grid, dtype=np.float64)
    pos = np.searchsorted(n, grid, side="right") - 1
    out = v[np.clip(pos, 0, n.size - 1)].astype(np.float64)
    out[(pos < 0) | (grid > n[-1])] = np.nan
    return out


def common_grid(curves: Sequence[tuple[Any, Any]]) -> np.ndarray:
    """The sorted union of the label counts of all curves."""
    if len(curves) == 0:
        raise ValueError("curves is empty; pass at least one (n_labeled, values) pair.")
    return np.unique(np.concatenate([check_curve(n, v)[0] for n, v in curves]))


def mean_and_interval(
    samples: Any, confidence: float = 0.95, axis: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean and two-sided Student-t interval of the mean, ignoring NaN.

    Parameters
    ----------
    samples : array-like
        One row per seed (along ``axis``).
    confidence : float, default=0.95
    axis : int, default=0

    Returns
    -------
    mean, low, high : ndarray
        ``mean ± t_{(1+confidence)/2, k-1} * s / sqrt(k)`` with ``k`` the number of
        non-NaN samples and ``s`` their standard deviation (``ddof=1``).  With a single
        sample the interval is NaN (its width cannot be estimated); with none, all are NaN.
    count : ndarray of int
        ``k`` at each position.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence}.")
    x = np.asarray(samples, dtype=np.float64)
    ok = ~np.isnan(x)
    k = ok.sum(axis=axis)
    total = np.where(ok, x, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(k > 0, total / np.maximum(k, 1), np.nan)
        dev = np.where(ok, x - np.expand_dims(mean, axis), 0.0)
        var = (dev**2).sum(axis=axis) / np.maximum(k - 1, 1)
        sem = np.sqrt(var / np.maximum(k, 1))
        t = stats.t.ppf(0.5 + confidence / 2.0, np.maximum(k - 1, 1))
        half = np.where(k > 1, t * sem, np.nan)
    return mean, mean - half, mean + half, k


def learning_curve_stats(
    curves: Sequence[tuple[Any, Any]], grid: Any = None, confidence: float = 0.95
) -> dict[str, np.ndarray]:
    """Mean learning curve over seeds with a t-interval of the mean.

    Parameters
    ----------
    curves : sequence of (n_labeled, values)
        One curve per seed.
    grid : array-like, optional
        Label counts to evaluate at; default the union of all curves' label counts.
        Each curve is step-interpolated onto the grid (see the module notes).
    confidence : float, default=0.95

    Returns
    -------
    dict
        ``n_labeled`` (the grid), ``mean``, ``low``, ``high`` (interval bounds, NaN where
        fewer than two seeds cover a grid point) and ``n_seeds`` (seeds covering each
        grid point).

    Examples
    --------
    >>> s = learning_curve_stats([([10, 20], [0.5, 0.7]), ([10, 20], [0.7, 0.9])])
    >>> s["mean"].tolist()
    [0.6, 0.8]
    """
    if len(curves) == 0:
        raise ValueError("curves is empty; pass at least one (n_labeled, values) pair.")
    grid = common_grid(curves) if grid is None else np.asarray(grid, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError("grid must be a non-empty 1-D array of label counts.")
    table = np.vstack([step_interpolate(n, v, grid) for n, v in curves])
    mean, low, high, k = mean_and_interval(table, confidence)
    return {"n_labeled": grid, "mean": mean, "low": low, "high": high, "n_seeds": k}


def aulc(n_labeled: Any, values: Any, start: float | None = None, end: float | None = None) -> float:
    """Area under the learning curve, normalised to [0, 1].

    The trapezoid area of ``values`` over the label range ``[start, end]`` divided by the
    range length ``end - start``: the average metric over that label range.  For accuracy
    1.0 means the model was perfect from the first label to the last; a model at chance
    level scores ``1 / n_classes``.  The random-sampling curve on the same data and label
    range is the baseline: a strategy is label-efficient when its AULC is above random's.
    Compare AULCs only over the same label range.

    Parameters
    ----------
    n_labeled, values : array-like
        The curve (label counts need not be evenly spaced).
    start, end : float, optional
        Label range; defaults to the curve's first and last label count.  Points inside
        the curve's range are linearly interpolated at the ends, as the trapezoid rule does.

    Returns
    -------
    float
        ``nan`` when any value in the range is NaN.  A one-point curve (or a range of zero
        length) returns the value at that point.

    Examples
    --------
    >>> aulc([0, 10, 20], [0.0, 1.0, 1.0])
    0.75
    """
    n, v = check_curve(n_labeled, values)
    lo = n[0] if start is None else float(start)
    hi = n[-1] if end is None else float(end)
    if lo < n[0] or hi > n[-1]:
        raise ValueError(
            f"the label range [{lo:g}, {hi:g}] goes beyond the curve's [{n[0]:g}, {n[-1]:g}]; "
            "choose start and end inside it (curves of all strategies should share the range)."
        )
    if hi < lo:
        raise ValueError(f"end ({hi:g}) is smaller than start ({lo:g}); swap them.")
    if hi == lo:
        return float(np.interp(lo, n, v))
    inside = (n > lo) & (n < hi)
    xs = np.concatenate([[lo], n[inside], [hi]])
    ys = np.concatenate([[np.interp(lo, n, v)], v[inside], [np.interp(hi, n, v)]])
    area = float(np.sum((xs[1:] - xs[:-1]) * (ys[1:] + ys[:-1]) / 2.0))
    return float(area / (hi - lo))


def labels_to_target(n_labeled: Any, values: Any, target: float) -> float:
    """Label count at which a curve first reaches ``target``.

    Parameters
    ----------
    n_labeled, values : array-like
        The curve.
    target : float
        Metric value to reach (``values >= target``).  To ask for a fraction of what the
        model reaches with every pool label, pass ``fraction * full_pool_score`` (see
        :func:`activelab.evaluation.full_pool_score`).

    Returns
    -------
    float
        The first label count whose value is at least ``target``; ``nan`` if the curve
        never reaches it.  Note that a curve that levels off just below the target gives
        ``nan`` while one just above gives a small number: report AULC first.

    Examples
    --------
    >>> labels_to_target([10, 20, 30], [0.5, 0.9, 0.8], 0.85)
    20.0
    """
    if target is None or not np.isfinite(float(target)):
        raise ValueError(f"target must be a finite number (e.g. 0.9), got {target!r}.")
    n, v = check_curve(n_labeled, values)
    hit = np.flatnonzero(v >= float(target))
    return float(n[hit[0]]) if hit.size else float("nan")
