"""`activelab score`: a saved model scores a pool on disk; every bad input is one line."""

from __future__ import annotations

import csv
import os

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from _scale_data import fitted_learner, in_memory_ids, pool_data
from activelab.cli import app
from activelab.scale import prefilter_select

sio = pytest.importorskip("skops.io", reason="model files are skops files")

ENV = {"COLUMNS": "400"}
LABELED = np.array([4, 44, 444, 2444])


def invoke(*args: str):
    return CliRunner().invoke(app, ["score", *args], env=ENV)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("score")
    np.save(folder / "pool.npy", pool_data()[2])
    np.save(folder / "labeled.npy", LABELED)
    (folder / "labeled.txt").write_text("\n".join(map(str, LABELED)) + "\n")
    fitted_learner().save(folder / "learner.skops")
    X_train, y_train, _ = pool_data()
    sio.dump(LogisticRegression(max_iter=300).fit(X_train, y_train), folder / "plain.skops")
    return folder


def _rows(path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("model", ["learner.skops", "plain.skops"])
def test_score_writes_ranked_ids_and_utilities(files, tmp_path, model):
    out = tmp_path / "picks.csv"
    result = invoke(str(files / "pool.npy"), "--model", str(files / model), "--strategy",
                    "entropy", "--n", "25", "--labeled", str(files / "labeled.npy"),
                    "--chunk-rows", "300", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = _rows(out)
    expected = in_memory_ids("entropy", 25, exclude=LABELED)
    assert [int(r["id"]) for r in rows] == expected.tolist()
    assert [int(r["rank"]) for r in rows] == list(range(1, 26))
    utilities = [float(r["utility"]) for r in rows]
    assert utilities == sorted(utilities, reverse=True) and utilities[-1] > 0
    assert "wrote 25 ids" in result.stdout and "2496 candidates" in result.stdout
    assert "2496/2496" in result.output  # the progress bar's last state
    assert sorted(os.listdir(tmp_path)) == ["picks.csv"]


def test_score_on_a_dask_scheduler_and_a_text_id_list(files, tmp_path):
    distributed = pytest.importorskip("distributed", reason="the Dask path needs dask.distributed")
    out = tmp_path / "picks.csv"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        result = invoke(str(files / "pool.npy"), "--model", str(files / "learner.skops"),
                        "--strategy", "margin", "--n", "10", "--labeled",
                        str(files / "labeled.txt"), "--scheduler", cluster.scheduler_address,
                        "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    assert [int(r["id"]) for r in _rows(out)] == in_memory_ids("margin", 10, LABELED).tolist()


def test_score_a_batch_strategy_on_prefiltered_rows(files, tmp_path):
    out = tmp_path / "picks.csv"
    result = invoke(str(files / "pool.npy"), "--model", str(files / "learner.skops"),
                    "--strategy", "coreset", "--n", "5", "--candidates", "100", "--labeled",
                    str(files / "labeled.npy"), "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    assert "coreset" in result.stdout and "2496 candidates" in result.stdout
    expected = prefilter_select(fitted_learner(), pool_data()[2], 5, strategy="coreset",
                                n_candidates=100, labeled_ids=LABELED)
    assert [int(r["id"]) for r in _rows(out)] == expected.ids.tolist()


def _error(result) -> str:
    assert result.exit_code == 2, result.output
    text = result.output.strip()
    assert text.count("\n") == 0 and "Traceback" not in text, text
    return text


def test_bad_inputs_are_one_line_and_leave_nothing(files, tmp_path):
    pool, learner = str(files / "pool.npy"), str(files / "learner.skops")
    np.save(tmp_path / "wide.npy", np.zeros((10, 7)))
    (tmp_path / "notes.txt").write_text("not a model")
    sio.dump(LogisticRegression(), tmp_path / "unfitted.skops")
    out = str(tmp_path / "picks.csv")
    cases = [
        ((str(tmp_path / "wide.npy"), "--model", learner, "--out", out),
         "fitted on 5 features but the pool"),
        ((pool, "--model", str(tmp_path / "missing.skops"), "--out", out), "no model file"),
        ((pool, "--model", str(tmp_path / "notes.txt"), "--out", out), "not a skops model"),
        ((pool, "--model", str(tmp_path / "unfitted.skops"), "--out", out), "is not fitted"),
        ((str(tmp_path / "nope.npy"), "--model", learner, "--out", out), "does not exist"),
        ((pool, "--model", learner, "--out", str(tmp_path / "picks.txt")), "must be a .csv"),
        ((pool, "--model", learner, "--out", str(tmp_path / "no" / "p.csv")), "does not exist"),
        ((pool, "--model", learner, "--n", "0", "--out", out), "--n must be at least 1"),
        ((pool, "--model", learner, "--n", "3000", "--out", out), "larger than the 2500"),
        ((pool, "--model", learner, "--strategy", "nope", "--out", out), "nope"),
        ((pool, "--model", learner, "--labeled", str(tmp_path / "notes.txt"), "--out", out),
         "must hold integer pool ids"),
        ((pool, "--model", learner, "--workers", "1", "--scheduler", "tcp://x:1",
          "--out", out), "not both"),
        ((pool, "--model", learner, "--workers", "0", "--out", out), "at least 1"),
        ((pool, "--model", learner, "--columns", "a,b", "--out", out), "for Parquet pools"),
    ]
    np.save(tmp_path / "far.npy", np.array([1, 99_999]))
    cases.append(((pool, "--model", learner, "--labeled", str(tmp_path / "far.npy"),
                   "--out", out), "made for another pool"))
    for args, message in cases:
        text = _error(invoke(*args))
        assert message in text, (args, text)
    assert sorted(os.listdir(tmp_path)) == ["far.npy", "notes.txt", "unfitted.skops",
                                            "wide.npy"]


def test_an_unreachable_scheduler_is_one_line(files, tmp_path):
    pytest.importorskip("distributed", reason="the Dask path needs dask.distributed")
    text = _error(invoke(str(files / "pool.npy"), "--model", str(files / "learner.skops"),
                         "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "1",
                         "--out", str(tmp_path / "p.csv")))
    assert "cannot reach the Dask scheduler" in text
    assert os.listdir(tmp_path) == []
