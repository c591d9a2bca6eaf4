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
    "verdicts", "learning-curves", "ranks", "labels-to-target", "paired-tests",
    "live-verdict", "compute", "settings",
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
        clip=(0.0, 1.0) if setting.metric != "r2" else None,  # R² can be negative
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
    config, results = _read_benchmark(run_dir)
    settings = summarize(
        results, target=config.target, min_effect=config.min_effect,
        cost_per_label=config.cost_per_label, seconds_per_label=config.seconds_per_label,
    )
    html_path = Path(out) if out is not None else run_dir / "report" / "report.html"
    html_path.parent.mkdir(parents=True, exist_ok=True)
    parts = [
        *_header(config, len(results), title),
        *_verdicts(config, settings),
        *_curves(config, settings, html_path.parent),
        *_ranks(settings),
        *_labels_to_target(config, settings),
        *_paired_tests(config, settings),
        *_live_verdict(run_dir, settings),
        *_compute(settings),
        *_settings(config),
    ]
    page = _page(title or f"Benchmark: {config.name}", "\n".join(parts))
    return atomic_write_text(html_path, page)


def _read_benchmark(run_dir: Path) -> tuple[BenchmarkConfig, list[dict[str, Any]]]:
    """The settings and the finished results of a benchmark folder."""
    if not run_dir.exists():
        raise FileNotFoundError(
            f"no such run folder {str(run_dir)!r}; pass the folder given to "
            "`activelab benchmark --out`."
        )
    if not run_dir.is_dir():
        raise ValueError(
            f"{str(run_dir)!r} is a file, not a run folder; pass the folder given to "
            "`activelab benchmark --out`."
        )
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
    return config, results


def _header(config: BenchmarkConfig, n_results: int, title: str | None) -> list[str]:
    return [
        f"<h1>{html.escape(title or 'Benchmark: ' + config.name)}</h1>",
        f"<p>{n_results} of {len(config.runs())} runs finished. Strategies: "
        f"{html.escape(', '.join(config.strategies))}. Models: "
        f"{html.escape(', '.join(config.models))}. Seeds: {len(config.seed_list())}. "
        f"Budget {config.budget} labels ({config.initial} initial, batches of "
        f"{config.batch_size}).</p>",
    ]


def _verdicts(config: BenchmarkConfig, settings: list[SettingSummary]) -> list[str]:
    return [
        '<section id="verdicts"><h2>Verdicts</h2>',
        f"<p>A strategy beats random only when the paired Wilcoxon signed-rank test over "
        f"seeds gives p &lt; 0.05 <em>and</em> its mean AULC is at least "
        f"{config.min_effect:g} above random's. An exact two-sided test needs at least "
        f"{min_seeds_for()} seeds to reach p &lt; 0.05.</p><ul>",
        *(f"<li>{html.escape(s.verdict)}</li>" for s in settings),
        "</ul></section>",
    ]


def _curves(config: BenchmarkConfig, settings: list[SettingSummary], folder: Path) -> list[str]:
    """One embedded figure per setting; each PNG is also written into ``folder``."""
    parts = ['<section id="learning-curves"><h2>Learning curves</h2>']
    for s in settings:
        png = folder / f"curves_{_slug(s.key)}.png"
        data = base64.b64encode(_plot(s, png)).decode("ascii")
        parts.append(
            f"<figure><img alt=\"learning curves on {html.escape(s.key)}\" "
            f"src=\"data:image/png;base64,{data}\"><figcaption>{html.escape(s.key)}: test "
            f"{html.escape(s.metric)}, mean and 95% t-interval over seeds; dotted line: "
            f"target ({config.target:.0%} of the full-pool score). File: "
            f"{html.escape(png.name)}</figcaption></figure>"
        )
    parts.append("</section>")
    return parts


def _ranks(settings: list[SettingSummary]) -> list[str]:
    parts = [
        '<section id="ranks"><h2>Strategies ranked by AULC</h2>',
        "<p>Rank 1 = highest mean AULC within a dataset/model/noise setting, averaged over "
        "settings. Normalised AULC = AULC / score of the model trained on the whole pool "
        "(1.0 = as good as having every label from the start).</p>",
        _table(
            ["strategy", "mean rank", "mean normalised AULC", "settings significantly better "
             "than random", "significantly worse", "settings"],
            [[r["strategy"], _fmt(r["mean_rank"], 2), _fmt(r["mean_norm_aulc"]),
              str(r["significantly_better"]), str(r["significantly_worse"]),
              str(r["n_settings"])]
             for r in rank_table(settings)],
        ),
    ]
    for s in settings:
        parts.append(f"<h3>{html.escape(s.key)}</h3>")
        parts.append(_table(
            ["strategy", "seeds", f"AULC ({s.metric}) [95% CI]", "normalised AULC",
             f"final {s.metric}", *(_side_header(m) for m in s.side_metrics)],
            [[st.strategy, str(st.n_seeds), _interval(*st.aulc), _fmt(st.norm_aulc),
              _fmt(st.final), *(_fmt(st.final_side.get(m, math.nan)) for m in s.side_metrics)]
             for st in sorted(s.strategies.values(), key=lambda t: -t.aulc[0])],
        ))
    parts.append("</section>")
    return parts


def _side_header(metric: str) -> str:
    """The column header of a metric shown beside the primary one, with its direction."""
    from ..evaluation.metrics import higher_is_better

    return f"final {metric} ({'higher' if higher_is_better(metric) else 'lower'} is better)"


def _savings_row(st: Any) -> list[str]:
    """One strategy's labels to target and savings against random, as table cells."""
    lt, sv = st.labels_to_target, st.savings
    reached = _interval(lt[0], lt[1], lt[2], 1) + f" ({lt[3]}/{st.n_seeds} reached)"
    if sv is None:
        return [st.strategy, reached, "baseline", "–", "–", "–", "–"]
    return [
        st.strategy, reached,
        _interval(sv.labels.mean, sv.labels.low, sv.labels.high, 1),
        _interval(sv.percent.mean, sv.percent.low, sv.percent.high, 1),
        _interval(sv.money.mean, sv.money.low, sv.money.high, 2),
        _interval(sv.hours.mean, sv.hours.low, sv.hours.high, 2),
        str(sv.n_pairs),
    ]


def _labels_to_target(config: BenchmarkConfig, settings: list[SettingSummary]) -> list[str]:
    parts = [
        '<section id="labels-to-target"><h2>Labels to target and savings</h2>',
        f"<p>Target: {config.target:.0%} of the full-pool score of each setting. Savings are "
        "paired by seed (random − strategy labels), over the seeds where both reached the "
        f"target; money at {config.cost_per_label:g} per label, time at "
        f"{config.seconds_per_label:g} s per label. Labels-to-target is fragile when a curve "
        "levels off near the target: read AULC first.</p>",
    ]
    for s in settings:
        parts.append(f"<h3>{html.escape(s.key)} (target {_fmt(s.target)})</h3>")
        parts.append(_table(
            ["strategy", "labels to target [95% CI]", "labels saved [95% CI]",
             "% saved [95% CI]", "money saved", "hours saved", "pairs"],
            [_savings_row(st) for st in s.strategies.values()],
        ))
    parts.append("</section>")
    return parts


def _reading(test: Any, min_effect: float) -> str:
    """A paired test in words."""
    if not test.significant():
        return "not significantly different"
    return ("better" if test.mean_diff > 0 else "worse") + (
        " (negligible)" if abs(test.mean_diff) < min_effect else ""
    )


def _paired_tests(config: BenchmarkConfig, settings: list[SettingSummary]) -> list[str]:
    rows = [
        [s.key, st.strategy, str(st.test.n), _interval(st.test.mean_diff, st.test.low,
                                                       st.test.high, 4),
         _fmt(st.test.statistic, 1), f"{st.test.p_value:.3g}",
         _reading(st.test, config.min_effect)]
        for s in settings for st in s.strategies.values() if st.test is not None
    ]
    return [
        '<section id="paired-tests"><h2>Paired tests against random</h2>',
        "<p>Wilcoxon signed-rank test (scipy.stats.wilcoxon, two-sided) of per-seed AULC, "
        "strategy − random. p ≥ 0.05 means not significantly different.</p>",
        _table(["setting", "strategy", "seeds", "mean AULC difference [95% CI]", "W", "p",
                "reading"], rows),
        "</section>",
    ]


def _live_verdict(run_dir: Path, settings: list[SettingSummary]) -> list[str]:
    """The live verdict of each setting's runs that kept one, next to the test-set result."""
    from .live import VERDICT_HEADER, WHAT_IT_ESTIMATES, benchmark_verdicts, verdict_cells

    rows = benchmark_verdicts(run_dir, settings)
    parts = ['<section id="live-verdict"><h2>Live verdict: is active learning beating random '
             'here?</h2>', f"<p>{html.escape(WHAT_IT_ESTIMATES.replace('`', ''))}</p>"]
    if not rows:
        parts.append("<p>No strategy of this benchmark kept a live verdict (auto does).</p>")
    else:
        parts.append(_table(["setting", *VERDICT_HEADER],
                            [[row.setting, *verdict_cells(row)] for row in rows]))
    parts.append("</section>")
    return parts


def _compute(settings: list[SettingSummary]) -> list[str]:
    rows = [
        [s.key, st.strategy, _fmt(st.seconds, 2), _fmt(st.fit_seconds, 2),
         _fmt(st.query_seconds, 3)]
        for s in settings for st in s.strategies.values()
    ]
    return [
        '<section id="compute"><h2>Compute time</h2>',
        "<p>Mean seconds per run (one worker process, BLAS threads = 1).</p>",
        _table(["setting", "strategy", "total s", "fitting s", "querying s"], rows),
        "</section>",
    ]


def _settings(config: BenchmarkConfig) -> list[str]:
    return [
        '<section id="settings"><h2>Settings</h2>',
        _table(["setting", "value"], [[k, str(v)] for k, v in config.to_dict().items()]),
        "</section>",
    ]


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
