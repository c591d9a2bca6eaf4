"""The live verdict in simulate's summary.md and in the benchmark's HTML report."""

from __future__ import annotations

import html
import math

import pytest

import activelab as al
from activelab.evaluation.live_verdict import LiveVerdict
from activelab.lab.config import BenchmarkConfig
from activelab.lab.live import (
    VERDICT_HEADER,
    VerdictRow,
    benchmark_verdicts,
    simulation_verdicts,
    verdict_cells,
    verdict_markdown,
)
from activelab.lab.report import build_report
from activelab.lab.runner import load_results, run_benchmark
from activelab.lab.stats import summarize

HEADING = "Live verdict: is active learning beating random here?"


def _verdict(n: int, mean: float, low: float, high: float, words: str) -> LiveVerdict:
    return LiveVerdict(n, mean, low, high, 0.7, 0.65, 20, 28, 0.95, words, 5, 2)


def test_the_cells_of_a_row_in_plain_numbers():
    row = VerdictRow("wine (logreg)", "auto", _verdict(30, 0.1, -0.05, 0.25, "can't tell yet"),
                     3, (0.021, 0.004, 0.038))
    assert verdict_cells(row) == ["auto", "30 (of 3 runs)", "20–28", "+0.100 [-0.050, +0.250]",
                                  "can't tell yet", "+0.021 [+0.004, +0.038]"]
    empty = VerdictRow("", "auto", _verdict(0, math.nan, math.nan, math.nan, "no evidence yet"),
                       1, (math.nan,) * 3)
    assert verdict_cells(empty) == ["auto", "0 (of 1 runs)", "–", "–",
                                    "no random picks scored yet", "–"]
    lines = verdict_markdown([row])
    assert lines[1] == f"## {HEADING}"
    assert "without any test labels" in lines[3] and "held-out test set" in lines[3]
    assert lines[5] == "| " + " | ".join(VERDICT_HEADER) + " |"
    assert lines[-1] == "| auto | 30 (of 3 runs) | 20–28 | +0.100 [-0.050, +0.250] | can't tell " \
                        "yet | +0.021 [+0.004, +0.038] |"
    assert verdict_markdown([]) == []


def test_summary_md_has_the_verdict_of_auto_next_to_the_test_set(tmp_path):
    result = al.simulate("wine", strategies="auto,margin", seeds=2, budget=60, progress=False)
    (row,) = simulation_verdicts(result)  # margin keeps no verdict
    assert row.strategy == "auto" and row.n_runs == 2 and row.verdict.n >= 2
    result.save(tmp_path)
    text = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert f"## {HEADING}" in text
    assert "| " + " | ".join(verdict_cells(row)) + " |" in text
    assert "| margin |" not in text.split(HEADING)[1]

    plain = al.simulate("wine", strategies="margin", seeds=1, budget=40, progress=False)
    assert HEADING not in plain.to_markdown()


@pytest.fixture(scope="module")
def wine_benchmark(tmp_path_factory):
    out = tmp_path_factory.mktemp("live")
    cfg = BenchmarkConfig(datasets=["wine"], strategies=["auto", "margin"], seeds=2, budget=60,
                          format="csv")
    run_benchmark(cfg, out, n_jobs=1)
    return out


def test_the_report_has_the_verdict_and_the_paired_test_result(wine_benchmark):
    (row,) = benchmark_verdicts(wine_benchmark)
    assert (row.setting, row.strategy, row.n_runs) == ("wine (logreg)", "auto", 2)
    (setting,) = summarize(load_results(wine_benchmark))
    test = setting.strategies["auto"].test
    assert row.truth == pytest.approx((test.mean_diff, test.low, test.high))
    text = build_report(wine_benchmark).read_text(encoding="utf-8")
    section = text.split('<section id="live-verdict">')[1].split("</section>")[0]
    assert f"<h2>{HEADING}</h2>" in section
    cells = "".join(f"<td>{html.escape(c)}</td>" for c in ["wine (logreg)", *verdict_cells(row)])
    assert f"<tr>{cells}</tr>" in section
    assert "<td>margin</td>" not in section


def test_a_report_without_auto_says_no_strategy_kept_one(tmp_path):
    cfg = BenchmarkConfig(datasets=["iris"], strategies=["margin"], seeds=1, budget=30,
                          format="csv")
    run_benchmark(cfg, tmp_path, n_jobs=1)
    text = build_report(tmp_path).read_text(encoding="utf-8")
    section = text.split('<section id="live-verdict">')[1].split("</section>")[0]
    assert "No strategy of this benchmark kept a live verdict (auto does)." in section
