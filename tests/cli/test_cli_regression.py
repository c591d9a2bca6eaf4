"""``activelab simulate`` and ``activelab benchmark`` on a regression set (diabetes)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from activelab.cli import app

ENV = {"COLUMNS": "400"}
SMALL = ["--data", "diabetes", "--seeds", "2", "--initial", "10", "--batch", "10",
         "--budget", "30", "-q"]


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), env=ENV)


def test_simulate_diabetes_picks_regression_from_the_target(tmp_path):
    out = tmp_path / "d"
    result = invoke("simulate", *SMALL, "--strategies", "greedy_io,greedy_x", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "regression, model ridge" in result.stdout
    assert "final rmse (lower is better)" in result.stdout
    assert "AULC: mean test r2 over 10–30 labels" in result.stdout
    with open(out / "curves.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {"r2", "rmse", "mae"} <= set(rows[0])
    # 3 strategies x 2 seeds x 3 rounds (10, 20, 30 labels)
    assert len(rows) == 3 * 2 * 3
    assert {r["strategy"] for r in rows} == {"greedy_io", "greedy_x", "random"}
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    start = next(e for e in events if e["event"] == "run_start")
    assert start["task"] == "regression" and "classes" not in start
    rmse = [float(r["rmse"]) for r in rows]
    assert all(np.isfinite(rmse)) and min(rmse) > 0


def test_the_default_strategies_of_regression(tmp_path):
    result = invoke("simulate", *SMALL, "--seeds", "1", "--out", str(tmp_path / "d"))
    assert result.exit_code == 0, result.output
    for name in ("greedy_io", "greedy_x", "qbc_variance", "emcm", "random"):
        assert name in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategies", "margin"],
         "'margin' is for classification, not regression; for regression use one of: "),
        (["--task", "ranking"], "--task must be one of classification, multilabel, regression"),
        (["--model", "logreg"], "unknown regression model 'logreg'"),
        (["--noise", "0.1"], "label noise gives wrong class labels"),
    ],
)
def test_bad_regression_input_is_one_line_exit_2(tmp_path, args, message):
    out = tmp_path / "never"
    result = invoke("simulate", *SMALL, *args, "--out", str(out))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]
    assert "greedy_io" in lines[0] or "margin" not in args
    assert not out.exists()


def test_task_override_reads_a_classification_set_as_regression(tmp_path):
    # iris's class numbers 0, 1, 2 taken as numbers: a regression of the class index
    result = invoke("simulate", "--data", "iris", "--task", "regression", "--seeds", "1",
                    "--initial", "10", "--budget", "20", "-s", "greedy_x", "-q",
                    "--out", str(tmp_path / "i"))
    assert result.exit_code == 0, result.output
    assert "regression, model ridge" in result.stdout


def test_benchmark_and_report_on_diabetes(tmp_path):
    out = tmp_path / "b"
    result = invoke("benchmark", "--datasets", "diabetes", "--strategies", "greedy_io",
                    "--models", "ridge", "--seeds", "2", "--initial", "10", "--batch-size",
                    "10", "--budget", "30", "-j", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    record = json.loads((out / "results" /
                         "diabetes__greedy_io__ridge__noise00__seed0.json").read_text())
    assert record["primary_metric"] == "r2"
    assert set(record["curves"]) == {"r2", "rmse", "mae"}
    assert record["curves"]["r2"]["n_labeled"] == [10, 20, 30]
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert "AULC (r2)" in html and "final rmse (lower is better)" in html


def test_benchmark_of_a_regression_set_without_strategies_or_model_takes_the_tasks(tmp_path):
    out = tmp_path / "b"
    result = invoke("benchmark", "--datasets", "diabetes", "--seeds", "1", "--initial", "10",
                    "--batch-size", "10", "--budget", "20", "-j", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert (config["strategies"], config["models"]) == (
        ["random", "greedy_io", "greedy_x"], ["ridge"])
    names = sorted(p.name for p in (out / "results").glob("*.json"))
    assert names == [f"diabetes__{s}__ridge__noise00__seed0.json"
                     for s in ("greedy_io", "greedy_x", "random")]
    # a resumed run reads the same settings back and has nothing left to do
    again = invoke("benchmark", "--datasets", "diabetes", "--seeds", "1", "--initial", "10",
                   "--batch-size", "10", "--budget", "20", "-j", "1", "--out", str(out))
    assert again.exit_code == 0, again.output
    assert "0 runs done now, 3 were already done" in again.output


def test_benchmark_of_two_tasks_without_strategies_is_one_line(tmp_path):
    result = invoke("benchmark", "--datasets", "iris,diabetes", "--seeds", "1",
                    "--out", str(tmp_path / "b"))
    assert result.exit_code == 2
    assert "different tasks (classification, regression)" in result.stderr
    assert not (tmp_path / "b").exists()


def test_benchmark_refuses_a_classifier_for_a_regression_set(tmp_path):
    result = invoke("benchmark", "--datasets", "diabetes", "--models", "logreg", "--seeds",
                    "1", "--out", str(tmp_path / "b"))
    assert result.exit_code == 2
    assert "dataset 'diabetes' is a regression set" in result.stderr


@pytest.mark.parametrize(
    "data, task, message",
    [
        ("diabetes", "multilabel", "--task multilabel needs an n x L 0/1 label table"),
        ("iris", "multilabel", "--task multilabel needs an n x L 0/1 label table"),
        ("yeast", "classification", "--task classification needs one target per row"),
        ("yeast", "regression", "--task regression needs one target per row"),
    ],
)
def test_a_task_the_targets_cannot_be_is_one_line_exit_2(tmp_path, data, task, message):
    if data == "yeast":
        pytest.importorskip("river", reason="yeast ships inside the river package")
    out = tmp_path / "never"
    result = invoke("simulate", "--data", data, "--task", task, "--seeds", "1", "-q",
                    "--out", str(out))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not out.exists()
