"""The labeling app's model facts for multi-label and regression projects, worked by hand."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LinearRegression

from activelab.server.answers import decode_answer, encode_answer
from activelab.server.task_scoring import fit_quality, stop_agreement, task_guesses, trainable
from activelab.server.why_tasks import task_why_text


class _Fixed:
    """A 'model' whose per-label probabilities are given."""

    def __init__(self, P):
        self.P = np.asarray(P, dtype=float)

    def predict_proba(self, X):
        return self.P[: len(X)]


def test_multilabel_guess_is_the_labels_above_half_and_its_set_probability():
    model = _Fixed([[0.9, 0.2, 0.6], [0.1, 0.4, 0.3]])
    guesses, sure = task_guesses(model, np.zeros((2, 1)), "multilabel", ["a", "b", "c"])
    assert guesses == ['["a","c"]', "[]"]
    np.testing.assert_allclose(sure, [0.9 * 0.8 * 0.6, 0.9 * 0.6 * 0.7])


def test_regression_guess_is_the_prediction_and_fit_quality_is_r2():
    X = np.arange(10.0).reshape(-1, 1)
    y = 2 * X.ravel() + 1
    model = LinearRegression().fit(X, y)
    guesses, sure = task_guesses(model, X[:2], "regression", [])
    np.testing.assert_allclose([float(g) for g in guesses], [1.0, 3.0])
    assert sure is None
    score, ok = fit_quality(LinearRegression(), X, y, "regression", 0)
    assert abs(score - 1.0) < 1e-9 and ok
    assert fit_quality(LinearRegression(), X[:3], y[:3], "regression", 0) == (None, False)


def test_trainable_needs_two_different_targets():
    assert not trainable(np.array([[1, 0], [1, 0]]), "multilabel")
    assert trainable(np.array([[1, 0], [0, 0]]), "multilabel")
    assert not trainable(np.array([2.5, 2.5]), "regression")
    assert trainable(np.array([2.5, 3.0]), "regression")


def test_stop_agreement_is_same_sets_or_r2_against_the_previous_predictions():
    assert stop_agreement(['["a"]', "[]", '["b"]'], ['["a"]', '["b"]', '["b"]'],
                          "multilabel") == 2 / 3
    # previous 1, 2, 3 (spread 2); new 1, 2, 4: 1 - 1 / 2
    assert stop_agreement(["1.0", "2.0", "3.0"], ["1.0", "2.0", "4.0"], "regression") == 0.5
    assert stop_agreement(None, ["1.0"], "regression") is None


def test_why_texts_say_what_the_utility_measures():
    why = {"strategy": "greedy_io", "utility": 0.25, "rank": 3, "model_version": 2}
    assert task_why_text(why, "regression") == (
        "no labeled item is near it in both the features and the number: the smallest "
        "distance times difference between the model's prediction and a label is 0.250 "
        "(larger = ranked first): rank 3 of the items model v2 chose")
    why = {"strategy": "multilabel_margin", "utility": 0.8, "rank": 1, "model_version": 1}
    assert "per-label uncertainty 1 - |2p - 1| is 0.800 on average" in \
        task_why_text(why, "multilabel")
    assert task_why_text({"strategy": "random", "utility": None}, "multilabel").startswith(
        "picked at random: the model cannot rank items yet (it needs two different label sets")


def test_answers_are_encoded_per_task_and_decoded_back():
    multi = {"task": "multilabel"}
    stored = encode_answer(multi, ["a", "b"], chosen=["b", "a"])
    assert stored == '["a","b"]' and decode_answer(multi, stored) == ["a", "b"]
    numbers = {"task": "regression", "value_range": [0, 1]}
    assert decode_answer(numbers, encode_answer(numbers, [], value=0.5)) == 0.5
    assert encode_answer({}, ["a", "b"], label="a") == "a"
