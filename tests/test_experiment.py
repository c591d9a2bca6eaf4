"""Multi-seed simulations: models by name, pairing by seed, accounting, summary and files."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from sklearn.datasets import load_iris

from activelab.datasets import load_dataset
from activelab.evaluation import aulc, labels_to_target
from activelab.experiment import MODELS, make_model, simulate

SMALL = dict(seeds=2, initial=10, batch_size=5, budget=30)


@pytest.fixture(scope="module")
def iris_result():
    return simulate("iris", strategies=["margin", "entropy"], **SMALL)


# ----------------------------------------------------------------------------- models
# scikit-learn 1.9 deprecates SVC(probability=True), which the "svm" model still uses
@pytest.mark.filterwarnings("ignore:The `probability` parameter:FutureWarning")
@pytest.mark.parametrize("name", sorted(MODELS))
def test_named_models_are_probabilistic(name):
    est = make_model(name, random_state=0)
    assert hasattr(est, "predict_proba")
    X, y = load_iris(return_X_y=True)
    assert est.fit(X, y).predict_proba(X[:3]).shape == (3, 3)


def test_module_class_models():
    est = make_model("sklearn.tree:DecisionTreeClassifier", random_state=3)
    assert type(est).__name__ == "DecisionTreeClassifier" and est.random_state == 3


@pytest.mark.parametrize(
    "spec, error, message",
    [
        ("forest", ValueError, "unknown model 'forest'; choose one of logreg"),
        ("no_such_module_xyz:Model", ValueError, "cannot import module 'no_such_module_xyz'"),
        ("sklearn.tree:NoSuchTree", ValueError, "has no class 'NoSuchTree'"),
        ("sklearn.svm:LinearSVC", TypeError, "has no predict_proba"),
        (42, TypeError, "model must be a name"),
    ],
)
def test_bad_models(spec, error, message):
    with pytest.raises(error, match=message):
        make_model(spec)


# ------------------------------------------------------------------------- simulation
def test_random_is_added_as_baseline(iris_result):
    assert iris_result.strategies == ["margin", "entropy", "random"]
    assert any("baseline" in note for note in iris_result.notes)
    assert simulate("iris", strategies=["random"], seeds=1, initial=10, budget=20).notes == []


def test_every_run_accounts_for_its_labels(iris_result):
    for runs in iris_result.runs.values():
        assert len(runs) == 2
        for run in runs:
            n, _ = run.curve()
            assert n.tolist() == [10, 15, 20, 25, 30]
            ids = run.labeled_ids
            assert ids.size == 30 and np.unique(ids).size == 30
            assert run.n_labeled == 30


def test_same_seed_same_split_and_initial_set_for_every_strategy(iris_result):
    starts = {
        (e["strategy"], e["seed"]): e for e in iris_result.events if e["event"] == "run_start"
    }
    for seed in (0, 1):
        ref = starts[("random", seed)]
        for s in ("margin", "entropy"):
            assert starts[(s, seed)]["test_rows"].tolist() == ref["test_rows"].tolist()
            assert starts[(s, seed)]["initial_ids"] == ref["initial_ids"]
    # different seeds split differently
    assert starts[("random", 0)]["test_rows"].tolist() != starts[("random", 1)]["test_rows"].tolist()
    # pool and test rows partition the data (stratified: 38 test rows of 150)
    ref = starts[("random", 0)]
    rows = np.concatenate([ref["pool_rows"], ref["test_rows"]])
    assert np.array_equal(np.sort(rows), np.arange(150)) and len(ref["test_rows"]) == 38


def test_split_is_stratified():
    y = load_iris().target
    res = simulate("iris", strategies=["random"], seeds=1, initial=10, budget=15)
    start = next(e for e in res.events if e["event"] == "run_start")
    counts = np.bincount(y[start["test_rows"]])
    assert counts.max() - counts.min() <= 1


def test_same_settings_give_the_same_result(iris_result):
    again = simulate("iris", strategies=["margin", "entropy"], **SMALL)
    for s in iris_result.strategies:
        for a, b in zip(iris_result.runs[s], again.runs[s], strict=True):
            np.testing.assert_array_equal(a.labeled_ids, b.labeled_ids)
            np.testing.assert_array_equal(a.curve()[1], b.curve()[1])


def test_summary_numbers_add_up(iris_result):
    rows = {r.strategy: r for r in iris_result.summary()}
    curves = iris_result.curves()
    targets = iris_result.targets
    np.testing.assert_allclose(targets, 0.95 * iris_result.full_pool_scores)
    need = {
        s: np.array([labels_to_target(n, v, t) for (n, v), t in zip(c, targets, strict=True)])
        for s, c in curves.items()
    }
    for s, row in rows.items():
        assert row.n_seeds == 2
        assert row.aulc.mean == pytest.approx(np.mean([aulc(n, v) for n, v in curves[s]]))
        assert row.n_reached == int(np.sum(~np.isnan(need[s])))
    margin = rows["margin"]
    both = ~np.isnan(need["margin"]) & ~np.isnan(need["random"])
    assert margin.savings.n_pairs == int(both.sum())
    if both.any():
        saved = need["random"][both] - need["margin"][both]
        assert margin.savings.labels.mean == pytest.approx(saved.mean())
    assert rows["random"].savings is None


def test_a_tiny_target_is_reached_at_the_initial_set():
    res = simulate("iris", strategies=["margin"], target=1e-9, **SMALL)
    for row in res.summary():
        assert row.labels_to_target.mean == 10 and row.n_reached == 2
        if row.savings is not None:
            assert row.savings.labels.mean == 0 and row.savings.percent.mean == 0


def test_arrays_and_noise():
    ds = load_dataset("synthetic:samples=200,features=6")
    res = simulate(ds.X, ds.y, strategies=["margin"], seeds=1, initial=10, batch_size=10,
                   budget=60, noise=0.3)
    run = res.runs["margin"][0]
    assert res.dataset == "data"
    assert run.oracle_info["n_corrupted"] > 0
    # the pool keeps the (noisy) labels the oracle gave
    y_pool = ds.y[next(e for e in res.events if e["event"] == "run_start")["pool_rows"]]
    wrong = np.sum(run.pool.labels_of(run.labeled_ids) != y_pool[run.labeled_ids])
    assert wrong == run.oracle_info["n_corrupted"]


def test_budget_beyond_the_pool_is_lowered_with_a_note():
    res = simulate("iris", strategies=["random"], seeds=1, initial=10, batch_size=50, budget=500)
    assert res.config["budget"] == 112
    assert any("budget lowered from 500" in n for n in res.notes)
    assert res.runs["random"][0].n_labeled == 112


def test_progress_callback_sees_every_round():
    seen = []
    simulate("iris", strategies=["random"], seeds=2, initial=10, batch_size=10, budget=30,
             progress=lambda desc, done, total: seen.append((desc, done, total)))
    # 3 rounds (10, 20, 30 labels) x 2 seeds
    assert [d for _, d, _ in seen] == [1, 2, 3, 4, 5, 6]
    assert {t for *_, t in seen} == {6}
    assert seen[0][0] == "random-seed0" and seen[-1][0] == "random-seed1"


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(strategies=["nope"]), ValueError, "unknown query strategy 'nope'"),
        (dict(strategies=[]), ValueError, "strategies is empty"),
        (dict(strategies=["margin", "margin"]), ValueError, "listed twice"),
        (dict(budget=5), ValueError, r"budget \(5\) is smaller than initial"),
        (dict(test_size=1.5), ValueError, "test_size"),
        (dict(noise=2), ValueError, "noise"),
        (dict(target=0.9, target_of_full=0.9), ValueError, "not both"),
        (dict(seeds=0), ValueError, "seeds must be at least 1"),
        (dict(initial=200, budget=300), ValueError, "smaller than the pool"),
        (dict(metric="auc"), ValueError, "unknown metric"),
        (dict(model="svc"), ValueError, "unknown model"),
        (dict(cost_per_label=-1), ValueError, "cost_per_label"),
    ],
)
def test_bad_settings(kwargs, error, message):
    settings = {"strategies": ["margin"], "seeds": 1, "initial": 10, "budget": 20, **kwargs}
    with pytest.raises(error, match=message):
        simulate("iris", **settings)


def test_arrays_need_labels():
    with pytest.raises(ValueError, match="give y"):
        simulate(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="one label per row"):
        simulate(np.zeros((10, 2)), np.zeros(3))


# ------------------------------------------------------------------------------ files
def test_writers(iris_result, tmp_path):
    paths = iris_result.save(tmp_path)
    assert sorted(p.name for p in paths.values()) == [
        "curves.csv", "events.jsonl", "learning_curve.png", "summary.md",
    ]
    lines = paths["events"].read_text().splitlines()
    events = [json.loads(line) for line in lines]
    assert len(events) == len(iris_result.events)
    n_rounds = 5  # 10, 15, 20, 25, 30 labels
    for s in iris_result.strategies:
        for seed in (0, 1):
            mine = [e for e in events if e["run_id"] == f"{s}-seed{seed}"]
            kinds = [e["event"] for e in mine]
            assert kinds == ["run_start"] + ["round"] * n_rounds + ["run_end"]
    with open(paths["curves"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3 * 2 * n_rounds
    assert {r["strategy"] for r in rows} == {"margin", "entropy", "random"}
    first = [r for r in rows if r["strategy"] == "margin" and r["seed"] == "0"]
    assert [int(r["n_labeled"]) for r in first] == [10, 15, 20, 25, 30]
    assert float(first[-1]["accuracy"]) == pytest.approx(iris_result.runs["margin"][0].curve()[1][-1])
    text = paths["summary"].read_text()
    assert "| strategy | AULC 10–30 | labels to target | saved vs random | query |" in text
    assert "added 'random' as the baseline" in text
    assert paths["plot"].read_bytes()[:4] == b"\x89PNG"


def test_save_creates_the_folder_but_not_over_a_file(iris_result, tmp_path):
    paths = iris_result.save(tmp_path / "new" / "folder")
    assert all(p.is_file() for p in paths.values())
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        iris_result.save(tmp_path / "file")
