"""What labels cost: labels, hours and money to reach a target, and savings against random.

Savings are **paired by seed**: seed ``k`` of a strategy and seed ``k`` of random share the
train/test split and the initial labeled set, so the difference per seed removes the luck
of the split.  The interval is a Student-t 95 % interval of the mean paired difference.
Seeds where either curve never reached the target are left out of the savings (they
are counted in ``n_unreached``); with fewer than two pairs the interval is NaN.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .curves import mean_and_interval

__all__ = [
    "Estimate", "CostEstimate", "Savings", "MIN_PAIRS", "cost_analysis", "compare_to_random",
]


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its interval (``low``/``high`` NaN when it cannot be given)."""

    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, samples: Any, confidence: float = 0.95) -> Estimate:
        x = np.asarray(samples, dtype=np.float64).ravel()
        if x.size == 0:
            return cls(float("nan"), float("nan"), float("nan"))
        mean, low, high, _ = mean_and_interval(x, confidence)
        return cls(float(mean), float(low), float(high))

    def at_least(self, floor: float) -> Estimate:
        """The estimate with its interval cut at ``floor`` (e.g. 0 for a cost)."""
        return Estimate(self.mean, max(self.low, floor), max(self.high, floor))

    def scaled(self, factor: float) -> Estimate:
        """The estimate multiplied by a positive constant."""
        return Estimate(self.mean * factor, self.low * factor, self.high * factor)

    @property
    def half_width(self) -> float:
        """Half the interval's width (NaN without an interval)."""
        return (self.high - self.low) / 2.0


@dataclass(frozen=True)
class CostEstimate:
    """Labels, hours and money to reach a target.

    Attributes
    ----------
    labels, hours, money : Estimate
        Over the seeds that reached the target.
    n_seeds : int
        Seeds given.
    n_reached : int
        Seeds whose curve reached the target.
    """

    labels: Estimate
    hours: Estimate
    money: Estimate
    n_seeds: int
    n_reached: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Savings:
    """Labels, hours, money and percent saved against random (positive = fewer labels).

    Attributes
    ----------
    labels, hours, money, percent : Estimate
        Mean paired saving and its interval; ``percent`` is ``100 * saved / random``
        averaged over pairs.
    n_pairs : int
        Seeds where both the strategy and random reached the target.
    n_unreached : int
        Seeds left out because one of the two never reached the target.
    """

    labels: Estimate
    hours: Estimate
    money: Estimate
    percent: Estimate
    n_pairs: int
    n_unreached: int

    @property
    def interval_is_informative(self) -> bool:
        """Whether there are enough pairs (:data:`MIN_PAIRS`) for the interval to mean much.

        With two pairs the 95 % t-interval is the mean ± 12.7 half-differences: it says
        nothing, so reports show the mean alone and say why.
        """
        return self.n_pairs >= MIN_PAIRS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Fewest seed pairs whose savings interval is worth showing.
MIN_PAIRS = 3


def _check_rates(cost_per_label: float, seconds_per_label: float) -> None:
    for name, value in (("cost_per_label", cost_per_label), ("seconds_per_label", seconds_per_label)):
        if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
            raise TypeError(f"{name} must be a number, got {type(value).__name__}.")
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value}.")


def _as_labels(values: Any, name: str) -> np.ndarray:
    x = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if x.ndim != 1:
        raise ValueError(f"{name} must be one label count per seed (1-D), got shape {x.shape}.")
    if np.any(x[~np.isnan(x)] < 0):
        raise ValueError(f"{name} holds negative label counts; pass counts of labels (>= 0).")
    return x


def cost_analysis(
    labels: Any,
    *,
    cost_per_label: float = 1.0,
    seconds_per_label: float = 30.0,
    confidence: float = 0.95,
) -> CostEstimate:
    """Labels, hours and money needed to reach a target.

    Parameters
    ----------
    labels : float or array-like of float
        Labels needed to reach the target, one per seed (NaN where it was never reached;
        see :func:`activelab.evaluation.labels_to_target`).
    cost_per_label : float, default=1.0
        Money per label, in any currency.
    seconds_per_label : float, default=30.0
        Time a person spends on one label.
    confidence : float, default=0.95

    Returns
    -------
    CostEstimate
        ``hours = labels * seconds_per_label / 3600`` and ``money = labels * cost_per_label``.
        Intervals are cut at 0 (a t-interval of few, spread-out counts can reach below
        0, which no count or cost can).

    Examples
    --------
    >>> c = cost_analysis([100, 120], cost_per_label=0.5, seconds_per_label=36)
    >>> c.labels.mean, c.hours.mean, c.money.mean
    (110.0, 1.1, 55.0)
    """
    _check_rates(cost_per_label, seconds_per_label)
    x = _as_labels(labels, "labels")
    reached = x[~np.isnan(x)]
    est = Estimate.of(reached, confidence).at_least(0.0)  # no count or cost is below 0
    return CostEstimate(
        labels=est,
        hours=est.scaled(seconds_per_label / 3600.0),
        money=est.scaled(cost_per_label),
        n_seeds=int(x.size),
        n_reached=int(reached.size),
    )


def compare_to_random(
    strategy_labels: Any,
    random_labels: Any,
    *,
    cost_per_label: float = 1.0,
    seconds_per_label: float = 30.0,
    confidence: float = 0.95,
) -> Savings:
    """Savings of a strategy against random sampling, paired by seed.

    Parameters
    ----------
    strategy_labels, random_labels : array-like of float
        Labels each needed to reach the target, one per seed, seed ``k`` of both on the
        same split (NaN where the target was never reached).
    cost_per_label, seconds_per_label, confidence
        As in :func:`cost_analysis`.

    Returns
    -------
    Savings
        Per pair ``saved = random - strategy``; ``percent = 100 * saved / random``.
        With fewer than :data:`MIN_PAIRS` pairs the interval is given but not worth
        reading (:attr:`Savings.interval_is_informative` is False).

    Examples
    --------
    >>> s = compare_to_random([60, 80], [100, 100], cost_per_label=2.0)
    >>> s.labels.mean, s.money.mean, s.percent.mean
    (30.0, 60.0, 30.0)
    """
    _check_rates(cost_per_label, seconds_per_label)
    s = _as_labels(strategy_labels, "strategy_labels")
    r = _as_labels(random_labels, "random_labels")
    if s.shape != r.shape:
        raise ValueError(
            f"strategy_labels has {s.size} seeds but random_labels has {r.size}; "
            "pass one value per seed for both, in the same seed order."
        )
    both = ~np.isnan(s) & ~np.isnan(r)
    saved = r[both] - s[both]
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = np.where(r[both] > 0, 100.0 * saved / np.where(r[both] > 0, r[both], 1.0), 0.0)
    labels = Estimate.of(saved, confidence)
    return Savings(
        labels=labels,
        hours=labels.scaled(seconds_per_label / 3600.0),
        money=labels.scaled(cost_per_label),
        percent=Estimate.of(percent, confidence),
        n_pairs=int(both.sum()),
        n_unreached=int((~both).sum()),
    )
