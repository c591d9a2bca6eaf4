"""Multi-label and regression projects through the real server: ``activelab label`` started for
real on a real SQLite file; answers posted to its API, read back from the file, exported, and
learnt from by the background scorer."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from _live import api, exported_labels, live_server, next_item, run_cli, wait_until
from activelab.store import Store
from activelab.store.targets import consensus_targets

pytestmark = pytest.mark.slow

TOPICS = {"sport": "goal match team win", "money": "bank cash profit loan",
          "weather": "rain sun storm cloud"}


def topic_data(tmp_path: Path, n: int = 40) -> tuple[Path, dict[int, list[str]]]:
    """Texts about one or two topics, and the topics of each (by row number)."""
    rng = np.random.default_rng(0)
    names = list(TOPICS)
    texts, truth = [], {}
    for i in range(n):
        chosen = sorted(rng.choice(3, size=1 + i % 2, replace=False).tolist())
        truth[i] = [names[j] for j in chosen]
        words = " ".join(TOPICS[names[j]] for j in chosen).split()
        texts.append(" ".join(rng.permutation(words).tolist()))
    path = tmp_path / "topics.csv"
    pd.DataFrame({"text": texts}).to_csv(path, index=False)
    return path, truth


def rated_data(tmp_path: Path, n: int = 40) -> tuple[Path, dict[int, float]]:
    """Rows with two numeric features; the number to give is 2 a + b."""
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0, 4, n).round(2), rng.uniform(0, 2, n).round(2)
    path = tmp_path / "rated.csv"
    pd.DataFrame({"a": a, "b": b}).to_csv(path, index=False)
    return path, {i: float(2 * a[i] + b[i]) for i in range(n)}


def post(base: str, token: str, path: str, body: dict) -> httpx.Response:
    return httpx.post(base + path, json=body, headers={"Authorization": f"Bearer {token}"},
                      timeout=10)


def common(tmp_path: Path, data: Path, strategy: str | None = None) -> list[str]:
    """The options of a test project; the task's default strategy unless one is named."""
    return [str(data), "--db", f"sqlite:///{tmp_path / 'tasks.db'}", "--project-dir",
            str(tmp_path / "p"), "--batch", "4",
            *(["--strategy", strategy] if strategy else [])]


def test_multilabel_sets_are_stored_exported_and_learnt(tmp_path: Path) -> None:
    data, truth = topic_data(tmp_path)
    args = common(tmp_path, data) + ["--labels", "sport,money,weather", "--multilabel"]
    with live_server(args, tmp_path) as (base, token, lines):
        assert any("several labels per item from sport, money, weather" in ln for ln in lines)
        proj = api(base, token, "/api/project")
        assert (proj["task"], proj["labels"], proj["metric"]) == \
            ("multilabel", ["sport", "money", "weather"], "micro F1")
        given = {}
        for _ in range(12):
            item = next_item(base, token)
            chosen = truth[item["item_id"]][::-1]  # any order: stored in label order
            r = post(base, token, "/api/labels", {"item_id": item["item_id"], "labels": chosen})
            assert r.status_code == 200 and r.json()["status"] == "recorded", r.text
            given[item["item_id"]] = truth[item["item_id"]]
        # a retry of the same set is a duplicate; another set is a conflict
        last = item["item_id"]
        assert post(base, token, "/api/labels", {"item_id": last, "labels": chosen}
                    ).json()["status"] == "duplicate"
        assert post(base, token, "/api/labels", {"item_id": last, "labels": []}
                    ).status_code == 409
        wait_until(lambda: api(base, token, "/api/progress")["model_version"] >= 1, 90)
        rows = exported_labels(base, token)
        assert {r["item_id"]: r["label"] for r in rows} == given
        csv_text = api(base, token, "/api/admin/export/labels?format=csv")
        assert json.dumps(given[last], separators=(",", ":")) in csv_text.replace('""', '"')
        ls = api(base, token, "/api/admin/export/labels?format=labelstudio")
        assert {t["data"]["activelab_id"]: t["annotations"][0]["result"][0]["value"]["choices"]
                for t in ls} == given
        curve = api(base, token, "/api/progress")["curve"]
        assert curve[0]["n_labels"] >= 4
        # the trained model's queue is ranked by the multi-label default
        ranked: list[dict] = []

        def ranked_item() -> bool:
            item = next_item(base, token)
            post(base, token, "/api/skip", {"item_id": item["item_id"]})
            if item["why"]["strategy"] == "multilabel_margin":
                ranked.append(item)
            return bool(ranked)

        wait_until(ranked_item, 90)
        assert ranked[0]["why"]["text"].startswith("the model is unsure which labels apply")
    store = Store(f"sqlite:///{tmp_path / 'tasks.db'}")
    try:
        pid = store.find_project("topics")
        ids, stored, _ = store.label_arrays(pid)
        order = ["sport", "money", "weather"]
        assert {int(i): json.loads(s) for i, s in zip(ids, stored, strict=True)} == \
            {k: [x for x in order if x in v] for k, v in given.items()}
        lab_ids, Y = consensus_targets(store, pid, "multilabel", order)
        assert Y.dtype == np.int8 and Y.shape == (12, 3)
        assert Y.sum() == sum(len(v) for v in given.values())
        assert store.model_rows(pid)[0]["n_labels"] >= 4
    finally:
        store.close()


def test_multilabel_answers_that_do_not_fit_are_refused(tmp_path: Path) -> None:
    data, _ = topic_data(tmp_path, n=10)
    args = common(tmp_path, data) + ["--labels", "sport,money,weather", "--multilabel"]
    with live_server(args, tmp_path) as (base, token, _):
        item = next_item(base, token)["item_id"]
        for body, words in [({"labels": ["sport", "chess"]}, "'chess' is not one of"),
                            ({"labels": ["sport", "sport"]}, "given twice"),
                            ({"label": "sport"}, "send 'labels'"),
                            ({"labels": ["sport"], "value": 3}, "not 'value'"),
                            ({}, "send 'labels'"), ({"labels": "sport"}, "")]:
            r = post(base, token, "/api/labels", {"item_id": item} | body)
            assert r.status_code == 422, (body, r.text)
            assert words in r.text, (body, r.text)
        assert exported_labels(base, token) == []
        r = post(base, token, "/api/labels", {"item_id": item, "labels": []})  # none applies
        assert r.json()["status"] == "recorded"
        assert [x["label"] for x in exported_labels(base, token)] == [[]]


def test_regression_numbers_are_stored_exported_and_learnt(tmp_path: Path) -> None:
    data, truth = rated_data(tmp_path)
    args = common(tmp_path, data) + ["--regression", "--min", "0", "--max", "10"]
    with live_server(args, tmp_path) as (base, token, lines):
        assert any("a number per item in [0, 10]" in ln for ln in lines)
        proj = api(base, token, "/api/project")
        assert (proj["task"], proj["labels"], proj["min"], proj["max"], proj["metric"]) == \
            ("regression", [], 0.0, 10.0, "R²")
        given = {}
        for _ in range(12):
            item = next_item(base, token)
            value = truth[item["item_id"]]
            r = post(base, token, "/api/labels", {"item_id": item["item_id"], "value": value})
            assert r.status_code == 200, r.text
            given[item["item_id"]] = value
        wait_until(lambda: api(base, token, "/api/progress")["model_version"] >= 1, 90)
        assert {r["item_id"]: r["label"] for r in exported_labels(base, token)} == given
        ls = api(base, token, "/api/admin/export/labels?format=labelstudio")
        assert {t["data"]["activelab_id"]: t["annotations"][0]["result"][0]["value"]["number"]
                for t in ls} == given
        # the trained model's queue is ranked by the regression default, greedy_io, and
        # once the model beats the mean (R² > 0) its guess is a number
        ranked: list[dict] = []

        def ranked_item() -> bool:
            item = next_item(base, token)
            post(base, token, "/api/skip", {"item_id": item["item_id"]})
            if item["why"]["strategy"] == "greedy_io" and item["guess"] is not None:
                ranked.append(item)
            return bool(ranked)

        wait_until(ranked_item, 90)
        assert ranked[0]["why"]["text"].startswith("no labeled item is near it in both")
        assert isinstance(ranked[0]["guess"], float)
    store = Store(f"sqlite:///{tmp_path / 'tasks.db'}")
    try:
        pid = store.find_project("rated")
        ids, y = consensus_targets(store, pid, "regression", [])
        assert dict(zip(ids.tolist(), y.tolist(), strict=True)) == given
        assert store.model_rows(pid)[-1]["cv_accuracy"] > 0  # R² of the linear model
    finally:
        store.close()


def test_regression_refuses_numbers_that_are_not_finite_or_out_of_range(tmp_path: Path) -> None:
    data, _ = rated_data(tmp_path, n=10)
    args = common(tmp_path, data) + ["--regression", "--min", "0", "--max", "10"]
    with live_server(args, tmp_path) as (base, token, _):
        item = next_item(base, token)["item_id"]
        for value in ["NaN", "Infinity", "-Infinity", "abc", "", "3.5", True, None, 10.5, -1]:
            r = post(base, token, "/api/labels", {"item_id": item, "value": value})
            assert r.status_code == 422, (value, r.text)
        raw = f'{{"item_id": {item}, "value": NaN}}'  # NaN as a bare JSON token
        r = httpx.post(base + "/api/labels", content=raw, timeout=10,
                       headers={"Authorization": f"Bearer {token}",
                                "Content-Type": "application/json"})
        assert r.status_code == 422, r.text
        assert "outside the project's range [0.0, 10.0]" in post(
            base, token, "/api/labels", {"item_id": item, "value": 11}).text
        assert post(base, token, "/api/labels", {"item_id": item, "label": "x"}).status_code == 422
        assert exported_labels(base, token) == []
        assert post(base, token, "/api/labels", {"item_id": item, "value": 10}).status_code == 200
        assert [r["label"] for r in exported_labels(base, token)] == [10.0]


@pytest.mark.parametrize("extra, message", [
    (["--labels", "a,b", "--multilabel", "--regression"], "not both"),
    (["--regression", "--labels", "a,b"], "--regression takes numbers, not --labels"),
    (["--labels", "a,b", "--min", "0"], "--min/--max bound the numbers of a --regression"),
    (["--regression", "--min", "5", "--max", "1"], "--min (5) must be below --max (1)"),
    (["--regression", "--max", "nan"], "--max must be a finite number"),
    (["--regression", "--hotkeys", "a"], "drop --hotkeys"),
    (["--multilabel"], "--labels is required for a new project"),
    (["--labels", "a,b", "--multilabel", "--strategy", "margin"],
     "--strategy: query strategy 'margin' is for classification, not multilabel"),
    (["--regression", "--strategy", "entropy"],
     "--strategy: query strategy 'entropy' is for classification, not regression"),
    (["--labels", ",".join(f"label-number-{i:02d}" for i in range(14)), "--multilabel"],
     "stores each item's set of labels in 200 characters"),
])
def test_bad_task_options_are_one_line_and_exit_2(tmp_path: Path, extra, message) -> None:
    data, _ = topic_data(tmp_path, n=5)
    res = run_cli(["label", str(data), "--db", f"sqlite:///{tmp_path / 'x.db'}",
                   "--project-dir", str(tmp_path / "p"), *extra], tmp_path)
    assert res.returncode == 2, res.output
    errors = [ln for ln in res.output.splitlines() if not ln.startswith("imported:")]
    assert len(errors) == 1 and message in errors[0], res.output
    assert not (tmp_path / "x.db").exists()


def test_a_project_reopens_only_as_its_task(tmp_path: Path) -> None:
    data, _ = topic_data(tmp_path, n=5)
    db = f"sqlite:///{tmp_path / 'x.db'}"
    from activelab.server.project import open_project

    proj = open_project(data, ["a", "b"], db=db, project_dir=tmp_path / "p", task="multilabel",
                        strategy="coreset")
    proj.store.close()
    res = run_cli(["label", str(data), "--db", db, "--regression"], tmp_path)
    assert res.returncode == 2
    assert "project 'topics' exists as a multilabel project; reopen it without the " \
           "--regression flag" in res.output
