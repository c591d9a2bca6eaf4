"""take_rows and n_rows read every kind of feature matrix the same way."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from activelab.pool import RowView, n_rows, take_rows

X = np.arange(12.0).reshape(6, 2)


@pytest.mark.parametrize(
    "make", [np.asarray, sp.csr_matrix, lambda a: RowView(a), lambda a: a.tolist()],
    ids=["ndarray", "csr", "rowview", "list"],
)
def test_n_rows(make):
    assert n_rows(make(X)) == 6


@pytest.mark.parametrize(
    "make", [np.asarray, sp.csr_matrix, lambda a: RowView(a)], ids=["ndarray", "csr", "rowview"]
)
def test_take_rows_by_positions_and_by_slice(make):
    rows = take_rows(make(X), np.array([4, 1]))
    np.testing.assert_array_equal(np.asarray(rows.todense() if sp.issparse(rows) else rows),
                                  [[8.0, 9.0], [2.0, 3.0]])
    block = take_rows(make(X), slice(2, 4))
    np.testing.assert_array_equal(
        np.asarray(block.todense() if sp.issparse(block) else block), [[4.0, 5.0], [6.0, 7.0]]
    )


def test_take_rows_of_a_dataframe_is_by_position_not_by_label():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, index=[10, 11, 12, 13, 14, 15])
    np.testing.assert_array_equal(take_rows(frame, np.array([0, 5])).to_numpy(),
                                  [[0.0, 1.0], [10.0, 11.0]])
    assert n_rows(frame) == 6
