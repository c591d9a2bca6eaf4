"""A run of a regressor: the task, its metrics, its log fields and its clear errors."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LogisticRegression, Ridge

import activelab as al
from activelab.events import CallbackSink

X, Y = load_diabetes(return_X_y=True)


def _events(**kwargs):
    events = []
    result = al.run(Ridge(), X[:300], Y[:300], X_test=X[300:], y_test=Y[300:], initial=10,
                    budget=30, random_state=0, sinks=[CallbackSink(events.append)], **kwargs)
    return result, events


def test_a_regressor_runs_with_regression_metrics_and_no_classes():
    result, events = _events(strategy="random")
    start = events[0]
    assert start["event"] == "run_start"
    assert "classes" not in start and start["task"] == "regression"
    assert start["config"]["task"] == "regression"
    assert set(result.rounds[-1].metrics) == {"r2", "rmse", "mae"}
    assert result.n_labeled == 30
    labels = [e for e in events if e["event"] == "round"][0]["labels"]
    assert all(isinstance(v, float) for v in labels)


def test_a_classification_strategy_is_refused_for_a_regressor():
    with pytest.raises(ValueError, match="'margin' is for classification, not regression"):
        _events(strategy="margin")


def test_a_classification_metric_is_refused_for_a_regressor():
    with pytest.raises(ValueError, match="'accuracy' scores classification"):
        _events(strategy="random", metrics=["accuracy"])


def test_nan_targets_are_refused():
    y = Y[:300].copy()
    y[5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        al.run(Ridge(), X[:300], y, strategy="random", initial=10, budget=20, random_state=0)


def test_nan_test_targets_are_refused():
    y_test = Y[300:].copy()
    y_test[0] = np.nan
    with pytest.raises(ValueError, match="y_test contains NaN"):
        al.run(Ridge(), X[:300], Y[:300], X_test=X[300:], y_test=y_test, strategy="random",
               initial=10, budget=20, random_state=0)


def test_an_unknown_task_is_refused():
    with pytest.raises(ValueError, match="unknown task 'ranking'"):
        _events(strategy="random", task="ranking")


def test_classification_runs_keep_their_classes_field():
    events = []
    y = (Y > np.median(Y)).astype(int)
    al.run(LogisticRegression(), X[:300], y[:300], initial=10, budget=20, random_state=0,
           sinks=[CallbackSink(events.append)])
    assert "classes" in events[0] and "task" not in events[0]
    assert "task" not in events[0]["config"]
