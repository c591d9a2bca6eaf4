"""Slow loads say what they do, and the featurized SpamAssassin matrix is cached on disk
(keyed by the file's content; never required)."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from activelab.datasets import load_dataset
from activelab.datasets.cache import cache_dir


def _corpus(root, texts=None):
    texts = texts or ["cheap pills now", "meeting at noon", "free money offer", "lunch friday"]
    folder = root / "spamassassin"
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / "spamassassin.jsonl.gz", "wt", encoding="utf-8") as fh:
        for i, text in enumerate(texts * 3):
            label = "spam" if i % 2 == 0 else "ham"
            fh.write(json.dumps({"text": f"{text} {i}", "label": label,
                                 "group": f"{label}-{1 + i % 2}"}) + "\n")
    return root


def _load(data_dir):
    messages: list[str] = []
    ds = load_dataset("spamassassin", data_dir=data_dir, progress=messages.append)
    return ds, messages


def test_the_matrix_is_computed_once_then_read_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ACTIVELAB_CACHE_DIR", str(tmp_path / "cache"))
    data = _corpus(tmp_path / "data")
    first, said = _load(data)
    assert [m.split(" (")[0] for m in said] == [
        "reading the SpamAssassin e-mails", "TF-IDF of 12 e-mails",
        "features saved in the cache for the next time",
    ]
    assert len(list((tmp_path / "cache").glob("spamassassin-tfidf-*.npz"))) == 1
    again, said = _load(data)
    assert any(m.startswith("features read from the cache") for m in said)
    assert not any(m.startswith("TF-IDF") for m in said)
    assert (first.X != again.X).nnz == 0 and first.X.dtype == again.X.dtype
    assert first.feature_names == again.feature_names


def test_other_content_or_options_are_other_entries(tmp_path, monkeypatch):
    monkeypatch.setenv("ACTIVELAB_CACHE_DIR", str(tmp_path / "cache"))
    data = _corpus(tmp_path / "data")
    _load(data)
    load_dataset("spamassassin", data_dir=data, max_features=5)
    _corpus(data, ["other words entirely", "and more of them"])
    changed, said = _load(data)
    assert any(m.startswith("TF-IDF") for m in said)  # new content: computed again
    assert "other" in changed.feature_names
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 3


def test_the_cache_is_never_required(tmp_path, monkeypatch):
    data = _corpus(tmp_path / "data")
    monkeypatch.setenv("ACTIVELAB_CACHE_DIR", "off")
    assert cache_dir() is None
    plain, said = _load(data)
    assert not any(m.startswith("features") or "cached for" in m for m in said)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ACTIVELAB_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    unwritable, said = _load(data)
    assert (plain.X != unwritable.X).nnz == 0
    assert not any(m.startswith("features") for m in said)


def test_a_damaged_entry_is_recomputed_and_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("ACTIVELAB_CACHE_DIR", str(tmp_path / "cache"))
    data = _corpus(tmp_path / "data")
    good, _ = _load(data)
    (entry,) = (tmp_path / "cache").glob("*.npz")
    entry.write_bytes(b"broken")
    again, said = _load(data)
    assert any(m.startswith("TF-IDF") for m in said)
    assert (good.X != again.X).nnz == 0
    assert entry.stat().st_size > 100  # replaced by a good entry


def test_default_folder_is_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("ACTIVELAB_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "activelab"


def test_progress_lines_on_stderr_for_long_text_columns(tmp_path, capsys):
    n = 2000
    frame = pd.DataFrame({"text": [f"word{i % 50} other{i % 7}" for i in range(n)],
                          "label": np.arange(n) % 2})
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    load_dataset(path, progress=True)
    err = capsys.readouterr().err
    assert "featurizing column 'text' of 2,000 rows as text (tfidf)" in err
    load_dataset(path)  # progress off by default
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("progress", [False, None])
def test_no_listener_no_messages(tmp_path, progress, capsys):
    data = _corpus(tmp_path / "data")
    load_dataset("spamassassin", data_dir=data, progress=progress)
    assert capsys.readouterr().err == ""
