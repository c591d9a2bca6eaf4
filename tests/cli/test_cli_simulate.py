"""`activelab simulate` end to end on a small dataset, and its handling of bad input."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from activelab.cli import app
from activelab.datasets.real import default_data_dir

# rich wraps long lines at the terminal width (80 when output is not a terminal); a wide
# terminal lets the tests check that each error is a single line of text.
ENV = {"COLUMNS": "400"}
SMALL = ["--data", "iris", "--seeds", "2", "--initial", "10", "--batch", "10", "--budget", "40"]


def invoke(*args: str):
    return CliRunner().invoke(app, ["simulate", *args], env=ENV)


def test_simulate_end_to_end(tmp_path):
    out = tmp_path / "runs" / "iris"
    result = invoke(*SMALL, "--strategies", "margin,vote_entropy", "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["curves.csv", "events.jsonl", "learning_curve.png", "summary.md"]
    text = result.stdout
    for column in ("strategy", "AULC 10–40", "labels to target", "saved vs random", "query"):
        assert column in text
    for strategy in ("margin", "vote_entropy", "random"):
        assert strategy in text
    assert "AULC: mean test accuracy over 10–40 labels" in text
    assert "±: 95% t-interval of the mean over 2 seeds." in text
    assert "note: added 'random' as the baseline" in text
    assert str(out / "learning_curve.png") in text
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    # 3 strategies x 2 seeds, each: run_start, 4 rounds (10, 20, 30, 40 labels), run_end
    assert len(events) == 3 * 2 * 6
    assert {e["run_id"] for e in events} == {
        f"{s}-seed{k}" for s in ("margin", "vote_entropy", "random") for k in (0, 1)
    }


def test_rerun_into_the_same_folder_replaces_the_files(tmp_path):
    out = tmp_path / "out"
    args = [*SMALL, "--strategies", "random", "--seeds", "1", "--out", str(out), "-q"]
    assert invoke(*args).exit_code == 0
    n_lines = len((out / "events.jsonl").read_text().splitlines())
    assert n_lines == 1 + 4 + 1
    assert invoke(*args).exit_code == 0
    assert len((out / "events.jsonl").read_text().splitlines()) == n_lines  # not appended


def test_csv_with_label_column_and_absolute_target(tmp_path):
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    path = tmp_path / "flowers.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = invoke("--data", str(path), "--label-column", "target", "--seeds", "1",
                    "--initial", "10", "--budget", "20", "--target", "0.5", "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    assert "first reached 0.5" in result.stdout
    assert (out / "summary.md").read_text().startswith("# Active learning on flowers")


@pytest.mark.slow
@pytest.mark.skipif(
    default_data_dir() is None or not default_data_dir().is_dir(),
    reason="the shared data directory (../shared/data or $ACTIVELAB_DATA_DIR) is absent",
)
def test_sparse_tfidf_mail_with_logreg(tmp_path):
    # the spam corpus is a sparse TF-IDF matrix: logreg's scaler must not centre it
    out = tmp_path / "spam"
    result = invoke("--data", "spamassassin", "--model", "logreg", "--strategies", "margin",
                    "--seeds", "1", "--initial", "20", "--batch", "20", "--budget", "60",
                    "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    with open(out / "curves.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["strategy"], int(r["n_labeled"])) for r in rows] == [
        (s, n) for s in ("margin", "random") for n in (20, 40, 60)
    ]
    accuracy = {(r["strategy"], int(r["n_labeled"])): float(r["accuracy"]) for r in rows}
    assert accuracy[("margin", 60)] > accuracy[("margin", 20)] + 0.1  # it learned
    start = json.loads((out / "events.jsonl").read_text().splitlines()[0])
    assert start["dataset"] == "spamassassin" and start["config"]["n_features"] == 20000


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seeds", "x"], "--seeds must be a whole number, got 'x'."),
        (["--noise", "1.5"], "--noise must be between 0 and 1"),
        (["--strategies", "margin,nope"], "unknown query strategy 'nope'"),
        (["--model", "sklearn.svm:LinearSVC"], "has no predict_proba"),
        (["--model", "nowhere_xyz:Model"], "cannot import module 'nowhere_xyz'"),
        (["--data", "missing.csv"], "data file 'missing.csv' does not exist"),
        (["--data", "iris", "--label-column", "kind"], "label_column only applies"),
        (["--initial", "50", "--budget", "20"], "budget (20) is smaller than initial (50)"),
        (["--target", "0.9", "--target-of-full", "0.9"], "not both"),
        (["--data", "synthetic:classes=3,imbalance=0.9"], "minority class's share"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_output(tmp_path, args, message):
    out = tmp_path / "never"
    result = invoke(*args, "--out", str(out))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()


def test_bad_csv_files(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00\x81garbage\x00\n\xc3\x28")
    good = tmp_path / "good.csv"
    good.write_text("a,b,kind\n1,2,x\n3,4,y\n")
    out = tmp_path / "never"
    for args, message in (
        (["--data", str(bad), "--label-column", "y"], "could not read 'bad.csv' as CSV"),
        (["--data", str(good), "--label-column", "label"], "columns present: a, b, kind"),
    ):
        result = invoke(*args, "--out", str(out))
        assert result.exit_code == 2 and message in result.stderr
        assert not out.exists()


def test_out_must_be_a_folder(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    result = invoke(*SMALL, "--out", str(target))
    assert result.exit_code == 2 and "is a file" in result.stderr
    assert target.read_text() == "keep me"


def test_failure_while_writing_removes_what_was_created(tmp_path, monkeypatch):
    from activelab.experiment import SimulationResult

    def broken(self, path):
        raise OSError("disk full")

    monkeypatch.setattr(SimulationResult, "write_summary", broken)
    out = tmp_path / "a" / "b"
    result = invoke(*SMALL, "--strategies", "random", "--seeds", "1", "--out", str(out), "-q")
    assert result.exit_code != 0
    assert not (tmp_path / "a").exists()


def test_default_output_folder_is_named_after_the_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("--data", "synthetic:samples=120,classes=2", "--strategies", "random",
                    "--seeds", "1", "--initial", "10", "--budget", "20", "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "runs" / "synthetic" / "summary.md").is_file()


def test_without_strategies_auto_leads_with_its_live_verdict(tmp_path):
    out = tmp_path / "runs" / "iris"
    result = invoke(*SMALL, "--seeds", "1", "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert [e["run_id"] for e in events if e["event"] == "run_start"] == [
        "auto-seed0", "margin-seed0", "entropy-seed0", "random-seed0"]
    assert "live verdict" in (out / "summary.md").read_text().lower()
