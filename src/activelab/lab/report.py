"""A self-contained HTML report of a benchmark folder.

Sections: verdicts per dataset in plain words, learning curves with 95 % intervals, a
rank table of strategies by normalised AULC, labels-to-target and savings against random
with intervals, the paired Wilcoxon test of each strategy against random, compute time
per strategy, and the settings.  Figures are written as PNG files next to the report and
embedded in it as base64, so the HTML file can be sent alone.
"""

from __future__ import annotations

import base64
import html
import math
import os
import re
from pathlib import Path
from typing import Any

from .config import BenchmarkConfig
from .runner import load_results
from .stats import SettingSummary, min_seeds_for, rank_table, summarize
from .store import atomic_write_text, read_json

__all__ = ["build_report", "SECTIONS"]

#: Section ids of the report, in order.
SECTIONS = (
    "verdicts", "learning-curves", "ranks", "labels-to-target", "paired-tests", "compute",
    "settings",
)


def _fmt(x: float, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}"


def _interval(mean: float, low: float, high: float, digits: int = 3) -> str:
    if math.isnan(mean):
        return "–"
    if math.isnan(low):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


def _plot(setting: SettingSummary, path: Path) -> bytes:
    from ..evaluation import plot_learning_curves

    plot_learning_curves(
        setting.curves,
        baseline="random",
        metric=setting.metric,
        target=setting.target if math.isfinite(setting.target) else None,
        title=f"{setting.key}, {setting.n_seeds} seeds",
        path=path,
    )
    return path.read_bytes()


def build_report(
    run_dir: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
) -> Path:
    """Build ``report.html`` (and PNGs) for a benchmark folder.

    Parameters
    ----------
    run_dir : path
        A folder written by :func:`activelab.lab.runner.run_benchmark`.
    out : path, optional
        The HTML file; default ``RUN_DIR/report/report.html``.  PNGs go next to it.
    title : str, optional

    Returns
    -------
    Path
        The HTML file.

    Raises
    ------
    FileNotFoundError
        When ``run_dir`` holds no benchmark (no ``config.json``).
    ValueError
        When no run has finished yet.
    """
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise FileNotFoundError(
            f"{str(run_dir)!r} holds no benchmark (config.json is missing); pass the folder "
            "given to `activelab benchmark --out`."
        )
    config = BenchmarkConfig.from_dict(read_json(run_dir / "config.json"))
    results = load_results(run_dir)
    if not results:
        raise ValueError(
            f"no finished runs in {str(run_dir)!r} yet; run `activelab benchmark` first."
        )
    settings = summarize(
        results, target=config.target, min_effect=config.min_effect,
        cost_per_label=config.cost_per_label, seconds_per_label=config.seconds_per_label,
    )
    html_path = Path(out) if out is not None else run_dir / "report" / "report.html"
    html_path.parent.mkdir(parents=True, exist_ok=True)
    n_expected = len(config.runs())
    parts: list[str] = []
    parts.append(f"<h1>{html.escape(title or 'Benchmark: ' + config.name)}</h1>")
    parts.append(
        f"<p>{len(results)} of {n_expected} runs finished. Strategies: "
        f"{html.escape(', '.join(config.strategies))}. Models: "
        f"{html.escape(', '.join(config.models))}. Seeds: {len(config.seed_list())}. "
        f"Budget {config.budget} labels ({config.initial} initial, batches of "
        f"{config.batch_size}).</p>"
    )
    # verdicts
    parts.append('<section id="verdicts"><h2>Verdicts</h2>')
    parts.append(
        f"<p>A strategy beats random only when the paired Wilcoxon signed-rank test over "
        f"seeds gives p &lt; 0.05 <em>and</em> its mean AULC is at least "
        f"{config.min_effect:g} above random's. An exact two-sided test needs at least "
        f"{min_seeds_for()} seeds to reach p &lt; 0.05.</p><ul>"
    )
    for s in settings:
        parts.append(f"<li>{html.escape(s.verdict)}</li>")
    parts.append("</ul></section>")
    # curves
    parts.append('<section id="learning-curves"><h2>Learning curves</h2>')
    for s in settings:
        png = html_path.parent / f"curves_{_slug(s.key)}.png"
        data = base64.b64encode(_plot(s, png)).decode("ascii")
        parts.append(
            f"<figure><img alt=\"learning curves on {html.escape(s.key)}\" "
            f"src=\"data:image/png;base64,{data}\"><figcaption>{html.escape(s.key)}: test "
            f"{html.escape(s.metric)}, mean and 95% t-interval over seeds; dotted line: "
            f"target ({config.target:.0%} of the full-pool score). File: "
            f"{html.escape(png.name)}</figcaption></figure>"
        )
    parts.append("</section>")
    # ranks
    parts.append('<section id="ranks"><h2>Strategies ranked by AULC</h2>')
    parts.append(
        "<p>Rank 1 = highest mean AULC within a dataset/model/noise setting, averaged over "
        "settings. Normalised AULC = AULC / score of the model trained on the whole pool "
        "(1.0 = as good as having every label from the start).</p>"
    )
    parts.append(_table(
        ["strategy", "mean rank", "mean normalised AULC", "settings significantly better "
         "than random", "significantly worse", "settings"],
        [[r["strategy"], _fmt(r["mean_rank"], 2), _fmt(r["mean_norm_aulc"]),
          str(r["significantly_better"]), str(r["significantly_worse"]), str(r["n_settings"])]
         for r in rank_table(settings)],
    ))
    for s in settings:
        parts.append(f"<h3>{html.escape(s.key)}</h3>")
        parts.append(_table(
            ["strategy", "seeds", f"AULC ({s.metric}) [95% CI]", "normalised AULC",
             f"final {s.metric}"],
            [[st.strategy, str(st.n_seeds), _interval(*st.aulc), _fmt(st.norm_aulc),
              _fmt(st.final)] for st in sorted(s.strategies.values(), key=lambda t: -t.aulc[0])],
        ))
    parts.append("</section>")
    # labels to target
    parts.append('<section id="labels-to-target"><h2>Labels to target and savings</h2>')
    parts.append(
        f"<p>Target: {config.target:.0%} of the full-pool score of each setting. Savings are "
        "paired by seed (random − strategy labels), over the seeds where both reached the "
        f"target; money at {config.cost_per_label:g} per label, time at "
        f"{config.seconds_per_label:g} s per label. Labels-to-target is fragile when a curve "
        "levels off near the target: read AULC first.</p>"
    )
    for s in settings:
        rows = []
        for st in s.strategies.values():
            lt = st.labels_to_target
            sv = st.savings
            rows.append([
                st.strategy,
                _interval(lt[0], lt[1], lt[2], 1) + f" ({lt[3]}/{st.n_seeds} reached)",
                "baseline" if sv is None else _interval(sv.labels.mean, sv.labels.low,
                                                        sv.labels.high, 1),
                "–" if sv is None else _interval(sv.percent.mean, sv.percent.low,
                                                 sv.percent.high, 1),
                "–" if sv is None else _interval(sv.money.mean, sv.money.low, sv.money.high, 2),
                "–" if sv is None else _interval(sv.hours.mean, sv.hours.low, sv.hours.high, 2),
                "–" if sv is None else str(sv.n_pairs),
            ])
        parts.append(f"<h3>{html.escape(s.key)} (target {_fmt(s.target)})</h3>")
        parts.append(_table(
            ["strategy", "labels to target [95% CI]", "labels saved [95% CI]",
             "% saved [95% CI]", "money saved", "hours saved", "pairs"], rows,
        ))
    parts.append("</section>")
    # paired tests
    parts.append('<section id="paired-tests"><h2>Paired tests against random</h2>')
    parts.append(
        "<p>Wilcoxon signed-rank test (scipy.stats.wilcoxon, two-sided) of per-seed AULC, "
        "strategy − random. p ≥ 0.05 means not significantly different.</p>"
    )
    test_rows = []
    for s in settings:
        for st in s.strategies.values():
            t = st.test
            if t is None:
                continue
            reading = (
                "not significantly different" if not t.significant()
                else ("better" if t.mean_diff > 0 else "worse")
                + (" (negligible)" if abs(t.mean_diff) < config.min_effect else "")
            )
            test_rows.append([
                s.key, st.strategy, str(t.n), _interval(t.mean_diff, t.low, t.high, 4),
                _fmt(t.statistic, 1), f"{t.p_value:.3g}", reading,
            ])
    parts.append(_table(
        ["setting", "strategy", "seeds", "mean AULC difference [95% CI]", "W", "p", "reading"],
        test_rows,
    ))
    parts.append("</section>")
    # compute
    parts.append('<section id="compute"><h2>Compute time</h2>')
    parts.append("<p>Mean seconds per run (one worker process, BLAS threads = 1).</p>")
    comp_rows = []
    for s in settings:
        for st in s.strategies.values():
            comp_rows.append([s.key, st.strategy, _fmt(st.seconds, 2), _fmt(st.fit_seconds, 2),
                              _fmt(st.query_seconds, 3)])
    parts.append(_table(["setting", "strategy", "total s", "fitting s", "querying s"], comp_rows))
    parts.append("</section>")
    # settings
    parts.append('<section id="settings"><h2>Settings</h2>')
    parts.append(_table(["setting", "value"],
                        [[k, str(v)] for k, v in config.to_dict().items()]))
    parts.append("</section>")
    page = _page(title or f"Benchmark: {config.name}", "\n".join(parts))
    return atomic_write_text(html_path, page)


def _page(title: str, body: str) -> str:
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
        "color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid "
        "#ccc;padding:.25em .6em;text-align:left;font-size:.9em}th{background:#f3f3f3}"
        "img{max-width:100%}figure{margin:1em 0}figcaption{font-size:.85em;color:#555}"
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{style}</style></head><body>\n"
        f"{body}\n</body></html>\n"
    )


def report_summary(run_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The verdict of every setting as dicts (for printing after a benchmark)."""
    config = BenchmarkConfig.from_dict(read_json(Path(run_dir) / "config.json"))
    settings = summarize(load_results(run_dir), target=config.target,
                         min_effect=config.min_effect)
    return [{"setting": s.key, "verdict": s.verdict} for s in settings]
