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
