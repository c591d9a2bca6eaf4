"""Excluding labeled ids chunk by chunk gives the in-memory ids, without a candidate list."""

from __future__ import annotations

import numpy as np
import pytest

from _scale_data import fitted_learner, in_memory_ids, pool_data
from activelab.scale import score_dask, score_out_of_core
from activelab.scale.candidates import CandidateRows, block_ids

LABELED = np.array([1736, 5, 0, 2499, 812, 813, 814, 5])  # unsorted, one repeat, both ends


def test_candidate_rows_worked_example():
    rows = CandidateRows(10, exclude_ids=[7, 2, 2])
    assert rows.n_candidates == 8
    assert rows.ids_in(0, 5).tolist() == [0, 1, 3, 4]
    assert rows.ids_in(5, 10).tolist() == [5, 6, 8, 9]
    assert rows.ids_in(3, 7) is None  # nothing excluded there: every row
    assert [rows.count(0, 5), rows.count(5, 10), rows.count(2, 3)] == [4, 4, 0]
    both = CandidateRows(10, candidate_ids=[9, 2, 4, 7], exclude_ids=[7, 2])
    assert both.n_candidates == 2
    assert both.ids_in(0, 10).tolist() == [4, 9]
    assert both.ids_in(4, 5) is None  # the one row of the chunk is a candidate
    assert block_ids(10, 14, None, np.array([10, 13])).tolist() == [11, 12]


def test_exclusion_never_lists_the_candidates():
    # 10^12 rows: a list of candidates would need 8 TB; only the 3 excluded ids are kept
    rows = CandidateRows(10**12, exclude_ids=[10**12 - 1, 10**12 - 3, 4])
    assert rows.n_candidates == 10**12 - 3
    assert rows.ids_in(10**12 - 4, 10**12).tolist() == [10**12 - 4, 10**12 - 2]
    assert rows.count(0, 10**9) == 10**9 - 1


def test_candidate_rows_refuses_bad_ids():
    with pytest.raises(ValueError, match="exclude_ids must be pool ids between 0 and 9"):
        CandidateRows(10, exclude_ids=[3, 10])
    with pytest.raises(TypeError, match="exclude_ids must be integer"):
        CandidateRows(10, exclude_ids=[1.5])
    with pytest.raises(ValueError, match="every pool id is excluded"):
        CandidateRows(3, exclude_ids=[0, 1, 2])
    with pytest.raises(ValueError, match="every pool id is excluded"):
        CandidateRows(5, candidate_ids=[1, 2], exclude_ids=[2, 1])


@pytest.mark.parametrize("chunk_rows", [1, 97, 813, 2500, 10_000])
def test_out_of_core_exclusion_matches_in_memory(chunk_rows, tmp_path):
    X_pool = pool_data()[2]
    expected = in_memory_ids("entropy", 40, exclude=LABELED)
    if chunk_rows == 1:
        X_pool = X_pool[:300]  # one-row chunks: a short pool keeps the test fast
        labeled = LABELED[LABELED < 300]
        expected = in_memory_ids("entropy", 40, exclude=labeled, n_rows=300)
    else:
        labeled = LABELED
    path = tmp_path / "pool.npy"
    np.save(path, X_pool)
    out = tmp_path / "u.npy"
    result = score_out_of_core(fitted_learner(), path, 40, exclude_ids=labeled,
                               chunk_rows=chunk_rows, utilities_path=out)
    np.testing.assert_array_equal(result.ids, expected)
    n_left = len(X_pool) - np.unique(labeled).size
    assert result.info["n_candidates"] == result.info["n_scored"] == n_left
    assert np.load(out).shape == (n_left,)
    assert not np.isin(result.ids, labeled).any()


def test_exclusion_equals_the_explicit_candidate_list():
    X_pool = pool_data()[2]
    candidates = np.setdiff1d(np.arange(len(X_pool)), LABELED)
    by_list = score_out_of_core(fitted_learner(), X_pool, 25, candidate_ids=candidates,
                                chunk_rows=300)
    by_exclusion = score_out_of_core(fitted_learner(), X_pool, 25, exclude_ids=LABELED,
                                     chunk_rows=300)
    np.testing.assert_array_equal(by_list.ids, by_exclusion.ids)
    np.testing.assert_array_equal(by_list.utilities, by_exclusion.utilities)


def test_a_chunk_that_is_all_labeled_is_skipped():
    X_pool = pool_data()[2][:400]
    result = score_out_of_core(fitted_learner(), X_pool, 5, exclude_ids=np.arange(100, 200),
                               chunk_rows=100)
    assert result.info["n_chunks"] == 3  # rows 100..199 hold no candidate
    assert result.info["n_scored"] == 300
    assert not np.isin(result.ids, np.arange(100, 200)).any()


def test_dask_exclusion_matches_in_memory(tmp_path):
    pytest.importorskip("dask", reason="the Dask path needs dask")
    path = tmp_path / "pool.npy"
    np.save(path, pool_data()[2])
    result = score_dask(fitted_learner(), str(path), 30, exclude_ids=LABELED, chunk_rows=700)
    np.testing.assert_array_equal(result.ids, in_memory_ids("entropy", 30, exclude=LABELED))
    assert result.info["n_scored"] == 2500 - np.unique(LABELED).size


def test_ids_at_maps_candidate_ranks_to_pool_ids():
    from activelab.scale.candidates import CandidateRows

    # pool 0..9 without 1, 2, 7: candidates in id order are 0 3 4 5 6 8 9
    excluded = CandidateRows(10, None, [7, 1, 2])
    np.testing.assert_array_equal(excluded.ids_at(np.arange(7)), [0, 3, 4, 5, 6, 8, 9])
    chosen = CandidateRows(10, [9, 0, 5, 3], [5])
    np.testing.assert_array_equal(chosen.ids_at([0, 1, 2]), [0, 3, 9])
    np.testing.assert_array_equal(CandidateRows(4).ids_at([3, 0]), [3, 0])
