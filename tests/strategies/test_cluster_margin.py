"""``cluster_margin``: smallest margins, spread over the boundary by Ward clustering."""

import numpy as np
import pytest

from activelab.strategies import get_strategy
from activelab.strategies.base import QueryContext
from activelab.strategies.cluster_margin import diverse_top
from activelab.testing import check_strategy


def test_diverse_top_takes_the_most_useful_row_of_each_ward_group():
    # rows 0, 1 close together, rows 2, 3 close together, row 4 far away.
    # two groups: {0, 1} and {2, 3, 4}; the best of each are row 0 (0.9) and row 3 (0.95)
    rows = np.array([[0.0], [0.1], [5.0], [5.1], [10.0]])
    utilities = np.array([0.9, 0.8, 0.7, 0.95, 0.1])
    assert diverse_top(rows, utilities, 2).tolist() == [3, 0]
    # three groups: {0, 1}, {2, 3}, {4}; ordered by utility
    assert diverse_top(rows, utilities, 3).tolist() == [3, 0, 4]
    # plain top-k would take 3, 0, 1 (1 is a near-duplicate of 0)


def test_duplicated_rows_are_filled_up_by_utility():
    rows = np.zeros((4, 2))  # one group only
    assert diverse_top(rows, np.array([0.1, 0.4, 0.3, 0.2]), 3).tolist() == [1, 2, 3]


def test_cluster_margin_ids_by_hand():
    # two classes; probabilities give margins |p1 - p0|.  The four smallest margins
    # (factor 2 x batch 2) are ids 10, 11, 12, 13; 10 and 11 are near-duplicates at
    # x = 0, 12 and 13 at x = 8.  Top-2 margin would take 10 and 11; cluster_margin
    # takes the best of each group: 11 (margin 0.0) and 12 (margin 0.1).
    ids = np.array([10, 11, 12, 13, 14, 15])
    X = np.array([[0.0], [0.05], [8.0], [8.1], [3.0], [4.0]])
    p1 = np.array([0.45, 0.5, 0.55, 0.6, 0.9, 0.95])
    proba = np.c_[1 - p1, p1]
    ctx = QueryContext(ids, X, proba=proba)
    out = get_strategy("cluster_margin", factor=2, random_state=0).select(ctx, 2)
    assert out.ids.tolist() == [11, 12]
    assert out.info["prefilter_size"] == 4
    assert get_strategy("margin", random_state=0).select(ctx, 2).ids.tolist() == [11, 10]


def test_cluster_margin_keeps_the_contract():
    check_strategy("cluster_margin")


def test_bad_factor():
    with pytest.raises(ValueError, match="factor"):
        get_strategy("cluster_margin", factor=0)


def test_sparse_rows_are_clustered_without_densifying_the_vocabulary():
    import scipy.sparse as sp

    from activelab.strategies.cluster_margin import SPARSE_DIMENSIONS, _dense_rows

    # the hand-worked case above, as two "topics" of a 5,000-term vocabulary: ids 10, 11
    # use terms 0-9, ids 12, 13 terms 4,000-4,009, ids 14, 15 terms 2,000-2,009
    d = 5000
    X = sp.lil_matrix((6, d))
    for row, first in enumerate([0, 0, 4000, 4000, 2000, 2000]):
        X[row, first:first + 10] = 1.0 + 0.01 * row
    X = X.tocsr()
    ids = np.array([10, 11, 12, 13, 14, 15])
    p1 = np.array([0.45, 0.5, 0.55, 0.6, 0.9, 0.95])
    ctx = QueryContext(ids, X, proba=np.c_[1 - p1, p1])
    out = get_strategy("cluster_margin", factor=2, random_state=0).select(ctx, 2)
    assert out.ids.tolist() == [11, 12]
    rows = _dense_rows(X)
    assert rows.shape == (6, SPARSE_DIMENSIONS)
    np.testing.assert_array_equal(rows, _dense_rows(X))  # the same projection every call
    near = np.linalg.norm(rows[0] - rows[1])
    assert near < 0.5 * min(np.linalg.norm(rows[0] - rows[2]), np.linalg.norm(rows[2] - rows[4]))
