"""`activelab benchmark`: the config, the run grid, the runner, resuming, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from activelab.events import read_events
from activelab.lab.config import BenchmarkConfig, RunSpec, load_config, make_model
from activelab.lab.runner import (
    gather_results,
    load_results,
    prepare_data,
    rare_class_recall,
    run_benchmark,
)

TIMING = ["seconds", "fit_seconds", "query_seconds"]


def tiny_config(**kw) -> BenchmarkConfig:
    settings = dict(
        name="tiny", datasets=["iris"], strategies=["random", "margin"], models=["logreg"],
        seeds=2, initial=10, batch_size=10, budget=40, format="csv",
    )
    settings.update(kw)
    return BenchmarkConfig(**settings)


# ----------------------------------------------------------------------- config
def test_grid_is_the_product_and_random_is_always_there():
    cfg = tiny_config(strategies=["margin", "entropy"], seeds=[3, 5], noise=[0.0, 0.1],
                      datasets=["iris", "wine"])
    assert cfg.strategies == ["random", "margin", "entropy"]
    runs = cfg.runs()
    assert len(runs) == 2 * 3 * 1 * 2 * 2
    assert len({r.run_id for r in runs}) == len(runs)
    assert {r.seed for r in runs} == {3, 5}
    assert RunSpec("zhan:australian", "margin", "logreg", 0.1, 3).run_id == (
        "zhan_australian__margin__logreg__noise10__seed3"
    )


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"strategies": ["nope"]}, "unknown strategy 'nope'"),
        ({"budget": 5, "initial": 10}, "budget"),
        ({"seeds": 0}, "seeds must be at least 1"),
        ({"noise": [1.5]}, "noise rates"),
        ({"test_size": 1.0}, "test_size"),
        ({"format": "xlsx"}, "format"),
        ({"models": ["bogus"]}, "unknown model 'bogus'"),
        ({"metrics": ["auc"]}, "unknown metric 'auc'"),
    ],
)
def test_bad_settings_are_rejected_with_the_setting_named(settings, message):
    with pytest.raises((ValueError, TypeError), match=message):
        tiny_config(**settings)


def test_toml_config_with_overrides_and_unknown_keys(tmp_path):
    path = tmp_path / "bench.toml"
    path.write_text('datasets = ["iris"]\nstrategies = ["margin"]\nseeds = 3\nbudget = 60\n')
    cfg = load_config(path, seeds=4, budget=None)
    assert cfg.seed_list() == [0, 1, 2, 3] and cfg.budget == 60
    path.write_text('datasets = ["iris"]\nbudgett = 3\n')
    with pytest.raises(ValueError, match="unknown setting 'budgett'"):
        load_config(path)
    path.write_text("datasets = [iris\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_config(path)
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "missing.toml")


def test_example_config_in_the_repository_is_valid():
    example = Path(__file__).resolve().parents[2] / "examples" / "bench.toml"
    cfg = load_config(example)
    assert "random" in cfg.strategies and len(cfg.runs()) > 0


def test_models_by_name_and_import_path():
    model = make_model("logreg")
    assert type(model[-1]).__name__ == "LogisticRegression" and model[-1].max_iter == 1000
    assert make_model("logreg") is not make_model("logreg")
    assert type(make_model("sklearn.tree.DecisionTreeClassifier")).__name__ == (
        "DecisionTreeClassifier"
    )
    # the lab builds its models with the one model table (activelab.engine.models)
    with pytest.raises(ValueError, match="has no class 'NoSuchTree'"):
        make_model("sklearn.tree.NoSuchTree")
    with pytest.raises(ValueError, match="cannot import module 'no_such_pkg_xyz'"):
        make_model("no_such_pkg_xyz.Model")
    with pytest.raises(ValueError, match="has no class 'NoSuchTree'"):
        BenchmarkConfig(models=["sklearn.tree.NoSuchTree"])  # checked before any run


def test_unknown_dataset_fails_before_anything_runs(tmp_path):
    cfg = tiny_config(datasets=["iris", "no-such-set"])
    with pytest.raises(ValueError, match="unknown dataset 'no-such-set'"):
        run_benchmark(cfg, tmp_path / "b")
    assert not (tmp_path / "b").exists()


# ----------------------------------------------------------------------- data
def test_split_is_shared_by_strategies_of_a_seed_and_differs_between_seeds():
    cfg = tiny_config()
    a = prepare_data(RunSpec("iris", "random", "logreg", 0.0, 0), cfg)
    b = prepare_data(RunSpec("iris", "margin", "logreg", 0.0, 0), cfg)
    c = prepare_data(RunSpec("iris", "margin", "logreg", 0.0, 1), cfg)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[4], b[4])
    assert not np.array_equal(a[0], c[0])
    assert a[0].shape[0] + a[2].shape[0] == 150


def test_imbalanced_scenario_has_a_one_percent_class_and_rare_recall():
    cfg = tiny_config(datasets=["imbalanced"])
    X_pool, y_pool, X_test, y_test, initial, primary, metrics = prepare_data(
        RunSpec("imbalanced", "random", "logreg", 0.0, 0), cfg
    )
    y = np.concatenate([y_pool, y_test])
    share = np.bincount(y).min() / y.size
    assert 0.005 <= share <= 0.02
    assert primary == "f1_macro" and "rare_recall" in metrics
    assert np.unique(y_pool[initial]).size == 2  # the seed set holds the rare class


def test_rare_class_recall_by_hand():
    y_true = np.array([0, 0, 0, 0, 1, 1])
    y_pred = np.array([0, 1, 0, 0, 1, 0])
    assert rare_class_recall(y_true, y_pred) == 0.5


# ----------------------------------------------------------------------- running
def test_run_writes_event_logs_results_and_a_table_whose_accounting_adds_up(tmp_path):
    cfg = tiny_config(noise=[0.0, 0.3])
    summary = run_benchmark(cfg, tmp_path, n_jobs=1)
    assert (summary.n_total, summary.n_ran, summary.n_skipped) == (8, 8, 0)
    table = pd.read_csv(summary.table_path)
    assert len(table) == 8 and table["run_id"].is_unique
    for spec in cfg.runs():
        events = read_events(tmp_path / "runs" / spec.run_id / "events.jsonl")
        kinds = [e["event"] for e in events]
        assert kinds[0] == "run_start" and kinds[-1] == "run_end"
        assert kinds.count("run_start") == 1
        # tagged like the events of `activelab simulate`
        assert {e["run_id"] for e in events} == {spec.run_id}
        assert {(e["strategy"], e["seed"]) for e in events} == {(spec.strategy, spec.seed)}
        assert events[0]["dataset"] == "iris" and events[0]["noise"] == spec.noise
        rounds = [e for e in events if e["event"] == "round"]
        result = json.loads((tmp_path / "results" / f"{spec.run_id}.json").read_text())
        # labels add up: 10 initial + 3 rounds of 10 = the budget of 40
        assert result["n_labeled_final"] == cfg.budget
        assert result["curves"]["accuracy"]["n_labeled"] == [10, 20, 30, 40]
        assert len(rounds) == 4 == result["n_rounds"]
    noisy = table[table["noise"] == 0.3]
    assert len(noisy) == 4
    # noisy runs use a NoisyOracle: the logs record answers that differ from the truth
    assert not table.loc[table.noise == 0.3, "aulc"].equals(table.loc[table.noise == 0.0, "aulc"])


def test_parallel_workers_give_the_same_table_as_one_process(tmp_path):
    cfg = tiny_config(seeds=3)
    one = pd.read_csv(run_benchmark(cfg, tmp_path / "one", n_jobs=1).table_path)
    seen = []
    two = pd.read_csv(
        run_benchmark(cfg, tmp_path / "two", n_jobs=2,
                      progress=lambda d, t, r: seen.append((d, t))).table_path
    )
    pd.testing.assert_frame_equal(one.drop(columns=TIMING), two.drop(columns=TIMING))
    assert seen[0] == (0, 6) and seen[-1] == (6, 6)


def test_second_start_skips_finished_runs_and_settings_must_match(tmp_path):
    cfg = tiny_config()
    run_benchmark(cfg, tmp_path, n_jobs=1)
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "results").iterdir()}
    again = run_benchmark(cfg, tmp_path, n_jobs=1)
    assert (again.n_ran, again.n_skipped) == (0, 4)
    after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "results").iterdir()}
    assert before == after
    with pytest.raises(ValueError, match="other settings .*budget"):
        run_benchmark(tiny_config(budget=30), tmp_path, n_jobs=1)
    # more seeds in the same folder: only the new runs run
    more = run_benchmark(tiny_config(seeds=3), tmp_path, n_jobs=1)
    assert (more.n_ran, more.n_skipped) == (2, 4)


RESUME_SCRIPT = textwrap.dedent(
    """
    import sys
    from activelab.lab.config import BenchmarkConfig
    from activelab.lab.runner import run_benchmark
    cfg = BenchmarkConfig(**RESUME_SETTINGS)
    run_benchmark(cfg, sys.argv[1], n_jobs=1)
    """
)
RESUME_SETTINGS = dict(name="resume", datasets=["digits"], strategies=["random", "margin"],
                       models=["logreg"], seeds=4, initial=10, batch_size=5, budget=40,
                       format="csv")


def test_benchmark_killed_with_sigkill_resumes_to_the_same_table(tmp_path):
    out = tmp_path / "killed"
    script = tmp_path / "bench.py"
    script.write_text(f"RESUME_SETTINGS = {RESUME_SETTINGS!r}\n" + RESUME_SCRIPT)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen([sys.executable, str(script), str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = out / "results"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = len(list(results.glob("*.json"))) if results.is_dir() else 0
        if done >= 2:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_before = len(list(results.glob("*.json")))
    assert 2 <= n_before < 8, "the benchmark must be killed mid-way"
    # a finished run's result is never half-written
    for path in results.glob("*.json"):
        json.loads(path.read_text())
    # rerun to the end in a fresh process
    subprocess.run([sys.executable, str(script), str(out)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # the same grid, uninterrupted, in another folder
    run_benchmark(BenchmarkConfig(**RESUME_SETTINGS), tmp_path / "clean", n_jobs=1)
    resumed = pd.read_csv(out / "results.csv")
    clean = pd.read_csv(tmp_path / "clean" / "results.csv")
    assert len(resumed) == 8 and resumed["run_id"].is_unique
    pd.testing.assert_frame_equal(resumed.drop(columns=TIMING), clean.drop(columns=TIMING))
    # no run was logged twice: every event log holds exactly one run
    for log in (out / "runs").glob("*/events.jsonl"):
        kinds = [e["event"] for e in read_events(log)]
        assert kinds.count("run_start") == 1 and kinds.count("run_end") == 1
    assert not list(results.glob("*.tmp"))


def test_gather_results_parquet(tmp_path):
    cfg = tiny_config(format="parquet", seeds=1)
    summary = run_benchmark(cfg, tmp_path, n_jobs=1)
    assert summary.table_path.suffix == ".parquet"
    frame = pd.read_parquet(summary.table_path)
    assert sorted(frame["strategy"]) == ["margin", "random"]
    assert gather_results(tmp_path) == summary.table_path
    assert len(load_results(tmp_path)) == 2


# ----------------------------------------------------------------------- CLI
def test_cli_benchmark_with_flags_then_report(tmp_path):
    from activelab.cli import app

    runner = CliRunner()
    out = tmp_path / "cli"
    result = runner.invoke(app, [
        "benchmark", "--datasets", "iris", "--strategies", "margin", "--seeds", "2",
        "--budget", "40", "--initial", "10", "--batch-size", "10", "--out", str(out),
        "-j", "1", "--format", "csv", "--no-report",
    ])
    assert result.exit_code == 0, result.output
    assert "4 runs done now, 0 were already done" in result.output
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "report" / "report.html").is_file()
    assert "no strategy beat random here" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["benchmark"], "--config"),
        (["benchmark", "--datasets", "iris", "--seeds", "two"], "--seeds"),
        (["benchmark", "--datasets", "iris", "--strategies", "nope"], "unknown strategy"),
        (["benchmark", "--config", "missing.toml"], "does not exist"),
        (["report", "nowhere"], "no such run folder 'nowhere'"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_code_2(tmp_path, args, message):
    from activelab.cli import app

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(app, args)
    finally:
        os.chdir(cwd)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_domain_scenario_keeps_source_labels_clean_and_counts_target_labels():
    from activelab.lab.runner import _CleanSourceOracle
    from activelab.oracles import NoisyOracle

    y = np.array([0, 1] * 10)
    noisy = NoisyOracle(y, error_rate=0.99, random_state=0)
    oracle = _CleanSourceOracle(y, n_source=8, noisy=noisy)
    ids = np.arange(20)
    answer = oracle.label(ids, None)
    assert answer.ids.tolist() == ids.tolist()
    assert np.array_equal(answer.labels[:8], y[:8])  # the source set comes labeled
    # binary noise at 99 %: (almost) every target answer is the other class
    assert np.mean(answer.labels[8:] != y[8:]) > 0.8


def test_the_default_strategies_are_auto_and_margin_against_random():
    assert BenchmarkConfig(datasets=["iris"]).strategies == ["random", "auto", "margin"]
