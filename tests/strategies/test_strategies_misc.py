"""Class-balanced, cost-aware and the ``albl`` strategy bandit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from activelab.strategies import QueryContext, QueryResult, Strategy, get_strategy
from activelab.strategies._shared import nonnegative_utility
from activelab.strategies.class_balanced import balanced_quotas
from activelab.strategies.cost import cost_weighted

# ----------------------------------------------------------------- class-balanced


def test_balanced_quotas_pass_a_short_share_on():
    # equal shares of 6 over 3 classes = 2 each; class 1 has one candidate, so its
    # spare item goes to the class with fewer labeled examples (class 2)
    assert balanced_quotas(6, [5, 1, 4], priority=[3, 0, 1]).tolist() == [2, 1, 3]
    # a class with no candidates gets nothing; the rest split 10 as 5/5
    assert balanced_quotas(10, [0, 30, 30]).tolist() == [0, 5, 5]
    # 7 over 4 equal classes: one class gets a single item; ties go to the lower index
    assert balanced_quotas(7, [5, 5, 5, 5]).tolist() == [2, 2, 2, 1]


@settings(max_examples=60, deadline=None)
@given(
    caps=st.lists(st.integers(0, 20), min_size=1, max_size=8),
    data=st.data(),
)
def test_balanced_quotas_sum_to_n_within_capacity(caps, data):
    total = sum(caps)
    n = data.draw(st.integers(0, total))
    weights = data.draw(st.lists(st.floats(0.1, 10), min_size=len(caps), max_size=len(caps)))
    quotas = balanced_quotas(n, caps, weights)
    assert quotas.sum() == n
    assert np.all(quotas >= 0) and np.all(quotas <= np.asarray(caps))


def test_balanced_quotas_reject_too_many():
    with pytest.raises(ValueError, match="cannot allocate"):
        balanced_quotas(5, [1, 2])


def test_class_balanced_hits_its_quotas_by_hand():
    # predicted classes: a a a a a b c c c c (ids 0..9); margins decrease with the id
    gaps = np.linspace(0.05, 0.5, 10)
    proba = np.zeros((10, 3))
    pred = np.array([0, 0, 0, 0, 0, 1, 2, 2, 2, 2])
    proba[np.arange(10), pred] = 0.5 + gaps / 2
    proba[np.arange(10), (pred + 1) % 3] = 0.5 - gaps / 2
    ctx = QueryContext(
        np.arange(10) + 100,
        proba=proba,
        classes=np.array(["a", "b", "c"]),
        y_labeled=np.array(["a"] * 5 + ["b"] + ["c"] * 2),
    )
    result = get_strategy("class_balanced").select(ctx, 6)
    # quotas 2 / 1 / 3: b has one candidate, its spare goes to c (fewer labels than a)
    assert result.info["quotas"] == {"a": 2, "b": 1, "c": 3}
    # the smallest gaps within each class, ordered by utility overall
    assert result.ids.tolist() == [100, 101, 105, 106, 107, 108]


def test_class_balanced_inverse_frequency_favours_rare_classes():
    proba = np.repeat(np.eye(2) * 0.4 + 0.3, 20, axis=0)
    ctx = QueryContext(np.arange(40), proba=proba, y_labeled=np.array([0] * 9 + [1]))
    result = get_strategy("class_balanced", weighting="inverse_frequency").select(ctx, 12)
    # weights 1/10 and 1/2 -> shares 2 and 10
    assert result.info["quotas"] == {"0": 2, "1": 10}


def test_class_balanced_rejects_bad_weighting():
    with pytest.raises(ValueError, match="weighting"):
        get_strategy("class_balanced", weighting="sqrt")


# -------------------------------------------------------------------- cost-aware


def test_margin_is_made_non_negative_before_dividing():
    proba = np.array([[0.5, 0.5], [0.9, 0.1]])
    ctx = QueryContext([0, 1], proba=proba)
    np.testing.assert_allclose(nonnegative_utility("margin", ctx), [1.0, 0.2])
    np.testing.assert_allclose(nonnegative_utility("least_confident", ctx), [0.5, 0.1])


def test_cost_aware_by_hand():
    # 1 - gap: 1.0, 0.6, 0.2; costs 10, 2, 1 -> 0.1, 0.3, 0.2
    proba = np.array([[0.5, 0.5], [0.7, 0.3], [0.9, 0.1]])
    ctx = QueryContext([7, 8, 9], proba=proba, costs=np.array([10.0, 2.0, 1.0]))
    result = get_strategy("cost_aware").select(ctx, 2)
    assert result.ids.tolist() == [8, 9]
    np.testing.assert_allclose(result.utilities, [0.1, 0.3, 0.2])
    # power 0 ignores the costs: plain margin order
    assert get_strategy("cost_aware", power=0.0).select(ctx, 1).ids.tolist() == [7]


def test_cost_aware_costs_from_pool_array_column_and_extras():
    proba = np.array([[0.5, 0.5], [0.7, 0.3]])
    by_pool_id = np.array([0, 0, 0, 10.0, 1.0])  # ids 3 and 4
    ctx = QueryContext([3, 4], X=np.array([[1.0, 10.0], [2.0, 1.0]]), proba=proba,
                       extras={"minutes": np.array([10.0, 1.0])})
    for costs in (by_pool_id, 1, "minutes"):
        assert get_strategy("cost_aware", costs=costs).select(ctx, 1).ids.tolist() == [4]


def test_cost_aware_errors_name_the_fix():
    ctx = QueryContext([0, 1], proba=np.array([[0.5, 0.5], [0.7, 0.3]]))
    with pytest.raises(ValueError, match="costs"):
        get_strategy("cost_aware").select(ctx, 1)
    bad = QueryContext([0, 1], proba=np.array([[0.5, 0.5], [0.7, 0.3]]), costs=np.array([1, 0]))
    with pytest.raises(ValueError, match="positive"):
        get_strategy("cost_aware").select(bad, 1)
    with pytest.raises(ValueError, match="non-negative"):
        cost_weighted([-0.1], [1.0])
    with pytest.raises(ValueError, match="extras"):
        get_strategy("cost_aware", costs="nope").select(ctx, 1)


# ------------------------------------------------------------------------ bandit


class ByFirstFeature(Strategy):
    """Picks the items with the smallest (sign -1) or largest (sign 1) first feature."""

    def __init__(self, sign: int, random_state=None):
        super().__init__(random_state)
        self.sign = sign
        self.name = "left" if sign < 0 else "right"

    def select(self, context, n_instances):
        u = self.sign * np.asarray(context.X)[:, 0]
        pos = np.argsort(-u, kind="stable")[:n_instances]
        return QueryResult(context.candidate_ids[pos], context.candidate_ids, u, self.name)


def noisy_right_problem(seed):
    """Left half: label = (x1 > 0), learnable.  Right half: random labels."""
    rng = np.random.RandomState(seed)
    clean = rng.uniform(-1, 1, size=(200, 2)) - [2, 0]
    noisy = rng.uniform(-1, 1, size=(200, 2)) + [2, 0]
    X = np.vstack([clean, noisy])
    y = np.r_[(clean[:, 1] > 0).astype(int), rng.randint(0, 2, 200)]
    return X, y


def run_bandit(seed, rounds=20, batch=5):
    X, y = noisy_right_problem(seed)
    labeled = [int(np.argmax(y[:200] == 0)), int(np.argmax(y[:200] == 1))]
    bandit = get_strategy(
        "albl", arms=[ByFirstFeature(-1), ByFirstFeature(1)], learning_rate=3.0,
        random_state=seed,
    )
    arms = []
    for _ in range(rounds):
        lab = np.array(labeled)
        model = LogisticRegression().fit(X[lab], y[lab])
        cand = np.setdiff1d(np.arange(len(X)), lab)
        ctx = QueryContext(cand, X[cand], estimator=model, X_labeled=X[lab], y_labeled=y[lab])
        result = bandit.select(ctx, batch)
        arms.append(result.info["arm"])
        labeled += result.ids.tolist()
        lab = np.array(labeled)
        model = LogisticRegression().fit(X[lab], y[lab])
        reward = bandit.update(result.ids, y[result.ids], model)
        assert 0.0 <= reward <= 1.0
    return bandit, arms


def test_albl_pulls_the_better_arm_more_often():
    # the "right" arm buys labels that no model can learn (random labels), which lowers
    # the importance-weighted accuracy of the refit model; the "left" arm's labels are
    # learnable.  Over five seeds the left arm must be drawn clearly more often.
    with threadpool_limits(limits=1, user_api="blas"):
        runs = [run_bandit(seed) for seed in range(1, 6)]
    left = sum(arms.count("left") for _, arms in runs)
    right = sum(arms.count("right") for _, arms in runs)
    assert left + right == 100
    assert left > 2 * right
    for bandit, arms in runs:
        # the arm counts and the per-round record agree
        assert bandit.arm_counts_.tolist() == [arms.count("left"), arms.count("right")]
        assert [h["arm"] for h in bandit.history_] == arms


def test_albl_records_arm_and_probabilities():
    X, y = noisy_right_problem(0)
    model = LogisticRegression().fit(X[:50], y[:50])
    ctx = QueryContext(np.arange(50, 400), X[50:], estimator=model, X_labeled=X[:50],
                       y_labeled=y[:50])
    bandit = get_strategy("albl", random_state=0)
    result = bandit.select(ctx, 5)
    assert result.info["arm"] in ("margin", "hybrid", "class_balanced", "random")
    assert result.info["arm_probabilities"] == pytest.approx([0.25] * 4)
    assert len(result.info["query_probabilities"]) == 5
    with pytest.raises(ValueError, match="last queried batch"):
        bandit.update([0], [1], model)
    bandit2 = get_strategy("albl", random_state=0)
    with pytest.raises(ValueError, match="select"):
        bandit2.update([51], [1], model)


def test_albl_rejects_bad_parameters():
    with pytest.raises(ValueError, match="arms"):
        get_strategy("albl", arms="margin")
    with pytest.raises(ValueError, match="exploration"):
        get_strategy("albl", exploration=0.0)


def test_albl_update_covers_replacement_batches_of_one_round():
    X, y = noisy_right_problem(0)
    model = LogisticRegression().fit(X[:50], y[:50])
    bandit = get_strategy("albl", arms=["margin", "random"], random_state=0)
    first = bandit.select(
        QueryContext(np.arange(50, 400), X[50:], estimator=model), 3
    )
    # one item was skipped; the loop asks again among the rest
    rest = np.setdiff1d(np.arange(50, 400), first.ids)
    second = bandit.select(QueryContext(rest, X[rest], estimator=model), 1)
    labeled = np.r_[first.ids[:2], second.ids]
    reward = bandit.update(labeled, y[labeled], model)
    # the reward is the accuracy on the three labeled items, each weighted by 1 / q(x)
    q = np.r_[first.info["query_probabilities"][:2], second.info["query_probabilities"]]
    correct = model.predict(X[labeled]) == y[labeled]
    assert reward == pytest.approx(np.sum(correct / q) / np.sum(1 / q))
    assert bandit.arm_counts_.sum() == 2
    with pytest.raises(ValueError, match="select"):
        bandit.update(labeled, y[labeled], model)
