"""Core-set (greedy k-center) on pools too big for memory: a map over chunks and a merge tree.

Greedy k-center needs, for every candidate, its distance to everything chosen so far;
on 10⁸ rows that is one pass over the pool per pick.  The composable version used here
makes one pass: each chunk picks its own ``n`` centers by greedy k-center (starting from
the labeled rows, which every chunk sees), and groups of ``split_every`` pick lists are
merged by running greedy k-center on their union, level by level, until one list of
``n`` remains.  Each level at most doubles the covering radius of the level below
(the greedy is a 2-approximation), so the result covers the pool within a small factor
of what the in-memory greedy achieves; with one chunk it is exactly the in-memory greedy.
The same tree is built out of core (streaming, one chunk at a time) and on Dask, so
both give the same ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from ..pool import DEFAULT_CHUNK_ROWS
from ..strategies.base import QueryResult, check_n_instances
from ..strategies.diversity import k_center_greedy, min_sq_distances
from .candidates import CandidateRows, block_ids
from .out_of_core import check_chunk_rows, open_pool_array
from .reading import iter_chunks, take_rows
from .sources import block_offsets

__all__ = ["k_center_out_of_core", "k_center_dask"]

#: ``(ids, rows)`` of the centers a chunk or a merge picked, in pick order.
Centers = tuple[np.ndarray, np.ndarray]


def _pick(ids: np.ndarray, rows: np.ndarray, n: int, XL: np.ndarray, seed: int) -> Centers:
    if ids.size == 0:
        return ids, rows
    m = min(n, ids.size)
    positions, _ = k_center_greedy(rows, m, X_labeled=XL, random_state=seed)
    return ids[positions], rows[positions]


def chunk_centers(
    rows: np.ndarray, start: int, ids: np.ndarray | None, n: int, XL: np.ndarray, seed: int
) -> Centers:
    """Greedy k-center on one chunk's candidates (``ids`` None: every row)."""
    rows = np.asarray(rows, dtype=np.float32)
    if ids is None:
        ids = np.arange(start, start + rows.shape[0], dtype=np.int64)
    else:
        rows = rows[ids - start]
    return _pick(ids, rows, n, XL, seed)


def merge_centers(parts: list[Centers], n: int, XL: np.ndarray, seed: int) -> Centers:
    """Greedy k-center on the union of several pick lists (one list: itself)."""
    if len(parts) == 1:
        return parts[0]
    ids = np.concatenate([p[0] for p in parts])
    rows = np.concatenate([p[1] for p in parts])
    return _pick(ids, rows, n, XL, seed)


class _MergeTree:
    """Streaming merge tree: groups of ``split_every`` merged as they fill, level by level.

    The parts are pick lists (out of core: merged at once, one chunk's list in memory at
    a time) or Dask tasks that make them (``merge`` then builds a task), so both paths
    merge the same groups in the same order.
    """

    def __init__(self, merge: Callable[[list[Any]], Any], split_every: int) -> None:
        self.merge, self.split_every = merge, split_every
        self.levels: list[list[Any]] = [[]]

    def push(self, part: Any) -> None:
        level = 0
        self.levels[0].append(part)
        while len(self.levels[level]) == self.split_every:
            merged = self.merge(self.levels[level])
            self.levels[level] = []
            level += 1
            if level == len(self.levels):
                self.levels.append([])
            self.levels[level].append(merged)

    def result(self) -> Any:
        """The root: the merge of everything pushed (None when nothing was)."""
        carry: Any = None
        for nodes in self.levels:
            nodes = nodes + ([carry] if carry is not None else [])
            carry = self.merge(nodes) if nodes else carry
        return carry


def _labeled(read_rows: Callable[[np.ndarray], Any], X_labeled: Any, labeled_ids: Any,
             n_features: int) -> np.ndarray:
    if X_labeled is None and labeled_ids is not None:
        X_labeled = read_rows(np.asarray(labeled_ids, dtype=np.int64))
    if X_labeled is None:
        return np.empty((0, n_features), dtype=np.float32)
    XL = np.asarray(X_labeled, dtype=np.float32)
    if XL.ndim != 2 or XL.shape[1] != n_features:
        raise ValueError(
            f"X_labeled has shape {XL.shape} but the pool has {n_features} features; pass "
            "labeled rows with the pool's columns."
        )
    return XL


def _exclusion(exclude_ids: Any, labeled_ids: Any) -> Any:
    if labeled_ids is None:
        return exclude_ids
    if exclude_ids is None:
        return labeled_ids
    return np.concatenate([np.ravel(exclude_ids), np.ravel(labeled_ids)])


def _seed(random_state: Any) -> int:
    """One integer seed for every chunk and merge (the first center's draw)."""
    if random_state is None:
        return 0
    if isinstance(random_state, (int, np.integer)):
        return int(random_state)
    return int(check_random_state(random_state).randint(2**31 - 1))


def _radius(arr: Any, offsets: np.ndarray, cand: CandidateRows, centers: np.ndarray) -> float:
    """Largest distance of any candidate to its nearest center (one more pass)."""
    worst = 0.0
    for start, _, ids, rows in iter_chunks(arr, offsets, cand):
        rows = np.asarray(rows, dtype=np.float32)
        if ids is not None:
            rows = rows[ids - start]
        worst = max(worst, float(min_sq_distances(rows, centers).max()))
    return float(np.sqrt(worst))


def _result(centers: Centers | None, XL: np.ndarray, info: dict[str, Any]) -> QueryResult:
    assert centers is not None
    ids, rows = centers
    distances = np.sqrt(min_sq_distances(rows, XL).astype(np.float64))
    distances[np.isinf(distances)] = np.nan
    return QueryResult(ids=ids.copy(), candidate_ids=ids.copy(), utilities=distances,
                       strategy="coreset", info=info)


def k_center_out_of_core(
    X: Any,
    n_instances: int,
    *,
    X_labeled: Any = None,
    labeled_ids: Any = None,
    candidate_ids: Any = None,
    exclude_ids: Any = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    split_every: int = 16,
    radius: bool = False,
    random_state: Any = None,
) -> QueryResult:
    """Core-set batch (greedy k-center) of a pool read chunk by chunk from disk.

    Parameters
    ----------
    X : path, URL, memmap, ndarray or array-like
        The pool (see :func:`activelab.scale.open_pool_array`).
    n_instances : int
        Batch size.
    X_labeled : array-like of shape (n_labeled, n_features), optional
        Rows already labeled (covered).
    labeled_ids : array-like of int, optional
        Pool ids of the labeled rows: excluded from the candidates, and their rows are
        read from the pool when ``X_labeled`` is not given.
    candidate_ids, exclude_ids : array-like of int, optional
        As in :func:`activelab.scale.score_out_of_core`.
    chunk_rows : int, default=65536
    split_every : int, default=16
        Pick lists merged at a time.
    radius : bool, default=False
        Also compute the covering radius of the batch (one more pass over the pool).
    random_state : int, RandomState or None
        Draws the first center when nothing is labeled.

    Returns
    -------
    QueryResult
        ``ids`` in pick order; ``utilities``: each pick's distance to the nearest
        labeled row (NaN without labeled rows); ``info`` with ``n_candidates``,
        ``n_chunks``, ``split_every`` and, with ``radius=True``, ``radius``.
    """
    arr = open_pool_array(X)
    cand, n, split_every, XL, seed = _checked_arguments(
        arr.shape, lambda ids: take_rows(arr, ids), n_instances, X_labeled, labeled_ids,
        candidate_ids, exclude_ids, split_every, random_state)
    offsets = block_offsets(arr, check_chunk_rows(chunk_rows))
    tree = _MergeTree(lambda parts: merge_centers(parts, n, XL, seed), split_every)
    n_chunks = 0
    for start, _, ids, rows in iter_chunks(arr, offsets, cand):
        tree.push(chunk_centers(rows, start, ids, n, XL, seed))
        n_chunks += 1
    centers = tree.result()
    info: dict[str, Any] = {"n_candidates": cand.n_candidates, "n_chunks": n_chunks,
                            "split_every": split_every, "method": "composable greedy k-center"}
    if radius:
        assert centers is not None
        info["radius"] = _radius(arr, offsets, cand, np.concatenate([XL, centers[1]]))
    return _result(centers, XL, info)


def _checked_arguments(
    shape: tuple[int, int], read_rows: Callable[[np.ndarray], Any], n_instances: Any,
    X_labeled: Any, labeled_ids: Any, candidate_ids: Any, exclude_ids: Any, split_every: Any,
    random_state: Any,
) -> tuple[CandidateRows, int, int, np.ndarray, int]:
    """The checks both k-center paths make, in this order: the candidates (labeled ids
    left out), the batch size, ``split_every``, the labeled rows (read with ``read_rows``
    when only their ids are given) and the one seed."""
    cand = CandidateRows(int(shape[0]), candidate_ids, _exclusion(exclude_ids, labeled_ids))
    n = check_n_instances(n_instances, cand.n_candidates)
    split_every = _check_split_every(split_every)
    XL = _labeled(read_rows, X_labeled, labeled_ids, int(shape[1]))
    return cand, n, split_every, XL, _seed(random_state)


def _check_split_every(split_every: Any) -> int:
    if isinstance(split_every, bool) or not isinstance(split_every, (int, np.integer)) or (
        split_every < 2
    ):
        raise ValueError(f"split_every must be an integer of at least 2, got {split_every!r}.")
    return int(split_every)


# ---------------------------------------------------------------------- Dask


def _rows_block_centers(rows: Any, start: int, selector: Any, n: int, XL: np.ndarray,
                        seed: int) -> Centers:
    rows = np.asarray(rows)
    return chunk_centers(rows, start, block_ids(start, start + len(rows), *selector), n, XL,
                         seed)


def k_center_dask(
    X: Any,
    n_instances: int,
    *,
    X_labeled: Any = None,
    labeled_ids: Any = None,
    candidate_ids: Any = None,
    exclude_ids: Any = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    split_every: int = 16,
    client: Any = None,
    random_state: Any = None,
) -> QueryResult:
    """:func:`k_center_out_of_core` with each chunk and each merge a Dask task.

    Same arguments (and ``client``, as in :func:`activelab.scale.score_dask`); the
    tree of merges is the same, so the ids are the same as out of core.
    """
    from .cluster import _default_client, _import_dask, _on_spec_rows, _pool_blocks

    dask, da = _import_dask()
    offsets, spec, blocks, _ = _pool_blocks(X, chunk_rows, da)
    source = None if isinstance(X, da.Array) else open_pool_array(X)

    def read_rows(ids: np.ndarray) -> Any:
        return take_rows(source, ids) if source is not None else np.asarray(X[ids])

    cand, n, split_every, XL, seed = _checked_arguments(
        (int(offsets[-1]), (X if source is None else source).shape[1]), read_rows, n_instances,
        X_labeled, labeled_ids, candidate_ids, exclude_ids, split_every, random_state)
    XL_d = dask.delayed(XL)
    # the out-of-core merge tree, its merges made Dask tasks: the same grouping, the same ids
    tree = _MergeTree(lambda parts: dask.delayed(merge_centers, pure=True)(parts, n, XL_d, seed),
                      split_every)
    n_chunks = 0
    for b in range(len(offsets) - 1):  # blocks, not rows
        start, stop = int(offsets[b]), int(offsets[b + 1])
        if not cand.count(start, stop):
            continue
        selector = cand.selector(start, stop)
        if spec is not None:
            tree.push(dask.delayed(_on_spec_rows, pure=True)(
                _rows_block_centers, spec, start, stop, selector, n, XL_d, seed))
        else:
            tree.push(dask.delayed(_rows_block_centers, pure=True)(
                blocks[b], start, selector, n, XL_d, seed))
        n_chunks += 1
    root = tree.result()
    runner = _default_client(client)
    centers = runner.compute(root).result() if runner is not None else root.compute()
    info = {"n_candidates": cand.n_candidates, "n_chunks": n_chunks, "split_every": split_every,
            "method": "composable greedy k-center"}
    return _result(centers, XL, info)
