"""Score a pool stored on disk, chunk by chunk, keeping only a running top-k.

The pool is a ``.npy`` file (read through ``np.load(mmap_mode="r")``), a Zarr array, or
Parquet, on disk or behind an fsspec URL (see :mod:`activelab.scale.sources`), or any
array-like that slices by rows.  Each chunk is scored with the strategy's utility, its
best items merge into a running top-k (see :mod:`activelab.scale.topk`), the next
chunk is read ahead meanwhile (:mod:`activelab.scale.reading`), and the chunk's pages
are handed back to the operating system, so the memory used stays about two chunks
whatever the pool size.  Labeled ids are left out chunk by chunk (``exclude_ids``).
Utilities of every candidate can be written to a ``.npy`` file on disk.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from ..learners import ActiveLearner, Committee
from ..pool import DEFAULT_CHUNK_ROWS
from ..strategies.base import QueryResult, UtilityStrategy, check_n_instances
from ..strategies.query import query_once, utilities_once
from ..strategies.registry import get_strategy
from .candidates import CandidateRows
from .reading import iter_chunks
from .sources import block_offsets, open_source
from .topk import RunningTopK

__all__ = ["open_pool_array", "score_out_of_core", "score_chunk", "resolve_model"]


def open_pool_array(source: Any, *, columns: Any = None, storage_options: Any = None) -> Any:
    """Open a pool's feature matrix without reading it into memory.

    Parameters
    ----------
    source : str, Path, ndarray, memmap or array-like
        A path or fsspec URL (``file://``, ``s3://``, ``gs://``, ``memory://``) of a
        ``.npy`` file (memory-mapped read-only when local), a Zarr array directory
        or Parquet file(s) (see :func:`activelab.scale.sources.open_source`), or an
        array-like with ``shape``, ``dtype`` and row slicing.
    columns : sequence of str, optional
        Parquet only: the feature columns.
    storage_options : dict, optional
        fsspec options for URLs.

    Returns
    -------
    array-like of shape (n_samples, n_features)

    Raises
    ------
    FileNotFoundError
        When the path does not exist.
    ValueError, TypeError
        When the array is not 2-D and numeric, or the file type is unknown.
    """
    if isinstance(source, (str, os.PathLike)):
        arr: Any = open_source(source, columns=columns, storage_options=storage_options)
    else:
        arr = source
    shape = getattr(arr, "shape", None)
    dtype = getattr(arr, "dtype", None)
    if shape is None or dtype is None or not hasattr(arr, "__getitem__"):
        raise TypeError(
            f"the pool must be an array with shape, dtype and row slicing, got "
            f"{type(arr).__name__}; pass a numpy array, a .npy path or a Zarr array."
        )
    if len(shape) != 2:
        raise ValueError(
            f"the pool must be 2-D (n_samples, n_features), got shape {tuple(shape)}."
        )
    if not np.issubdtype(np.dtype(dtype), np.number):
        raise TypeError(f"the pool must hold numbers, got dtype {dtype}.")
    return arr


def resolve_model(model: Any, strategy: Any, random_state: Any) -> tuple[Any, UtilityStrategy]:
    """The scoring model and the utility strategy for a learner or a fitted estimator.

    An :class:`~activelab.ActiveLearner` is unwrapped to its fitted estimator and, when
    ``strategy`` is None, lends its own strategy; a :class:`~activelab.Committee` is
    kept whole (committee strategies need its members).
    """
    learner_strategy = None
    if isinstance(model, ActiveLearner):
        learner_strategy = model.strategy_
        model = model._fitted()
    elif isinstance(model, Committee):
        if not model.is_fitted:
            raise ValueError("the committee has no training data yet: call teach() first.")
        learner_strategy = model.strategy_
    elif not hasattr(model, "predict_proba") and not hasattr(model, "committee_proba"):
        raise TypeError(
            f"model must be a fitted classifier, ActiveLearner or Committee, got "
            f"{type(model).__name__}."
        )
    if strategy is None:
        strat = learner_strategy if learner_strategy is not None else get_strategy(
            "margin", random_state=random_state
        )
    else:
        strat = get_strategy(strategy, random_state=random_state)
    if not isinstance(strat, UtilityStrategy):
        raise TypeError(
            f"strategy {getattr(strat, 'name', strat)!r} chooses a batch rather than scoring "
            "each item, so it cannot be scored chunk by chunk; use a utility strategy "
            "(e.g. 'margin', 'entropy', 'vote_entropy') to pre-filter candidates first."
        )
    return model, strat


def _candidates(
    candidate_ids: Any, n_rows: int, n_instances: int, exclude_ids: Any = None
) -> tuple[CandidateRows, int, int]:
    """The candidate rows, their number, and the checked ``k``."""
    cand = CandidateRows(n_rows, candidate_ids, exclude_ids)
    return cand, cand.n_candidates, check_n_instances(n_instances, cand.n_candidates)


def check_chunk_rows(chunk_rows: Any) -> int:
    """``chunk_rows`` as a positive int, or a TypeError/ValueError naming it."""
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)):
        raise TypeError(f"chunk_rows must be a positive integer, got {chunk_rows!r}.")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}.")
    return int(chunk_rows)


def score_chunk(
    rows: Any,
    start: int,
    ids: np.ndarray | None,
    model: Any,
    strategy: UtilityStrategy,
    *,
    X_labeled: Any = None,
    y_labeled: Any = None,
    extras: dict[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Utilities of the candidates in one chunk of rows.

    Parameters
    ----------
    rows : array-like of shape (stop - start, n_features)
        The chunk, read from the pool.
    start : int
        Pool id of the chunk's first row.
    ids : ndarray of int or None
        Candidate pool ids inside the chunk (sorted); None means all rows.
    extras : dict, optional
        Passed to the query context (the query key, the chunk's position offset).

    Returns
    -------
    utilities, ids : ndarrays of shape (n_candidates_in_chunk,)
    """
    rows = np.asarray(rows)
    if ids is None:
        ids = np.arange(start, start + rows.shape[0], dtype=np.int64)
    else:
        rows = rows[ids - start]
    if np.issubdtype(rows.dtype, np.floating) and not np.isfinite(rows).all():
        raise ValueError(
            f"the pool holds NaN or infinite values in rows {start}..{start + len(rows) - 1}; "
            "impute or drop them before scoring."
        )
    utilities = utilities_once(
        model, rows, ids, strategy, X_labeled=X_labeled, y_labeled=y_labeled, extras=extras
    )
    if utilities.shape != ids.shape:
        raise ValueError(
            f"strategy {strategy.name!r} returned {utilities.shape} utilities for "
            f"{ids.shape[0]} candidates; a chunked utility must give one value per row."
        )
    return utilities, ids


def _read_candidates(arr: Any, cand: CandidateRows | None, positions: np.ndarray) -> np.ndarray:
    """The rows of the candidates at ``positions`` (in increasing id order)."""
    ids = np.asarray(positions, dtype=np.int64) if cand is None else cand.ids_at(positions)
    orthogonal = getattr(arr, "get_orthogonal_selection", None)  # a Zarr array
    if callable(orthogonal):
        return np.asarray(orthogonal((ids, slice(None))))
    return np.asarray(arr[ids])


def query_extras(strategy: Any, arr: Any, cand: CandidateRows | None, n_candidates: int,
                 random_state: Any) -> dict[str, Any]:
    """What every chunk's query shares, so that chunks choose as the whole pool would.

    One query key (``extras["query_seed"]``) for the strategies that draw at random by
    position, and what a strategy's ``chunk_extras(read_rows, n_candidates, key)`` asks
    for (EPIG's target rows).
    """
    key = int(check_random_state(random_state).randint(0, 2**31 - 1))
    extras: dict[str, Any] = {"query_seed": key}
    chunk_extras = getattr(strategy, "chunk_extras", None)
    if callable(chunk_extras):
        extras.update(chunk_extras(
            lambda positions: _read_candidates(arr, cand, positions), n_candidates, key))
    return extras


def _prefiltered_batch(model: Any, strategy: Any, random_state: Any) -> Any:
    """A batch strategy with a ``chunked_prefilter`` (BatchBALD), else None."""
    if strategy is None or isinstance(strategy, UtilityStrategy):
        return None
    strat = get_strategy(strategy, random_state=random_state)
    if isinstance(strat, UtilityStrategy) or not callable(
            getattr(strat, "chunked_prefilter", None)):
        return None
    return strat


def _score_prefiltered(arr: Any, model: Any, strat: Any, n_instances: int,
                       candidate_ids: Any, exclude_ids: Any, chunk_rows: int,
                       random_state: Any) -> QueryResult:
    """Score chunk by chunk with the strategy's pre-filter utility, keeping its best
    ``m``; then let the batch strategy choose among those rows, read once."""
    utility, size = strat.chunked_prefilter()
    _, n_candidates, k = _candidates(candidate_ids, int(arr.shape[0]), n_instances,
                                     exclude_ids)
    first = score_out_of_core(model, arr, min(max(size, k), n_candidates), strategy=utility,
                              candidate_ids=candidate_ids, exclude_ids=exclude_ids,
                              chunk_rows=chunk_rows, random_state=random_state)
    ids = np.sort(first.ids)
    scorer, _ = resolve_model(model, utility, random_state)
    result = query_once(scorer, _read_candidates(arr, None, ids), ids, strat, k,
                        random_state=random_state)
    return QueryResult(
        ids=result.ids, candidate_ids=result.candidate_ids, utilities=result.utilities,
        strategy=result.strategy,
        info={**result.info, "n_candidates": n_candidates, "prefiltered": int(ids.size),
              "n_chunks": first.info["n_chunks"], "chunk_rows": int(chunk_rows)},
    )


def score_out_of_core(
    model: Any,
    X: Any,
    n_instances: int = 1,
    *,
    strategy: Any = None,
    candidate_ids: Any = None,
    exclude_ids: Any = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    utilities_path: str | os.PathLike[str] | None = None,
    X_labeled: Any = None,
    y_labeled: Any = None,
    random_state: Any = None,
    prefetch: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> QueryResult:
    """Choose the ``n_instances`` most useful rows of a pool too large for memory.

    Parameters
    ----------
    model : fitted classifier, ActiveLearner or Committee
        Model that scores the rows (never refitted).
    X : str, Path, ndarray, memmap or Zarr array
        The pool's features; see :func:`open_pool_array`.  Pool ids are row positions.
    n_instances : int, default=1
        Number of ids to choose.
    strategy : str or Strategy, optional
        A strategy whose utility depends on each row alone (uncertainty, committee or
        sampled-output strategies).  Defaults to the learner's strategy, else
        ``"margin"``.  A batch strategy with a ``chunked_prefilter`` (``BatchBALD(
        prefilter=m)``) is scored in two passes: its pre-filter utility (BALD) chunk by
        chunk keeps the ``m`` best rows, and the batch strategy chooses among them.
    candidate_ids : array-like of int, optional
        Pool ids to score; all rows by default.
    exclude_ids : array-like of int, optional
        Pool ids to leave out, typically the labeled ones.  Only this (small) array is
        kept; each chunk drops its own excluded rows, so no list of all candidates is
        ever made.  Prefer it to ``candidate_ids`` on big pools.
    chunk_rows : int, default=65536
        Rows read and scored at a time; memory grows with it.
    utilities_path : str or Path, optional
        Write the utility of every candidate (in increasing id order) to this ``.npy``
        file.  The file appears only when scoring succeeded.
    X_labeled, y_labeled : optional
        The labeled set, for strategies that read it.
    random_state : int, RandomState or None
        Seed for strategies that use randomness.  One query key is drawn from it for
        the whole pool, and each chunk is told its candidates' positions, so strategies
        that draw by position (``power_bald``, ``epig``) and MC-dropout models (whose
        masks do not depend on the rows, see :mod:`activelab.torch.mc`) choose the same
        ids whatever ``chunk_rows`` is.
    prefetch : bool, default=True
        Have the next chunk read while this one is scored, so the disk and the
        processor work at the same time: the OS reads a memory map's next pages ahead
        (``MADV_WILLNEED``), a background thread reads other sources (two chunks in
        memory).
    progress : callable, optional
        Called as ``progress(n_scored, n_candidates)`` after each chunk.

    Returns
    -------
    QueryResult
        ``ids`` best first (ties by lower id); ``candidate_ids`` and ``utilities`` hold
        the chosen ids and their utilities only; ``info`` holds ``n_candidates``,
        ``n_chunks``, ``chunk_rows`` and ``utilities_path``.

    Examples
    --------
    >>> result = score_out_of_core(clf, "pool.npy", 100, strategy="entropy")  # doctest: +SKIP
    >>> result.ids[:3]                                                          # doctest: +SKIP
    """
    arr = open_pool_array(X)
    prefiltered = _prefiltered_batch(model, strategy, random_state)
    if prefiltered is not None:
        return _score_prefiltered(arr, model, prefiltered, n_instances, candidate_ids,
                                  exclude_ids, chunk_rows, random_state)
    model, strat = resolve_model(model, strategy, random_state)
    n_rows = int(arr.shape[0])
    cand, n_candidates, k = _candidates(candidate_ids, n_rows, n_instances, exclude_ids)
    offsets = block_offsets(arr, check_chunk_rows(chunk_rows))
    n_chunks = 0
    extras = query_extras(strat, arr, cand, n_candidates, random_state)

    out_path = None if utilities_path is None else Path(utilities_path)
    partial = None if out_path is None else out_path.with_name(out_path.name + ".partial")
    store = None
    top = RunningTopK(k)
    try:
        if partial is not None:
            store = np.lib.format.open_memmap(
                partial, mode="w+", dtype=np.float64, shape=(n_candidates,)
            )
        written = 0  # candidates scored so far: the next chunk's position offset
        for start, _, ids, rows in iter_chunks(arr, offsets, cand, prefetch=prefetch):
            utilities, chunk_ids = score_chunk(
                rows, start, ids, model, strat, X_labeled=X_labeled, y_labeled=y_labeled,
                extras={**extras, "position_offset": written},
            )
            top.push(utilities, chunk_ids)
            n_chunks += 1
            if progress is not None:
                progress(top.n_seen, n_candidates)
            if store is not None:
                store[written : written + utilities.size] = utilities
            written += utilities.size
        if store is not None:
            store.flush()
            del store
            store = None
            os.replace(partial, out_path)
    finally:
        if store is not None:
            del store
        if partial is not None and partial.exists():
            partial.unlink()
    return top_k_result(top, strat.name, {
        "n_candidates": n_candidates,
        "n_chunks": n_chunks,
        "chunk_rows": int(chunk_rows),
        "utilities_path": None if out_path is None else str(out_path),
        "n_scored": top.n_seen,
    })


def top_k_result(top: RunningTopK, strategy: str, info: dict[str, Any]) -> QueryResult:
    """The result of a scored pool: the top-k ids best first (ties by lower id) as the
    ids and the candidates, their utilities, and ``info`` with the tie rule added."""
    return QueryResult(
        ids=top.ids.copy(),
        candidate_ids=top.ids.copy(),
        utilities=top.utilities.copy(),
        strategy=strategy,
        info={**info, "ties": "lower id first"},
    )
