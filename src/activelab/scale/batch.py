"""Batch-aware strategies on big pools: pre-filter to ``m`` candidates, then select.

Core-set, k-means, BADGE and BatchBALD choose a set, not a score per item, and cost
O(m × n) or more in the number ``m`` of candidates they see.  :func:`prefilter_select`
first narrows the pool to ``m`` candidates in one streaming pass — the top ``m`` by a
utility (``method="top"``, e.g. margin: the uncertain ones), or a sample spread evenly
over the pool (``method="stratified"``: each chunk gives its share, at random inside the
chunk; nothing is scored) — then reads those ``m`` rows and lets the batch strategy
choose among them in memory.  For core-set over the whole pool without a pre-filter,
see :mod:`activelab.scale.kcenter`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from ..learners import ActiveLearner, Committee
from ..pool import DEFAULT_CHUNK_ROWS
from ..strategies.base import QueryResult
from ..strategies.query import query_once
from ..strategies.registry import get_strategy
from .candidates import CandidateRows
from .cluster import score_dask
from .out_of_core import check_chunk_rows, open_pool_array, score_out_of_core
from .reading import take_rows
from .sources import block_offsets

__all__ = ["prefilter_select", "stratified_ids"]

METHODS = ("top", "stratified")


def _quotas(counts: np.ndarray, m: int) -> np.ndarray:
    """Split ``m`` over blocks in proportion to ``counts`` (largest remainders)."""
    share = counts * (m / counts.sum())
    quotas = np.floor(share).astype(np.int64)
    short = m - int(quotas.sum())
    if short:
        room = np.where(quotas < counts, share - quotas, -1.0)
        quotas[np.argsort(-room, kind="stable")[:short]] += 1
    return quotas


def stratified_ids(
    candidates: CandidateRows, offsets: np.ndarray, m: int, random_state: Any = None
) -> np.ndarray:
    """``m`` candidate ids spread over the pool: each block gets its share, drawn at random.

    Parameters
    ----------
    candidates : CandidateRows
    offsets : ndarray of int
        Block boundaries ``[0, ..., n_rows]``.
    m : int
        How many ids (at most the number of candidates).
    random_state : int, RandomState or None

    Returns
    -------
    ndarray of int64, sorted
    """
    rng = check_random_state(random_state)
    bounds = np.asarray(offsets, dtype=np.int64).tolist()
    pairs = list(zip(bounds[:-1], bounds[1:], strict=True))
    counts = np.array([candidates.count(a, b) for a, b in pairs], dtype=np.int64)  # blocks
    quotas = _quotas(counts, m)
    picked = []
    for (start, stop), quota in zip(pairs, quotas.tolist(), strict=True):  # blocks
        if quota == 0:
            continue
        ids = candidates.ids_in(start, stop)
        ids = np.arange(start, stop, dtype=np.int64) if ids is None else ids
        picked.append(np.sort(ids[rng.choice(ids.size, size=quota, replace=False)]))
    return np.concatenate(picked) if picked else np.empty(0, dtype=np.int64)


def _unwrap(model: Any, strategy: Any, random_state: Any) -> tuple[Any, Any, Any, Any]:
    """``(model, batch strategy, X_labeled, y_labeled)`` from a learner or an estimator."""
    learner_strategy = X_lab = y_lab = None
    if isinstance(model, ActiveLearner):
        learner_strategy, X_lab, y_lab = model.strategy_, model.X_training_, model.y_training_
        model = model._fitted()
    elif isinstance(model, Committee):
        learner_strategy = model.strategy_
    if strategy is not None:
        strat = get_strategy(strategy, random_state=random_state)
    elif learner_strategy is not None:
        strat = learner_strategy
    else:
        strat = get_strategy("coreset", random_state=random_state)
    return model, strat, X_lab, y_lab


def _check_method(method: Any, n_candidates: Any, n_instances: int) -> int:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}.")
    m = max(10 * int(n_instances), 1000) if n_candidates is None else n_candidates
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < n_instances:
        raise ValueError(
            f"n_candidates must be an integer of at least n_instances={n_instances}, got {m!r}."
        )
    return int(m)


def _prefilter(
    model: Any, arr: Any, m: int, method: str, cand: CandidateRows, options: dict[str, Any]
) -> tuple[np.ndarray, str | None]:
    """The ``m`` candidate ids kept (sorted) and the utility that chose them."""
    if method == "stratified":
        offsets = block_offsets(arr, check_chunk_rows(options["chunk_rows"]))
        return stratified_ids(cand, offsets, m, options["random_state"]), None
    common = {key: options[key] for key in ("chunk_rows", "random_state", "progress")}
    common.update(strategy=options["prefilter"], candidate_ids=cand.include,
                  exclude_ids=cand.exclude)
    if options["client"] is not None:
        result = score_dask(model, arr, m, client=options["client"], **common)
    else:
        result = score_out_of_core(model, arr, m, **common)
    return np.sort(result.ids), result.strategy


def prefilter_select(
    model: Any,
    X: Any,
    n_instances: int,
    *,
    strategy: Any = None,
    prefilter: Any = "margin",
    n_candidates: int | None = None,
    method: str = "top",
    candidate_ids: Any = None,
    exclude_ids: Any = None,
    labeled_ids: Any = None,
    X_labeled: Any = None,
    y_labeled: Any = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    client: Any = None,
    random_state: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> QueryResult:
    """Choose a batch on a big pool: pre-filter ``n_candidates`` rows, then select.

    Parameters
    ----------
    model : fitted classifier, ActiveLearner or Committee
    X : path, URL, memmap, ndarray or array-like
        The pool (see :func:`activelab.scale.open_pool_array`).
    n_instances : int
        Batch size.
    strategy : str or Strategy, optional
        The batch strategy (``"coreset"``, ``"kmeans"``, ``"badge"``, ``"batchbald"``,
        ...).  Default: the learner's strategy, else ``"coreset"``.
    prefilter : str or UtilityStrategy, default="margin"
        The utility whose top ``n_candidates`` are kept (``method="top"``).
    n_candidates : int, optional
        How many rows the batch strategy sees; default ``max(10 * n_instances, 1000)``.
        Its cost grows with this number; the pre-filter's does not.
    method : {"top", "stratified"}, default="top"
        ``"top"``: the best by ``prefilter`` (one scoring pass, out of core or on Dask);
        ``"stratified"``: a random sample with each chunk of the pool giving its share
        (no scoring pass).
    candidate_ids, exclude_ids : array-like of int, optional
        As in :func:`activelab.scale.score_out_of_core`.
    labeled_ids : array-like of int, optional
        Pool ids already labeled: excluded, and their rows read from the pool as the
        labeled set when ``X_labeled`` is not given (core-set measures distances to it).
    X_labeled, y_labeled : optional
        The labeled set; default: the learner's training set.
    chunk_rows : int, default=65536
    client : dask.distributed.Client, optional
        Run the pre-filter's scoring pass on Dask.
    random_state : int, RandomState or None
    progress : callable, optional
        ``progress(n_scored, n_candidates)`` during the scoring pass.

    Returns
    -------
    QueryResult
        The batch strategy's result on the kept rows (``candidate_ids`` are those
        rows' pool ids), with ``info`` adding ``prefilter`` (the method),
        ``prefilter_strategy``, ``n_prefiltered`` and ``n_pool_candidates``.
    """
    arr = open_pool_array(X)
    model, strat, X_lab, y_lab = _unwrap(model, strategy, random_state)
    exclude = exclude_ids if labeled_ids is None else np.concatenate(
        [np.ravel(labeled_ids)] + ([] if exclude_ids is None else [np.ravel(exclude_ids)]))
    cand = CandidateRows(int(arr.shape[0]), candidate_ids, exclude)
    m = min(_check_method(method, n_candidates, n_instances), cand.n_candidates)
    if X_labeled is None and labeled_ids is not None:
        X_labeled = take_rows(arr, np.asarray(labeled_ids, dtype=np.int64), chunk_rows)
    X_labeled = X_lab if X_labeled is None else X_labeled
    y_labeled = y_lab if y_labeled is None else y_labeled
    options = {"prefilter": prefilter, "chunk_rows": chunk_rows, "client": client,
               "random_state": random_state, "progress": progress}
    kept, prefilter_name = _prefilter(model, arr, m, method, cand, options)
    rows = take_rows(arr, kept, chunk_rows)
    result = query_once(model, rows, kept, strat, n_instances, X_labeled=X_labeled,
                        y_labeled=y_labeled)
    info = dict(result.info)
    info.update(prefilter=method, prefilter_strategy=prefilter_name, n_prefiltered=int(m),
                n_pool_candidates=cand.n_candidates)
    return dataclasses.replace(result, info=info)
