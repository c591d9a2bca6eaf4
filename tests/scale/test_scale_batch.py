"""Batch-aware strategies at scale: pre-filter then select, and a chunked k-center."""

from __future__ import annotations

import numpy as np
import pytest

from _scale_data import fitted_learner, pool_data
from activelab.scale.batch import prefilter_select, stratified_ids
from activelab.scale.candidates import CandidateRows
from activelab.scale.kcenter import k_center_dask, k_center_out_of_core
from activelab.strategies.diversity import k_center_greedy
from activelab.strategies.query import query_once

LABELED = np.array([10, 20, 2400])


def _top_margin(m: int, exclude: np.ndarray) -> np.ndarray:
    X_pool = pool_data()[2]
    candidates = np.setdiff1d(np.arange(len(X_pool)), exclude)
    learner = fitted_learner("margin")
    return np.sort(learner.query_result(X_pool[candidates], m, candidate_ids=candidates).ids)


# --------------------------------------------------------------- pre-filter


def test_stratified_ids_worked_example():
    rows = CandidateRows(10, exclude_ids=[0, 1])
    ids = stratified_ids(rows, np.array([0, 5, 10]), 4, random_state=0)
    # 3 and 5 candidates: shares 1.5 and 2.5 -> 2 and 2 (the tie goes to the first block)
    assert ids.tolist() == sorted(ids.tolist()) and len(set(ids.tolist())) == 4
    assert np.isin(ids[:2], [2, 3, 4]).all() and np.isin(ids[2:], [5, 6, 7, 8, 9]).all()
    np.testing.assert_array_equal(ids, stratified_ids(rows, np.array([0, 5, 10]), 4, 0))
    every = stratified_ids(rows, np.array([0, 5, 10]), 8, random_state=1)
    assert every.tolist() == [2, 3, 4, 5, 6, 7, 8, 9]


@pytest.mark.parametrize("chunk_rows", [300, 5000])
def test_top_then_coreset_matches_the_in_memory_steps(tmp_path, chunk_rows):
    X_pool = pool_data()[2]
    np.save(tmp_path / "pool.npy", X_pool)
    kept = _top_margin(200, LABELED)
    learner = fitted_learner()
    expected = query_once(learner.estimator_, X_pool[kept], kept, "coreset", 10,
                          X_labeled=learner.X_training_)
    result = prefilter_select(learner, tmp_path / "pool.npy", 10, strategy="coreset",
                              n_candidates=200, exclude_ids=LABELED, chunk_rows=chunk_rows)
    np.testing.assert_array_equal(result.ids, expected.ids)
    np.testing.assert_array_equal(result.candidate_ids, kept)
    assert result.info["prefilter"] == "top" and result.info["prefilter_strategy"] == "margin"
    assert result.info["n_prefiltered"] == 200 and result.info["n_pool_candidates"] == 2497


def test_labeled_rows_are_read_from_the_pool(tmp_path):
    X_pool = pool_data()[2]
    kept = _top_margin(150, LABELED)
    expected = query_once(None, X_pool[kept], kept, "coreset", 6, X_labeled=X_pool[LABELED])
    result = prefilter_select(fitted_learner(), X_pool, 6, strategy="coreset",
                              n_candidates=150, labeled_ids=LABELED, chunk_rows=700)
    np.testing.assert_array_equal(result.ids, expected.ids)
    assert not np.isin(result.candidate_ids, LABELED).any()


def test_stratified_then_kmeans_and_badge(tmp_path):
    X_pool = pool_data()[2]
    for strategy in ("kmeans", "badge"):
        result = prefilter_select(fitted_learner(), X_pool, 8, strategy=strategy,
                                  method="stratified", n_candidates=300,
                                  exclude_ids=LABELED, chunk_rows=500, random_state=3)
        assert result.strategy == strategy and result.ids.size == 8
        assert result.info["prefilter_strategy"] is None
        # 300 over 5 chunks of about 500 candidates: 60 each
        counts = np.bincount(result.candidate_ids // 500, minlength=5)
        assert counts.tolist() == [60, 60, 60, 60, 60]
        assert np.isin(result.ids, result.candidate_ids).all()


def test_prefilter_on_dask_matches_out_of_core(tmp_path):
    distributed = pytest.importorskip("distributed", reason="the Dask path needs dask.distributed")
    np.save(tmp_path / "pool.npy", pool_data()[2])
    local = prefilter_select(fitted_learner(), tmp_path / "pool.npy", 10, strategy="coreset",
                             n_candidates=250, exclude_ids=LABELED, chunk_rows=400)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_dask = prefilter_select(fitted_learner(), tmp_path / "pool.npy", 10,
                                   strategy="coreset", n_candidates=250, exclude_ids=LABELED,
                                   chunk_rows=400, client=client)
    np.testing.assert_array_equal(on_dask.ids, local.ids)


def test_prefilter_refuses_bad_arguments():
    X_pool = pool_data()[2]
    with pytest.raises(ValueError, match="method must be one of top, stratified"):
        prefilter_select(fitted_learner(), X_pool, 5, method="best")
    with pytest.raises(ValueError, match="n_candidates must be an integer of at least"):
        prefilter_select(fitted_learner(), X_pool, 5, n_candidates=3)


# ------------------------------------------------------------------ k-center


def _clusters() -> tuple[np.ndarray, np.ndarray]:
    """12 tight clusters of 40 rows on a ring (shuffled), and labeled ids in clusters 0-3."""
    rng = np.random.default_rng(5)
    angles = np.arange(12) * (2 * np.pi / 12)
    centers = np.c_[np.cos(angles), np.sin(angles)] * 10
    which = rng.permutation(np.repeat(np.arange(12), 40))
    X = centers[which] + rng.normal(scale=0.05, size=(480, 2))
    labeled = np.array([np.flatnonzero(which == c)[0] for c in range(4)])
    return X.astype(np.float32), which, labeled


@pytest.mark.parametrize("chunk_rows", [50, 128, 480])
def test_k_center_covers_every_unlabeled_cluster(chunk_rows):
    X, which, labeled = _clusters()
    result = k_center_out_of_core(X, 8, labeled_ids=labeled, chunk_rows=chunk_rows,
                                  split_every=3, radius=True)
    assert sorted(which[result.ids].tolist()) == list(range(4, 12))
    assert result.info["radius"] < 0.5  # every row within its cluster's spread
    assert np.all(result.utilities > 4)  # each pick far from the labeled rows


def test_k_center_in_one_chunk_is_the_in_memory_greedy():
    X, _, labeled = _clusters()
    keep = np.setdiff1d(np.arange(len(X)), labeled)
    positions, _ = k_center_greedy(X[keep], 10, X_labeled=X[labeled])
    result = k_center_out_of_core(X, 10, labeled_ids=labeled, chunk_rows=1000)
    np.testing.assert_array_equal(result.ids, keep[positions])


def test_k_center_on_dask_builds_the_same_tree(tmp_path):
    pytest.importorskip("dask", reason="the Dask path needs the scale extra (dask)")
    X, _, labeled = _clusters()
    np.save(tmp_path / "pool.npy", X)
    for chunk_rows, split_every in ((37, 2), (60, 3), (100, 16), (23, 4), (13, 5)):
        local = k_center_out_of_core(tmp_path / "pool.npy", 9, labeled_ids=labeled,
                                     chunk_rows=chunk_rows, split_every=split_every)
        on_dask = k_center_dask(str(tmp_path / "pool.npy"), 9, labeled_ids=labeled,
                                chunk_rows=chunk_rows, split_every=split_every)
        np.testing.assert_array_equal(on_dask.ids, local.ids)
        assert on_dask.info["n_chunks"] == local.info["n_chunks"]
