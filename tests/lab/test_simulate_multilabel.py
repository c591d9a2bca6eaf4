"""simulate on a multi-label set: the task from the targets, logreg wrapped one-vs-rest,
micro-F1 as the curve, Hamming loss and subset accuracy beside it."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.multiclass import OneVsRestClassifier

import activelab as al
from activelab.engine.models import make_model, multilabel_model
from activelab.oracles import OracleAnswer


def test_make_model_wraps_what_is_not_natively_multilabel():
    assert isinstance(make_model("logreg", task="multilabel"), OneVsRestClassifier)
    assert isinstance(make_model("rf", task="multilabel"), RandomForestClassifier)
    ovr = OneVsRestClassifier(make_model("logreg"))
    assert multilabel_model(ovr) is ovr
    assert not isinstance(make_model("logreg"), OneVsRestClassifier)


def test_an_oracle_answer_keeps_label_rows():
    answer = OracleAnswer(ids=[3, 5], labels=np.array([[1, 0, 1], [0, 0, 1]]))
    assert answer.labels.shape == (2, 3)
    with pytest.raises(ValueError, match="2 ids but 3 labels"):
        OracleAnswer(ids=[3, 5], labels=np.array([[1, 0, 1], [0, 0, 1], [1, 1, 1]]))


@pytest.mark.skipif(importlib.util.find_spec("river") is None,
                    reason="the multilabel-data extra (river) is not installed")
def test_simulate_runs_multilabel_strategies_on_yeast(tmp_path):
    res = al.simulate("yeast", strategies=["multilabel_margin", "cvirs"], seeds=1,
                      initial=50, batch_size=50, budget=100)
    names = {row.strategy for row in res.summary()}
    assert names == {"multilabel_margin", "cvirs", "random"}
    res.save(tmp_path)
    header = (tmp_path / "curves.csv").read_text().splitlines()[0].split(",")
    assert {"f1_micro", "hamming_loss", "subset_accuracy"} <= set(header)
