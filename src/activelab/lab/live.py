"""The live verdict next to the test-set truth, for ``simulate`` and ``benchmark`` summaries.

``auto`` estimates during a run, from its random picks alone, whether the run is beating
random sampling (:mod:`activelab.evaluation.live_verdict`).  A simulation or a benchmark
also knows the truth on its test set; these helpers put the two side by side, pooling the
verdicts of a setting's seeds (independent runs) into one interval.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..evaluation.live_verdict import LiveVerdict, pooled_verdict

__all__ = [
    "VerdictRow",
    "simulation_verdicts",
    "benchmark_verdicts",
    "simulation_verdict_lines",
    "benchmark_verdict_lines",
    "verdict_markdown",
    "verdict_cells",
    "VERDICT_HEADER",
    "logged_verdict",
    "WHAT_IT_ESTIMATES",
]

#: The live verdict and its test-set counterpart in plain words (for summaries and reports).
WHAT_IT_ESTIMATES = (
    "While it labels, `auto` (the strategy that keeps a live verdict) spends about one "
    "pick in ten on an item drawn at random. "
    "Before such an item's label is known, the run's model and a model trained only on "
    "randomly drawn labels (as many as the run had) both predict it. The live verdict is how "
    "much more often the run's model got those items right: an estimate, with its 95 % "
    "interval, of the accuracy active learning gains over random sampling at the run's first "
    "labels, made without any test labels (so it works in a real labeling project). An "
    "interval that contains 0 means \"can't tell yet\". Beside it, the test-set result "
    "that only a simulation has: the AULC of the strategy minus that of random sampling on "
    "the held-out test set, over the whole budget, with its 95 % interval over seeds."
)


@dataclass(frozen=True)
class VerdictRow:
    """The live verdict of one strategy (pooled over its runs) and the test-set truth.

    Attributes
    ----------
    setting : str
        The benchmark setting (``"wine (logreg)"``); empty for a simulation.
    strategy : str
    verdict : LiveVerdict
        Pooled over the runs.
    n_runs : int
    truth : tuple of float
        Test-set AULC difference against random: mean, low, high (NaN without a baseline).
    """

    setting: str
    strategy: str
    verdict: LiveVerdict
    n_runs: int
    truth: tuple[float, float, float]


def _line(row: VerdictRow) -> str:
    truth = _truth(*row.truth)
    verdict, strategy, n_runs = row.verdict, row.strategy, row.n_runs
    if verdict.n == 0:
        line = f"live verdict of {strategy}: no random picks scored yet; {truth}"
    else:
        line = (
            f"live verdict of {strategy} (no test labels, {verdict.n} random picks of {n_runs} "
            f"run{'s' if n_runs != 1 else ''}, at {verdict.labels_from}-{verdict.labels_to} "
            f"labels): accuracy gain over random {verdict.mean:+.3f} [{verdict.low:+.3f}, "
            f"{verdict.high:+.3f}], {verdict.words}; {truth}"
        )
    return f"{row.setting}: {line}" if row.setting else line


def _truth(mean: float, low: float, high: float) -> str:
    if not np.isfinite(mean):
        return "test set: no random baseline to compare with"
    return f"test set: ΔAULC vs random {mean:+.3f} [{low:+.3f}, {high:+.3f}]"


def simulation_verdicts(result: Any) -> list[VerdictRow]:
    """One row per strategy of a :class:`~activelab.experiment.SimulationResult` that kept a
    live verdict: the pooled verdict of its seeds and the test-set AULC difference."""
    from ..evaluation import aulc, mean_and_interval
    from ..strategies.selector import live_verdict

    rows = []
    curves = result.curves()
    for strategy, runs in result.runs.items():
        found = [getattr(getattr(r.learner, "strategy_", None), "verdict_", None) for r in runs]
        if not runs or any(v is None for v in found):
            continue
        verdict = pooled_verdict(live_verdict(r.learner.strategy_) for r in runs)
        diffs = [
            aulc(*c) - aulc(*b) for c, b in zip(curves[strategy], curves.get("random", []),
                                                strict=False)
        ]
        mean, low, high, _ = mean_and_interval(np.asarray(diffs, dtype=float)) if diffs else (
            np.nan, np.nan, np.nan, 0)
        rows.append(VerdictRow("", strategy, verdict, len(runs),
                               (float(mean), float(low), float(high))))
    return rows


def simulation_verdict_lines(result: Any) -> list[str]:
    """:func:`simulation_verdicts` as console lines."""
    return [_line(row) for row in simulation_verdicts(result)]


def logged_verdict(events: str | Path) -> dict[str, Any] | None:
    """The last live verdict an event log holds (``info.live_verdict`` of its rounds)."""
    last = None
    try:
        with open(events, encoding="utf-8") as fh:
            for line in fh:
                if '"live_verdict"' in line:
                    info = json.loads(line).get("info") or {}
                    last = info.get("live_verdict", last)
    except OSError:
        return None
    return last


def benchmark_verdicts(out_dir: str | Path, settings: Iterable[Any] | None = None
                       ) -> list[VerdictRow]:
    """One row per (setting, strategy) of a benchmark folder whose runs logged a verdict:
    the last verdict of each run, pooled over seeds, and the paired test-set difference."""
    from .runner import events_path, load_results
    from .stats import summarize

    out = Path(out_dir)
    results = load_results(out)
    groups: dict[tuple[str, str, float, str], list[dict[str, Any]]] = {}
    for r in results:
        v = logged_verdict(events_path(out, _Spec(r)))
        if v is not None:
            groups.setdefault((r["dataset"], r["model"], float(r["noise"]), r["strategy"]),
                              []).append(v)
    if not groups:
        return []
    summaries = list(settings) if settings is not None else summarize(results)
    tests = {(s.dataset, s.model, s.noise, name): (s.key, st.test)
             for s in summaries for name, st in s.strategies.items()}
    rows = []
    for (dataset, model, noise, strategy), verdicts in sorted(groups.items()):
        key, t = tests.get((dataset, model, noise, strategy), (f"{dataset} ({model})", None))
        truth = (t.mean_diff, t.low, t.high) if t is not None else (np.nan,) * 3
        rows.append(VerdictRow(key, strategy, pooled_verdict(verdicts), len(verdicts),
                               tuple(float(x) for x in truth)))
    return rows


def benchmark_verdict_lines(out_dir: str | Path, settings: Iterable[Any] | None = None
                            ) -> list[str]:
    """:func:`benchmark_verdicts` as console lines."""
    return [_line(row) for row in benchmark_verdicts(out_dir, settings)]


def _interval(mean: float, low: float, high: float) -> str:
    if not np.isfinite(mean):
        return "–"
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{mean:+.3f}"
    return f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]"


def verdict_cells(row: VerdictRow) -> list[str]:
    """The table cells of one row: strategy, picks, labels, estimate, reading, truth."""
    v = row.verdict
    if v.n == 0:
        return [row.strategy, f"0 (of {row.n_runs} runs)", "–", "–", "no random picks scored yet",
                _interval(*row.truth)]
    return [row.strategy, f"{v.n} (of {row.n_runs} run{'s' if row.n_runs != 1 else ''})",
            f"{v.labels_from}–{v.labels_to}", _interval(v.mean, v.low, v.high), v.words,
            _interval(*row.truth)]


#: Column headers of :func:`verdict_cells`.
VERDICT_HEADER = [
    "strategy", "random picks scored", "at labels",
    "live estimate: accuracy gain over random [95% CI]", "reading",
    "test set: ΔAULC vs random [95% CI]",
]


def verdict_markdown(rows: list[VerdictRow]) -> list[str]:
    """The markdown section of a simulation summary on the live verdict (none when no
    strategy kept one)."""
    if not rows:
        return []
    lines = ["", "## Live verdict: is active learning beating random here?", "",
             WHAT_IT_ESTIMATES, "",
             "| " + " | ".join(VERDICT_HEADER) + " |",
             "|" + "|".join("---" for _ in VERDICT_HEADER) + "|"]
    lines += ["| " + " | ".join(verdict_cells(row)) + " |" for row in rows]
    return lines


class _Spec:
    """What :func:`events_path` reads from a run spec, taken from a result."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.run_id = result["run_id"]
