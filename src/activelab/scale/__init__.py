"""Scoring pools that outgrow memory (chunk by chunk from disk) or one machine (Dask).

Both paths score with a strategy's utility chunk by chunk, keep a running top-k with
ties going to the lower pool id, and return an :class:`activelab.QueryResult` with the
ids the in-process path chooses on the same data.  The Dask path needs the ``scale``
extra (``pip install 'activelab[scale]'``); reading Zarr needs ``zarr``.
"""

from __future__ import annotations

from .cluster import score_dask
from .out_of_core import open_pool_array, score_out_of_core
from .topk import RunningTopK, chunk_top_k, merge_top_k

__all__ = [
    "RunningTopK",
    "chunk_top_k",
    "merge_top_k",
    "open_pool_array",
    "score_dask",
    "score_out_of_core",
]

