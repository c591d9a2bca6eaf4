"""run(candidate_subset=m): each query scores a seeded random m of the unlabeled items
(Baal's max_sample; Gal et al. 2017 score a random 2,000 of the pool)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from activelab.events import JSONLSink
from activelab.loop import run
from activelab.oracles import Oracle, OracleAnswer
from activelab.strategies.base import Needs, UtilityStrategy
from activelab.strategies.uncertainty import margin_utility


class Seen(list):
    """A list that survives the run's deepcopy of the strategy."""

    def __deepcopy__(self, memo):
        return self


class RecordingMargin(UtilityStrategy):
    """Margin, keeping the candidate ids of every query it was asked."""

    name = "test_recording_margin"
    needs = frozenset({Needs.PROBA})

    def __init__(self, random_state=None, seen=None):
        super().__init__(random_state=random_state)
        self.seen = Seen() if seen is None else seen

    def utility(self, context):
        self.seen.append(context.candidate_ids.copy())
        return margin_utility(context.proba)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


def _run(iris, seen, **kw):
    X, y = iris
    args = dict(strategy=RecordingMargin(random_state=0, seen=seen), initial=10, batch_size=5, budget=40,
                random_state=0)
    args.update(kw)
    return run(LogisticRegression(max_iter=300), X, y, **args)


def test_each_query_scores_a_random_subset_of_the_unlabeled(iris):
    seen = Seen()
    result = _run(iris, seen, candidate_subset=25)
    assert len(seen) == len(result.rounds) - 1 == 6
    labeled_before = set(result.initial_ids.tolist())
    for record, ids in zip(result.rounds, seen, strict=False):
        assert ids.size == 25 and np.unique(ids).size == 25 and np.all(np.diff(ids) > 0)
        assert not labeled_before & set(ids.tolist())  # only unlabeled items
        assert set(record.query_ids.tolist()) <= set(ids.tolist())  # chosen among them
        labeled_before |= set(record.labeled_ids.tolist())
    assert len({tuple(ids) for ids in seen}) == 6  # a new subset every round
    assert result.config["candidate_subset"] == 25
    again = Seen()
    _run(iris, again, candidate_subset=25)
    assert [a.tolist() for a in again] == [s.tolist() for s in seen]  # seeded


def test_without_a_subset_every_unlabeled_item_is_scored(iris):
    seen = Seen()
    result = _run(iris, seen)
    assert [ids.size for ids in seen] == [140, 135, 130, 125, 120, 115]
    assert "candidate_subset" not in result.config  # the logs of such runs are unchanged
    # a subset at least as large as the unlabeled items is all of them
    big = Seen()
    same = _run(iris, big, candidate_subset=140)
    assert [ids.size for ids in big] == [140, 135, 130, 125, 120, 115]
    assert [r.query_ids.tolist() for r in same.rounds] == \
        [r.query_ids.tolist() for r in result.rounds]


def test_bad_subsets_are_refused(iris):
    with pytest.raises(ValueError, match="candidate_subset"):
        _run(iris, Seen(), candidate_subset=4)  # smaller than the batch
    with pytest.raises(TypeError, match="candidate_subset"):
        _run(iris, Seen(), candidate_subset=2.5)


class Interrupting(Oracle):
    def __init__(self, y, n_calls):
        self.y, self.n_calls, self.calls = y, n_calls, 0

    def label(self, ids, pool):
        self.calls += 1
        if self.calls > self.n_calls:
            raise KeyboardInterrupt
        return OracleAnswer(ids=ids, labels=self.y[ids])


def test_a_run_with_a_subset_resumes_to_the_same_result(iris, tmp_path):
    X, y = iris
    whole = _run(iris, Seen(), candidate_subset=25)
    log = tmp_path / "run.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run(LogisticRegression(max_iter=300), X, Interrupting(y, 4),
            strategy=RecordingMargin(), initial=10, batch_size=5, budget=40, random_state=0,
            candidate_subset=25, sinks=[JSONLSink(log)])
    resumed = run(LogisticRegression(max_iter=300), X, y, strategy=RecordingMargin(),
                  initial=10, batch_size=5, budget=40, random_state=0, candidate_subset=25,
                  resume=log)
    assert [r.query_ids.tolist() for r in resumed.rounds] == \
        [r.query_ids.tolist() for r in whole.rounds]
