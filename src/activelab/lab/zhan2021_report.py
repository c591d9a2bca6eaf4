"""Tables of the Lu et al. reproduction: our AUBC, paired tests, and the published means.

Every table says which AUBC it uses:

``aubc_published``
    Lu et al.'s (Zhan et al.'s ``AUBC_Zhan``): the initial point left out, the area of the
    ``Q - 1`` intervals after the ``Q`` queries divided by ``Q``.  Used wherever our
    numbers are set beside theirs.
``aubc``
    activelab's AULC over the same curve with the initial point: the area of all ``Q``
    intervals divided by ``Q``.  It is ``aubc_published + (a0 + a1) / (2 Q)``.

Our means are compared with the published ones by their standard errors:
``z = (ours - theirs) / sqrt(sd_ours**2 / n_ours + sd_theirs**2 / 100)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..datasets.real import ZHAN_BINARY
from .zhan2021_published import PUBLISHED_DIFF, PUBLISHED_TRIALS, STRATEGIES, published_cell

__all__ = [
    "METRICS",
    "summary_table",
    "paired_table",
    "published_table",
    "markdown_report",
]

METRICS: dict[str, str] = {
    "aubc_published": "Lu et al.'s AUBC (AUBC_Zhan: initial point left out, area of the Q−1 "
    "post-query intervals divided by Q)",
    "aubc": "activelab's AULC (initial point included: area of all Q intervals divided by Q)",
}
#: |z| above this is called a disagreement with the published mean.
Z_DISAGREE = 3.0


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}.")


def summary_table(
    rows: list[dict[str, Any]], strategies: Sequence[str] = STRATEGIES,
    metric: str = "aubc_published",
) -> dict[str, dict[str, tuple[float, float, int]]]:
    """Mean, SD (ddof=1) and number of trials of ``metric`` per dataset and strategy."""
    _check_metric(metric)
    table: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        table.setdefault(r["dataset"], {}).setdefault(r["strategy"], []).append(r[metric])
    out: dict[str, dict[str, tuple[float, float, int]]] = {}
    for d in [d for d in ZHAN_BINARY if d in table]:
        out[d] = {}
        for s in strategies:
            vals = np.asarray(table[d].get(s, []), dtype=np.float64)
            sd = float(vals.std(ddof=1)) if vals.size > 1 else math.nan
            out[d][s] = (float(vals.mean()) if vals.size else math.nan, sd, int(vals.size))
    return out


def _fmt(mean: float, sd: float, n: int) -> str:
    if n == 0:
        return "—"
    sd_text = "n/a" if math.isnan(sd) else f"{sd:.4f}"
    return f"{mean:.4f}±{sd_text}"


def z_score(ours: tuple[float, float, int], theirs: tuple[float, float]) -> float:
    """Difference of two means in standard errors (NaN without two trials of ours)."""
    mean, sd, n = ours
    if n < 2 or math.isnan(sd):
        return math.nan
    se = math.sqrt(sd**2 / n + theirs[1] ** 2 / PUBLISHED_TRIALS)
    return (mean - theirs[0]) / se if se > 0 else math.nan


def published_table(
    table: dict[str, dict[str, tuple[float, float, int]]],
) -> list[str]:
    """Markdown rows: our mean beside Lu et al.'s, the difference and its z-score."""
    cols = [("random", "Uniform"), ("margin", "US-C"), ("coreset", "Core-Set")]
    lines = [
        "| dataset | " + " | ".join(f"{s}: ours / Lu et al. ({name}), z" for s, name in cols)
        + " |",
        "|---|" + "---|" * len(cols),
    ]
    for d, cells in table.items():
        out = []
        for s, _ in cols:
            pub = published_cell(d, s)
            mine = cells.get(s, (math.nan, math.nan, 0))
            if pub is None or mine[2] == 0:
                out.append("—")
                continue
            z = z_score(mine, pub)
            mark = "**" if abs(z) > Z_DISAGREE else ""
            out.append(f"{mine[0]:.4f} / {pub[0]:.4f}, {mark}{z:+.1f}{mark}")
        lines.append(f"| {d} | " + " | ".join(out) + " |")
    return lines


def paired_table(
    rows: list[dict[str, Any]], strategies: Sequence[str] = STRATEGIES,
    metric: str = "aubc_published",
) -> list[str]:
    """Markdown rows: each strategy minus random per dataset, with the Wilcoxon p-value."""
    from .stats import paired_test

    _check_metric(metric)
    others = [s for s in strategies if s != "random"]
    by: dict[tuple[str, str], dict[int, float]] = {}
    for r in rows:
        by.setdefault((r["dataset"], r["strategy"]), {})[int(r["trial"])] = float(r[metric])
    lines = [
        "| dataset | " + " | ".join(
            f"{s} − random" + (" (Lu et al.)" if s in ("margin", "coreset") else "")
            for s in others
        ) + " |",
        "|---|" + "---|" * len(others),
    ]
    for d in [d for d in ZHAN_BINARY if (d, "random") in by]:
        cells = []
        for s in others:
            base, cur = by[(d, "random")], by.get((d, s), {})
            trials = sorted(set(base) & set(cur))
            if len(trials) < 2:
                cells.append("—")
                continue
            t = paired_test([cur[k] for k in trials], [base[k] for k in trials])
            mark = ("*" if abs(t.mean_diff) >= 0.005 else "~") if t.significant() else ""
            lu = PUBLISHED_DIFF.get(d, {}).get(s)
            cells.append(f"{t.mean_diff:+.4f}{mark} (p={t.p_value:.2g}, n={t.n})"
                         + (f" ({lu})" if lu else ""))
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    return lines


def _provenance(rows: list[dict[str, Any]], command: str, machine: str) -> list[str]:
    commits: dict[str, int] = {}
    for r in rows:
        commits[str(r.get("commit") or "not recorded")] = commits.get(
            str(r.get("commit") or "not recorded"), 0) + 1
    made = ", ".join(f"`{c}` ({n} runs)" for c, n in sorted(commits.items()))
    ours = sorted({r.get("strategy_used", "") for r in rows if r["strategy"] == "ours"})
    refits = [(r["n_refits"], r["n_steps"]) for r in rows if "n_refits" in r]
    skipped = 1 - sum(a for a, _ in refits) / max(1, sum(b for _, b in refits))
    return [
        f"Command: `{command}`",
        "",
        f"Code: commit {made}.",
        "",
        f"Machine: {machine}",
        "",
        f"`ours` ran as: {', '.join(ours) or 'not run'}. SVC refits skipped exactly "
        f"(y·f(x) ≥ 1, random/margin/coreset only): {100 * skipped:.0f} % of the steps.",
    ]


def markdown_report(
    rows: list[dict[str, Any]],
    *,
    command: str,
    machine: str,
    strategies: Sequence[str] = STRATEGIES,
    metric: str = "aubc_published",
) -> str:
    """The results as markdown: provenance, our table, paired tests, published means."""
    table = summary_table(rows, strategies, metric)
    seconds: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        seconds.setdefault((r["dataset"], r["strategy"]), []).append(float(r["seconds"]))
    lines = [
        "| dataset | " + " | ".join(strategies) + " | trials | s per trial |",
        "|---|" + "---|" * len(strategies) + "---|---|",
    ]
    for d, cells in table.items():
        counts = sorted({c[2] for c in cells.values()})
        per_trial = sum(float(np.mean(seconds[(d, s)])) for s in strategies if (d, s) in seconds)
        lines.append(
            f"| {d} | " + " | ".join(_fmt(*cells[s]) for s in strategies)
            + f" | {'/'.join(map(str, counts))} | {per_trial:.1f} |"
        )
    return "\n".join([
        *_provenance(rows, command, machine),
        "",
        f"Every table: {METRICS[metric]}. Mean ± SD over trials (ddof=1); `trials`: finished "
        "trials per cell; `s per trial`: wall seconds of one trial of every strategy "
        "together (one worker, BLAS threads = 1, machine shared with other work).",
        "",
        *lines,
        "",
        "Each strategy against random, paired by trial: mean difference and the two-sided "
        "Wilcoxon signed-rank p-value (`*` p < 0.05 with a difference of at least 0.005, `~` "
        "p < 0.05 but smaller). In brackets after margin and core-set: the mean difference "
        "Lu et al. publish (100 trials; their `*`/`**` = paired t-test at 0.05/0.01).",
        "",
        *paired_table(rows, strategies, metric),
        "",
        "Our means beside Lu et al.'s (100 trials), and the difference in standard errors: "
        "z = (ours − theirs) / √(sd_ours²/n_ours + sd_theirs²/100); |z| > 3 in bold.",
        "",
        *published_table(table),
        "",
    ])
