"""Datasets by name or path: ``load_dataset("digits")``, ``load_dataset("data.csv", ...)``.

Names
-----
``iris``, ``digits``, ``wine``, ``breast_cancer``
    scikit-learn's bundled sets (``breast-cancer`` works too).
``synthetic``
    :func:`sklearn.datasets.make_classification`; options are given as keyword arguments
    or after a colon, comma separated: ``"synthetic:classes=3,imbalance=0.05,samples=2000"``.
    See :data:`activelab.datasets.bundled.SYNTHETIC_OPTIONS`.
``yeast``
    a real multi-label set (14 labels) that ships inside the ``river`` package
    (``pip install 'activelab[multilabel-data]'``); see :mod:`activelab.datasets.packaged`.
real sets of the shared data directory
    ``mnist-10k``, ``fashion-mnist``, ``spamassassin`` and the Zhan et al. tabular sets
    (``zhan:australian``); see :mod:`activelab.datasets.real`.
files
    CSV, Parquet and libsvm paths; see :mod:`activelab.datasets.files`.

The option syntax is ``name:key=value,key=value``: values are read as integers, floats,
``true``/``false``, or lists written with ``/`` (``weights=0.7/0.2/0.1``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .dataset import Dataset

__all__ = ["Dataset", "check_dataset", "load_dataset", "known_names", "parse_spec"]


#: Options of :func:`activelab.datasets.files.load_file` that only tables take.
FILE_ONLY_OPTIONS: tuple[str, ...] = (
    "text_column", "id_column", "drop_columns", "encoding", "delimiter", "text_method",
)
_ALIASES = {"breast-cancer": "breast_cancer", "breastcancer": "breast_cancer"}


def known_names() -> list[str]:
    """The dataset names :func:`load_dataset` knows (files aside)."""
    from .bundled import BUNDLED
    from .packaged import PACKAGED

    names = [*BUNDLED, "synthetic", *PACKAGED]
    try:
        from .real import REAL_DATASETS

        names += [*REAL_DATASETS, "zhan:<name>"]
    except ImportError:
        pass
    return names


def _parse_value(text: str) -> Any:
    text = text.strip()
    low = text.lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    if low in ("none", "null"):
        return None
    if "/" in text:
        return [_parse_value(t) for t in text.split("/")]
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split ``"name:key=value,key=value"`` into the name and its options.

    Only the part after the last colon is read as options, and only when it holds ``=``,
    so ``"zhan:australian"`` keeps its colon.

    Examples
    --------
    >>> parse_spec("synthetic:classes=3,imbalance=0.05")
    ('synthetic', {'classes': 3, 'imbalance': 0.05})
    >>> parse_spec("zhan:australian")
    ('zhan:australian', {})
    """
    head, sep, tail = spec.rpartition(":")
    if not sep or "=" not in tail:
        return spec.strip(), {}
    options: dict[str, Any] = {}
    for part in tail.split(","):
        if not part.strip():
            continue
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise ValueError(
                f"cannot read option {part!r} in {spec!r}; write options as key=value "
                "separated by commas, e.g. synthetic:classes=3,imbalance=0.05."
            )
        if key.strip() in options:
            raise ValueError(f"option {key.strip()!r} appears twice in {spec!r}; give it once.")
        options[key.strip()] = _parse_value(value)
    return head.strip(), options


def _looks_like_path(spec: str) -> bool:
    """A file path, rather than a name: a file exists there, or has a separator or a data-file extension.

    ``name:key=value`` specs are names even when a value holds ``/`` (``weights=7/2/1``).
    """
    from .files import detect_format

    if Path(spec).is_file():
        return True
    if parse_spec(spec)[1]:
        return False
    return os.sep in spec or "/" in spec or detect_format(spec) is not None


def load_dataset(
    name_or_path: str | os.PathLike[str],
    *,
    label_column: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    random_state: int | None = None,
    progress: Any = False,
    **options: Any,
) -> Dataset:
    """Load a dataset by name, name with options, or file path.

    Parameters
    ----------
    name_or_path : str or path-like
        A name (see the module docstring), ``"synthetic:key=value,..."``, or the path of
        a CSV, Parquet or libsvm file.
    label_column : str, optional
        For CSV/Parquet: the column holding the class.
    data_dir : path-like, optional
        Folder of the real datasets (see :mod:`activelab.datasets.real`).
    random_state : int, optional
        Seed for datasets that draw at random (``synthetic``'s generator; subsets of the
        real sets).  ``synthetic`` uses seed 0 when neither this nor ``seed=`` is given.
    progress : bool or callable, default=False
        Steps of slow loads (reading a large file, featurizing texts, the feature cache):
        ``True`` prints them on stderr, a callable receives each message.  Featurized
        SpamAssassin matrices are cached on disk (see :mod:`activelab.datasets.cache`).
    **options
        Options of the named dataset (merged with the ones in the name) or of
        :func:`activelab.datasets.files.load_file` for files.

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        For an unknown name or option, or a file that cannot be used (see files).
    FileNotFoundError
        For a missing file.

    Examples
    --------
    >>> load_dataset("iris")
    Dataset(name='iris', n_samples=150, n_features=4, n_classes=3)
    >>> load_dataset("synthetic:samples=300,classes=3").y.shape
    (300,)
    """
    from .progress import reporting

    spec = _spec_text(name_or_path)
    with reporting(progress):
        if _looks_like_path(spec):
            from .files import load_file

            return load_file(spec, label_column=label_column, **options)
        name, options = _name_and_options(spec, label_column, options)
        key = _ALIASES.get(name.lower(), name.lower())
        from .bundled import BUNDLED

        if key in BUNDLED or key == "synthetic":
            return _load_generated(key, name, options, random_state)
        from .packaged import is_packaged, load_packaged

        if is_packaged(key):
            return load_packaged(key, **options)
        return _load_real(key, name, options, data_dir, random_state)


def check_dataset(
    name_or_path: str | os.PathLike[str],
    *,
    label_column: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    **options: Any,
) -> None:
    """Check that :func:`load_dataset` can find a dataset, without reading it.

    Takes the arguments of :func:`load_dataset`.  A file must exist and have a known
    format; a name must be known, a real set's files must be in the data directory, and
    options that only apply to files must not be given with a name.  What only reading
    can tell (a column, a value) is checked by :func:`load_dataset`.

    Raises
    ------
    ValueError, TypeError, FileNotFoundError
        As :func:`load_dataset` would, naming the problem and the fix.
    """
    spec = _spec_text(name_or_path)
    if _looks_like_path(spec):
        from .files import check_file

        check_file(spec, options.get("format"))
        return
    name, options = _name_and_options(spec, label_column, options)
    key = _ALIASES.get(name.lower(), name.lower())
    from .bundled import BUNDLED, normalise_synthetic_options
    from .packaged import is_packaged, packaged_file

    if key in BUNDLED or is_packaged(key):
        _no_options(name, options)
        if is_packaged(key):
            packaged_file(key)
    elif key == "synthetic":
        normalise_synthetic_options({k: v for k, v in options.items() if k != "seed"})
    else:
        from .real import is_real_dataset, require_files

        if not is_real_dataset(key):
            raise ValueError(_unknown_message(name))
        require_files(key, data_dir)


def _spec_text(name_or_path: Any) -> str:
    if isinstance(name_or_path, os.PathLike):
        name_or_path = os.fspath(name_or_path)
    if not isinstance(name_or_path, str):
        raise TypeError(
            f"name_or_path must be a dataset name or a file path, got {type(name_or_path).__name__}."
        )
    spec = name_or_path.strip()
    if not spec:
        raise ValueError("the dataset name is empty; give a name such as 'digits' or a file path.")
    return spec


def _name_and_options(
    spec: str, label_column: str | None, options: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The name and all its options; file-only options are refused for a name."""
    name, spec_options = parse_spec(spec)
    for key in set(spec_options) & set(options):
        raise ValueError(f"option {key!r} is given both in the name and as an argument; give it once.")
    options = {**spec_options, **options}
    given = {"label_column": label_column, **options}
    file_only = [k for k in ("label_column", *FILE_ONLY_OPTIONS) if given.get(k) not in (None, (), [])]
    if file_only:
        raise ValueError(
            f"{file_only[0]} only applies to CSV/Parquet files, not to the dataset {name!r}; "
            "leave it out."
        )
    return name, {k: v for k, v in options.items() if k not in FILE_ONLY_OPTIONS}


def _no_options(name: str, options: dict[str, Any]) -> None:
    if options:
        raise ValueError(
            f"dataset {name!r} takes no options, got {', '.join(sorted(options))}; "
            "options apply to synthetic and the real sets."
        )


def _unknown_message(name: str) -> str:
    return (
        f"unknown dataset {name!r}; known names: {', '.join(known_names())}, "
        "or a CSV/Parquet/libsvm file path."
    )


def _load_generated(
    key: str, name: str, options: dict[str, Any], random_state: int | None
) -> Dataset:
    """A bundled scikit-learn set (no options) or the synthetic generator."""
    from .bundled import BUNDLED, load_bundled, make_synthetic, normalise_synthetic_options

    if key in BUNDLED:
        _no_options(name, options)
        return load_bundled(key)
    opts = normalise_synthetic_options(options)
    if random_state is not None:
        if "seed" in opts:
            raise ValueError("give the synthetic seed once: seed= or random_state=.")
        opts["seed"] = random_state
    return make_synthetic(**opts)


def _load_real(
    key: str, name: str, options: dict[str, Any], data_dir: Any, random_state: int | None
) -> Dataset:
    """A real set of the data directory; an unknown name lists the known ones."""
    unknown = _unknown_message(name)
    try:
        from .real import REAL_DATASETS, load_real_dataset
    except ImportError as exc:
        raise ValueError(unknown) from exc
    if random_state is not None and key in REAL_DATASETS:
        options["random_state"] = random_state
    try:
        return load_real_dataset(name, data_dir=data_dir, **options)
    except ValueError as exc:
        if str(exc).startswith("unknown dataset"):
            raise ValueError(unknown) from exc
        raise
