"""A disk cache of featurized matrices, keyed by the content of what they were made from.

Featurizing the SpamAssassin corpus (TF-IDF of word 1–2-grams over 6,046 e-mails) takes
tens of seconds; its matrix is saved once and read back in a fraction of a second.

* Where: ``$ACTIVELAB_CACHE_DIR``, else ``$XDG_CACHE_HOME/activelab``, else
  ``~/.cache/activelab``.  ``ACTIVELAB_CACHE_DIR=off`` (or ``0``, ``none``) turns it off.
* Key: the SHA-256 of the source file's bytes, the options of the features, and the
  source code of the featurizer (so a changed featurizer never reads an old matrix).
* Never required: a cache that cannot be read or written is ignored (the matrix is
  computed as if there were none), and a damaged entry is recomputed and replaced.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .progress import report

__all__ = ["CACHE_DIR_ENV", "cache_dir", "file_digest", "cached_features"]

CACHE_DIR_ENV = "ACTIVELAB_CACHE_DIR"
_OFF = {"0", "off", "none", "false", "no"}


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is turned off."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env is not None and env.strip().lower() in _OFF | {""}:
        return None
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "activelab"


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _code_digest(func: Callable[..., Any]) -> str:
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):  # no source (frozen build): the package version instead
        from importlib.metadata import PackageNotFoundError, version

        try:
            source = version("activelab")
        except PackageNotFoundError:
            source = "unknown"
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def _entry(kind: str, key: dict[str, Any], featurizer: Callable[..., Any]) -> str:
    import sklearn

    text = json.dumps({**key, "code": _code_digest(featurizer), "sklearn": sklearn.__version__},
                      sort_keys=True, default=str)
    return f"{kind}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:24]}.npz"


def _read(path: Path) -> tuple[Any, list[str] | None] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            shape = tuple(int(n) for n in z["shape"])
            X = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=shape)
            names = [str(n) for n in z["names"]] if z["has_names"] else None
        return X, names
    except (OSError, KeyError, ValueError):
        return None


def _write(path: Path, X: Any, names: list[str] | None) -> None:
    """Save atomically (a temporary file renamed into place); failures are ignored."""
    X = sp.csr_matrix(X)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, data=X.data, indices=X.indices, indptr=X.indptr,
                     shape=np.asarray(X.shape), names=np.asarray(names or [], dtype=str),
                     has_names=np.asarray(names is not None))
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def cached_features(
    kind: str,
    key: dict[str, Any],
    featurizer: Callable[..., Any],
    compute: Callable[[], tuple[Any, list[str] | None]],
) -> tuple[Any, list[str] | None]:
    """``compute()``'s sparse matrix and names, from the cache when it holds them.

    Parameters
    ----------
    kind : str
        A short name for the entry's file (e.g. ``"spamassassin-tfidf"``).
    key : dict
        Everything the matrix depends on besides the featurizer's code (the source file's
        digest, the options); JSON-able.
    featurizer : callable
        The function that makes the features; its source code is part of the key.
    compute : callable
        Returns ``(X, feature_names)`` when the cache cannot help.
    """
    folder = cache_dir()
    path = None if folder is None else folder / _entry(kind, key, featurizer)
    if path is not None and path.is_file():
        found = _read(path)
        if found is not None:
            report(f"features read from the cache ({path})")
            return found
    X, names = compute()
    if path is not None:
        _write(path, X, names)
        if path.is_file():
            report(f"features saved in the cache for the next time ({path})")
    return X, names
