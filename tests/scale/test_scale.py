"""Out-of-core and Dask scoring choose the ids the in-memory path chooses."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from activelab.learners import ActiveLearner, Committee
from activelab.scale import (
    RunningTopK,
    chunk_top_k,
    merge_top_k,
    open_pool_array,
    score_dask,
    score_out_of_core,
)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((5, 4)) * 2
    X_train = rng.standard_normal((200, 5))
    y_train = np.argmax(X_train @ W + rng.gumbel(size=(200, 4)), axis=1)
    X_pool = rng.standard_normal((2500, 5))
    return X_train, y_train, X_pool


@pytest.fixture(scope="module")
def learner(data):
    X_train, y_train, _ = data
    return ActiveLearner(
        LogisticRegression(max_iter=300), query_strategy="entropy",
        X_training=X_train, y_training=y_train, random_state=0,
    )


@pytest.fixture(scope="module")
def npy_path(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("pool") / "pool.npy"
    np.save(path, data[2])
    return path


# ------------------------------------------------------------------ top-k


def test_chunk_top_k_worked_example_ties_to_lower_id():
    u = np.array([0.2, 0.9, 0.5, 0.9, 0.1, 0.5])
    ids = np.array([15, 13, 12, 11, 10, 14])
    top_u, top_ids = chunk_top_k(u, ids, 3)
    assert top_ids.tolist() == [11, 13, 12]  # 0.9 (ids 11 < 13), then 0.5 -> id 12 before 14
    assert top_u.tolist() == [0.9, 0.9, 0.5]


def test_nan_utilities_rank_last():
    u, ids = chunk_top_k(np.array([np.nan, 0.1, np.nan]), np.array([0, 1, 2]), 2)
    assert ids.tolist() == [1, 0]
    assert np.isnan(u[1])


def test_merge_does_not_depend_on_chunking():
    rng = np.random.default_rng(3)
    u = rng.integers(0, 5, size=400).astype(float)  # many ties
    ids = rng.permutation(1000)[:400]
    whole = chunk_top_k(u, ids, 37)
    order = np.lexsort((ids, -u))[:37]  # the total order, spelled out
    assert whole[1].tolist() == ids[order].tolist()
    for size in (1, 7, 50, 399):
        parts = [chunk_top_k(u[s : s + size], ids[s : s + size], 37) for s in range(0, 400, size)]
        merged = merge_top_k(parts[::-1], 37)
        np.testing.assert_array_equal(merged[1], whole[1])


def test_running_top_k_counts_everything_it_saw():
    top = RunningTopK(2)
    top.push(np.array([0.1, 0.9, 0.3]), np.array([0, 1, 2]))
    top.push(np.array([0.5]), np.array([3]))
    top.push(np.empty(0), np.empty(0, dtype=np.int64))
    assert top.n_seen == 4
    assert top.ids.tolist() == [1, 3]
    with pytest.raises(ValueError, match="k must be"):
        RunningTopK(0)


# -------------------------------------------------------------- out of core


@pytest.mark.parametrize("strategy", ["entropy", "margin", "least_confident"])
def test_npy_scoring_matches_in_memory(learner, data, npy_path, strategy, tmp_path):
    X_pool = data[2]
    candidates = np.flatnonzero(np.arange(len(X_pool)) % 4 != 0)
    expected = ActiveLearner(
        learner.estimator, query_strategy=strategy, X_training=data[0], y_training=data[1]
    ).query_result(X_pool[candidates], 30, candidate_ids=candidates)
    out = tmp_path / "u.npy"
    result = score_out_of_core(
        learner, npy_path, 30, strategy=strategy, candidate_ids=candidates, chunk_rows=97,
        utilities_path=out,
    )
    np.testing.assert_array_equal(result.ids, expected.ids)
    np.testing.assert_allclose(result.utilities, expected.utility_of(result.ids), atol=1e-12)
    np.testing.assert_allclose(np.load(out), expected.utilities, atol=1e-12)
    assert result.info["n_candidates"] == result.info["n_scored"] == candidates.size
    assert result.info["n_chunks"] == int(np.ceil(len(X_pool) / 97))
    assert not (tmp_path / "u.npy.partial").exists()


def test_learner_strategy_is_the_default(learner, data, npy_path):
    expected = learner.query_result(data[2], 12)
    result = score_out_of_core(learner, npy_path, 12, chunk_rows=1000)
    assert result.strategy == "entropy"
    np.testing.assert_array_equal(result.ids, expected.ids)


def test_committee_scoring_matches_in_memory(data):
    X_train, y_train, X_pool = data
    committee = Committee(
        [LogisticRegression(max_iter=300), GaussianNB()], query_strategy="consensus_entropy"
    )
    committee.teach(X_train, y_train)
    expected = committee.query_result(X_pool, 8)
    result = score_out_of_core(committee, X_pool, 8, chunk_rows=64)
    assert result.strategy == "consensus_entropy"
    np.testing.assert_array_equal(result.ids, expected.ids)


def test_zarr_scoring_matches_in_memory(learner, data, tmp_path):
    zarr = pytest.importorskip("zarr", reason="zarr is an optional reader for pools on disk")
    z = zarr.create_array(store=str(tmp_path / "pool.zarr"), shape=data[2].shape,
                          chunks=(300, 5), dtype="float64")
    z[:] = data[2]
    expected = learner.query_result(data[2], 20)
    result = score_out_of_core(learner, tmp_path / "pool.zarr", 20, chunk_rows=256)
    np.testing.assert_array_equal(result.ids, expected.ids)
    # Dask without a distributed client (its local scheduler); tasks open the store
    on_dask = score_dask(learner, str(tmp_path / "pool.zarr"), 20, chunk_rows=700)
    np.testing.assert_array_equal(on_dask.ids, expected.ids)
    assert on_dask.info["n_chunks"] == 4


def test_bad_inputs_raise_clear_errors(learner, data, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        score_out_of_core(learner, tmp_path / "missing.npy", 3)
    with pytest.raises(ValueError, match="2-D"):
        open_pool_array(np.zeros(5))
    with pytest.raises(TypeError, match="batch"):
        score_out_of_core(learner, data[2], 3, strategy="random")
    with pytest.raises(ValueError, match="larger than"):
        score_out_of_core(learner, data[2][:5], 6)
    with pytest.raises(ValueError, match="candidate_ids"):
        score_out_of_core(learner, data[2], 3, candidate_ids=[0, 99_999])
    bad = data[2][:300].copy()
    bad[250, 1] = np.nan
    out = tmp_path / "u.npy"
    with pytest.raises(ValueError, match="rows 200..299"):
        score_out_of_core(learner, bad, 3, chunk_rows=100, utilities_path=out)
    assert not out.exists() and not (tmp_path / "u.npy.partial").exists()


# --------------------------------------------------------------------- dask


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed", reason="the Dask path needs dask.distributed")
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_dask_matches_in_memory(learner, data, npy_path, client):
    import dask.array as da

    X_pool = data[2]
    candidates = np.flatnonzero(np.arange(len(X_pool)) % 3 != 2)
    expected = learner.query_result(X_pool[candidates], 25, candidate_ids=candidates)
    from_path = score_dask(learner, npy_path, 25, candidate_ids=candidates, chunk_rows=300,
                           client=client)
    np.testing.assert_array_equal(from_path.ids, expected.ids)
    assert from_path.info["n_scored"] == candidates.size
    assert from_path.info["n_chunks"] == 9
    darr = da.from_array(X_pool, chunks=(400, 2))
    from_dask = score_dask(learner, darr, 25, candidate_ids=candidates, client=client)
    np.testing.assert_array_equal(from_dask.ids, expected.ids)
    np.testing.assert_allclose(from_dask.utilities, expected.utility_of(expected.ids), atol=1e-12)
    in_memory = score_dask(learner, X_pool, 25, candidate_ids=candidates, chunk_rows=1000)
    np.testing.assert_array_equal(in_memory.ids, expected.ids)  # the client is the default
