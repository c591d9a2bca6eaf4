"""SEALS candidate restriction: the labeled rows' neighbours, worked out by hand."""

import importlib.util

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import activelab as al
from activelab.scale import SealsCandidates
from activelab.scale.seals import ExactIndex, make_index

HAS_FAISS = importlib.util.find_spec("faiss") is not None

# ten points on a line at 0, 1, 2, ..., 9 (pool ids = positions)
LINE = np.arange(10, dtype=np.float32).reshape(-1, 1)


def test_neighbours_on_a_line_by_hand():
    seals = SealsCandidates(LINE, k=2, index="exact").add_labeled([0])
    # the 3 nearest of 0 are 0, 1, 2; the labeled 0 leaves
    assert seals.candidate_ids_.tolist() == [1, 2]
    seals.add_labeled([9])
    assert seals.candidate_ids_.tolist() == [1, 2, 7, 8]
    seals.add_labeled([2])  # a candidate gets labeled: it leaves, its neighbours 1, 3 join
    assert seals.candidate_ids_.tolist() == [1, 3, 7, 8]
    assert seals.labeled_ids_.tolist() == [0, 2, 9]
    assert len(seals) == 4


def test_labeling_again_adds_nothing_and_k_is_capped_by_the_pool():
    seals = SealsCandidates(LINE[:3], k=50, index="exact").add_labeled([1])
    assert seals.candidate_ids_.tolist() == [0, 2]
    seals.add_labeled([1])
    assert seals.candidate_ids_.tolist() == [0, 2]


def test_exact_index_matches_brute_force_on_random_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(700, 8)).astype(np.float32)
    got = ExactIndex(X).search(X[:300], 5)
    d = ((X[:300, None, :] - X[None, :, :]) ** 2).sum(-1)
    assert np.array_equal(got, np.argsort(d, axis=1, kind="stable")[:, :5])


@pytest.mark.skipif(not HAS_FAISS, reason="faiss-cpu (the ann extra) is not installed")
def test_faiss_flat_gives_the_exact_candidates_and_hnsw_nearly():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 16)).astype(np.float32)
    labeled = rng.choice(3000, 40, replace=False)
    exact = SealsCandidates(X, k=20, index="exact").add_labeled(labeled)
    flat = SealsCandidates(X, k=20, index="faiss").add_labeled(labeled)
    assert np.array_equal(exact.candidate_ids_, flat.candidate_ids_)
    hnsw = SealsCandidates(X, k=20, index="faiss", approximate=True).add_labeled(labeled)
    recall = np.intersect1d(hnsw.candidate_ids_, exact.candidate_ids_).size / len(exact)
    assert recall > 0.9


def test_a_query_round_scores_only_the_candidates():
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(-3, 1, (200, 2)), rng.normal(3, 1, (200, 2))]).astype(np.float32)
    y = np.repeat([0, 1], 200)
    labeled = np.array([0, 1, 200, 201])
    seals = SealsCandidates(X, k=10, index="exact").add_labeled(labeled)
    learner = al.ActiveLearner(LogisticRegression(), query_strategy="margin",
                               X_training=X[labeled], y_training=y[labeled], random_state=0)
    cand = seals.candidate_ids_
    result = learner.query_result(X[cand], 5, candidate_ids=cand)
    assert np.isin(result.ids, seals.candidate_ids_).all()
    assert result.candidate_ids.size == len(seals) <= 4 * 11
    seals.add_labeled(result.ids)
    assert not np.isin(result.ids, seals.candidate_ids_).any()


def test_bad_input_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="k must be a positive integer"):
        SealsCandidates(LINE, k=0)
    with pytest.raises(ValueError, match="ids must be pool ids in \\[0, 10\\)"):
        SealsCandidates(LINE, k=2, index="exact").add_labeled([10])
    with pytest.raises(ValueError, match="NaN or infinity"):
        make_index(np.array([[np.nan], [1.0]]), index="exact")
    with pytest.raises(ValueError, match="2-D array"):
        make_index(np.arange(4.0), index="exact")
    with pytest.raises(ValueError, match="index must be"):
        make_index(LINE, index="annoy")
    with pytest.raises(ValueError, match="approximate=True needs the faiss backend"):
        make_index(LINE, index="exact", approximate=True)
