"""scikit-learn's bundled datasets and a synthetic generator.

``iris``, ``digits``, ``wine`` and ``breast_cancer`` (classification) and ``diabetes``
(regression: 442 patients, 10 baseline measurements, a disease-progression score one year
later; Efron et al. 2004) are read from scikit-learn (no download).  ``synthetic`` is :func:`sklearn.datasets.make_classification` with options
for its size, the number of classes and class imbalance; it is the same data every
time for a given ``seed`` (default 0).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .dataset import Dataset

__all__ = ["BUNDLED", "SYNTHETIC_OPTIONS", "load_bundled", "make_synthetic"]

BUNDLED: tuple[str, ...] = ("iris", "digits", "wine", "breast_cancer", "diabetes")

#: Options of ``synthetic`` (short names are accepted in the ``synthetic:key=value`` syntax).
SYNTHETIC_OPTIONS: dict[str, str] = {
    "n_samples": "rows (default 1000)",
    "n_features": "features (default 20)",
    "n_classes": "classes (default 2)",
    "n_informative": "informative features (default half of n_features, at least 2)",
    "weights": "class proportions, e.g. 0.7/0.2/0.1 (normalised to sum to 1)",
    "imbalance": "share of the last (minority) class, e.g. 0.05; the others split the rest",
    "class_sep": "how far apart the classes are (default 1.0; smaller is harder)",
    "flip_y": "fraction of labels assigned at random (default 0.0)",
    "seed": "random seed of the generator (default 0)",
}

_SHORT = {
    "samples": "n_samples",
    "rows": "n_samples",
    "features": "n_features",
    "classes": "n_classes",
    "informative": "n_informative",
    "random_state": "seed",
}


def load_bundled(name: str) -> Dataset:
    """Load one of scikit-learn's bundled datasets by name.

    Parameters
    ----------
    name : {"iris", "digits", "wine", "breast_cancer", "diabetes"}

    Returns
    -------
    Dataset
        Features as float64, integer labels (float targets for ``diabetes``, a regression
        set); ``raw`` holds the 8x8 images for digits.
    """
    from sklearn import datasets as skd

    loaders = {
        "iris": skd.load_iris,
        "digits": skd.load_digits,
        "wine": skd.load_wine,
        "breast_cancer": skd.load_breast_cancer,
        "diabetes": skd.load_diabetes,
    }
    if name not in loaders:
        raise ValueError(f"unknown bundled dataset {name!r}; choose one of: {', '.join(BUNDLED)}.")
    bunch = loaders[name]()
    raw = bunch.images if name == "digits" else None
    feature_names = [str(f) for f in bunch.feature_names]
    regression = name == "diabetes"
    return Dataset(
        name=name,
        X=np.asarray(bunch.data, dtype=np.float64),
        y=np.asarray(bunch.target, dtype=np.float64 if regression else None),
        raw=raw,
        feature_names=feature_names,
        task="regression" if regression else "classification",
    )


def normalise_synthetic_options(options: dict[str, Any]) -> dict[str, Any]:
    """Map short option names (``classes``) to full ones (``n_classes``) and check them."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        full = _SHORT.get(key, key)
        if full not in SYNTHETIC_OPTIONS:
            raise ValueError(
                f"synthetic has no option {key!r}; its options are: "
                + ", ".join(f"{k} ({v})" for k, v in SYNTHETIC_OPTIONS.items())
                + "."
            )
        if full in out:
            raise ValueError(f"synthetic option {full!r} was given twice; give it once.")
        out[full] = value
    return out


def _int_option(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)):
        raise TypeError(f"synthetic option {name} must be an integer, got {value!r}.")
    if float(value) != int(value) or int(value) < minimum:
        raise ValueError(f"synthetic option {name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _weights(n_classes: int, weights: Any, imbalance: Any) -> list[float] | None:
    if weights is not None and imbalance is not None:
        raise ValueError("give synthetic weights or imbalance, not both.")
    if imbalance is not None:
        r = float(imbalance)
        if not 0.0 < r <= 1.0 / n_classes:
            raise ValueError(
                f"synthetic imbalance is the minority class's share and must be in "
                f"(0, {1.0 / n_classes:.3g}] for {n_classes} classes, got {imbalance!r}."
            )
        return [(1.0 - r) / (n_classes - 1)] * (n_classes - 1) + [r]
    if weights is None:
        return None
    w = np.atleast_1d(np.asarray(weights, dtype=np.float64))
    if w.shape != (n_classes,) or np.any(w <= 0) or not np.isfinite(w).all():
        raise ValueError(
            f"synthetic weights must be {n_classes} positive numbers (one per class, e.g. "
            f"weights=0.7/0.2/0.1), got {weights!r}."
        )
    return (w / w.sum()).tolist()


def make_synthetic(
    n_samples: int = 1000,
    n_features: int = 20,
    n_classes: int = 2,
    n_informative: int | None = None,
    weights: Any = None,
    imbalance: float | None = None,
    class_sep: float = 1.0,
    flip_y: float = 0.0,
    seed: int = 0,
) -> Dataset:
    """A classification problem from :func:`sklearn.datasets.make_classification`.

    Parameters
    ----------
    n_samples, n_features, n_classes : int
    n_informative : int, optional
        Defaults to half the features (at least 2).
    weights : sequence of float, optional
        Class proportions (normalised).
    imbalance : float, optional
        Share of the last class (the minority), e.g. ``0.05``; the other classes split
        the rest evenly.  Exclusive with ``weights``.
    class_sep : float, default=1.0
    flip_y : float, default=0.0
        Fraction of labels drawn at random (label noise already in the data).
    seed : int, default=0
        The same seed gives the same data.

    Examples
    --------
    >>> ds = make_synthetic(n_samples=200, n_classes=3, imbalance=0.1)
    >>> ds.X.shape, ds.classes.tolist()
    ((200, 20), [0, 1, 2])
    """
    from sklearn.datasets import make_classification

    n_samples = _int_option("n_samples", n_samples, 10)
    n_features = _int_option("n_features", n_features, 2)
    n_classes = _int_option("n_classes", n_classes, 2)
    seed = _int_option("seed", seed, 0)
    if n_informative is None:
        n_informative = min(n_features, max(2, n_features // 2))
    n_informative = _int_option("n_informative", n_informative, 1)
    if n_informative > n_features:
        raise ValueError(
            f"synthetic n_informative ({n_informative}) cannot exceed n_features ({n_features})."
        )
    clusters = 2 if n_classes * 2 <= 2**n_informative else 1
    if n_classes > 2**n_informative:
        need = math.ceil(math.log2(n_classes))
        raise ValueError(
            f"synthetic with {n_classes} classes needs n_informative >= {need} "
            f"(and n_features >= {need}); got n_informative={n_informative}."
        )
    for name, value, lo, hi in (("class_sep", class_sep, 0.0, math.inf), ("flip_y", flip_y, 0.0, 1.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"synthetic option {name} must be a number, got {value!r}.")
        if not lo <= float(value) <= hi:
            raise ValueError(f"synthetic option {name} must be between {lo} and {hi}, got {value}.")
    w = _weights(n_classes, weights, imbalance)
    n_redundant = min(2, n_features - n_informative)
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_informative,
        n_redundant=n_redundant,
        n_classes=n_classes,
        n_clusters_per_class=clusters,
        weights=w,
        class_sep=float(class_sep),
        flip_y=float(flip_y),
        random_state=seed,
    )
    if np.unique(y).size < n_classes:
        raise ValueError(
            f"synthetic drew no sample of some class with n_samples={n_samples}; "
            "raise n_samples or the minority share (imbalance)."
        )
    return Dataset(
        name="synthetic",
        X=X,
        y=y,
        feature_names=[f"x{i}" for i in range(n_features)],
    )
