"""Bad input to ``simulate``, ``benchmark`` and ``report`` through the real command line:
exit code 2, one line on stderr, no traceback, nothing left behind; and a text CSV that
simulates end to end."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _cli_probe import REPORT_IMPORTS
from activelab.cli import app

ENV = {"COLUMNS": "400"}
SRC = Path(__file__).resolve().parents[2] / "src"
WORDS = {"spam": ["cheap pills now", "free money offer", "claim your prize"],
         "ham": ["meeting at noon", "project report attached", "notes from the call"]}


def _emails(folder: Path, n: int = 120) -> Path:
    path = folder / "emails.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text", "label"])
        for i in range(n):
            label = "spam" if i % 2 else "ham"
            writer.writerow([1000 + i, f"{WORDS[label][i % 3]} number {i}", label])
    return path


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _refused(tmp_path, monkeypatch, args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    before = _files(tmp_path)
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert _files(tmp_path) == before  # no output folder, no half-written file


@pytest.fixture()
def data(tmp_path):
    text = _emails(tmp_path).read_text(encoding="utf-8")
    (tmp_path / "bodies.csv").write_text(text.replace("id,text,", "id,body,", 1))
    (tmp_path / "inf.csv").write_text("a,b,label\n1,2,x\ninf,3,y\n4,5,x\n3,1,y\n")
    (tmp_path / "latin.csv").write_bytes("a,city,label\n1,Zürich,x\n2,Genève,y\n".encode("latin-1"))
    (tmp_path / "semi.csv").write_text("a;b;label\n1;2;x\n3;4;y\n")
    return tmp_path


SMALL = ["--seeds", "1", "--initial", "10", "--budget", "30"]


@pytest.mark.parametrize(
    "args, message",
    [
        # 1: text needs --text-column, and it is named in the message
        (["--data", "bodies.csv", "--label-column", "label", "--drop-columns", "id"],
         "text column(s) ['body'] of 'bodies.csv' have more than 20 distinct values"),
        (["--data", "emails.csv", "--text-column", "body"], "text_column names ['body']"),
        (["--data", "iris", "--text-column", "text"], "text_column only applies to CSV"),
        (["--data", "emails.csv", "--text-features", "bogus"], "--text-features must be"),
        (["--data", "emails.csv", "--drop-columns", ","], "--drop-columns is empty"),
        # 4: the data directory flag
        (["--data", "mnist-10k", "--data-dir", "nowhere"], "--data-dir 'nowhere' is not a folder"),
        # 5: an unwritable --out is found first; inf names the column
        (["--data", "iris", "--out", "/proc/activelab-never"], "--out '/proc/activelab-never'"),
        (["--data", "inf.csv"], "['a'] of 'inf.csv' hold infinite values"),
        # 6: nonsense numbers
        (["--batch", "100000"], "--batch (100000) is larger than the whole --budget (30)"),
        (["--target-of-full", "0"], "--target-of-full must be above 0"),
        (["--target", "0"], "--target must be above 0"),
        # 10: encodings and delimiters
        (["--data", "latin.csv"], "re-encode it as UTF-8, or give its encoding"),
        (["--data", "latin.csv", "--encoding", "klingon"], "unknown --encoding 'klingon'"),
        (["--data", "semi.csv"], "pass delimiter=';' (CLI: --delimiter ';')"),
        (["--data", "semi.csv", "--delimiter", ";;"], "--delimiter must be one character"),
        (["--model", "bogus"], "unknown model 'bogus' for --model"),
    ],
)
def test_simulate_refuses(data, monkeypatch, args, message):
    if "/proc" in " ".join(args) and not Path("/proc").is_dir():
        pytest.skip("needs a read-only /proc")
    _refused(data, monkeypatch, ["simulate", *SMALL, *args], message)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--datasets", "iris", "--n-jobs", "0"], "--n-jobs must be a number of worker processes"),
        (["--datasets", "iris", "--batch-size", "500", "--budget", "100"],
         "--batch-size (500) is larger than the whole --budget (100)"),
        (["--datasets", "iris", "--out", "/proc/activelab-never"], "--out '/proc/activelab-never'"),
        (["--datasets", "mnist-10k", "--data-dir", "nowhere"], "--data-dir 'nowhere'"),
        (["--datasets", "emails.csv", "--text-column", "body"], "text_column names ['body']"),
        (["--datasets", "iris", "--models", "bogus"], "unknown model 'bogus' for --models"),
        (["--datasets", "iris,digits", "--text-column", "text"],
         "text_column only applies to CSV/Parquet datasets, and none of --datasets is a file"),
    ],
)
def test_benchmark_refuses(data, monkeypatch, args, message):
    if "/proc" in " ".join(args) and not Path("/proc").is_dir():
        pytest.skip("needs a read-only /proc")
    _refused(data, monkeypatch, ["benchmark", *args], message)


def test_report_on_a_missing_folder(tmp_path, monkeypatch):
    _refused(tmp_path, monkeypatch, ["report", "nowhere"], "no such run folder 'nowhere'")


def test_text_csv_simulates_end_to_end(tmp_path, monkeypatch):
    _emails(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, [
        "simulate", "--data", "emails.csv", "--label-column", "label", "--text-column", "text",
        "--strategies", "margin", "--seeds", "2", "--initial", "10", "--budget", "40", "-q",
    ], env=ENV)
    assert result.exit_code == 0, result.output
    out = tmp_path / "runs" / "emails"
    assert sorted(p.name for p in out.iterdir()) == [
        "curves.csv", "events.jsonl", "learning_curve.png", "summary.md"]
    assert "column 'id' is taken as the items' ids" in result.stdout
    start = json.loads((out / "events.jsonl").read_text().splitlines()[0])
    from activelab.featurize import column_texts, text_features

    with open(tmp_path / "emails.csv", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    # the id column is not a feature: the features are the texts' TF-IDF terms alone
    assert start["config"]["n_features"] == text_features(column_texts(texts))[0].shape[1]
    with open(out / "curves.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["strategy"], int(r["n_labeled"])) for r in rows] == [
        (s, n) for s in ("margin", "random") for seed in (0, 1) for n in (10, 20, 30, 40)
    ]


@pytest.mark.parametrize("named", [["--id-column", "id"], ["--drop-columns", "id"]])
def test_a_named_id_or_dropped_column_is_no_feature(tmp_path, monkeypatch, named):
    text = _emails(tmp_path).read_text(encoding="utf-8")
    (tmp_path / "bodies.csv").write_text(text.replace("id,text,", "id,body,", 1))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, [
        "simulate", "--data", "bodies.csv", "--label-column", "label", "--text-column",
        "body", *named, "--strategies", "margin", *SMALL, "-q"], env=ENV)
    assert result.exit_code == 0, result.output
    assert "note: column 'id'" not in result.stdout  # named, so nothing is guessed
    start = json.loads((tmp_path / "runs" / "bodies" / "events.jsonl").read_text()
                       .splitlines()[0])
    from activelab.featurize import column_texts, text_features

    with open(tmp_path / "bodies.csv", encoding="utf-8") as fh:
        texts = [row["body"] for row in csv.DictReader(fh)]
    assert start["config"]["n_features"] == text_features(column_texts(texts))[0].shape[1]


def test_text_csv_benchmarks_end_to_end(tmp_path, monkeypatch):
    _emails(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, [
        "benchmark", "--datasets", "emails.csv", "--text-column", "text", "--strategies",
        "margin", "--seeds", "1", "--initial", "10", "--batch-size", "10", "--budget", "30",
        "--n-jobs", "1", "--format", "csv", "--no-report", "--out", "bench",
    ], env=ENV)
    assert result.exit_code == 0, result.output
    assert "2 runs done now" in result.stdout
    config = json.loads((tmp_path / "bench" / "config.json").read_text())
    assert config["text_column"] == ["text"]


def test_one_seed_is_one_seed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["simulate", *SMALL, "--data", "iris", "--strategies",
                                      "margin", "-q"], env=ENV)
    assert result.exit_code == 0, result.output
    assert "mean over 1 seed (no interval with one seed)" in result.stdout
    assert "1 seeds" not in result.stdout + (tmp_path / "runs/iris/summary.md").read_text()


def test_python_dash_m_runs_the_command_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "400"}
    proc = subprocess.run(
        [sys.executable, "-m", "activelab.cli", "simulate", "--batch", "0", "--out",
         str(tmp_path / "never")],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: --batch must be at least 1, got 0."
    assert proc.stdout == "" and not (tmp_path / "never").exists()


def test_the_fast_name_tables_agree_with_the_library():
    from activelab.cli._checks import BUILTIN_STRATEGIES, MODEL_NAMES
    from activelab.engine.models import MODELS
    from activelab.strategies import available_strategies

    assert BUILTIN_STRATEGIES <= set(available_strategies())
    assert set(MODEL_NAMES) == set(MODELS)


def _real_cli(args: list[str], cwd: Path) -> tuple[int, list[str], list[str]]:
    """``activelab ARGS`` in a subprocess: (exit code, stderr lines, heavy modules loaded)."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "400"}
    proc = subprocess.run([sys.executable, "-c", REPORT_IMPORTS, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    lines = proc.stderr.strip().splitlines()
    imported = lines.pop().removeprefix("imported:").strip()
    assert proc.stdout == "" and "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, lines, [m for m in imported.split(",") if m]


@pytest.mark.parametrize(
    "args, message",
    [
        # 6: nonsense numbers
        (["simulate", "--batch", "100000", "--budget", "30"], "--batch (100000) is larger"),
        (["simulate", "--target-of-full", "0"], "--target-of-full must be above 0"),
        (["benchmark", "--datasets", "iris", "--n-jobs", "0"], "--n-jobs must be a number"),
        # 5: the output folder is checked first
        (["simulate", "--data", "iris", "--out", "/proc/activelab-never"], "--out '/proc/"),
        # 7: the Label Studio backend takes the model table and says --text-features
        (["ls-backend", "--model", "bogus"], "unknown model 'bogus' for --model; choose one "
         "of logreg, rf, svm, knn, nb (classification)"),
        (["ls-backend", "--text-features", "bogus"], "--text-features must be tfidf or minilm"),
        (["ls-backend", "--model", "svm", "--port", "99999"], "--port must be between 1 and"),
        (["ls-backend", "--model", "knn", "--port", "0"], "--port must be between 1 and"),
        # 10: report on a missing folder
        (["report", "nowhere"], "no such run folder 'nowhere'"),
    ],
)
def test_checks_run_before_any_heavy_import(tmp_path, args, message):
    """8: a refused command answers before scikit-learn, pandas or the server load."""
    code, lines, imported = _real_cli(args, tmp_path)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines
    assert message in lines[0]
    assert imported == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["simulate", "--bogus"], "No such option: --bogus"),
        (["score", "--model", "m.skops", "--pool", "p.npy"], "No such option: --pool"),
        (["ls-backend", "--port", "x"], "Invalid value for '--port'"),
        (["score", "p.npy", "--model", "m.skops", "--out", "o.csv", "--n", "ten"],
         "Invalid value for '--n'"),
        (["score"], "Missing argument 'pool'"),
    ],
)
def test_a_mistyped_option_is_one_line_too(tmp_path, args, message):
    code, lines, _ = _real_cli(args, tmp_path)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines
    assert message in lines[0] and lines[0].endswith(f"{args[0]} --help`.")
    assert list(tmp_path.iterdir()) == []


def test_ls_backend_refuses_a_model_without_probabilities(tmp_path):
    code, lines, _ = _real_cli(["ls-backend", "--model", "sklearn.svm:LinearSVC"], tmp_path)
    assert code == 2 and lines == [
        "error: model 'sklearn.svm:LinearSVC' has no predict_proba, which query strategies "
        "need; use a probabilistic classifier (for a support vector machine use 'svm')."]
    assert list(tmp_path.iterdir()) == []


def _zhan_file(name: str) -> Path:
    from activelab.datasets.real import default_data_dir

    root = default_data_dir()
    path = (root / "zhan2021-tabular" / f"{name}-svmstyle.txt.gz") if root else None
    if path is None or not path.is_file():
        pytest.skip("needs the Zhan et al. data under ../shared/data or ACTIVELAB_DATA_DIR")
    return path


def test_data_dir_finds_the_real_datasets(tmp_path, monkeypatch):
    """4: --data-dir is how a pip-installed activelab finds the real datasets."""
    data = tmp_path / "my-data" / "zhan2021-tabular"
    data.mkdir(parents=True)
    (data / "appendicitis-svmstyle.txt.gz").write_bytes(_zhan_file("appendicitis").read_bytes())
    monkeypatch.delenv("ACTIVELAB_DATA_DIR", raising=False)
    _refused(tmp_path, monkeypatch, ["simulate", *SMALL, "--data", "zhan:sonar", "--data-dir",
                                     "my-data"],
             "dataset 'zhan:sonar' needs zhan2021-tabular/sonar-svmstyle.txt.gz under 'my-data'"
             ", which is missing; copy the files there or point data_dir (CLI: --data-dir")
    result = CliRunner().invoke(app, ["simulate", *SMALL, "--data", "zhan:appendicitis",
                                      "--data-dir", "my-data", "--strategies", "margin", "-q"],
                                env=ENV)
    assert result.exit_code == 0, result.output
    start = json.loads((tmp_path / "runs" / "zhan-appendicitis" / "events.jsonl")
                       .read_text().splitlines()[0])
    assert start["config"]["n_features"] == 7  # appendicitis: 106 rows x 7 features


def test_simulate_and_benchmark_take_the_table_flags_declared_once():
    import typer

    from activelab.cli._options import TABLE_FLAGS

    commands = typer.main.get_command(app).commands
    wanted = {*TABLE_FLAGS, "data_dir"}
    for name in ("simulate", "benchmark"):
        params = [p.name for p in commands[name].params]
        assert wanted <= set(params) and "load" not in params
        # the seven table options stand together, just before --data-dir
        at = params.index("data_dir")
        assert params[at - len(TABLE_FLAGS):at] == list(TABLE_FLAGS)
