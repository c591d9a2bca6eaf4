"""Tests of the learners: incremental teaching, save and load, the committee as a sequence."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import entropy
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import SVC

from activelab import ActiveLearner, Committee, get_strategy
from activelab.engine.models import make_model
from activelab.strategies.base import UtilityStrategy


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    order = np.random.RandomState(0).permutation(len(y))
    X, y = X[order], y[order]
    return X[:1000], y[:1000], X[1000:], y[1000:]


def _batches(start, stop, size):
    return [slice(s, s + size) for s in range(start, stop, size)]


# --------------------------------------------------------------------- teach(only_new=True)
@pytest.mark.parametrize("estimator", [SGDClassifier(random_state=0), MultinomialNB()],
                         ids=["sgd", "multinomial_nb"])
def test_only_new_is_partial_fit_on_the_new_rows(estimator, digits):
    X, y, X_test, y_test = digits
    learner = ActiveLearner(estimator, X_training=X[:100], y_training=y[:100])
    by_hand = clone(estimator).fit(X[:100], y[:100])
    for rows in _batches(100, 300, 20):
        learner.teach(X[rows], y[rows], only_new=True)
        by_hand.partial_fit(X[rows], y[rows])
    np.testing.assert_array_equal(learner.predict(X_test), by_hand.predict(X_test))
    assert learner.score(X_test, y_test) == by_hand.score(X_test, y_test)
    # the training set grew by every batch, in order
    np.testing.assert_array_equal(learner.X_training_, X[:300])
    np.testing.assert_array_equal(learner.y_training_, y[:300])


def test_only_new_no_longer_forgets_the_earlier_rows(digits):
    # before, only_new=True refitted on the latest 20 rows alone
    X, y, X_test, y_test = digits
    learner = ActiveLearner(MultinomialNB(), X_training=X[:200], y_training=y[:200])
    learner.teach(X[200:220], y[200:220], only_new=True)
    on_all = MultinomialNB().fit(X[:220], y[:220]).score(X_test, y_test)
    on_last = MultinomialNB().fit(X[200:220], y[200:220]).score(X_test, y_test)
    assert learner.score(X_test, y_test) == on_all
    assert on_all > on_last + 0.1


def test_multinomial_nb_incremental_counts_equal_one_fit_on_all_rows(digits):
    X, y, X_test, _ = digits
    learner = ActiveLearner(MultinomialNB(), classes=np.arange(10))
    for rows in _batches(0, 200, 25):
        learner.teach(X[rows], y[rows], only_new=True)
    full = MultinomialNB().fit(X[:200], y[:200])
    np.testing.assert_array_equal(learner.estimator_.feature_count_, full.feature_count_)
    np.testing.assert_array_equal(learner.estimator_.class_count_, full.class_count_)
    np.testing.assert_allclose(learner.predict_proba(X_test), full.predict_proba(X_test))


def test_first_incremental_batch_gets_the_given_classes(digits):
    X, y, X_test, _ = digits
    low = np.flatnonzero(y < 5)[:40]
    high = np.flatnonzero(y >= 5)[:40]
    learner = ActiveLearner(SGDClassifier(random_state=0), classes=range(10))
    learner.teach(X[low], y[low], only_new=True)
    learner.teach(X[high], y[high], only_new=True)  # classes 5..9 were declared up front
    by_hand = SGDClassifier(random_state=0).partial_fit(X[low], y[low], classes=np.arange(10))
    by_hand.partial_fit(X[high], y[high])
    np.testing.assert_array_equal(learner.classes_, np.arange(10))
    np.testing.assert_array_equal(learner.predict(X_test), by_hand.predict(X_test))
    assert learner.y_training_.tolist() == y[low].tolist() + y[high].tolist()


def test_first_incremental_batch_without_classes_uses_its_own(digits):
    X, y, _, _ = digits
    learner = ActiveLearner(SGDClassifier(random_state=0))
    learner.teach(X[:30], y[:30], only_new=True)
    np.testing.assert_array_equal(learner.classes_, np.unique(y[:30]))


@pytest.mark.parametrize("estimator, name", [
    (LogisticRegression(max_iter=200), "LogisticRegression"),
    (make_model("logreg"), "Pipeline"),
])
def test_only_new_refuses_estimators_without_partial_fit(estimator, name, digits):
    X, y, X_test, _ = digits
    learner = ActiveLearner(estimator, X_training=X[:50], y_training=y[:50])
    before = learner.predict_proba(X_test)
    with pytest.raises(TypeError, match=f"{name} does not have.*teach\\(X, y\\)"):
        learner.teach(X[50:70], y[50:70], only_new=True)
    assert learner.X_training_.shape[0] == 50  # nothing changed
    np.testing.assert_array_equal(learner.predict_proba(X_test), before)
    learner.teach(X[50:70], y[50:70])  # the refit still works
    assert learner.X_training_.shape[0] == 70


def test_an_unseen_class_cannot_be_partial_fit(digits):
    X, y, _, _ = digits
    low = np.flatnonzero(y < 5)
    learner = ActiveLearner(SGDClassifier(random_state=0), X_training=X[low[:50]],
                            y_training=y[low[:50]])
    new = np.flatnonzero(y == 7)[:3]
    with pytest.raises(ValueError, match=r"class\(es\) \[7\].*only_new=False.*classes="):
        learner.teach(X[new], y[new], only_new=True)
    assert learner.X_training_.shape[0] == 50
    learner.teach(X[new], y[new], only_new=False)  # the fix the message names
    assert 7 in learner.classes_


def test_incremental_label_checks(digits):
    X, y, _, _ = digits
    ones = np.flatnonzero(y == 1)[:5]
    with pytest.raises(ValueError, match="single class.*classes="):
        ActiveLearner(SGDClassifier()).teach(X[ones], y[ones], only_new=True)
    with pytest.raises(ValueError, match=r"label\(s\) \[9\].*not in classes"):
        ActiveLearner(SGDClassifier(), classes=[0, 1]).teach(X[:3], [0, 1, 9], only_new=True)
    with pytest.raises(ValueError, match="two or more"):
        ActiveLearner(SGDClassifier(), classes=[3])
    with pytest.raises(ValueError, match="y_training holds"):
        ActiveLearner(SGDClassifier(), X_training=X[:20], y_training=y[:20], classes=[0, 1])


def test_committee_only_new_updates_every_member(digits):
    X, y, X_test, _ = digits
    members = [SGDClassifier(random_state=s) for s in (0, 1)]
    committee = Committee(
        [ActiveLearner(m, X_training=X[:100], y_training=y[:100]) for m in members],
        query_strategy="vote_entropy",
    )
    by_hand = [clone(m).fit(X[:100], y[:100]) for m in members]
    for rows in _batches(100, 160, 20):
        committee.teach(X[rows], y[rows], only_new=True)
        for model in by_hand:
            model.partial_fit(X[rows], y[rows])
    for member, model in zip(committee, by_hand, strict=True):
        np.testing.assert_array_equal(member.predict(X_test), model.predict(X_test))
        assert member.y_training_.tolist() == y[:160].tolist()
    # the committee's labeled set (its members' initial sets, then the batches) grew too
    assert committee.y_training_.shape[0] == 200 + 60
    assert committee.y_training_[-60:].tolist() == y[100:160].tolist()


def test_committee_only_new_is_refused_before_any_member_changes(digits):
    X, y, _, _ = digits
    sgd = ActiveLearner(SGDClassifier(random_state=0), X_training=X[:60], y_training=y[:60])
    lr = ActiveLearner(LogisticRegression(max_iter=300), X_training=X[:60], y_training=y[:60])
    committee = Committee([sgd, lr])
    coef = sgd.estimator_.coef_.copy()
    with pytest.raises(TypeError, match="LogisticRegression does not have"):
        committee.teach(X[60:80], y[60:80], only_new=True)
    np.testing.assert_array_equal(sgd.estimator_.coef_, coef)
    assert sgd.X_training_.shape[0] == 60


def test_bagging_committee_only_new_resamples_each_batch(digits):
    X, y, _, _ = digits
    committee = Committee.bagging(MultinomialNB(), n_members=3, X_training=X[:100],
                                  y_training=y[:100], random_state=0, classes=range(10))
    sizes = [m.y_training_.shape[0] for m in committee]
    committee.teach(X[100:130], y[100:130], only_new=True)
    batch_rows = {r.tobytes() for r in X[100:130]}
    for member, size in zip(committee, sizes, strict=True):
        assert member.y_training_.shape[0] == size + 30
        assert {r.tobytes() for r in member.X_training_[size:]} <= batch_rows
        # the counts are those of the member's own rows
        np.testing.assert_array_equal(
            member.estimator_.class_count_,
            np.bincount(member.y_training_, minlength=10).astype(float),
        )
    assert committee.y_training_.shape[0] == 130


def test_committee_unseen_class_is_refused(digits):
    X, y, _, _ = digits
    low = np.flatnonzero(y < 3)[:60]
    committee = Committee.bagging(SGDClassifier(random_state=0), 2, X[low], y[low],
                                  random_state=0)
    eight = np.flatnonzero(y == 8)[:2]
    with pytest.raises(ValueError, match=r"\[8\].*only_new=False"):
        committee.teach(X[eight], y[eight], only_new=True)


# ------------------------------------------------------------------------ save and load
@pytest.mark.parametrize("strategy", [
    "random",
    "margin",
    get_strategy("hybrid", factor=3, utility="entropy"),
    get_strategy("cost_aware", base=get_strategy("entropy"), power=0.5),
], ids=["random", "margin", "hybrid", "cost_aware"])
def test_learner_round_trip_predicts_and_queries_the_same(strategy, digits, tmp_path):
    X, y, X_test, _ = digits
    pool = X[100:400]
    extra = {"costs": 1.0 + np.arange(300) % 3} if "Cost" in repr(strategy) else {}
    learner = ActiveLearner(make_model("logreg", random_state=0), strategy, X[:100], y[:100],
                            random_state=7)
    learner.query(pool, 5, **extra)  # the random state has moved on
    path = learner.save(tmp_path / "learner.skops")
    loaded = ActiveLearner.load(path)
    np.testing.assert_array_equal(loaded.predict(X_test), learner.predict(X_test))
    np.testing.assert_array_equal(loaded.predict_proba(X_test), learner.predict_proba(X_test))
    np.testing.assert_array_equal(loaded.X_training_, learner.X_training_)
    np.testing.assert_array_equal(loaded.y_training_, learner.y_training_)
    assert type(loaded.strategy_) is type(learner.strategy_)
    assert loaded.strategy_.random_state is loaded._rng  # one seed, as in the original
    for _ in range(2):  # and the next queries too
        a, _ = learner.query(pool, 6, **extra)
        b, _ = loaded.query(pool, 6, **extra)
        assert a.tolist() == b.tolist()
    np.testing.assert_array_equal(loaded.last_query_.utilities, learner.last_query_.utilities)
    assert loaded.query_strategy == (strategy if isinstance(strategy, str) else loaded.strategy_)


def test_loaded_learner_keeps_teaching_the_same_way(digits, tmp_path):
    X, y, X_test, _ = digits
    learner = ActiveLearner(SGDClassifier(random_state=0), classes=range(10), random_state=0)
    learner.teach(X[:50], y[:50], only_new=True)
    learner.save(tmp_path / "sgd.skops")
    loaded = ActiveLearner.load(tmp_path / "sgd.skops")
    np.testing.assert_array_equal(loaded.classes, np.arange(10))
    for model in (learner, loaded):
        model.teach(X[50:80], y[50:80], only_new=True)
    np.testing.assert_array_equal(loaded.predict(X_test), learner.predict(X_test))


def test_unfitted_and_sparse_learners_round_trip(digits, tmp_path):
    X, y, X_test, _ = digits
    empty = ActiveLearner(LogisticRegression(), "entropy")
    assert not ActiveLearner.load(empty.save(tmp_path / "empty.skops")).is_fitted
    Xs = sp.csr_matrix(X[:80])
    learner = ActiveLearner(MultinomialNB(), "margin", Xs, y[:80], random_state=0)
    loaded = ActiveLearner.load(learner.save(tmp_path / "sparse.skops"))
    assert sp.issparse(loaded.X_training_)
    assert (loaded.X_training_ != Xs).nnz == 0
    pool = sp.csr_matrix(X[80:200])
    assert loaded.query(pool, 4)[0].tolist() == learner.query(pool, 4)[0].tolist()


def test_committee_round_trip(digits, tmp_path):
    X, y, X_test, _ = digits
    committee = Committee.bagging(LogisticRegression(max_iter=300), 3, X[:60], y[:60],
                                  query_strategy="kl_max_disagreement", random_state=0)
    committee.query(X[60:300], 3)
    loaded = Committee.load(committee.save(tmp_path / "committee.skops"))
    assert len(loaded) == 3 and loaded.bootstrap
    np.testing.assert_array_equal(loaded.committee_proba(X_test),
                                  committee.committee_proba(X_test))
    for model in (committee, loaded):  # the bootstrap draws continue from the saved state
        model.teach(X[60:80], y[60:80])
    np.testing.assert_array_equal(loaded.predict(X_test), committee.predict(X_test))
    assert loaded.query(X[80:300], 5)[0].tolist() == committee.query(X[80:300], 5)[0].tolist()


class _Unregistered(UtilityStrategy):
    name = "not_in_the_registry"
    needs = frozenset({"proba"})

    def utility(self, context):
        return context.proba.max(axis=1)


class PlainClassifier(ClassifierMixin, BaseEstimator):
    """A classifier from outside the trusted packages (this test module)."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.prior_ = np.bincount(np.searchsorted(self.classes_, y)) / len(y)
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (np.asarray(X).shape[0], 1))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def test_save_refuses_strategies_it_cannot_rebuild(digits, tmp_path):
    X, y, _, _ = digits

    def pick_first(model, X, n):
        return np.arange(n)

    with pytest.raises(TypeError, match="plain function \\(pick_first\\)"):
        ActiveLearner(LogisticRegression(), pick_first).save(tmp_path / "f.skops")
    with pytest.raises(TypeError, match="not registered.*register_strategy"):
        ActiveLearner(LogisticRegression(), _Unregistered()).save(tmp_path / "u.skops")
    odd = get_strategy("hybrid", factor=3)
    odd.utility = object()  # a parameter that is no plain value
    with pytest.raises(TypeError, match="hybrid.utility=.*cannot be saved"):
        ActiveLearner(LogisticRegression(), odd).save(tmp_path / "o.skops")
    assert not list(tmp_path.iterdir())


def test_load_refuses_untrusted_types_until_named(digits, tmp_path):
    X, y, X_test, _ = digits
    learner = ActiveLearner(PlainClassifier(), "margin", X[:40], y[:40], random_state=0)
    path = learner.save(tmp_path / "plain.skops")
    name = f"{PlainClassifier.__module__}.PlainClassifier"
    with pytest.raises(TypeError, match=f"holds types outside sklearn.*{name}.*trusted="):
        ActiveLearner.load(path)
    loaded = ActiveLearner.load(path, trusted=[name])
    np.testing.assert_array_equal(loaded.predict_proba(X_test), learner.predict_proba(X_test))


def test_load_checks_the_file(digits, tmp_path):
    X, y, _, _ = digits
    committee = Committee.bagging(LogisticRegression(max_iter=200), 2, X[:40], y[:40])
    committee.save(tmp_path / "c.skops")
    with pytest.raises(ValueError, match="holds a Committee; load it with Committee.load"):
        ActiveLearner.load(tmp_path / "c.skops")
    (tmp_path / "junk.skops").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a file written by save"):
        Committee.load(tmp_path / "junk.skops")
    with pytest.raises(FileNotFoundError, match="no learner file"):
        ActiveLearner.load(tmp_path / "missing.skops")
    with pytest.raises(FileNotFoundError, match="does not exist; create it"):
        committee.save(tmp_path / "no" / "such" / "folder.skops")


def test_save_without_skops_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "skops.io", None)  # makes `import skops.io` fail
    with pytest.raises(ImportError, match=r"pip install 'activelab\[app\]'"):
        ActiveLearner(LogisticRegression()).save(tmp_path / "x.skops")


def test_core_import_does_not_load_skops():
    code = "import sys, activelab.learners; print('skops' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------ a committee is a sequence
def test_committee_iterates_its_members_like_modal(digits):
    X, y, _, _ = digits
    members = [ActiveLearner(LogisticRegression(max_iter=200), X_training=X[:40],
                             y_training=y[:40]) for _ in range(3)]
    committee = Committee(members)
    assert len(committee) == 3
    assert [m for m in committee] == members
    assert committee[0] is members[0] and committee[-1] is members[2]
    assert committee[1:] == members[1:]
    with pytest.raises(IndexError):
        committee[3]


def query_by_committee(committee, X_unlabeled, n_samples=10):
    # the lecture's function, as written
    all_probs = []
    for model in committee:
        probs = model.predict_proba(X_unlabeled)
        all_probs.append(probs)

    all_probs = np.array(all_probs)  # Shape: (n_models, n_samples, n_classes)

    avg_probs = all_probs.mean(axis=0)
    disagreements = entropy(avg_probs.T)

    indices = np.argsort(disagreements)[-n_samples:]
    return indices


@pytest.mark.filterwarnings("ignore:The `probability` parameter:FutureWarning")
def test_the_lecture_query_by_committee_runs_on_a_committee(digits):
    X, y, _, _ = digits
    X_labeled, y_labeled, X_unlabeled = X[:60], y[:60], X[60:400]
    committee = Committee([
        RandomForestClassifier(random_state=0),
        LogisticRegression(max_iter=1000),
        SVC(probability=True, random_state=0),
    ], query_strategy="consensus_entropy", random_state=0)

    for model in committee:
        model.fit(X_labeled, y_labeled)

    query_indices = query_by_committee(committee, X_unlabeled, n_samples=20)

    # by hand: the 20 largest entropies of the members' mean probabilities
    mean = np.mean([m.predict_proba(X_unlabeled) for m in committee.learner_list], axis=0)
    h = -(mean * np.log(np.where(mean > 0, mean, 1.0))).sum(axis=1)
    assert sorted(query_indices.tolist()) == sorted(np.argsort(h)[-20:].tolist())
    # and the committee's own consensus-entropy query chooses the same rows
    ids, _ = committee.query(X_unlabeled, n_instances=20)
    assert sorted(ids.tolist()) == sorted(query_indices.tolist())
