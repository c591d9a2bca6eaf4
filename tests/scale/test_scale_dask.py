"""Dask scoring: a tree of merges, progress, and the in-memory ids on a LocalCluster."""

from __future__ import annotations

import numpy as np
import pytest

from _scale_data import fitted_learner, in_memory_ids, pool_data
from activelab.scale import cluster, open_pool_array, score_dask

distributed = pytest.importorskip("distributed", reason="the Dask path needs dask.distributed")

LABELED = np.array([0, 99, 100, 1234, 2499])


@pytest.fixture(scope="module")
def client():
    local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                     dashboard_address=None)
    with distributed.Client(local) as c:
        yield c
    local.close()


@pytest.fixture(scope="module")
def npy_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("pool") / "pool.npy"
    np.save(path, pool_data()[2])
    return path


def test_tree_of_merges_gives_the_in_memory_ids(npy_path, client, monkeypatch):
    monkeypatch.setattr(cluster, "CLIENT_MERGES", 3)  # 50 blocks -> 17 -> 6 -> 2 merges
    calls = []
    result = score_dask(fitted_learner(), npy_path, 30, exclude_ids=LABELED, chunk_rows=50,
                        split_every=3, client=client,
                        progress=lambda n, total: calls.append((n, total)))
    np.testing.assert_array_equal(result.ids, in_memory_ids("entropy", 30, exclude=LABELED))
    assert result.info["n_chunks"] == 50
    assert result.info["n_scored"] == 2495
    # progress per merged part: increasing, ends at every candidate
    assert len(calls) == 2
    assert [c[1] for c in calls] == [2495, 2495]
    assert calls[-1][0] == 2495 and calls[0][0] < calls[-1][0]


def test_tree_of_merges_on_the_local_scheduler(npy_path, monkeypatch):
    import dask

    monkeypatch.setattr(cluster, "CLIENT_MERGES", 4)
    calls = []
    with dask.config.set(scheduler="threads"):
        result = score_dask(fitted_learner(), npy_path, 12, strategy="margin", chunk_rows=100,
                            split_every=4, client=None,
                            progress=lambda n, total: calls.append(n))
    np.testing.assert_array_equal(result.ids, in_memory_ids("margin", 12))
    assert calls == sorted(calls) and calls[-1] == 2500 and len(calls) == 25  # per block


def test_every_block_reports_progress_when_few(npy_path, client):
    calls = []
    score_dask(fitted_learner(), npy_path, 5, chunk_rows=500, client=client,
               progress=lambda n, total: calls.append(n))
    assert sorted(calls) == calls and calls[-1] == 2500 and len(calls) == 5


def test_parquet_on_a_cluster(tmp_path, client):
    pa = pytest.importorskip("pyarrow", reason="Parquet pools need pyarrow")
    pq = pytest.importorskip("pyarrow.parquet", reason="Parquet pools need pyarrow")
    X = pool_data()[2]
    pq.write_table(pa.table({f"f{j}": X[:, j] for j in range(5)}), tmp_path / "pool.parquet",
                   row_group_size=400)
    pool = open_pool_array(tmp_path / "pool.parquet")
    result = score_dask(fitted_learner(), pool, 20, exclude_ids=LABELED, client=client)
    np.testing.assert_array_equal(result.ids, in_memory_ids("entropy", 20, exclude=LABELED))
    assert result.info["n_chunks"] == 1  # seven row groups of 400, merged up to 65,536 rows
    by_groups = score_dask(fitted_learner(), pool, 20, exclude_ids=LABELED, chunk_rows=400,
                           client=client)
    np.testing.assert_array_equal(by_groups.ids, result.ids)
    assert by_groups.info["n_chunks"] == 7


def test_bad_split_every_is_refused(npy_path):
    with pytest.raises(ValueError, match="split_every must be an integer of at least 2"):
        score_dask(fitted_learner(), npy_path, 3, split_every=1)


def _committee():
    from sklearn.linear_model import LogisticRegression

    from activelab.learners import ActiveLearner, Committee

    X_train, y_train, _ = pool_data()
    members = [ActiveLearner(LogisticRegression(C=c, max_iter=300), X_training=X_train,
                             y_training=y_train) for c in (0.05, 1.0, 20.0)]
    return Committee(members)


@pytest.mark.parametrize("strategy", ["power_bald", "epig"])
def test_sampled_strategies_choose_as_out_of_core_does(npy_path, client, strategy):
    """power_bald's noise and EPIG's target sample are drawn with one key per query and
    each candidate's position: the Dask tasks get the same key and their offsets."""
    from activelab.scale import score_out_of_core

    committee = _committee()
    whole = score_out_of_core(committee, npy_path, 15, strategy=strategy, exclude_ids=LABELED,
                              chunk_rows=2500, random_state=3)
    chunked = score_dask(committee, npy_path, 15, strategy=strategy, exclude_ids=LABELED,
                         chunk_rows=300, client=client, random_state=3)
    assert chunked.ids.tolist() == whole.ids.tolist()
    np.testing.assert_allclose(chunked.utilities, whole.utilities, rtol=1e-12)
    if strategy == "power_bald":  # its noise is the query key's, not a fixed one
        other = score_dask(committee, npy_path, 15, strategy=strategy, exclude_ids=LABELED,
                           chunk_rows=300, client=client, random_state=4)
        assert other.ids.tolist() != whole.ids.tolist()
