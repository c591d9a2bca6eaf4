"""Score a pool on a Dask cluster: utilities per chunk (map), top-k lists merged in a tree.

Works with any Dask scheduler; with a ``dask.distributed`` client the chunks are
scored on its workers.  Each task reads one block of rows, scores it with the
strategy's utility and returns that block's top-k; the lists are merged in a tree of
tasks (``split_every`` at a time) and the last few on the client as they finish, so
the client holds O(k) results and reports progress.  The chosen ids are the ones the
in-process path chooses on the same data (ties go to the lower id).

A pool on disk or behind a URL never travels in the task graph: each task gets the
pool's :class:`~activelab.scale.sources.SourceSpec` (an absolute path or URL and a few
numbers) and reads its own rows.  That holds for ``np.memmap`` arrays too (their file
name and byte offset are sent).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from ..pool import DEFAULT_CHUNK_ROWS
from ..strategies.base import QueryResult, UtilityStrategy
from .candidates import CandidateRows, block_ids
from .out_of_core import (
    _candidates,
    check_chunk_rows,
    open_pool_array,
    query_extras,
    resolve_model,
    score_chunk,
    top_k_result,
)
from .sources import SourceSpec, block_offsets, open_spec, release_rows, source_spec
from .topk import RunningTopK, chunk_top_k, merge_top_k

__all__ = ["score_dask"]

#: Merged results that the client collects itself (and reports progress on).
CLIENT_MERGES = 256

Part = tuple[np.ndarray, np.ndarray, int]


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
    labeled: tuple[Any, Any],
    extras: dict[str, Any] | None = None,
    position_offset: int = 0,
) -> Part:
    ids = block_ids(start, start + len(rows), *selector)
    utilities, chunk_ids = score_chunk(
        rows, start, ids, model, strategy, X_labeled=labeled[0], y_labeled=labeled[1],
        extras={**(extras or {}), "position_offset": position_offset},
    )
    u, i = chunk_top_k(utilities, chunk_ids, k)
    return u, i, int(chunk_ids.size)


def _on_spec_rows(fn: Callable[..., Any], spec: SourceSpec, start: int, stop: int,
                  *args: Any) -> Any:
    """``fn(rows, start, *args)`` on rows ``start:stop`` of the pool that ``spec`` names.

    The worker opens the pool itself (once per query and process): only the spec
    travels, and the pages it read are handed back once ``fn`` is done.
    """
    arr = open_spec(spec)
    try:
        return fn(arr[start:stop], start, *args)
    finally:
        release_rows(arr, start, stop)


def _merge(parts: list[Part], k: int) -> Part:
    u, ids = merge_top_k([(p[0], p[1]) for p in parts], k)
    return u, ids, sum(p[2] for p in parts)


def _pool_blocks(X: Any, chunk_rows: int, da: Any
                 ) -> tuple[np.ndarray, SourceSpec | None, Any, Any]:
    """Row offsets of the blocks, either the pool's spec or its dask blocks, and the
    pool as an array (read on the client only for what a query shares, e.g. EPIG's
    target rows)."""
    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}.")
        darr = X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X
        offsets = np.concatenate([[0], np.cumsum(darr.chunks[0])]).astype(np.int64)
        return offsets, None, darr.to_delayed().ravel(), darr
    arr = open_pool_array(X)
    offsets = block_offsets(arr, check_chunk_rows(chunk_rows))
    spec = source_spec(arr)
    if spec is not None:
        return offsets, spec, None, arr
    if isinstance(arr, np.memmap):
        raise ValueError(
            "X is a memory map that workers cannot reopen (copy-on-write, or not whole "
            "rows of its file); pass the file's path instead, e.g. score_dask(model, "
            "'pool.npy', ...), so that each task reads its own rows."
        )
    sizes = tuple(int(s) for s in np.diff(offsets))
    darr = da.from_array(arr, chunks=(sizes, arr.shape[1]), asarray=True)
    return offsets, None, darr.to_delayed().ravel(), arr


def _leaves(
    dask: Any, offsets: np.ndarray, spec: SourceSpec | None, blocks: Any,
    cand: CandidateRows, shared: tuple[Any, ...], token: str,
) -> list[Any]:
    """One scoring task per block that holds candidates; each is told how many
    candidates come before its block (their positions, as in the in-process path)."""
    model_d, strat_d, k, labeled_d, extras_d = shared
    tasks = []
    before = 0  # candidates in the blocks so far
    for b in range(len(offsets) - 1):  # blocks, not rows
        start, stop = int(offsets[b]), int(offsets[b + 1])
        count = cand.count(start, stop)
        if not count:
            continue
        selector = cand.selector(start, stop)
        name = f"activelab-score-{token}-{b}"
        if spec is not None:
            tasks.append(dask.delayed(_on_spec_rows, pure=True)(
                _score_block, spec, start, stop, selector, model_d, strat_d, k, labeled_d,
                extras_d, before, dask_key_name=name))
        else:
            tasks.append(dask.delayed(_score_block, pure=True)(
                blocks[b], start, selector, model_d, strat_d, k, labeled_d, extras_d,
                before, dask_key_name=name))
        before += count
    return tasks


def _tree(dask: Any, nodes: list[Any], k: int, split_every: int, token: str) -> list[Any]:
    """Merge tasks, ``split_every`` children each, until few enough are left."""
    level = 0
    while len(nodes) > max(CLIENT_MERGES, split_every):
        level += 1
        nodes = [
            dask.delayed(_merge, pure=True)(nodes[i : i + split_every], k,
                                            dask_key_name=f"activelab-merge-{token}-{level}-{i}")
            for i in range(0, len(nodes), split_every)
        ]
    return nodes


def _default_client(client: Any) -> Any:
    """The distributed client to use: the one given, else the scheduler Dask would use
    now when it is a client (a ``dask.config.set(scheduler=...)`` is respected)."""
    if client is not None:
        return client
    try:
        from dask.base import get_scheduler
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is in the scale extra
        return None
    owner = getattr(get_scheduler(), "__self__", None)
    return owner if isinstance(owner, Client) else None


def _gather(
    dask: Any, nodes: list[Any], k: int, client: Any, progress: Callable[[int], None]
) -> tuple[RunningTopK, int]:
    """Merge the top nodes' results on the client as they finish; also the count scored."""
    top, n_scored = RunningTopK(k), 0
    client = _default_client(client)
    if client is not None:
        from distributed import as_completed

        for future in as_completed(client.compute(nodes)):
            u, ids, n = future.result()
            top.push(u, ids)
            n_scored += n
            progress(n)
            future.release()
        return top, n_scored
    from dask.callbacks import Callback

    def posttask(key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if isinstance(key, str) and key.startswith("activelab-score-"):
            progress(int(result[2]))

    with Callback(posttask=posttask):
        results = dask.compute(*nodes)
    for u, ids, n in results:
        top.push(u, ids)
        n_scored += n
    return top, n_scored


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
    split_every: int = 16,
    progress: Callable[[int, int], None] | None = None,
) -> QueryResult:
    """Choose the ``n_instances`` most useful rows, scoring chunks as Dask tasks.

    Parameters
    ----------
    model : fitted classifier, ActiveLearner or Committee
        Model that scores the rows; sent once to the workers.
    X : path, URL, memmap, dask array, ndarray or array-like
        The pool's features.  A path or fsspec URL of a ``.npy``/Zarr/Parquet pool
        (see :func:`activelab.scale.open_pool_array`), a source opened from one, or an
        ``np.memmap``: each task opens the pool itself and reads only its rows (the
        workers must reach the same file system or URL; relative paths are made
        absolute first).  A dask array keeps its row chunks (column chunks are merged).
        An in-memory array is split into blocks sent with the tasks.
    n_instances : int, default=1
        Number of ids to choose.
    strategy : str or UtilityStrategy, optional
        A strategy whose utility depends on each row alone.  Defaults to the learner's
        strategy, else ``"margin"``.
    candidate_ids : array-like of int, optional
        Pool ids to score; all rows by default.
    exclude_ids : array-like of int, optional
        Pool ids to leave out (the labeled ones); each task gets only the excluded ids
        inside its rows and drops them itself.  Prefer it to ``candidate_ids``.
    chunk_rows : int, default=65536
        Rows per task when ``X`` is not already a dask array (Parquet: whole row
        groups, merged up to this many rows).
    client : dask.distributed.Client, optional
        Where to run; by default Dask's current scheduler (a client made earlier
        becomes the default).
    X_labeled, y_labeled : optional
        The labeled set, for strategies that read it.
    random_state : int, RandomState or None
        Seed for strategies that use randomness.  As in
        :func:`~activelab.scale.score_out_of_core`, one query key is drawn from it for
        the whole pool and every task is told its candidates' positions, so the
        strategies that draw by position (``power_bald``, ``epig``) choose the same ids.
    split_every : int, default=16
        Top-k lists merged per reduce task.
    progress : callable, optional
        Called as ``progress(n_scored, n_candidates)`` as parts of the pool finish.

    Returns
    -------
    QueryResult
        As :func:`activelab.scale.score_out_of_core`: ``ids`` best first (ties by lower
        id), ``candidate_ids``/``utilities`` for the chosen ids, and ``info`` with
        ``n_candidates``, ``n_chunks`` and ``n_scored``.
    """
    if isinstance(split_every, bool) or not isinstance(split_every, int) or split_every < 2:
        raise ValueError(f"split_every must be an integer of at least 2, got {split_every!r}.")
    dask, da = _import_dask()
    model, strat = resolve_model(model, strategy, random_state)
    offsets, spec, blocks, arr = _pool_blocks(X, chunk_rows, da)
    cand, n_candidates, k = _candidates(candidate_ids, int(offsets[-1]), n_instances,
                                        exclude_ids)
    token = uuid.uuid4().hex
    extras = query_extras(strat, arr, cand, n_candidates, random_state)  # one query key
    shared = (
        dask.delayed(model, name=f"activelab-model-{token}"),
        dask.delayed(strat, name=f"activelab-strategy-{token}"),
        k,
        dask.delayed((X_labeled, y_labeled), name=f"activelab-labeled-{token}"),
        dask.delayed(extras, name=f"activelab-extras-{token}"),
    )
    leaves = _leaves(dask, offsets, spec, blocks, cand, shared, token)
    done = [0]

    def advance(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], n_candidates)

    top, n_scored = _gather(dask, _tree(dask, leaves, k, split_every, token), k, client,
                            advance)
    return top_k_result(top, strat.name, {
        "n_candidates": n_candidates, "n_chunks": len(leaves), "n_scored": n_scored,
    })
