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
    for metric in ("aubc_published", "aubc"):  # the published formula is the default
        table = summary_table(rows, ["random", "margin"], **(
            {"metric": metric} if metric == "aubc" else {}))
        mean, sd, n = table["appendicitis"]["margin"]
        vals = [r[metric] for r in rows if r["strategy"] == "margin"]
        assert n == 2 and mean == pytest.approx(np.mean(vals)) and sd == pytest.approx(
            np.std(vals, ddof=1))
    text = markdown_report(rows, command="cmd", machine="m", strategies=["random", "margin"])
    published_mean = PUBLISHED["appendicitis"]["margin"].split("±")[0]
    assert "| appendicitis |" in text and f" / {published_mean}, " in text
    assert "Lu et al.'s AUBC (AUBC_Zhan" in text


def test_published_numbers_cover_the_26_binary_sets():
    from activelab.datasets.real import ZHAN_BINARY

    assert set(PUBLISHED) == set(ZHAN_BINARY) == set(PUBLISHED_DIFF)
    for cells in PUBLISHED.values():
        assert set(cells) == {"random", "margin", "us_nc", "coreset"}
    for cells in PUBLISHED_DIFF.values():
        assert set(cells) == {"margin", "coreset"}


# ------------------------------------------------ Lu et al.'s AUBC, refit skips, checkpoints
def test_published_aubc_leaves_out_the_initial_point():
    from activelab.lab.zhan2021 import aubc, aubc_published

    acc = [0.5, 0.6, 0.8, 1.0]  # initial point, then Q = 3 queries
    # Zhan's AUBC: the intervals between the post-query points, (0.6+0.8)/2 + (0.8+1.0)/2,
    # divided by Q = 3
    assert aubc_published(acc) == pytest.approx((0.7 + 0.9) / 3)
    # activelab's includes the first interval: the difference is (a0 + a1) / (2 Q)
    assert aubc(np.arange(20, 24), acc) - aubc_published(acc) == pytest.approx(
        (0.5 + 0.6) / (2 * 3))


def test_trials_record_both_formulas():
    from activelab.lab.zhan2021 import aubc_published

    X, y = small_binary(60)
    r = run_trial(X, y, "random", trial=0)
    assert r["aubc_published"] == pytest.approx(aubc_published(r["accuracy"]))
    assert r["aubc"] - r["aubc_published"] == pytest.approx(
        (r["accuracy"][0] + r["accuracy"][1]) / (2 * (len(r["accuracy"]) - 1)))


def test_a_point_outside_the_margin_leaves_the_svc_unchanged():
    from activelab.lab.zhan2021 import outside_margin

    X, y = small_binary(120, seed=3)
    svc = SVC(kernel="rbf", gamma="auto", C=1.0).fit(X[:40], y[:40])
    f = svc.decision_function(X[40:])
    signed = np.where(y[40:] == svc.classes_[1], 1.0, -1.0) * f
    far, near = 40 + int(np.argmax(signed)), 40 + int(np.argmin(np.abs(signed - 0.2)))
    assert outside_margin(svc, X[far], y[far]) and not outside_margin(svc, X[near], y[near])
    bigger = SVC(kernel="rbf", gamma="auto", C=1.0).fit(X[list(range(40)) + [far]],
                                                       y[list(range(40)) + [far]])
    np.testing.assert_allclose(bigger.decision_function(X), svc.decision_function(X),
                               atol=1e-3)  # libsvm's tolerance
    assert np.array_equal(bigger.predict(X), svc.predict(X))


@pytest.mark.parametrize("strategy", ["random", "margin", "coreset"])
def test_refit_skips_leave_the_curve_identical(strategy):
    X, y = small_binary(90, seed=5)
    full = run_trial(X, y, strategy, trial=1, skip_refits=False)
    fast = run_trial(X, y, strategy, trial=1)
    assert fast["accuracy"] == full["accuracy"] and fast["aubc"] == full["aubc"]
    assert full["n_refits"] == full["n_steps"] == len(full["accuracy"])
    assert fast["n_refits"] < fast["n_steps"]  # some points landed outside the margin


def test_platt_columns_never_skip():
    X, y = small_binary(60)
    r = run_trial(X, y, "entropy", trial=0)
    assert r["n_refits"] == r["n_steps"]


def test_an_interrupted_trial_goes_on_from_its_checkpoint(tmp_path, monkeypatch):
    import activelab.lab.zhan2021 as z

    X, y = small_binary(70, seed=2)
    whole = run_trial(X, y, "margin", trial=4)
    real_choose, calls = z._choose, {"n": 0}

    def stop_after_ten(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 10:
            raise KeyboardInterrupt
        return real_choose(*args, **kwargs)

    monkeypatch.setattr(z, "_choose", stop_after_ten)
    saved = tmp_path / "margin-004.partial.pkl"
    with pytest.raises(KeyboardInterrupt):
        run_trial(X, y, "margin", trial=4, checkpoint=saved, checkpoint_seconds=0)
    assert saved.is_file()
    monkeypatch.setattr(z, "_choose", real_choose)
    resumed = run_trial(X, y, "margin", trial=4, checkpoint=saved, checkpoint_seconds=0)
    assert resumed["query_order"] == whole["query_order"]
    assert resumed["accuracy"] == whole["accuracy"]
    assert not saved.exists()  # removed once the trial is done


def test_published_means_are_compared_by_standard_error():
    from activelab.lab.zhan2021_report import published_table, z_score

    # ours 0.86 ± 0.04 over 20 trials, theirs 0.84 ± 0.03 over 100:
    # se = sqrt(0.04²/20 + 0.03²/100) = sqrt(8e-5 + 9e-6) = 0.009434
    assert z_score((0.86, 0.04, 20), (0.84, 0.03)) == pytest.approx(0.02 / 0.0094340, rel=1e-4)
    # sonar, Uniform: Lu et al. 0.7463 ± 0.0379; (0.80 - 0.7463) / sqrt(0.04²/20 + 0.0379²/100)
    # = 0.0537 / 0.009714 = 5.5 standard errors (bold: beyond 3)
    lines = published_table({"sonar": {"random": (0.80, 0.04, 20), "margin": (0.7762, 0.03, 20),
                                       "coreset": (0.7420, 0.0353, 0)}})
    assert lines[2] == "| sonar | 0.8000 / 0.7463, **+5.5** | 0.7762 / 0.7762, +0.0 | — |"


def test_report_names_the_commit_of_its_runs(tmp_path, monkeypatch):
    import activelab.lab.zhan2021 as z

    X, y = small_binary(50)
    monkeypatch.setitem(z._DATA_CACHE, ("appendicitis", None), (X, y))
    run_reproduction(tmp_path, datasets=["appendicitis"], strategies=["random", "margin"],
                     trials=2, n_jobs=1, progress=False, commit="abc123")
    text = markdown_report(collect(tmp_path), command="cmd", machine="m",
                           strategies=["random", "margin"])
    assert "Code: commit `abc123` (4 runs)." in text
