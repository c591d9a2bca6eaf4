"""The real multi-label set that ships inside a package: yeast (in river >= 0.26.1)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from activelab.datasets import check_dataset, known_names, load_dataset, packaged

has_river = importlib.util.find_spec("river") is not None


def test_yeast_is_a_known_name():
    assert "yeast" in known_names()


@pytest.mark.skipif(not has_river, reason="the multilabel-data extra (river) is not installed")
def test_yeast_loads_as_a_multilabel_table():
    data = load_dataset("yeast")
    assert data.X.shape == (2417, 103) and data.X.dtype == np.float64
    assert data.y.shape == (2417, 14) and data.y.dtype == np.int8
    assert set(np.unique(data.y)) == {0, 1}
    assert data.classes.tolist() == [f"Class{i}" for i in range(1, 15)]
    assert data.y.sum(axis=1).mean() == pytest.approx(4.237, abs=1e-3)  # as MULAN states
    assert data.y.sum(axis=1).min() >= 1  # every gene has a function
    check_dataset("yeast")


@pytest.mark.skipif(not has_river, reason="the multilabel-data extra (river) is not installed")
def test_a_file_that_differs_from_the_recorded_one_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / "river" / "datasets" / "yeast.csv.gz"
    copy.parent.mkdir(parents=True)
    data = bytearray(packaged.packaged_file("yeast").read_bytes())
    data[100] ^= 0xFF  # one byte changed
    copy.write_bytes(bytes(data))
    monkeypatch.setattr(packaged, "packaged_file", lambda name: copy)
    with pytest.raises(ValueError, match="is not the yeast file.*SHA-256"):
        load_dataset("yeast")


def test_a_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setattr(packaged.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r"pip install 'activelab\[multilabel-data\]'"):
        load_dataset("yeast")
    with pytest.raises(ImportError, match="multilabel-data"):
        check_dataset("yeast")


def test_yeast_takes_no_options():
    with pytest.raises(ValueError, match="takes no options"):
        load_dataset("yeast:samples=10")
