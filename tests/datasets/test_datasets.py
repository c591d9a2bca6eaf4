"""Datasets: bundled sets, synthetic options, CSV/Parquet/libsvm files and their errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import dump_svmlight_file

from activelab.datasets import Dataset, known_names, load_dataset, parse_spec

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


# --------------------------------------------------------------------------- bundled
@pytest.mark.parametrize(
    "name, shape, n_classes",
    [
        ("iris", (150, 4), 3),
        ("digits", (1797, 64), 10),
        ("wine", (178, 13), 3),
        ("breast_cancer", (569, 30), 2),
        ("breast-cancer", (569, 30), 2),
    ],
)
def test_bundled_sets(name, shape, n_classes):
    ds = load_dataset(name)
    assert isinstance(ds, Dataset)
    assert ds.X.shape == shape and ds.X.dtype == np.float64
    assert ds.y.shape == (shape[0],)
    assert len(ds.classes) == n_classes
    assert len(ds.feature_names) == shape[1]


def test_digits_keeps_the_images_as_raw_items():
    ds = load_dataset("digits")
    assert ds.raw.shape == (1797, 8, 8)
    np.testing.assert_array_equal(ds.raw[5].ravel(), ds.X[5])


def test_bundled_set_takes_no_options():
    with pytest.raises(ValueError, match="takes no options"):
        load_dataset("iris:samples=10")


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="known names: iris, digits"):
        load_dataset("no-such-set")
    assert {"iris", "digits", "wine", "breast_cancer", "synthetic"} <= set(known_names())


# ------------------------------------------------------------------------- synthetic
def test_option_syntax():
    assert parse_spec("synthetic:classes=3,imbalance=0.05,weights=0.7/0.2/0.1,x=true") == (
        "synthetic",
        {"classes": 3, "imbalance": 0.05, "weights": [0.7, 0.2, 0.1], "x": True},
    )
    assert parse_spec("zhan:australian") == ("zhan:australian", {})
    with pytest.raises(ValueError, match="key=value"):
        parse_spec("synthetic:classes=3,oops")


def test_synthetic_options_in_the_name():
    ds = load_dataset("synthetic:classes=3,imbalance=0.05,samples=2000,features=8")
    assert ds.X.shape == (2000, 8)
    counts = np.bincount(ds.y)
    assert counts.size == 3
    # the minority class holds 5 % of the rows; the others split the rest
    assert abs(counts[2] - 100) <= 2
    assert abs(counts[0] - 950) <= 2 and abs(counts[1] - 950) <= 2


def test_synthetic_keywords_equal_the_name_syntax_and_seed_is_fixed():
    a = load_dataset("synthetic:classes=3,samples=300")
    b = load_dataset("synthetic", n_classes=3, n_samples=300)
    np.testing.assert_array_equal(a.X, b.X)
    c = load_dataset("synthetic:classes=3,samples=300,seed=1")
    assert not np.array_equal(a.X, c.X)
    d = load_dataset("synthetic:classes=3,samples=300", random_state=1)
    np.testing.assert_array_equal(c.X, d.X)


def test_synthetic_weights():
    ds = load_dataset("synthetic:samples=1000,classes=3,weights=7/2/1")
    counts = np.bincount(ds.y)
    assert np.all(np.abs(counts - [700, 200, 100]) <= 2)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("synthetic:colour=3", "no option 'colour'"),
        ("synthetic:classes=3,imbalance=0.5", "minority class's share"),
        ("synthetic:classes=3,imbalance=0.1,weights=1/1/1", "not both"),
        ("synthetic:classes=2,weights=1/1/1", "2 positive numbers"),
        ("synthetic:classes=1", "n_classes must be an integer >= 2"),
        ("synthetic:features=3,informative=5", "cannot exceed"),
        ("synthetic:classes=40,informative=4", "needs n_informative >= 6"),
        ("synthetic:samples=many", "n_samples must be an integer"),
    ],
)
def test_synthetic_bad_options(spec, message):
    with pytest.raises((ValueError, TypeError), match=message):
        load_dataset(spec)


# ----------------------------------------------------------------------- CSV / Parquet
def _table(n: int = 30) -> pd.DataFrame:
    rng = np.random.RandomState(0)
    return pd.DataFrame(
        {
            "height": rng.normal(size=n),
            "width": np.arange(n),
            "colour": np.array(["red", "green", "blue"])[np.arange(n) % 3],
            "flag": np.arange(n) % 2 == 0,
            "species": np.array(["a", "b"])[np.arange(n) % 2],
        }
    )


def test_csv_round_trip_one_hot_encodes_text_columns(tmp_path):
    frame = _table()
    path = tmp_path / "plants.csv"
    frame.to_csv(path, index=False)
    ds = load_dataset(path, label_column="species")
    assert ds.name == "plants"
    assert ds.feature_names == [
        "height", "width", "flag", "colour=blue", "colour=green", "colour=red",
    ]
    np.testing.assert_allclose(ds.X[:, 0], frame["height"])
    np.testing.assert_array_equal(ds.X[:, 2], frame["flag"].astype(float))
    np.testing.assert_array_equal(ds.X[:, 5], (frame["colour"] == "red").astype(float))
    np.testing.assert_array_equal(ds.y, frame["species"].to_numpy())
    assert list(ds.raw.columns) == ["height", "width", "colour", "flag"]


def test_parquet_round_trip(tmp_path):
    frame = _table()
    path = tmp_path / "plants.parquet"
    frame.to_parquet(path)
    ds = load_dataset(str(path), label_column="species")
    assert ds.X.shape == (30, 6)
    np.testing.assert_array_equal(ds.y, frame["species"].to_numpy())


def test_label_column_is_guessed_when_unambiguous(tmp_path):
    frame = _table().rename(columns={"species": "label"})
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    assert load_dataset(path).y.tolist() == frame["label"].tolist()


def test_drop_columns(tmp_path):
    path = tmp_path / "t.csv"
    _table().to_csv(path, index=False)
    ds = load_dataset(path, label_column="species", drop_columns=["colour", "flag"])
    assert ds.feature_names == ["height", "width"]


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset("/nonexistent/folder/data.csv", label_column="y")


def test_missing_label_column_names_the_columns_present(tmp_path):
    path = tmp_path / "t.csv"
    _table().to_csv(path, index=False)
    with pytest.raises(ValueError, match="columns present: height, width, colour, flag, species"):
        load_dataset(path, label_column="kind")
    with pytest.raises(ValueError, match="say which column"):
        load_dataset(path)


def test_unreadable_csv_and_parquet(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00\x81\x92garbage\x00\n\xc3\x28,\x01")
    with pytest.raises(ValueError, match="could not read 'bad.csv' as CSV"):
        load_dataset(bad, label_column="y")
    bad_pq = tmp_path / "bad.parquet"
    bad_pq.write_text("this is not parquet")
    with pytest.raises(ValueError, match="could not read 'bad.parquet' as PARQUET"):
        load_dataset(bad_pq, label_column="y")


def test_empty_csv(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("a,b,label\n")
    with pytest.raises(ValueError, match="no data rows"):
        load_dataset(path)


def test_free_text_column_is_an_error_with_the_fix(tmp_path):
    frame = _table()
    frame["comment"] = [f"note number {i}" for i in range(len(frame))]
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"\['comment'\].*drop them"):
        load_dataset(path, label_column="species")


def test_missing_values_are_errors(tmp_path):
    frame = _table()
    frame.loc[3, "height"] = np.nan
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"\['height'\].*missing values"):
        load_dataset(path, label_column="species")
    frame = _table()
    frame.loc[[1, 2], "species"] = None
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match="2 row"):
        load_dataset(path, label_column="species")


def test_folder_and_unknown_extension(tmp_path):
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        load_dataset(folder)
    other = tmp_path / "data.xyz"
    other.write_text("1,2\n")
    with pytest.raises(ValueError, match="cannot tell the format"):
        load_dataset(str(other))


def test_label_column_only_for_tables():
    with pytest.raises(ValueError, match="only applies to CSV/Parquet"):
        load_dataset("iris", label_column="species")


# ------------------------------------------------------------------------------ libsvm
def test_libsvm_round_trip(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 5))
    X[X < 0] = 0.0
    y = np.arange(20) % 3 + 1
    path = tmp_path / "small.libsvm"
    dump_svmlight_file(X, y, str(path))
    ds = load_dataset(path)
    assert ds.name == "small"
    assert isinstance(ds.X, np.ndarray)
    np.testing.assert_allclose(ds.X, X)
    assert ds.y.dtype.kind == "i" and ds.y.tolist() == y.tolist()


def test_unreadable_libsvm(tmp_path):
    path = tmp_path / "bad.libsvm"
    path.write_text("1 a:b c\n")
    with pytest.raises(ValueError, match="could not read 'bad.libsvm' as a libsvm file"):
        load_dataset(path)


# --------------------------------------------------------------------- real (dispatch)
@pytest.mark.skipif(
    not (SHARED_DATA / "zhan2021-tabular").is_dir(),
    reason="the shared data directory is not present on this machine",
)
def test_real_names_are_dispatched_to_the_real_module():
    ds = load_dataset("zhan:iris", data_dir=SHARED_DATA)
    assert ds.X.shape == (150, 4)
