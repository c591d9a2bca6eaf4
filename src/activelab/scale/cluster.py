"""Score a pool on a Dask cluster: utilities per chunk (map), one top-k (reduce).

Works with any Dask scheduler; with a ``dask.distributed`` client the chunks are
scored on its workers.  Each task reads one block of rows, scores it with the
strategy's utility and returns that block's top-k; a last task merges them.  The
chosen ids are the ones the in-process path chooses on the same data (ties go to the
lower id).
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import numpy as np

from ..pool import DEFAULT_CHUNK_ROWS
from ..strategies.base import QueryResult, UtilityStrategy
from .candidates import block_ids
from .out_of_core import (
    _candidates,
    _release_pages,
    check_chunk_rows,
    open_pool_array,
    resolve_model,
    score_chunk,
)
from .topk import chunk_top_k, merge_top_k

__all__ = ["score_dask"]


def _import_dask() -> Any:
    try:
        import dask
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - dask is in the scale extra
        raise ImportError(
            "Dask scoring needs dask: pip install 'activelab[scale]' (dask[distributed])."
        ) from exc
    return dask, da


def _score_block(
    rows: Any,
    start: int,
    selector: tuple[np.ndarray | None, np.ndarray | None],
    model: Any,
    strategy: UtilityStrategy,
    k: int,
    X_labeled: Any,
    y_labeled: Any,
) -> tuple[np.ndarray, np.ndarray, int]:
    ids = block_ids(start, start + len(rows), *selector)
    utilities, chunk_ids = score_chunk(
        rows, start, ids, model, strategy, X_labeled=X_labeled, y_labeled=y_labeled
    )
    u, i = chunk_top_k(utilities, chunk_ids, k)
    return u, i, int(chunk_ids.size)


def _score_file_block(
    path: str,
    start: int,
    stop: int,
    selector: tuple[np.ndarray | None, np.ndarray | None],
    model: Any,
    strategy: UtilityStrategy,
    k: int,
    X_labeled: Any,
    y_labeled: Any,
) -> tuple[np.ndarray, np.ndarray, int]:
    # The worker opens the file itself: only the path travels, and the pages it read
    # are handed back once the block is scored.
    arr = open_pool_array(path)
    try:
        return _score_block(arr[start:stop], start, selector, model, strategy, k, X_labeled, y_labeled)
    finally:
        _release_pages(arr)


def _reduce(parts: list[tuple[np.ndarray, np.ndarray, int]], k: int) -> tuple[Any, ...]:
    u, ids = merge_top_k([(p[0], p[1]) for p in parts], k)
    return u, ids, sum(p[2] for p in parts)


def score_dask(
    model: Any,
    X: Any,
    n_instances: int = 1,
    *,
    strategy: Any = None,
    candidate_ids: Any = None,
    exclude_ids: Any = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    client: Any = None,
    X_labeled: Any = None,
    y_labeled: Any = None,
    random_state: Any = None,
) -> QueryResult:
    """Choose the ``n_instances`` most useful rows, scoring chunks as Dask tasks.

    Parameters
    ----------
    model : fitted classifier, ActiveLearner or Committee
        Model that scores the rows; sent once to the workers.
    X : dask array, ndarray, memmap, Zarr array, or a path to a ``.npy``/``.zarr``
        The pool's features.  A dask array keeps its row chunks (column chunks are
        merged); anything else is split into blocks of ``chunk_rows`` rows.  Given a
        path, each task opens the file itself and reads only its rows (the workers
        must see the same file system).
    n_instances : int, default=1
        Number of ids to choose.
    strategy : str or UtilityStrategy, optional
        A strategy whose utility depends on each row alone.  Defaults to the learner's
        strategy, else ``"margin"``.
    candidate_ids : array-like of int, optional
        Pool ids to score; all rows by default.
    exclude_ids : array-like of int, optional
        Pool ids to leave out (the labeled ones); each task gets only the excluded ids
        inside its rows and drops them itself.
    chunk_rows : int, default=65536
        Rows per task when ``X`` is not already a dask array.
    client : dask.distributed.Client, optional
        Where to run; by default Dask's current scheduler (a client made earlier
        becomes the default).
    X_labeled, y_labeled : optional
        The labeled set, for strategies that read it.
    random_state : int, RandomState or None
        Seed for strategies that use randomness.

    Returns
    -------
    QueryResult
        As :func:`activelab.scale.score_out_of_core`: ``ids`` best first (ties by lower
        id), ``candidate_ids``/``utilities`` for the chosen ids, and ``info`` with
        ``n_candidates``, ``n_chunks`` and ``n_scored``.
    """
    dask, da = _import_dask()
    model, strat = resolve_model(model, strategy, random_state)
    path = None
    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}.")
        darr = X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X
        offsets = np.concatenate([[0], np.cumsum(darr.chunks[0])]).astype(np.int64)
        n_rows = int(darr.shape[0])
    else:
        arr = open_pool_array(X)
        n_rows = int(arr.shape[0])
        if isinstance(X, (str, os.PathLike)):
            path = str(X)
        step = check_chunk_rows(chunk_rows)
        offsets = np.append(np.arange(0, n_rows, step, dtype=np.int64), n_rows)
        if path is None:
            darr = da.from_array(arr, chunks=(int(chunk_rows), arr.shape[1]), asarray=True)
    cand, n_candidates, k = _candidates(candidate_ids, n_rows, n_instances, exclude_ids)

    token = uuid.uuid4().hex
    model_d = dask.delayed(model, name=f"activelab-model-{token}")
    strat_d = dask.delayed(strat, name=f"activelab-strategy-{token}")
    labeled_d = dask.delayed((X_labeled, y_labeled), name=f"activelab-labeled-{token}")
    blocks = None if path is not None else darr.to_delayed().ravel()
    score = dask.delayed(_score_block, pure=True)
    score_file = dask.delayed(_score_file_block, pure=True)
    tasks = []
    for b in range(len(offsets) - 1):
        start, stop = int(offsets[b]), int(offsets[b + 1])
        if not cand.count(start, stop):
            continue
        ids = cand.selector(start, stop)
        if blocks is None:
            tasks.append(score_file(path, start, stop, ids, model_d, strat_d, k,
                                    labeled_d[0], labeled_d[1]))
        else:
            tasks.append(score(blocks[b], start, ids, model_d, strat_d, k, labeled_d[0],
                               labeled_d[1]))
    final = dask.delayed(_reduce, pure=True)(tasks, k)
    if client is not None:
        u, ids, n_scored = client.compute(final).result()
    else:
        u, ids, n_scored = final.compute()
    return QueryResult(
        ids=np.asarray(ids, dtype=np.int64),
        candidate_ids=np.asarray(ids, dtype=np.int64),
        utilities=np.asarray(u, dtype=np.float64),
        strategy=strat.name,
        info={
            "n_candidates": n_candidates,
            "n_chunks": len(tasks),
            "n_scored": int(n_scored),
            "ties": "lower id first",
        },
    )
