"""The labeling app's default strategy: ``auto``, ranked by its arm, with the app's checks."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from activelab.server.project_tasks import check_task_labels
from activelab.server.scorer import train_and_score
from activelab.server.tasks import ranking_strategy
from activelab.server.views import why_text

# labeled: three points of class "a" at -2 and three of "b" at +2, so the boundary is at 0.
# candidates (ids 10-15): 0.0 and 0.01 (near-duplicates on the boundary), -0.6 and -0.61,
# 5.0 and 5.01.  Margin's top 3 are 10, 11, 12 (the two near-duplicates first); auto ranks
# the most torn item of each of three groups: 10, 12, 14.
X = np.array([[-2.0], [-2.0], [-2.0], [2.0], [2.0], [2.0],
              [0.0], [0.01], [-0.6], [-0.61], [5.0], [5.01]])
KEYS = np.array([0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15])


def _queue(strategy: str) -> list[int]:
    res = train_and_score(X, np.arange(6), np.array(["a"] * 3 + ["b"] * 3), np.arange(6, 12),
                          estimator=LogisticRegression(), strategy=strategy, queue_size=3,
                          stop_ids=np.zeros(0, np.int64), random_state=0)
    return KEYS[res.ids].tolist()


def test_auto_ranks_with_its_arm_and_no_random_picks_of_its_own():
    assert ranking_strategy("auto") == "cluster_margin"
    assert ranking_strategy("entropy") == "entropy"
    assert _queue("margin") == [10, 11, 12]
    assert _queue("auto") == [10, 12, 14] == _queue("cluster_margin")


def test_the_reserve_follows_the_queue_in_margin_order():
    # auto's queue of 3 is one item per group (10, 12, 14); the reserve of 2 is the next
    # most torn items by margin: 11 (at 0.01) and 13 (at -0.61), not 15 (at 5.01)
    y = np.array(["a"] * 3 + ["b"] * 3)
    for strategy, head, reserve in (("auto", [10, 12, 14], [11, 13]),
                                    ("margin", [10, 11, 12], [13, 14])):
        res = train_and_score(X, np.arange(6), y, np.arange(6, 12),
                              estimator=LogisticRegression(), strategy=strategy, queue_size=3,
                              stop_ids=np.zeros(0, np.int64), random_state=0, reserve=2)
        assert KEYS[res.ids].tolist() == head + reserve
        assert (res.n_ranked, res.reserve_strategy) == (3, "margin")
        assert res.utilities[3] >= res.utilities[4]  # the reserve in margin order
        if strategy == "margin":  # a plain ranking continues where the queue stops
            assert res.utilities[3] <= res.utilities[:3].min()
        assert len(res.guesses) == len(res.confidences) == 5


def test_a_new_project_gets_auto_unless_it_names_a_strategy():
    assert check_task_labels("classification", None, ["a", "b"], None, None)[0] == "auto"
    assert check_task_labels("classification", "margin", ["a", "b"], None, None)[0] == "margin"
    assert check_task_labels("multilabel", None, ["a", "b"], None, None)[0] == (
        "multilabel_margin")
    assert check_task_labels("regression", None, None, None, None)[0] == "greedy_io"


def test_why_an_auto_item_was_asked_for_in_true_words():
    text = why_text({"strategy": "auto", "utility": -0.125, "rank": 2, "model_version": 3})
    assert "differ by 0.125" in text and "group of similar ones" in text
    assert "rank 2 of the items model v3 chose" in text
