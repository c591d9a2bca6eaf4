"""Pools read from .npy, Zarr and Parquet, on disk or behind fsspec URLs, give the same ids."""

from __future__ import annotations

import os
import pickle
import uuid

import numpy as np
import pytest

from _scale_data import fitted_learner, in_memory_ids, pool_data
from activelab.scale import open_pool_array, score_dask, score_out_of_core
from activelab.scale.sources import block_offsets, open_source, open_spec, source_spec

pa = pytest.importorskip("pyarrow", reason="Parquet pools need pyarrow")
pq = pytest.importorskip("pyarrow.parquet", reason="Parquet pools need pyarrow")
fsspec = pytest.importorskip("fsspec", reason="URLs need fsspec")

LABELED = np.array([3, 1200, 2499, 640])


def _table(X: np.ndarray, first_id: int) -> object:
    cols = {f"f{j}": X[:, j] for j in range(X.shape[1])}
    cols["name"] = [f"item-{first_id + i}" for i in range(len(X))]  # not a feature
    return pa.table(cols)


def write_parquet(fs: object, folder: str) -> list[int]:
    """The pool in three files (written out of order) with row groups of several sizes."""
    X = pool_data()[2]
    cuts, sizes = [0, 1000, 1700, 2500], [300, 700, 128]
    for i in (2, 0, 1):
        with fs.open(f"{folder}/part-{i}.parquet", "wb") as f:
            pq.write_table(_table(X[cuts[i] : cuts[i + 1]], cuts[i]), f, row_group_size=sizes[i])
    return cuts


def _features() -> list[str]:
    return [f"f{j}" for j in range(5)]


@pytest.fixture
def memory_url():
    folder = f"/activelab-test-{uuid.uuid4().hex}"
    yield f"memory://{folder}"
    fsspec.filesystem("memory").rm(folder, recursive=True)


# -------------------------------------------------------------- .npy, memmap


def test_relative_paths_are_made_absolute(tmp_path, monkeypatch):
    np.save(tmp_path / "pool.npy", pool_data()[2])
    monkeypatch.chdir(tmp_path)
    pool = open_source("pool.npy")
    spec = source_spec(pool)
    assert spec.location == str(tmp_path / "pool.npy")
    monkeypatch.chdir(os.path.dirname(tmp_path))  # a worker started elsewhere
    np.testing.assert_array_equal(open_spec(spec)[10:20], pool_data()[2][10:20])


def test_a_memmap_travels_as_file_name_and_offset(tmp_path):
    X = pool_data()[2]
    np.save(tmp_path / "pool.npy", X)
    mm = np.load(tmp_path / "pool.npy", mmap_mode="r")
    view = mm[100:]  # a view: its rows start 100 rows into the file's data
    spec = source_spec(view)
    assert spec.kind == "raw" and spec.shape == (2400, 5)
    assert spec.offset == source_spec(mm).offset + 100 * 5 * 8
    assert len(pickle.dumps(spec)) < 1000  # never the data
    np.testing.assert_array_equal(open_spec(spec)[:7], X[100:107])
    assert source_spec(mm[:, :3]) is None  # not whole rows of the file
    with pytest.raises(ValueError, match="pass the file's path"):
        score_dask(fitted_learner(), mm[:, :3], 3)


def test_dask_on_a_memmap_matches_in_memory(tmp_path):
    pytest.importorskip("dask", reason="the Dask path needs the scale extra (dask)")
    np.save(tmp_path / "pool.npy", pool_data()[2])
    mm = np.load(tmp_path / "pool.npy", mmap_mode="r")
    result = score_dask(fitted_learner(), mm, 20, exclude_ids=LABELED, chunk_rows=600)
    np.testing.assert_array_equal(result.ids, in_memory_ids("entropy", 20, exclude=LABELED))
    assert result.info["n_chunks"] == 5


def test_npy_behind_file_and_memory_urls(tmp_path, memory_url):
    X = pool_data()[2]
    np.save(tmp_path / "pool.npy", X)
    with fsspec.open(f"{memory_url}/pool.npy", "wb") as f:
        np.save(f, X)
    expected = in_memory_ids("entropy", 15, exclude=LABELED)
    for url in (f"file://{tmp_path}/pool.npy", f"{memory_url}/pool.npy"):
        result = score_out_of_core(fitted_learner(), url, 15, exclude_ids=LABELED,
                                   chunk_rows=333)
        np.testing.assert_array_equal(result.ids, expected)
    remote = open_source(f"{memory_url}/pool.npy")
    assert type(remote).__name__ == "RemoteNpy" and remote.shape == (2500, 5)
    np.testing.assert_array_equal(remote[2490:2600], X[2490:])  # stops at the last row
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(remote))[5:9], X[5:9])


def test_zarr_behind_a_memory_url(memory_url):
    zarr = pytest.importorskip("zarr", reason="Zarr pools need zarr")
    z = zarr.create_array(store=f"{memory_url}/pool.zarr", shape=(2500, 5), chunks=(400, 5),
                          dtype="float64")
    z[:] = pool_data()[2]
    result = score_out_of_core(fitted_learner(), f"{memory_url}/pool.zarr", 12, chunk_rows=500)
    np.testing.assert_array_equal(result.ids, in_memory_ids("entropy", 12))


# ------------------------------------------------------------------- Parquet


def test_parquet_ids_are_positions_in_sorted_file_order(tmp_path):
    write_parquet(fsspec.filesystem("file"), str(tmp_path))
    pool = open_source(tmp_path, columns=_features())
    assert pool.shape == (2500, 5) and pool.dtype == np.float64
    assert [os.path.basename(f) for f in pool.files] == [f"part-{i}.parquet" for i in range(3)]
    # row groups: 300 x3 + 100 | 700 | 128 x6 + 32
    assert pool.row_group_offsets.tolist() == [
        0, 300, 600, 900, 1000, 1700, 1828, 1956, 2084, 2212, 2340, 2468, 2500]
    np.testing.assert_array_equal(pool[250:1750], pool_data()[2][250:1750])
    # chunks: whole row groups, merged while a chunk stays within chunk_rows
    assert block_offsets(pool, 650).tolist() == [0, 600, 1000, 1700, 2340, 2500]
    assert block_offsets(pool, 100).tolist() == pool.row_group_offsets.tolist()


def test_parquet_scoring_matches_in_memory(tmp_path):
    write_parquet(fsspec.filesystem("file"), str(tmp_path))
    expected = in_memory_ids("margin", 30, exclude=LABELED)
    pool = open_pool_array(str(tmp_path), columns=_features())
    result = score_out_of_core(fitted_learner(), pool, 30, strategy="margin",
                               exclude_ids=LABELED, chunk_rows=650)
    np.testing.assert_array_equal(result.ids, expected)
    assert result.info["n_chunks"] == 5
    one_file = open_pool_array(tmp_path / "part-1.parquet", columns="f0,f1,f2,f3,f4")
    assert one_file.shape == (700, 5)


def test_parquet_behind_a_memory_url_on_dask(memory_url):
    pytest.importorskip("dask", reason="the Dask path needs the scale extra (dask)")
    write_parquet(fsspec.filesystem("memory"), memory_url.removeprefix("memory://"))
    pool = open_pool_array(memory_url, columns=_features())
    assert source_spec(pool).location == memory_url
    result = score_dask(fitted_learner(), pool, 25, exclude_ids=LABELED, chunk_rows=1000)
    np.testing.assert_array_equal(result.ids, in_memory_ids("entropy", 25, exclude=LABELED))


def test_parquet_vector_column(tmp_path):
    X = pool_data()[2].astype(np.float32)
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(X.ravel()), 5)
    pq.write_table(pa.table({"id": np.arange(2500), "embedding": vectors}),
                   tmp_path / "emb.parquet", row_group_size=1000)
    pool = open_source(tmp_path / "emb.parquet", columns=["embedding"])
    assert pool.shape == (2500, 5) and pool.dtype == np.float32
    np.testing.assert_array_equal(pool[999:1001], X[999:1001])


def test_parquet_bad_columns_are_refused(tmp_path):
    write_parquet(fsspec.filesystem("file"), str(tmp_path))
    with pytest.raises(TypeError, match="'name' are not numeric; pass the feature columns"):
        open_source(tmp_path)
    with pytest.raises(ValueError, match="'g7' not in the Parquet pool"):
        open_source(tmp_path, columns=["f0", "g7"])
    pq.write_table(pa.table({"a": pa.array([1.0, None, 3.0])}), tmp_path / "gaps.parquet")
    with pytest.raises(ValueError, match="column 'a' has 1 missing values in rows 0..2"):
        open_source(tmp_path / "gaps.parquet")[0:3]


def test_unknown_or_missing_sources_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        open_source(tmp_path / "nope.npy")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        open_source("memory://activelab-missing/pool.npy")
    (tmp_path / "pool.csv").write_text("1,2\n")
    with pytest.raises(ValueError, match="give a .npy file, a .zarr directory or Parquet"):
        open_source(tmp_path / "pool.csv")
    np.save(tmp_path / "pool.npy", np.zeros((3, 2)))
    with pytest.raises(ValueError, match="columns= is for Parquet pools"):
        open_source(tmp_path / "pool.npy", columns=["a"])
