"""ActiveLearner and Committee on multi-label targets (n x L 0/1 tables or label lists)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import ClassifierChain, MultiOutputClassifier

from activelab import ActiveLearner, Committee
from activelab.engine.tasks import Task
from activelab.strategies import available_strategies


@pytest.fixture(scope="module")
def data():
    X, Y = make_multilabel_classification(160, 6, n_classes=4, random_state=0)
    return X, Y.astype(np.int8)


ESTIMATORS = {
    "one_vs_rest": lambda: OneVsRestClassifier(LogisticRegression(max_iter=500)),
    "multi_output": lambda: MultiOutputClassifier(LogisticRegression(max_iter=500)),
    "chain": lambda: ClassifierChain(LogisticRegression(max_iter=500), random_state=0),
    "forest": lambda: RandomForestClassifier(20, random_state=0),
}


@pytest.mark.parametrize("kind", sorted(ESTIMATORS))
def test_each_multilabel_estimator_fits_predicts_queries_and_grows(kind, data):
    X, Y = data
    learner = ActiveLearner(ESTIMATORS[kind](), X_training=X[:40], y_training=Y[:40],
                            random_state=0)
    assert learner.task_ is Task.MULTILABEL
    assert learner.strategy_.name == "multilabel_margin"
    P = learner.predict_proba(X[40:])
    assert P.shape == (120, 4) and P.min() >= 0 and P.max() <= 1
    pred = learner.predict(X[40:])
    assert pred.shape == (120, 4) and pred.dtype == np.int8
    subset = float(np.mean(np.all(pred == Y[40:], axis=1)))
    assert learner.score(X[40:], Y[40:]) == pytest.approx(subset)
    idx, rows = learner.query(X[40:], n_instances=5)
    assert np.unique(idx).size == 5
    learner.teach(X[40:][idx], Y[40:][idx])
    assert learner.y_training_.shape == (45, 4) and learner.y_training_.dtype == np.int8
    np.testing.assert_array_equal(learner.labels_, np.arange(4))


def test_forest_marginals_are_the_positive_class_of_each_output(data):
    X, Y = data
    learner = ActiveLearner(RandomForestClassifier(20, random_state=0), X_training=X[:40],
                            y_training=Y[:40])
    raw = learner.estimator_.predict_proba(X[40:50])
    np.testing.assert_allclose(learner.predict_proba(X[40:50]),
                               np.column_stack([p[:, 1] for p in raw]))


def test_the_default_strategy_picks_the_least_sure_on_average(data):
    X, Y = data
    learner = ActiveLearner(OneVsRestClassifier(LogisticRegression(max_iter=500)),
                            X_training=X[:40], y_training=Y[:40], random_state=0)
    P = learner.predict_proba(X[40:])
    expected = np.argsort(-(1 - np.abs(2 * P - 1)).mean(axis=1), kind="stable")[:3]
    idx, _ = learner.query(X[40:], n_instances=3)
    np.testing.assert_array_equal(idx, expected)


@pytest.mark.parametrize("name", sorted(set(available_strategies(task="multilabel"))))
def test_every_multilabel_strategy_runs_from_a_learner(name, data):
    X, Y = data
    learner = ActiveLearner(OneVsRestClassifier(LogisticRegression(max_iter=500)),
                            query_strategy=name, X_training=X[:40], y_training=Y[:40],
                            random_state=0)
    idx, _ = learner.query(X[40:], n_instances=4)
    assert np.unique(idx).size == 4 and idx.max() < 120


# ----------------------------------------------------------------------- label lists
def test_lists_of_labels_are_binarized_and_kept_in_column_order():
    X = np.arange(12, dtype=float).reshape(6, 2)
    lists = [["sport"], ["news", "sport"], [], ["weather"], ["news"], ["news", "weather"]]
    learner = ActiveLearner(OneVsRestClassifier(LogisticRegression()), X_training=X,
                            y_training=lists)
    assert learner.task_ is Task.MULTILABEL
    assert learner.labels_.tolist() == ["news", "sport", "weather"]
    np.testing.assert_array_equal(learner.y_training_[:3], [[0, 1, 0], [1, 1, 0], [0, 0, 0]])
    learner.teach(X[:2], [["weather"], ["sport", "news"]])
    np.testing.assert_array_equal(learner.y_training_[-2:], [[0, 0, 1], [1, 1, 0]])
    learner.teach(X[:1], np.array([[1, 0, 1]]))  # the table form is fine too
    assert learner.y_training_.shape == (9, 3)
    assert 0.0 <= learner.score(X, lists) <= 1.0
    with pytest.raises(ValueError, match=r"label\(s\) \['music'\].*classes=\["):
        learner.teach(X[:1], [["music"]])


def test_classes_name_every_label_up_front():
    X = np.arange(8, dtype=float).reshape(4, 2)
    learner = ActiveLearner(OneVsRestClassifier(LogisticRegression()),
                            classes=["a", "b", "c"], X_training=X,
                            y_training=[["a"], ["b"], ["a", "b"], []])
    assert learner.labels_.tolist() == ["a", "b", "c"]
    learner.teach(X[:1], [["c"]])
    np.testing.assert_array_equal(learner.y_training_[-1], [0, 0, 1])


def test_lists_after_a_table_are_refused(data):
    X, Y = data
    learner = ActiveLearner(OneVsRestClassifier(LogisticRegression()), X_training=X[:40],
                            y_training=Y[:40])
    with pytest.raises(TypeError, match="learnt from a 0/1 table"):
        learner.teach(X[:2], [["spam"], ["ham", "spam"]])


def test_one_row_of_labels_may_be_given_flat(data):
    X, Y = data
    learner = ActiveLearner(OneVsRestClassifier(LogisticRegression()), X_training=X[:40],
                            y_training=Y[:40])
    learner.teach(X[50:51], Y[50])
    np.testing.assert_array_equal(learner.y_training_[-1], Y[50])


# ------------------------------------------------------------------------ bad input
def test_a_single_label_is_refused(data):
    X, Y = data
    with pytest.raises(ValueError, match=r"single label \(\['a'\]\).*1-D class labels"):
        ActiveLearner(OneVsRestClassifier(LogisticRegression()), X_training=X[:3],
                      y_training=[["a"], [], ["a"]])
    learner = ActiveLearner(OneVsRestClassifier(LogisticRegression()), X_training=X[:40],
                            y_training=Y[:40])
    with pytest.raises(ValueError, match=r"shape \(2, 1\) but the learner learns 4 labels per row"):
        learner.teach(X[40:42], Y[40:42, :1])
    # an n x 1 0/1 column is one binary class per row, as in scikit-learn
    column = ActiveLearner(LogisticRegression(), X_training=X[:40], y_training=Y[:40, :1])
    assert column.task_ is Task.CLASSIFICATION


def test_a_table_with_no_label_at_all_is_refused(data):
    X, _ = data
    with pytest.raises(ValueError, match="no positive label at all"):
        ActiveLearner(OneVsRestClassifier(LogisticRegression()), X_training=X[:10],
                      y_training=np.zeros((10, 3), dtype=int))


def test_a_constant_label_is_explained_when_the_model_cannot_fit_it(data):
    X, Y = data
    Y0 = Y[:40].copy()
    Y0[:, 2] = 0
    with pytest.raises(ValueError, match=r"label\(s\) \[2\] take a single value.*OneVsRest"):
        ActiveLearner(MultiOutputClassifier(LogisticRegression()), X_training=X[:40],
                      y_training=Y0)
    learner = ActiveLearner(OneVsRestClassifier(LogisticRegression()), X_training=X[:40],
                            y_training=Y0)  # one-vs-rest copes: that label is never predicted
    assert learner.predict(X[40:])[:, 2].sum() == 0


def test_mixing_one_and_two_dimensional_targets_is_refused(data):
    X, Y = data
    learner = ActiveLearner(OneVsRestClassifier(LogisticRegression()), X_training=X[:40],
                            y_training=Y[:40])
    with pytest.raises(ValueError, match=r"learns 4 labels per row"):
        learner.teach(X[40:43], np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="has 3 label columns but the learner learns 4"):
        learner.teach(X[40:42], Y[40:42, :3])
    classifier = ActiveLearner(LogisticRegression(), X_training=X[:40], y_training=Y[:40, 0])
    with pytest.raises(ValueError, match="trained on one class per row"):
        classifier.teach(X[40:42], Y[40:42])


def test_a_classification_strategy_is_refused_naming_the_multilabel_ones(data):
    X, Y = data
    with pytest.raises(ValueError, match=r"'margin' is for classification, not multilabel.*"
                                         r"multilabel_margin"):
        ActiveLearner(OneVsRestClassifier(LogisticRegression()), query_strategy="margin",
                      X_training=X[:40], y_training=Y[:40])


def test_incremental_teaching_is_refused_for_multilabel(data):
    X, Y = data
    learner = ActiveLearner(OneVsRestClassifier(LogisticRegression()), X_training=X[:40],
                            y_training=Y[:40])
    with pytest.raises(ValueError, match="only_new=True"):
        learner.teach(X[40:42], Y[40:42], only_new=True)


# ------------------------------------------------------------------------ committee
def test_a_committee_averages_member_marginals(data):
    X, Y = data
    members = [OneVsRestClassifier(LogisticRegression(max_iter=500)),
               RandomForestClassifier(20, random_state=0)]
    committee = Committee(members, query_strategy="multilabel_margin", random_state=0)
    committee.teach(X[:40], Y[:40])
    stacked = committee.committee_proba(X[40:])
    assert stacked.shape == (2, 120, 4)
    np.testing.assert_allclose(committee.predict_proba(X[40:]), stacked.mean(axis=0))
    pred = committee.predict(X[40:])
    np.testing.assert_array_equal(pred, (stacked.mean(axis=0) >= 0.5).astype(np.int8))
    assert committee.score(X[40:], Y[40:]) == pytest.approx(np.all(pred == Y[40:], 1).mean())
    idx, _ = committee.query(X[40:], n_instances=3)
    assert np.unique(idx).size == 3


def test_a_bagged_committee_keeps_every_varied_label_in_each_resample(data):
    X, Y = data
    Y0 = Y[:30].copy()
    Y0[:, 3] = 0
    Y0[0, 3] = 1  # label 3 is positive once: each member's resample must keep that row
    committee = Committee.bagging(MultiOutputClassifier(LogisticRegression()), 4, X[:30], Y0,
                                  query_strategy="cvirs", random_state=0)
    for member in committee:
        assert member.y_training_[:, 3].max() == 1
    assert committee.query(X[30:], n_instances=2)[0].size == 2


def test_a_committee_refuses_a_classification_strategy_on_multilabel(data):
    X, Y = data
    committee = Committee([OneVsRestClassifier(LogisticRegression()),
                           RandomForestClassifier(5, random_state=0)], query_strategy="entropy")
    with pytest.raises(ValueError, match="'entropy' is for classification"):
        committee.teach(X[:40], Y[:40])
    with pytest.raises(TypeError, match="MultiLabelBinarizer"):
        committee.teach(X[:2], [["a"], ["b"]])


def test_a_committee_left_at_its_default_takes_the_multilabel_default(data):
    X, Y = data
    committee = Committee([OneVsRestClassifier(LogisticRegression()),
                           RandomForestClassifier(5, random_state=0)])
    committee.teach(X[:40], Y[:40])
    assert committee.task_ is Task.MULTILABEL
    assert committee.strategy_.name == "multilabel_margin"
    assert committee.query(X[40:], n_instances=2)[0].size == 2


def test_save_and_load_keep_the_label_columns(tmp_path):
    pytest.importorskip("skops", reason="model files are skops files (the app/scale extras)")
    X = np.arange(12, dtype=float).reshape(6, 2)
    lists = [["b"], ["a", "b"], [], ["c"], ["a"], ["a", "c"]]
    learner = ActiveLearner(OneVsRestClassifier(LogisticRegression()), X_training=X,
                            y_training=lists, random_state=0)
    learner.save(tmp_path / "ml.skops")
    loaded = ActiveLearner.load(tmp_path / "ml.skops")
    assert loaded.task_ is Task.MULTILABEL
    assert loaded.labels_.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(loaded.predict_proba(X), learner.predict_proba(X))
    loaded.teach(X[:1], [["c"]])
    np.testing.assert_array_equal(loaded.y_training_[-1], [0, 0, 1])
