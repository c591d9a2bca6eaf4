"""Scoring pools that outgrow memory (chunk by chunk from disk) or one machine (Dask).

Pools are ``.npy`` files, Zarr arrays or Parquet files, on a local disk or behind an
fsspec URL (``s3://``, ``gs://``, ``file://``); see :func:`open_source`.  Both paths
score with a strategy's utility chunk by chunk, keep a running top-k with ties going
to the lower pool id, and return an :class:`activelab.QueryResult` with the
ids the in-process path chooses on the same data.  Batch-aware strategies run on a
pre-filtered candidate set (:func:`prefilter_select`), and core-set also as a chunked
k-center over the whole pool (:func:`k_center_out_of_core`, :func:`k_center_dask`).
Past 10⁸–10⁹ rows, :class:`SealsCandidates` restricts each round to the labeled rows'
nearest neighbours (an exact numpy index, or faiss with the ``ann`` extra).  The Dask path needs the ``scale``
extra (``pip install 'activelab[scale]'``); reading Zarr needs ``zarr``, Parquet
``pyarrow``, URLs ``fsspec`` (with ``s3fs``/``gcsfs`` for S3 and Google Cloud Storage).
"""

from __future__ import annotations

from .batch import prefilter_select
from .candidates import CandidateRows
from .cluster import score_dask
from .kcenter import k_center_dask, k_center_out_of_core
from .out_of_core import open_pool_array, score_out_of_core
from .seals import SealsCandidates
from .sources import SourceSpec, open_source
from .topk import RunningTopK, chunk_top_k, merge_top_k

__all__ = [
    "CandidateRows",
    "RunningTopK",
    "SealsCandidates",
    "SourceSpec",
    "chunk_top_k",
    "k_center_dask",
    "k_center_out_of_core",
    "merge_top_k",
    "open_pool_array",
    "open_source",
    "prefilter_select",
    "score_dask",
    "score_out_of_core",
]

