"""``activelab benchmark`` and ``activelab report`` on a multi-label set (yeast)."""

from __future__ import annotations

import importlib.util
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from activelab.cli import app

pytestmark = pytest.mark.skipif(importlib.util.find_spec("river") is None,
                                reason="the multilabel-data extra (river) is not installed")

ENV = {"COLUMNS": "400"}
INITIAL, BATCH, BUDGET, SEEDS = 20, 10, 40, 2
TINY = ["--datasets", "yeast", "--seeds", str(SEEDS), "--initial", str(INITIAL),
        "--batch-size", str(BATCH), "--budget", str(BUDGET), "-j", "1"]


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), env=ENV)


def _events(out, run_id):
    path = out / "runs" / run_id / "events.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def tiny_benchmark(tmp_path_factory):
    out = tmp_path_factory.mktemp("yeast") / "b"
    result = invoke("benchmark", *TINY, "--strategies", "multilabel_margin,cvirs",
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    return out, result


def test_one_row_per_seed_and_strategy(tiny_benchmark):
    out, result = tiny_benchmark
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == SEEDS * 3
    assert sorted(zip(table["strategy"], table["seed"], strict=True)) == sorted(
        (s, k) for s in ("cvirs", "multilabel_margin", "random") for k in range(SEEDS))
    assert set(table["task"]) == {"multilabel"}
    assert set(table["primary_metric"]) == {"f1_micro"}
    assert "6 runs done now, 0 were already done (6 in all)" in result.stdout


def test_the_labels_add_up(tiny_benchmark):
    out, _ = tiny_benchmark
    table = pd.read_parquet(out / "results.parquet")
    # rounds: one per label count 20, 30, 40; every round but the last asks for a batch
    assert set(table["n_rounds"]) == {3}
    assert set(table["n_labeled_final"]) == {INITIAL + (3 - 1) * BATCH} == {BUDGET}
    for run_id in table["run_id"]:
        events = _events(out, run_id)
        start = next(e for e in events if e["event"] == "run_start")
        assert start["task"] == "multilabel" and start["n_labels"] == 14
        asked = list(start["initial_ids"])
        rounds = [e for e in events if e["event"] == "round"]
        assert [r["n_labeled"] for r in rounds] == [20, 30, 40]
        for r in rounds:
            asked += r["labeled_ids"]
        assert len(asked) == len(set(asked)) == BUDGET


def test_the_record_keeps_every_multilabel_metric(tiny_benchmark):
    out, _ = tiny_benchmark
    record = json.loads((out / "results" / "yeast__cvirs__logreg__noise00__seed1.json")
                        .read_text(encoding="utf-8"))
    assert set(record["curves"]) >= {"f1_micro", "f1_macro", "hamming_loss", "subset_accuracy"}
    assert record["curves"]["f1_micro"]["n_labeled"] == [20, 30, 40]
    assert 0 <= record["final_hamming_loss"] <= 1 and 0 <= record["final_subset_accuracy"] <= 1


def test_the_report_shows_micro_f1_with_hamming_loss_and_subset_accuracy(tiny_benchmark):
    out, _ = tiny_benchmark
    result = invoke("report", str(out))
    assert result.exit_code == 0, result.output
    assert "On yeast (logreg)" in result.stdout
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert "AULC (f1_micro) [95% CI]" in html
    assert "final hamming_loss (lower is better)" in html
    assert "final subset_accuracy (higher is better)" in html


def test_a_classification_strategy_on_yeast_is_one_line_exit_2(tmp_path):
    out = tmp_path / "never"
    result = invoke("benchmark", *TINY, "--strategies", "margin", "--out", str(out))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert lines[0].startswith("error: dataset 'yeast' is a multilabel set: ")
    assert "'margin' is for classification, not multilabel" in lines[0]
    assert "multilabel_margin" in lines[0]
    assert not out.exists()
