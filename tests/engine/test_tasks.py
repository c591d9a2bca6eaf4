"""The task seam: which kind of target a run learns, and what serves it."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import activelab as al
from activelab.engine.tasks import (
    DEFAULT_METRICS,
    DEFAULT_STRATEGIES,
    Task,
    check_targets,
    infer_task,
    tasks_of,
)
from activelab.strategies.registry import check_strategy_task, get_strategy


def test_infer_task_from_targets():
    assert infer_task([0, 1, 1]) is Task.CLASSIFICATION
    assert infer_task(np.array(["a", "b"])) is Task.CLASSIFICATION
    assert infer_task(np.array([1.0, 2.0, 3.0])) is Task.CLASSIFICATION  # whole numbers
    assert infer_task(np.array([0.5, 2.0])) is Task.REGRESSION
    assert infer_task(np.array([[0, 1], [1, 1]])) is Task.MULTILABEL
    assert infer_task([["spam"], ["ham", "urgent"]]) is Task.MULTILABEL
    assert infer_task(np.array([[0], [1]])) is Task.CLASSIFICATION  # a column vector


def test_infer_task_from_estimator():
    assert infer_task([0, 1], LinearRegression()) is Task.REGRESSION
    assert infer_task(None, make_pipeline(StandardScaler(), LinearRegression())) is Task.REGRESSION
    with pytest.raises(ValueError, match="real numbers.*regressor"):
        infer_task(np.array([0.5, 1.0]), LogisticRegression())
    with pytest.raises(ValueError, match="0/1 indicator"):
        infer_task(np.array([[0, 2], [1, 1]]))


def test_check_targets_canonical_forms_and_refusals():
    y = check_targets([[0, 1], [1, 0], [1, 1]], 3, "multilabel")
    assert y.dtype == np.int8 and y.shape == (3, 2)
    with pytest.raises(ValueError, match="single label column"):
        check_targets(np.array([[0], [1]]).reshape(2, 1).repeat(1, 1), 2, "multilabel")
    with pytest.raises(ValueError, match="4 targets but the features have 3 rows"):
        check_targets([1.5, 2, 3, 4], 3, "regression")
    with pytest.raises(ValueError, match="NaN or infinity"):
        check_targets([1.5, np.nan], 2, "regression")
    with pytest.raises(TypeError, match="MultiLabelBinarizer"):
        check_targets([["a"], ["b", "c"]], 2, "multilabel")
    assert check_targets([1, 2], 2, Task.REGRESSION).dtype == np.float64


def test_strategies_declare_their_tasks():
    assert tasks_of(get_strategy("margin")) == {Task.CLASSIFICATION}
    assert Task.REGRESSION in tasks_of(get_strategy("random"))
    assert "margin" not in al.available_strategies(task="regression")
    assert "random" in al.available_strategies(task=Task.MULTILABEL)
    with pytest.raises(ValueError, match="'margin' is for classification, not regression"):
        check_strategy_task(get_strategy("margin"), "regression")
    check_strategy_task(get_strategy("random"), "regression")


def test_every_task_has_defaults():
    assert set(DEFAULT_STRATEGIES) == set(Task) == set(DEFAULT_METRICS)
    assert str(Task.MULTILABEL) == "multilabel" and Task("regression") is Task.REGRESSION
