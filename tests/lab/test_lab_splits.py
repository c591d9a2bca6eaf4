"""One split policy: `simulate` and `benchmark` split, draw and score the same runs."""

from __future__ import annotations

import numpy as np
import pytest

from activelab import simulate
from activelab.evaluation import aulc
from activelab.lab.config import BenchmarkConfig
from activelab.lab.runner import load_results, prepare_data, run_benchmark
from activelab.lab.splits import check_split_sizes, initial_ids, paired_split


def test_split_is_stratified_sorted_and_seeded():
    y = np.array([0] * 40 + [1] * 20 + [2] * 12)
    split = paired_split(y, test_size=0.25, n_initial=6, seed=3)
    # ceil(0.25 * 72) = 18 test rows, each class at its share: 10, 5 and 3
    assert split.test_rows.size == 18 and split.pool_rows.size == 54
    assert np.bincount(y[split.test_rows]).tolist() == [10, 5, 3]
    assert np.array_equal(np.sort(np.concatenate([split.pool_rows, split.test_rows])),
                          np.arange(72))
    assert np.all(np.diff(split.pool_rows) > 0) and np.all(np.diff(split.test_rows) > 0)
    # the initial ids are RandomState(seed)'s draw from the pool, sorted
    expected = np.sort(np.random.RandomState(3).choice(54, 6, replace=False))
    assert split.initial_ids.tolist() == expected.tolist()
    again = paired_split(y, test_size=0.25, n_initial=6, seed=3)
    assert np.array_equal(again.pool_rows, split.pool_rows)
    other = paired_split(y, test_size=0.25, n_initial=6, seed=4)
    assert not np.array_equal(other.test_rows, split.test_rows)


def test_a_one_class_initial_draw_gets_an_item_of_another_class():
    y_pool = np.zeros(100, dtype=int)
    y_pool[57] = 1  # one rare item: almost every draw of 5 misses it
    ids = initial_ids(y_pool, 5, seed=0)
    draw = np.random.RandomState(0).choice(100, 5, replace=False)
    assert 57 not in draw  # the draw itself holds one class
    assert ids.size == 5 and 57 in ids
    assert set(ids.tolist()) - {57} == set(draw[:-1].tolist())  # the last draw was swapped


def test_data_too_small_for_a_stratified_split_is_refused():
    with pytest.raises(ValueError, match="single class"):
        check_split_sizes(np.zeros(10), 0.25)
    with pytest.raises(ValueError, match="too small to split"):
        check_split_sizes(np.array([0, 0, 0, 0, 1]), 0.25)  # a class of one item
    with pytest.raises(ValueError, match="too small to split"):
        paired_split(np.array([0, 1, 2] * 2), test_size=0.1, n_initial=2, seed=0)


def test_benchmark_prepares_the_split_simulate_uses():
    cfg = BenchmarkConfig(datasets=["iris"], strategies=["margin"], seeds=[1], initial=10,
                          budget=30, format="csv")
    from activelab.datasets import load_dataset

    y = load_dataset("iris").y
    split = paired_split(y, test_size=0.25, n_initial=10, seed=1)
    _, y_pool, _, y_test, initial, _, _ = prepare_data(cfg.runs()[0], cfg)
    assert np.array_equal(y_pool, y[split.pool_rows])
    assert np.array_equal(y_test, y[split.test_rows])
    assert np.array_equal(initial, split.initial_ids)


@pytest.mark.parametrize("dataset", ["iris", "wine"])
def test_simulate_and_benchmark_give_the_same_aulc(dataset, tmp_path):
    settings = dict(initial=10, budget=40, test_size=0.25)
    res = simulate(dataset, strategies=["margin"], seeds=[0, 1], model="logreg",
                   batch_size=5, **settings)
    cfg = BenchmarkConfig(datasets=[dataset], strategies=["margin"], models=["logreg"],
                          seeds=[0, 1], batch_size=5, metrics=["accuracy"], format="csv",
                          **settings)
    run_benchmark(cfg, tmp_path / "bench", n_jobs=1)
    bench = {(r["strategy"], r["seed"]): r["aulc"] for r in load_results(tmp_path / "bench")}
    assert len(bench) == 4
    for strategy in ("margin", "random"):
        per_seed = [aulc(*run.curve("accuracy")) for run in res.runs[strategy]]
        assert per_seed == pytest.approx([bench[(strategy, 0)], bench[(strategy, 1)]],
                                         abs=1e-12)
        row = next(r for r in res.summary() if r.strategy == strategy)
        assert row.aulc.mean == pytest.approx(np.mean(per_seed), abs=1e-12)
    # and the runs differ from seed to seed (the check is not vacuous)
    assert bench[("margin", 0)] != bench[("margin", 1)]
