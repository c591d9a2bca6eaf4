"""The model that scores a big pool, read from a skops file, and its checks against the pool.

A model file is either a learner saved with :meth:`activelab.ActiveLearner.save` (or
:meth:`activelab.Committee.save`), or a fitted scikit-learn estimator saved with
``skops.io.dump``.  Like the learners' own loader, only classes of scikit-learn, NumPy,
SciPy and activelab are trusted unless more are named.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..learners import FILE_FORMAT, ActiveLearner, Committee, _is_trusted_type, _skops_io

__all__ = ["check_model_fits_pool", "load_model", "model_n_features"]


def load_model(path: str | os.PathLike[str], *, trusted: Sequence[str] = ()) -> Any:
    """The learner, committee or fitted estimator saved in ``path``.

    Parameters
    ----------
    path : str or path-like
        A skops file.
    trusted : sequence of str, default=()
        Further fully qualified type names to trust.

    Raises
    ------
    FileNotFoundError
        When there is no file.
    ValueError
        When the file is not a skops file, or holds an estimator that is not fitted.
    TypeError
        When the file holds untrusted types, or an object that gives no probabilities.
    """
    sio = _skops_io()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}; check the --model path.")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # not a zip, or not a skops file
        raise ValueError(
            f"{str(path)!r} is not a skops model file ({exc}); save one with "
            "ActiveLearner.save(path) or skops.io.dump(estimator, path)."
        ) from None
    refused = sorted(t for t in untrusted if t not in set(trusted) and not _is_trusted_type(t))
    if refused:
        raise TypeError(
            f"{str(path)!r} holds types outside scikit-learn, numpy, scipy and activelab: "
            f"{', '.join(refused)}; load only files you trust, and name those types with "
            "--trust to load it."
        )
    content = sio.load(path, trusted=untrusted)
    if isinstance(content, dict) and content.get("format") == FILE_FORMAT:
        cls = Committee if content.get("kind") == "Committee" else ActiveLearner
        return cls.load(path, trusted=trusted)
    return _check_estimator(content, path)


def _check_estimator(model: Any, path: Path) -> Any:
    if not hasattr(model, "predict_proba"):
        raise TypeError(
            f"{str(path)!r} holds a {type(model).__name__}, which gives no class "
            "probabilities; save a fitted classifier with predict_proba."
        )
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError:
        raise ValueError(
            f"the {type(model).__name__} in {str(path)!r} is not fitted; fit it before saving."
        ) from None
    return model


def _estimator(model: Any) -> Any:
    if isinstance(model, ActiveLearner):
        return getattr(model, "estimator_", None)
    if isinstance(model, Committee):
        return _estimator(model.learner_list[0]) if model.learner_list else None
    return model


def model_n_features(model: Any) -> tuple[int | None, list[str] | None]:
    """Number and names (when known) of the features the model was fitted on."""
    est = _estimator(model)
    n = getattr(est, "n_features_in_", None)
    names = getattr(est, "feature_names_in_", None)
    return (None if n is None else int(n)), (None if names is None else [str(c) for c in names])


def check_model_fits_pool(model: Any, pool: Any, where: str) -> None:
    """Refuse a pool whose columns are not the ones the model was fitted on.

    Raises
    ------
    ValueError
        With one line naming both counts (or both column lists) and the fix.
    """
    if isinstance(model, ActiveLearner) and not model.is_fitted:
        raise ValueError("the learner in the model file has no training data; teach it first.")
    n, names = model_n_features(model)
    n_pool = int(pool.shape[1])
    if n is not None and n != n_pool:
        raise ValueError(
            f"the model was fitted on {n} features but the pool {where!r} has {n_pool} "
            "columns; score the pool the model was trained for (or pick its columns with "
            "--columns)."
        )
    columns = getattr(pool, "columns", None)
    if names is not None and columns is not None and len(columns) == n_pool and list(
        columns
    ) != names:
        raise ValueError(
            f"the model's features are {','.join(names)} but the pool's columns are "
            f"{','.join(columns)}; pass --columns {','.join(names)}."
        )
