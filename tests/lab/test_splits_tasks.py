"""Splits of regression and multi-label targets; classification is unchanged."""

import numpy as np
import pytest

from activelab.lab.splits import paired_split, split_pool_test


def test_regression_split_is_stratified_by_target_quantiles():
    y = np.arange(40, dtype=np.float64)  # ten quantile bins of four
    pool, test = split_pool_test(y, 0.25, seed=0, task="regression")
    assert pool.size == 30 and test.size == 10
    # one test row from each bin of four consecutive values
    assert sorted(set((y[test] // 4).astype(int).tolist())) == list(range(10))


def test_regression_split_is_seeded_and_initial_is_a_plain_draw():
    y = np.linspace(0.0, 1.0, 50) ** 2
    a = paired_split(y, test_size=0.2, n_initial=5, seed=3, task="regression")
    b = paired_split(y, test_size=0.2, n_initial=5, seed=3, task="regression")
    assert np.array_equal(a.initial_ids, b.initial_ids)
    expected = np.sort(np.random.RandomState(3).choice(a.pool_rows.size, 5, replace=False))
    assert np.array_equal(a.initial_ids, expected)


def test_multilabel_initial_draw_sees_every_label():
    Y = np.zeros((40, 3), dtype=int)
    Y[:, 0] = 1
    Y[7, 2] = Y[25, 2] = Y[33, 2] = 1  # a rare label
    Y[np.arange(0, 40, 3), 1] = 1
    split = paired_split(Y, test_size=0.25, n_initial=4, seed=0, task="multilabel")
    first = Y[split.pool_rows][split.initial_ids]
    assert first.shape == (4, 3)
    assert first.any(axis=0).all()


def test_classification_ids_are_as_before():
    y = np.array([0] * 30 + [1] * 10)
    a = paired_split(y, test_size=0.25, n_initial=6, seed=1)
    b = paired_split(y, test_size=0.25, n_initial=6, seed=1, task="classification")
    assert np.array_equal(a.pool_rows, b.pool_rows)
    assert np.array_equal(a.initial_ids, b.initial_ids)


def test_too_small_regression_set_is_refused():
    with pytest.raises(ValueError, match="two rows or more"):
        split_pool_test(np.array([1.0, 2.0, 3.0]), 0.25, 0, task="regression")
