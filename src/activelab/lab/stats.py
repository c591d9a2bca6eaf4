"""Statistics of a benchmark: paired tests against random, ranks, savings, verdicts.

Every comparison is **paired by seed**: seed ``k`` of a strategy and seed ``k`` of random
share the split and the initial set.  A strategy "beats random" in a verdict only when
the Wilcoxon signed-rank test over seeds gives ``p < alpha`` *and* the mean AULC
difference is at least ``min_effect``; otherwise the words say "not significantly
different" (or "significant but negligible").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "PairedTest",
    "SettingSummary",
    "paired_test",
    "summarize",
    "rank_table",
    "verdict",
    "min_seeds_for",
]

ALPHA = 0.05


@dataclass(frozen=True)
class PairedTest:
    """A paired comparison of one strategy against random over seeds.

    Attributes
    ----------
    n : int
        Seeds present for both.
    mean_diff, low, high : float
        Mean of ``strategy - random`` and its 95 % t-interval (NaN with fewer than 2 seeds).
    statistic, p_value : float
        Wilcoxon signed-rank statistic and two-sided p-value (``scipy.stats.wilcoxon``);
        ``p_value`` is 1 when every difference is zero, NaN with no pairs.
    """

    n: int
    mean_diff: float
    low: float
    high: float
    statistic: float
    p_value: float

    def significant(self, alpha: float = ALPHA) -> bool:
        """Whether ``p_value < alpha``."""
        return bool(self.p_value < alpha)


def min_seeds_for(alpha: float = ALPHA) -> int:
    """The fewest seeds with which an exact two-sided Wilcoxon test can reach ``p < alpha``.

    With ``n`` pairs the smallest two-sided p-value is ``2 / 2**n``.
    """
    n = 1
    while 2.0 / 2**n >= alpha:
        n += 1
    return n


def paired_test(strategy: Sequence[float], random: Sequence[float]) -> PairedTest:
    """Wilcoxon signed-rank test of ``strategy`` against ``random``, paired by position.

    Parameters
    ----------
    strategy, random : sequence of float
        One value per seed (e.g. AULC), in the same seed order; pairs with a NaN are
        left out.

    Returns
    -------
    PairedTest

    Examples
    --------
    >>> t = paired_test([0.8, 0.9, 0.85], [0.8, 0.9, 0.85])
    >>> t.p_value, t.mean_diff
    (1.0, 0.0)
    """
    from scipy import stats

    from ..evaluation import mean_and_interval

    s = np.asarray(strategy, dtype=np.float64).ravel()
    r = np.asarray(random, dtype=np.float64).ravel()
    if s.shape != r.shape:
        raise ValueError(
            f"strategy has {s.size} values but random has {r.size}; give one value per seed "
            "for both, in the same seed order."
        )
    ok = ~np.isnan(s) & ~np.isnan(r)
    d = s[ok] - r[ok]
    n = int(d.size)
    if n == 0:
        return PairedTest(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    mean, low, high, _ = mean_and_interval(d)
    if np.all(d == 0):
        stat, p = 0.0, 1.0
    else:
        res = stats.wilcoxon(d)
        stat, p = float(res.statistic), float(res.pvalue)
    return PairedTest(n, float(mean), float(low), float(high), stat, p)


@dataclass
class StrategySummary:
    """One strategy in one setting (dataset, model, noise)."""

    strategy: str
    n_seeds: int
    aulc: tuple[float, float, float]  # mean, low, high
    norm_aulc: float  # mean of AULC / full-pool score
    final: float
    labels_to_target: tuple[float, float, float, int]  # mean, low, high, seeds reaching it
    savings: Any  # activelab.evaluation.Savings or None for random
    test: PairedTest | None
    seconds: float  # mean wall time per run
    fit_seconds: float
    query_seconds: float
    #: Final values of the error metrics (lower is better: RMSE, MAE), mean over seeds.
    final_errors: dict[str, float] = field(default_factory=dict)
    #: Final values of every metric reported beside the primary one, mean over seeds.
    final_side: dict[str, float] = field(default_factory=dict)


@dataclass
class SettingSummary:
    """All strategies on one dataset with one model and one oracle noise level."""

    dataset: str
    model: str
    noise: float
    metric: str
    target: float
    full_score: float
    n_seeds: int
    strategies: dict[str, StrategySummary] = field(default_factory=dict)
    curves: dict[str, list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    verdict: str = ""
    #: The recorded metrics where lower is better (reported beside the primary one).
    error_metrics: list[str] = field(default_factory=list)
    #: The recorded metrics reported beside the primary one: the error metrics, and for
    #: tasks other than classification every other metric of the run (multi-label: macro-F1,
    #: Hamming loss, subset accuracy).
    side_metrics: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        noise = f", {self.noise:.0%} label noise" if self.noise else ""
        return f"{self.dataset} ({self.model}{noise})"


def summarize(
    results: Sequence[dict[str, Any]],
    *,
    target: float = 0.95,
    min_effect: float = 0.005,
    cost_per_label: float = 1.0,
    seconds_per_label: float = 30.0,
    alpha: float = ALPHA,
) -> list[SettingSummary]:
    """Summaries per (dataset, model, noise) from run results (see ``runner.execute_run``).

    Parameters
    ----------
    results : sequence of dict
        Run results with ``dataset, strategy, model, noise, seed, aulc, full_score,
        primary_metric, curves, seconds, fit_seconds, query_seconds``.
    target : float
        Labels-to-target goal as a fraction of the mean full-pool score of the setting.
    min_effect : float
        Smallest mean AULC difference called a win.
    """
    from ..evaluation import compare_to_random, mean_and_interval

    groups: dict[tuple[str, str, float], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["dataset"], r["model"], float(r["noise"])), []).append(r)
    out = []
    for (dataset, model, noise), rows in groups.items():
        metric = rows[0]["primary_metric"]
        full = np.asarray([r["full_score"] for r in rows], dtype=np.float64)
        full_score = float(np.nanmean(full)) if np.isfinite(full).any() else math.nan
        goal = target * full_score
        seeds = sorted({int(r["seed"]) for r in rows})
        setting = SettingSummary(dataset, model, noise, metric, goal, full_score, len(seeds),
                                 error_metrics=_error_metrics(rows[0]),
                                 side_metrics=_side_metrics(rows[0]))
        by_strategy: dict[str, dict[int, dict[str, Any]]] = {}
        for r in rows:
            by_strategy.setdefault(r["strategy"], {})[int(r["seed"])] = r

        def per_seed(strategy: str, key: str, _runs: Any = by_strategy,
                     _seeds: list[int] = seeds) -> np.ndarray:
            return _per_seed(_runs.get(strategy, {}), _seeds, key)

        def ltt(strategy: str, _runs: Any = by_strategy, _seeds: list[int] = seeds,
                _goal: float = goal, _metric: str = metric) -> np.ndarray:
            return _labels_to_target(_runs.get(strategy, {}), _seeds, _goal, _metric)

        random_aulc = per_seed("random", "aulc")
        random_ltt = ltt("random") if "random" in by_strategy else None
        for strategy in sorted(by_strategy, key=lambda s: (s != "random", s)):
            runs = by_strategy[strategy]
            a = per_seed(strategy, "aulc")
            mean, low, high, _ = mean_and_interval(a)
            with np.errstate(invalid="ignore", divide="ignore"):
                norm = float(np.nanmean(a / per_seed(strategy, "full_score")))
            lt = ltt(strategy)
            reached = lt[~np.isnan(lt)]
            lt_mean, lt_low, lt_high, _ = (
                mean_and_interval(reached) if reached.size else (np.nan, np.nan, np.nan, 0)
            )
            is_random = strategy == "random"
            savings = None
            test = None
            if not is_random and "random" in by_strategy:
                test = paired_test(a, random_aulc)
                assert random_ltt is not None
                savings = compare_to_random(
                    lt, random_ltt, cost_per_label=cost_per_label,
                    seconds_per_label=seconds_per_label,
                )
            setting.strategies[strategy] = StrategySummary(
                strategy=strategy,
                n_seeds=len(runs),
                aulc=(float(mean), float(low), float(high)),
                norm_aulc=norm,
                final=float(np.nanmean(per_seed(strategy, "final"))),
                labels_to_target=(float(lt_mean), float(lt_low), float(lt_high), int(reached.size)),
                savings=savings,
                test=test,
                seconds=float(np.nanmean(per_seed(strategy, "seconds"))),
                fit_seconds=float(np.nanmean(per_seed(strategy, "fit_seconds"))),
                query_seconds=float(np.nanmean(per_seed(strategy, "query_seconds"))),
                final_errors={m: float(np.nanmean(per_seed(strategy, f"final_{m}")))
                              for m in setting.error_metrics},
                final_side={m: float(np.nanmean(per_seed(strategy, f"final_{m}")))
                            for m in setting.side_metrics},
            )
            setting.curves[strategy] = [
                (np.asarray(runs[s]["curves"][metric]["n_labeled"]),
                 np.asarray(runs[s]["curves"][metric]["values"]))
                for s in seeds if s in runs
            ]
        setting.verdict = verdict(setting, min_effect=min_effect, alpha=alpha)
        out.append(setting)
    out.sort(key=lambda s: (s.dataset, s.model, s.noise))
    return out


def _error_metrics(row: dict[str, Any]) -> list[str]:
    from ..evaluation.metrics import higher_is_better

    return [m for m in row.get("curves", {}) if not higher_is_better(m) and f"final_{m}" in row]


def _side_metrics(row: dict[str, Any]) -> list[str]:
    """The metrics a report shows beside the primary one of a run like ``row``."""
    if row.get("task", "classification") == "classification":
        return _error_metrics(row)
    primary = row.get("primary_metric")
    return [m for m in row.get("curves", {}) if m != primary and f"final_{m}" in row]


def _per_seed(runs: dict[int, dict[str, Any]], seeds: list[int], key: str) -> np.ndarray:
    return np.asarray([runs[s][key] if s in runs else np.nan for s in seeds], dtype=float)


def _labels_to_target(
    runs: dict[int, dict[str, Any]], seeds: list[int], goal: float, metric: str
) -> np.ndarray:
    from ..evaluation import labels_to_target

    vals = []
    for s in seeds:
        if s not in runs or not np.isfinite(goal):
            vals.append(np.nan)
            continue
        c = runs[s]["curves"][metric]
        vals.append(labels_to_target(c["n_labeled"], c["values"], goal))
    return np.asarray(vals, dtype=float)


def verdict(setting: SettingSummary, *, min_effect: float = 0.005, alpha: float = ALPHA) -> str:
    """A plain-words verdict for one setting.

    A strategy beat random when its paired Wilcoxon p-value is below ``alpha`` and its
    mean AULC is at least ``min_effect`` above random's.
    """
    n = setting.n_seeds
    metric = setting.metric.replace("_", " ")
    if "random" not in setting.strategies:
        return f"No random baseline was run on {setting.key}; nothing can be claimed."
    others = [s for s in setting.strategies.values() if s.test is not None]
    if not others:
        return f"Only random was run on {setting.key}."
    rand = setting.strategies["random"].aulc[0]
    wins = [s for s in others if s.test.significant(alpha) and s.test.mean_diff >= min_effect]
    losses = [s for s in others if s.test.significant(alpha) and s.test.mean_diff <= -min_effect]
    tiny = [s for s in others if s.test.significant(alpha) and abs(s.test.mean_diff) < min_effect]
    parts = []
    seeds_text = f"{n} seed{'s' if n != 1 else ''}"

    def describe(s: StrategySummary) -> str:
        t = s.test
        assert t is not None
        ci = "" if math.isnan(t.low) else f", 95% CI [{t.low:+.3f}, {t.high:+.3f}]"
        return (f"{s.strategy} (AULC {s.aulc[0]:.3f} vs {rand:.3f}, "
                f"{t.mean_diff:+.3f}{ci}, Wilcoxon p = {t.p_value:.3g})")

    if wins:
        wins.sort(key=lambda s: -s.test.mean_diff)
        parts.append(
            f"On {setting.key}, {describe(wins[0])} beat random on {metric} over {seeds_text}."
        )
        if len(wins) > 1:
            parts.append("Also better than random: " + "; ".join(describe(s) for s in wins[1:]) + ".")
    else:
        best = max(others, key=lambda s: s.test.mean_diff if not math.isnan(s.test.mean_diff)
                   else -np.inf)
        parts.append(f"On {setting.key}, no strategy beat random here ({seeds_text}).")
        if best.test.significant(alpha):
            parts.append(
                f"The best, {describe(best)}, is significantly different but the difference "
                f"is below {min_effect:g} AULC: negligible."
            )
        else:
            parts.append(
                f"The best by mean, {describe(best)}, is not significantly different from random."
            )
    if losses:
        parts.append("Worse than random: " + "; ".join(describe(s) for s in losses) + ".")
    if tiny and wins:
        parts.append(
            "Significant but negligible (below "
            f"{min_effect:g} AULC): " + ", ".join(s.strategy for s in tiny) + "."
        )
    need = min_seeds_for(alpha)
    if n < need:
        parts.append(
            f"With fewer than {need} seeds the Wilcoxon test cannot reach p < {alpha:g}; "
            "run more seeds before drawing conclusions."
        )
    return " ".join(parts)


def rank_table(settings: Sequence[SettingSummary]) -> list[dict[str, Any]]:
    """Strategies ranked by mean AULC within each setting, then averaged over settings.

    Returns
    -------
    list of dict
        One row per strategy, best first: ``strategy``, ``mean_rank`` (1 = best),
        ``mean_norm_aulc`` (AULC / full-pool score, averaged over settings),
        ``significantly_better`` / ``significantly_worse`` (settings where the paired test
        against random gives p < 0.05, whatever the size of the difference) and
        ``n_settings``.
    """
    from scipy.stats import rankdata

    ranks: dict[str, list[float]] = {}
    norms: dict[str, list[float]] = {}
    better: dict[str, int] = {}
    worse: dict[str, int] = {}
    for setting in settings:
        names = list(setting.strategies)
        means = np.asarray([setting.strategies[n].aulc[0] for n in names], dtype=np.float64)
        r = rankdata(-np.nan_to_num(means, nan=-np.inf), method="average")
        for name, rank in zip(names, r, strict=True):
            s = setting.strategies[name]
            ranks.setdefault(name, []).append(float(rank))
            norms.setdefault(name, []).append(s.norm_aulc)
            if s.test is not None and s.test.significant():
                if s.test.mean_diff > 0:
                    better[name] = better.get(name, 0) + 1
                elif s.test.mean_diff < 0:
                    worse[name] = worse.get(name, 0) + 1
    rows = [
        {
            "strategy": name,
            "mean_rank": float(np.mean(ranks[name])),
            "mean_norm_aulc": float(np.nanmean(norms[name])) if norms[name] else math.nan,
            "significantly_better": better.get(name, 0),
            "significantly_worse": worse.get(name, 0),
            "n_settings": len(ranks[name]),
        }
        for name in ranks
    ]
    rows.sort(key=lambda r: (r["mean_rank"], -r["mean_norm_aulc"]))
    return rows
