"""One query: build the :class:`QueryContext` and let a strategy choose.

:func:`query_once` is the only place outside the strategy families that builds a
``QueryContext``.  The learners, the labeling app's scorer, the Label Studio backend,
chunked scoring, the visualisations and the reproductions all call it, so a new kind of
model output (say, embeddings) is wired in once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..pool import materialize, n_rows
from .base import Needs, QueryContext, QueryResult, Strategy, UtilityStrategy, needs_of
from .registry import get_strategy

__all__ = ["query_once", "query_context", "utilities_once"]


def query_context(
    model: Any,
    X: Any,
    candidate_ids: Any = None,
    *,
    X_labeled: Any = None,
    y_labeled: Any = None,
    classes: Any = None,
    costs: Any = None,
    proba: Any = None,
    committee_proba: Any = None,
    extras: dict[str, Any] | None = None,
) -> QueryContext:
    """The :class:`QueryContext` of one query.

    Parameters
    ----------
    model : fitted classifier, Committee or None
        Computes the model outputs a strategy asks for (lazily, once).
    X : array-like, sparse matrix or RowView
        Features of the candidates, row ``i`` for ``candidate_ids[i]``.
    candidate_ids : array-like of int, optional
        Pool ids of the candidates; defaults to the row positions of ``X``.
    X_labeled, y_labeled, classes, costs, proba, committee_proba, extras
        As in :class:`QueryContext`.
    """
    if candidate_ids is None:
        if X is None:
            raise ValueError("query needs X or candidate_ids: pass the candidates' features.")
        candidate_ids = np.arange(X.shape[0], dtype=np.int64)
    return QueryContext(
        candidate_ids, X, estimator=model, proba=proba, committee_proba=committee_proba,
        X_labeled=X_labeled, y_labeled=y_labeled, classes=classes, costs=costs, extras=extras,
    )


def _resolve(strategy: Any, random_state: Any) -> Strategy:
    if isinstance(strategy, Strategy):
        return strategy
    return get_strategy(strategy, random_state=random_state)


def _with_embeddings(model: Any, X: Any, strategy: Strategy,
                     context: dict[str, Any]) -> dict[str, Any]:
    """``context`` with ``extras["embeddings"]`` from ``model.embed(X)``, for a strategy
    that declares ``Needs.EMBEDDINGS``, when the model has an embedding hook (e.g. a
    :class:`~activelab.torch.TorchClassifier`) and none were given; with labeled rows
    (``X_labeled``), their embeddings too, as ``extras["labeled_embeddings"]``."""
    embed = getattr(model, "embed", None)
    extras = context.get("extras") or {}
    if (X is None or not callable(embed) or "embeddings" in extras
            or Needs.EMBEDDINGS not in needs_of(strategy)):
        return context
    extras = {**extras, "embeddings": embed(materialize(X))}
    X_labeled = context.get("X_labeled")
    if X_labeled is not None and "labeled_embeddings" not in extras and n_rows(X_labeled):
        extras["labeled_embeddings"] = embed(materialize(X_labeled))
    return {**context, "extras": extras}


def query_once(
    model: Any,
    X: Any,
    candidate_ids: Any,
    strategy: Any,
    n_instances: int,
    *,
    random_state: Any = None,
    **context: Any,
) -> QueryResult:
    """Let ``strategy`` choose ``n_instances`` of the candidates.

    Parameters
    ----------
    model : fitted classifier, Committee or None
        The model whose outputs the strategy reads.
    X : array-like, sparse matrix or RowView
        Features of the candidates.
    candidate_ids : array-like of int or None
        Pool ids of the candidates (``None``: the row positions of ``X``).
    strategy : Strategy, str or callable
        A strategy object is used as is (its state, e.g. a bandit's, carries over); a
        name or callable is resolved with :func:`activelab.strategies.get_strategy`.
    n_instances : int
        How many ids to choose.
    random_state : int, RandomState or None
        Seed for a strategy resolved from a name.
    **context
        ``X_labeled``, ``y_labeled``, ``classes``, ``costs``, ``proba``,
        ``committee_proba``, ``extras`` for the :class:`QueryContext`.  A strategy that
        declares ``Needs.EMBEDDINGS`` gets ``extras["embeddings"] = model.embed(X)``
        when the model has an ``embed`` method and no embeddings are given.

    Returns
    -------
    QueryResult
    """
    strat = _resolve(strategy, random_state)
    ctx = query_context(model, X, candidate_ids, **_with_embeddings(model, X, strat, context))
    return strat.select(ctx, n_instances)


def utilities_once(
    model: Any,
    X: Any,
    candidate_ids: Any,
    strategy: Any,
    *,
    random_state: Any = None,
    **context: Any,
) -> np.ndarray:
    """The utility of every candidate, shape (n_candidates,), higher = more useful.

    A :class:`UtilityStrategy` is asked for its utilities directly (no selection); any
    other strategy selects one item and its recorded utilities are returned.
    """
    strat = _resolve(strategy, random_state)
    ctx = query_context(model, X, candidate_ids, **_with_embeddings(model, X, strat, context))
    if isinstance(strat, UtilityStrategy):
        return np.asarray(strat.utility(ctx), dtype=np.float64)
    result = strat.select(ctx, 1)
    return np.asarray(result.utility_of(ctx.candidate_ids), dtype=np.float64)
