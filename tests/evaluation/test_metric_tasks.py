"""The metric table knows each metric's task and direction."""

import numpy as np
import pytest

from activelab.engine.tasks import Task
from activelab.evaluation.metrics import (
    METRICS,
    check_metric_task,
    higher_is_better,
    metrics_for,
    primary_metric,
)


def test_regression_metrics_by_hand():
    y, p = np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 2.0])
    assert METRICS["mae"](y, p) == pytest.approx(1.0)  # (1 + 0 + 2) / 3
    assert METRICS["rmse"](y, p) == pytest.approx(np.sqrt(5 / 3))  # (1 + 0 + 4) / 3
    # mean 7/3, total sum of squares 1/9+1/9+... = 14/3; residual 5: r2 = 1 - 5/(14/3)
    assert METRICS["r2"](y, p) == pytest.approx(1 - 5 / (14 / 3))


def test_multilabel_metrics_by_hand():
    Y = np.array([[1, 0, 1], [0, 1, 0]])
    P = np.array([[1, 0, 0], [0, 1, 0]])
    assert METRICS["hamming_loss"](Y, P) == pytest.approx(1 / 6)
    assert METRICS["subset_accuracy"](Y, P) == pytest.approx(0.5)
    # micro: tp 2, fp 0, fn 1 -> 2*2/(2*2+0+1)
    assert METRICS["f1_micro"](Y, P) == pytest.approx(0.8)


def test_tasks_and_directions():
    assert metrics_for("regression") == ["r2", "rmse", "mae"]
    assert {"hamming_loss", "subset_accuracy", "f1_micro", "f1_macro"} <= set(
        metrics_for(Task.MULTILABEL))
    assert "accuracy" in metrics_for("classification")
    assert [higher_is_better(m) for m in ("r2", "rmse", "mae", "hamming_loss", "accuracy")] == [
        True, False, False, False, True]
    assert [primary_metric(t) for t in Task] == ["accuracy", "f1_micro", "r2"]


def test_a_metric_of_another_task_is_refused_naming_the_right_ones():
    with pytest.raises(ValueError, match="'accuracy' scores classification, not regression.*r2"):
        check_metric_task("accuracy", "regression")
    check_metric_task("f1_micro", "multilabel")
