"""``auto``: the default selector, its random share and its evidence update."""

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from activelab.strategies import get_strategy
from activelab.strategies.base import QueryContext, Strategy
from activelab.strategies.selector import live_accuracy, live_verdict
from activelab.testing import check_strategy


class Smallest(Strategy):
    """Picks the candidates with the smallest first feature."""

    name = "smallest"

    def select(self, context, n_instances):
        order = np.argsort(np.asarray(context.X)[:, 0], kind="stable")[:n_instances]
        from activelab.strategies.base import QueryResult

        return QueryResult(ids=context.candidate_ids[order], candidate_ids=context.candidate_ids,
                           utilities=-np.asarray(context.X)[:, 0], strategy=self.name)


def _context(ids, x, X_lab, y_lab):
    model = KNeighborsClassifier(n_neighbors=1).fit(X_lab, y_lab)
    return QueryContext(np.asarray(ids), np.asarray(x, dtype=float).reshape(-1, 1),
                        estimator=model, X_labeled=X_lab, y_labeled=y_lab), model


def test_evidence_update_on_a_worked_case():
    # truth: label = x > 3.  Initial labels x = 0 (0) and x = 10 (1).
    auto = get_strategy("auto", arm=Smallest(), random_share=0.5, random_state=0)
    X_lab, y_lab = np.array([[0.0], [10.0]]), np.array([0, 1])
    # round 1: candidates x = 4 (id 1) and x = 9 (id 2); the arm takes the smaller (id 1),
    # the random half of the batch is the only one left (id 2)
    ctx, model = _context([1, 2], [4.0, 9.0], X_lab, y_lab)
    first = auto.select(ctx, 2)
    assert first.ids.tolist() == [1, 2] and first.info["random_ids"] == [2]
    # 1-NN on {0, 10} predicts x = 9 as 1: right (the live accuracy's first pick)
    X_lab, y_lab = np.r_[X_lab, [[4.0], [9.0]]], np.r_[y_lab, 1, 1]
    v = auto.update([1, 2], [1, 1], KNeighborsClassifier(n_neighbors=1).fit(X_lab, y_lab))
    assert v.n == 0  # no verdict models existed before this round
    # k = 3 random labels so far (two initial + x = 9): the active model learns the first
    # three labels asked {0: 0, 10: 1, 4: 1}, the random model {0: 0, 10: 1, 9: 1}.
    # round 2: candidates x = 1 (id 3) and x = 3.5 (id 4); the arm takes id 3, the random
    # pick is id 4 (x = 3.5, label 1).  Active 1-NN: nearest is 4 -> 1, right.  Random
    # 1-NN: nearest is 0 -> 0, wrong.  So one pick, gain +1.
    ctx, _ = _context([3, 4], [1.0, 3.5], X_lab, y_lab)
    second = auto.select(ctx, 2)
    assert second.info["random_ids"] == [4]
    X_lab, y_lab = np.r_[X_lab, [[1.0], [3.5]]], np.r_[y_lab, 0, 1]
    v = auto.update([3, 4], [0, 1], KNeighborsClassifier(n_neighbors=1).fit(X_lab, y_lab))
    assert (v.n, v.mean, v.active_accuracy, v.random_accuracy) == (1, 1.0, 1.0, 0.0)
    assert (v.labels_from, v.labels_to) == (3, 3)
    # Agresti-Min with b = 1, c = 0, n = 1: d = 1/3, half = 1.96 sqrt(2 - 1/3) / 3
    half = 1.959964 * np.sqrt(2 - 1 / 3) / 3
    assert v.low == pytest.approx(1 / 3 - half, abs=1e-5) and v.high == 1.0
    assert v.words == "can't tell yet"
    assert live_verdict(auto) == v
    # the current model (1-NN on the four labels) predicted x = 3.5 as 1 (nearest 4): right
    assert live_accuracy(auto)[0] == 1.0 and live_accuracy(auto)[3] == 2


def test_random_share_carries_over_between_rounds():
    auto = get_strategy("auto", arm="margin", random_share=0.1, random_state=0)
    X = np.random.RandomState(0).normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int)
    ctx, _ = _context(np.arange(10, 60), X[10:, 0], X[:10, :1], y[:10])
    counts = [len(auto.select(ctx, 1).info["random_ids"]) for _ in range(20)]
    assert counts == ([0] * 9 + [1]) * 2  # one query in ten
    auto10 = get_strategy("auto", random_share=0.1, random_state=0)
    assert len(auto10.select(ctx, 10).info["random_ids"]) == 1


def test_the_share_rises_while_the_verdict_is_behind():
    auto = get_strategy("auto", random_share=0.1, fallback_share=0.5, random_state=0)
    auto._init_state()
    auto._scored.update(active=[False] * 30, random=[True] * 30, k=[25] * 30)
    auto.verdict_ = live_verdict(auto)
    assert auto.verdict_.words == "behind random"
    assert auto.current_share() == 0.5


def test_same_seed_same_ids_and_contract():
    X = np.random.RandomState(1).normal(size=(80, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    ctx, _ = _context(np.arange(20, 80), X[20:, 0], X[:20, :1], y[:20])
    a = get_strategy("auto", random_state=3).select(ctx, 10).ids
    b = get_strategy("auto", random_state=3).select(ctx, 10).ids
    assert a.tolist() == b.tolist()
    check_strategy("auto")


def test_update_checks_its_input():
    auto = get_strategy("auto", random_state=0)
    with pytest.raises(ValueError, match="select"):
        auto.update([1], [0], None)
    with pytest.raises(ValueError, match="random_share"):
        get_strategy("auto", random_share=1.0)
    with pytest.raises(TypeError, match="auto"):
        live_verdict(get_strategy("margin"))
