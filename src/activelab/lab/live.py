"""The live verdict next to the test-set truth, for ``simulate`` and ``benchmark`` summaries.

``auto`` estimates during a run, from its random picks alone, whether the run is beating
random sampling (:mod:`activelab.evaluation.live_verdict`).  A simulation or a benchmark
also knows the truth on its test set; these helpers put the two side by side, pooling the
verdicts of a setting's seeds (independent runs) into one interval.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..evaluation.live_verdict import LiveVerdict, pooled_verdict

__all__ = ["simulation_verdict_lines", "benchmark_verdict_lines", "logged_verdict"]


def _line(strategy: str, verdict: LiveVerdict, n_runs: int, truth: str) -> str:
    if verdict.n == 0:
        return f"live verdict of {strategy}: no random picks scored yet; {truth}"
    return (
        f"live verdict of {strategy} (no test labels, {verdict.n} random picks of {n_runs} "
        f"run{'s' if n_runs != 1 else ''}, at {verdict.labels_from}-{verdict.labels_to} labels): "
        f"accuracy gain over random {verdict.mean:+.3f} [{verdict.low:+.3f}, {verdict.high:+.3f}]"
        f", {verdict.words}; {truth}"
    )


def _truth(mean: float, low: float, high: float) -> str:
    if not np.isfinite(mean):
        return "test set: no random baseline to compare with"
    return f"test set: ΔAULC vs random {mean:+.3f} [{low:+.3f}, {high:+.3f}]"


def simulation_verdict_lines(result: Any) -> list[str]:
    """One line per strategy of a :class:`~activelab.experiment.SimulationResult` that kept a
    live verdict: the pooled verdict of its seeds and the test-set AULC difference."""
    from ..evaluation import aulc, mean_and_interval
    from ..strategies.selector import live_verdict

    lines = []
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
        lines.append(_line(strategy, verdict, len(runs), _truth(float(mean), float(low),
                                                                  float(high))))
    return lines


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


def benchmark_verdict_lines(out_dir: str | Path, settings: Iterable[Any] | None = None
                            ) -> list[str]:
    """One line per (setting, strategy) of a benchmark folder whose runs logged a verdict."""
    from .runner import events_path, load_results
    from .stats import summarize

    out = Path(out_dir)
    results = load_results(out)
    groups: dict[tuple[str, str, float, str], list[dict[str, Any]]] = {}
    for r in results:
        spec = _Spec(r)
        v = logged_verdict(events_path(out, spec))
        if v is not None:
            groups.setdefault((r["dataset"], r["model"], float(r["noise"]), r["strategy"]),
                              []).append(v)
    if not groups:
        return []
    tests = {(s.dataset, s.model, s.noise, name): st.test
             for s in (settings if settings is not None else summarize(results))
             for name, st in s.strategies.items()}
    lines = []
    for (dataset, model, noise, strategy), verdicts in sorted(groups.items()):
        t = tests.get((dataset, model, noise, strategy))
        truth = _truth(*(t.mean_diff, t.low, t.high) if t is not None else (np.nan,) * 3)
        lines.append(f"{dataset} ({model}): " + _line(strategy, pooled_verdict(verdicts),
                                                      len(verdicts), truth))
    return lines


class _Spec:
    """What :func:`events_path` reads from a run spec, taken from a result."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.run_id = result["run_id"]
