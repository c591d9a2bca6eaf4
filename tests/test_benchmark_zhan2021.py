"""The Lu et al. (2025) protocol on the Zhan et al. (2021) sets: splits, curves, picks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.svm import SVC

from activelab.lab.zhan2021 import (
    PUBLISHED,
    PUBLISHED_DIFF,
    STRATEGIES,
    collect,
    markdown_report,
    prepare_trial,
    run_reproduction,
    run_trial,
    summary_table,
)


def small_binary(n=60, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, 1, -1)
    return X, y


def test_split_is_60_40_scaled_on_train_with_20_initial_of_both_classes():
    X, y = small_binary(100)
    t = prepare_trial(X, y, trial=3)
    assert t.X_train.shape == (60, 3) and t.X_test.shape == (40, 3)
    np.testing.assert_allclose(t.X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(t.X_train.std(axis=0), 1, atol=1e-12)
    assert t.initial.size == 20 and np.unique(t.initial).size == 20
    assert np.unique(t.y_train[t.initial]).size == 2
    again = prepare_trial(X, y, trial=3)
    assert np.array_equal(t.initial, again.initial)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_trial_labels_the_whole_pool_one_at_a_time(strategy):
    X, y = small_binary(60)
    r = run_trial(X, y, strategy, trial=0)
    n_train = 36
    assert r["n_train"] == n_train and r["n_test"] == 24
    # batch size 1 until the pool is labeled: 20, 21, ..., 36
    assert r["n_labeled"] == list(range(20, n_train + 1))
    assert len(r["accuracy"]) == n_train - 20 + 1
    assert sorted(r["query_order"]) == list(range(n_train))
    # AUBC: trapezoid area over the whole budget divided by its length
    acc = np.asarray(r["accuracy"])
    assert r["aubc"] == pytest.approx(np.sum((acc[1:] + acc[:-1]) / 2) / (n_train - 20))
    # every strategy of a trial starts from the same initial set
    assert sorted(r["query_order"][:20]) == sorted(prepare_trial(X, y, 0).initial.tolist())


def test_margin_picks_the_smallest_svm_distance_and_coreset_the_farthest_point():
    X, y = small_binary(80, seed=1)
    t = prepare_trial(X, y, trial=2)
    pool = np.setdiff1d(np.arange(t.X_train.shape[0]), t.initial)
    svc = SVC(kernel="rbf", gamma="auto", C=1.0).fit(t.X_train[t.initial], t.y_train[t.initial])
    expected_margin = pool[np.argmin(np.abs(svc.decision_function(t.X_train[pool])))]
    d = euclidean_distances(t.X_train[pool], t.X_train[t.initial]).min(axis=1)
    expected_coreset = pool[np.argmax(d)]
    first = {s: run_trial(X, y, s, trial=2, budget=1)["query_order"][20]
             for s in ("margin", "coreset")}
    assert first == {"margin": expected_margin, "coreset": expected_coreset}


def test_second_coreset_pick_is_farthest_from_initial_plus_first():
    X, y = small_binary(80, seed=4)
    t = prepare_trial(X, y, trial=1)
    order = run_trial(X, y, "coreset", trial=1, budget=2)["query_order"]
    labeled = np.asarray(order[:21])
    pool = np.setdiff1d(np.arange(t.X_train.shape[0]), labeled)
    d = euclidean_distances(t.X_train[pool], t.X_train[labeled]).min(axis=1)
    assert order[21] == pool[np.argmax(d)]


def test_bad_input():
    X, y = small_binary(60)
    with pytest.raises(ValueError, match="strategy must be one of"):
        run_trial(X, y, "bald", 0)
    with pytest.raises(ValueError, match="n_initial"):
        prepare_trial(X, y, 0, n_initial=40)
    with pytest.raises(ValueError, match="unknown binary Zhan"):
        run_reproduction("/tmp/x", datasets=["iris"])


def test_reproduction_resumes_and_tabulates(tmp_path, monkeypatch):
    import activelab.lab.zhan2021 as z

    X, y = small_binary(50)
    monkeypatch.setitem(z._DATA_CACHE, ("appendicitis", None), (X, y))
    kwargs = dict(datasets=["appendicitis"], strategies=["random", "margin"], trials=2,
                  n_jobs=1, progress=False)
    # n_jobs=1 runs in this process, so the small stand-in data above is used
    ran = run_reproduction(tmp_path, **kwargs)
    assert ran == 4
    assert run_reproduction(tmp_path, **kwargs) == 0  # nothing redone
    rows = collect(tmp_path)
    assert len(rows) == 4 and {r["trial"] for r in rows} == {0, 1}
    table = summary_table(rows, ["random", "margin"])
    mean, sd, n = table["appendicitis"]["margin"]
    vals = [r["aubc"] for r in rows if r["strategy"] == "margin"]
    assert n == 2 and mean == pytest.approx(np.mean(vals)) and sd == pytest.approx(
        np.std(vals, ddof=1))
    text = markdown_report(rows, command="cmd", machine="m", strategies=["random", "margin"])
    assert "| appendicitis |" in text and PUBLISHED["appendicitis"]["margin"] in text


def test_published_numbers_cover_the_26_binary_sets():
    from activelab.datasets.real import ZHAN_BINARY

    assert set(PUBLISHED) == set(ZHAN_BINARY) == set(PUBLISHED_DIFF)
    for cells in PUBLISHED.values():
        assert set(cells) == {"random", "margin", "us_nc", "coreset"}
    for cells in PUBLISHED_DIFF.values():
        assert set(cells) == {"margin", "coreset"}
