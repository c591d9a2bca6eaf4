"""Real datasets that ship inside a package from a registry, read offline.

``yeast``
    The multi-label yeast gene-function set (Elisseeff & Weston 2001, in the form the
    MULAN library distributes): 2,417 genes, 103 numeric features (micro-array
    expression and phylogenetic profiles), 14 functional categories, 4.24 labels per
    gene on average.  The file ``river/datasets/yeast.csv.gz`` is bundled in the
    ``river`` package (BSD-3-Clause, on PyPI) from version 0.26.1; install it with
    ``pip install 'activelab[multilabel-data]'``.  It is read straight from the
    installed package folder (river itself is never imported) and checked against the
    SHA-256 recorded here, so every run reads the same bytes.  See
    ``docs/datasets/yeast.md`` for its source and licence.

Nothing here touches the network: a missing package is an :class:`ImportError` that
says which extra to install.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import Dataset

__all__ = ["PACKAGED", "load_packaged", "packaged_file", "is_packaged"]

#: name -> (package, file inside the package, SHA-256 of the file, n features, n labels)
PACKAGED: dict[str, tuple[str, str, str, int, int]] = {
    "yeast": (
        "river",
        "datasets/yeast.csv.gz",
        "2969cb4bab877a27adcbe17871fa0b378a1e54b98816cd6106b542ee450a1c09",
        103,
        14,
    ),
}
_EXTRA = "multilabel-data"


def is_packaged(name: str) -> bool:
    """Whether ``name`` is a dataset that ships inside a package."""
    return name in PACKAGED


def packaged_file(name: str) -> Path:
    """The path of the dataset's file inside its installed package.

    Raises
    ------
    ImportError
        When the package is not installed, naming the extra that installs it.
    FileNotFoundError
        When the installed version of the package does not ship the file.
    """
    package, relative, *_ = PACKAGED[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"the {name} dataset ships inside the {package!r} package, which is not "
            f"installed: pip install 'activelab[{_EXTRA}]' (or pip install '{package}>=0.26.1')."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise FileNotFoundError(
            f"the installed {package!r} package has no {relative}; it ships from version "
            f"0.26.1 on: pip install 'activelab[{_EXTRA}]'."
        )
    return path


def _checked_bytes(name: str, path: Path) -> bytes:
    data = path.read_bytes()
    expected = PACKAGED[name][2]
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise ValueError(
            f"{path} is not the {name} file this version of activelab was checked against "
            f"(SHA-256 {digest[:12]}..., expected {expected[:12]}...); install the package "
            f"version named in pip install 'activelab[{_EXTRA}]'."
        )
    return data


def load_packaged(name: str, **options: Any) -> Dataset:
    """Load a dataset that ships inside a package (see the module docstring).

    Returns
    -------
    Dataset
        ``X`` float64 (n x features), ``y`` an int8 ``n x L`` 0/1 label table, and
        ``classes`` the label names in column order.

    Raises
    ------
    ValueError
        For options (these sets take none) or a file that differs from the recorded one.
    ImportError
        When the package is missing.
    """
    if options:
        raise ValueError(
            f"dataset {name!r} takes no options, got {', '.join(sorted(options))}."
        )
    _, _, _, n_features, n_labels = PACKAGED[name]
    path = packaged_file(name)
    text = gzip.decompress(_checked_bytes(name, path)).decode("utf-8").splitlines()
    header = text[0].split(",")
    table = np.loadtxt(text[1:], delimiter=",", dtype=np.float64, ndmin=2)
    if table.shape[1] != n_features + n_labels:
        raise ValueError(f"{path}: expected {n_features + n_labels} columns, got {table.shape[1]}.")
    return Dataset(
        name=name,
        X=np.ascontiguousarray(table[:, :n_features]),
        y=table[:, n_features:].astype(np.int8),
        feature_names=header[:n_features],
        classes=np.asarray(header[n_features:]),
        notes=[f"read from {path} (multi-label: {n_labels} label columns)"],
    )
