"""Multi-label strategies: hand-worked utilities and the exact ids each one picks."""

from __future__ import annotations

import numpy as np
import pytest

from activelab.engine.tasks import Task, tasks_of
from activelab.strategies import QueryContext, available_strategies, get_strategy
from activelab.strategies.multilabel import (
    cardinality_inconsistency_utility,
    cvirs_utility,
    label_vector_distance,
    multilabel_margin_utility,
)
from activelab.testing import check_strategy

MULTILABEL_ONLY = ["multilabel_margin", "binary_minimum", "cardinality_inconsistency", "cvirs",
                   "multilabel_badge", "multilabel_hybrid"]
IDS = np.array([10, 11, 12, 13])

# u_j = 1 - |2p - 1|:  row 10 [1, .2]  row 11 [.8, .8]  row 12 [.2, 0]  row 13 [.6, .1]
P_MARGIN = np.array([[0.5, 0.9], [0.6, 0.6], [0.1, 0.0], [0.3, 0.95]])


def context(P, y_labeled=None, X=None, ids=IDS):
    return QueryContext(ids, X, y_labeled=y_labeled, extras={"label_proba": np.asarray(P)})


def pick(name, ctx, n, **params):
    return get_strategy(name, random_state=0, **params).select(ctx, n).ids.tolist()


@pytest.mark.parametrize("name", MULTILABEL_ONLY)
def test_registered_for_multilabel_only_and_passes_the_contract(name):
    assert name in available_strategies(task="multilabel")
    assert name not in available_strategies(task="classification")
    assert tasks_of(get_strategy(name)) == {Task.MULTILABEL}
    check_strategy(name)


def test_the_task_default_and_the_batch_aware_ones_serve_multilabel():
    names = set(available_strategies(task="multilabel"))
    assert {"multilabel_margin", "random", "coreset", "kmeans"} <= names
    assert "margin" not in names and "badge" not in names


def test_multilabel_margin_aggregates_by_hand():
    # means .6 .8 .1 .35; maxima 1 .8 .2 .6; minima .2 .8 0 .1
    np.testing.assert_allclose(multilabel_margin_utility(P_MARGIN), [0.6, 0.8, 0.1, 0.35])
    np.testing.assert_allclose(multilabel_margin_utility(P_MARGIN, "max"), [1, 0.8, 0.2, 0.6])
    np.testing.assert_allclose(multilabel_margin_utility(P_MARGIN, "min"), [0.2, 0.8, 0, 0.1])
    ctx = context(P_MARGIN)
    assert pick("multilabel_margin", ctx, 3) == [11, 10, 13]
    assert pick("multilabel_margin", ctx, 2, aggregate="max") == [10, 11]
    assert pick("multilabel_margin", ctx, 3, aggregate="min") == [11, 10, 13]


def test_binary_minimum_takes_the_most_uncertain_single_label():
    assert pick("binary_minimum", context(P_MARGIN), 3) == [10, 11, 13]


def test_an_unknown_aggregate_is_refused():
    with pytest.raises(ValueError, match="aggregate must be one of mean, max, min"):
        get_strategy("multilabel_margin", aggregate="median")


def test_cardinality_inconsistency_by_hand():
    P = np.array([[0.9, 0.8, 0.7], [0.1, 0.2, 0.3], [0.6, 0.1, 0.1], [0.6, 0.7, 0.1]])
    Y = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0]])  # mean cardinality 1.25
    # predicted counts 3, 0, 1, 2 -> |count - 1.25| = 1.75, 1.25, 0.25, 0.75
    np.testing.assert_allclose(cardinality_inconsistency_utility(P, Y), [1.75, 1.25, 0.25, 0.75])
    assert pick("cardinality_inconsistency", context(P, Y), 3) == [10, 11, 13]


def test_label_vector_distance_by_hand():
    # [1,1,0] vs [1,0,0]: a=1 b=1 c=0 d=1 of L=3; joint entropy ln 3, marginals H(2/3, 1/3)
    # each: (2 ln3 - 2 H(2/3, 1/3)) / ln3 = 4 ln2 / (3 ln3)
    d = label_vector_distance(np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1], [0, 0, 0]]),
                              np.array([[1, 0, 0], [1, 0, 1], [0, 0, 0]]))
    expected_01 = 4 * np.log(2) / (3 * np.log(3))
    np.testing.assert_allclose(d[0, 0], expected_01)
    assert d[1, 0] == 1.0          # the complement: Hamming distance 1
    assert d[2, 1] == 0.0          # the same vector
    assert d[3, 2] == 0.0          # the same constant vector (joint entropy 0)
    np.testing.assert_allclose(d[2, 0], expected_01)  # [1,0,1] vs [1,0,0]: same counts


def test_cvirs_by_hand():
    # margins |2p-1| per label:   label 0     label 1     label 2
    P = np.array([[0.5, 0.5, 0.1],    # 0           0           .8     predicted [1,1,0]
                  [0.9, 0.4, 0.2],    # .8          .2          .6               [1,0,0]
                  [0.7, 0.1, 0.9],    # .4          .8          .8               [1,0,1]
                  [0.05, 0.95, 0.5]])  # .9         .9          0                [0,1,1]
    # ranks (1 = least sure): label 0: 1 3 2 4; label 1: 1 2 3 4; label 2: 3.5 2 3.5 1
    # Borda sum_j (4 - rank) / (3 * 3) = 6.5/9, 5/9, 3.5/9, 3/9
    Y = np.array([[1, 0, 0], [1, 0, 0]])
    # inconsistency with [1,0,0]: 4ln2/(3ln3), 0 (same), 4ln2/(3ln3), 1 (complement)
    d = 4 * np.log(2) / (3 * np.log(3))
    expected = np.array([6.5 / 9 * d, 0.0, 3.5 / 9 * d, 3 / 9])
    np.testing.assert_allclose(cvirs_utility(P, Y), expected)
    assert pick("cvirs", context(P, Y), 3) == [10, 13, 12]
    assert pick("multilabel_margin", context(P, Y), 3) == [10, 11, 13]  # margins alone differ


def test_cvirs_without_labeled_items_is_the_rank_aggregate():
    P = np.array([[0.5, 0.5], [0.9, 0.9], [0.6, 0.2]])
    # margins: label 0: 0 .8 .2 -> ranks 1 3 2; label 1: 0 .8 .6 -> ranks 1 3 2
    np.testing.assert_allclose(cvirs_utility(P, None), [1.0, 0.0, 0.5])


def test_multilabel_badge_picks_the_largest_gradient_then_spreads():
    # a = p - [p >= .5]: row 10 (-.5, -.5), row 11 (-.1, .1), row 12 = row 10, row 13 (.2, .3)
    P = np.array([[0.5, 0.5], [0.9, 0.1], [0.5, 0.5], [0.2, 0.3]])
    X = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # equal norms
    first = pick("multilabel_badge", context(P, X=X), 1)
    assert first[0] in (10, 12)  # the largest gradients (tied: 10 and 12 are the same item)
    two = pick("multilabel_badge", context(P, X=X), 2)
    assert two[0] in (10, 12) and two[1] in (11, 13)  # never the duplicate of the first
    result = get_strategy("multilabel_badge").select(context(P, X=X), 1)
    np.testing.assert_allclose(result.utilities,
                               np.sqrt([0.5, 0.02, 0.5, 0.13]) * np.sqrt(2.0))


def test_multilabel_hybrid_keeps_the_most_uncertain_then_clusters():
    X = np.arange(8, dtype=float).reshape(4, 2)
    # factor 1: the pre-filter keeps the 2 most uncertain by mean margin (11, 10); k-means
    # with 2 clusters on 2 items takes both
    got = pick("multilabel_hybrid", context(P_MARGIN, y_labeled=np.zeros((0, 2)), X=X), 2,
               factor=1)
    assert sorted(got) == [10, 11]


def test_a_labeled_table_of_the_wrong_width_is_refused():
    with pytest.raises(ValueError, match="one column per label"):
        cvirs_utility(P_MARGIN, np.array([[1, 0, 1]]))
