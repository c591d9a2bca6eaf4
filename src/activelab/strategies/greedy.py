"""Greedy sampling for regression (Wu, Lin and Huang 2019): ``greedy_x`` and ``greedy_io``.

Both pick, one item at a time, the candidate farthest from everything labeled so far:

* ``greedy_x`` (GSx) in the input space: the utility of candidate ``n`` is
  ``d_n = min_m ||x_n - x_m||`` over the labeled rows ``m``.  It needs no model.
* ``greedy_io`` (iGS) in the input *and* output space: ``d_n = min_m ||x_n - x_m|| *
  |f(x_n) - y_m|``, with ``f`` the model's prediction and ``y_m`` the labeled targets,
  so an item counts as covered only when it is near a labeled row in both spaces.

Within a batch the model is not refitted: a chosen item joins the labeled rows with its
prediction ``f(x_n)`` standing in for its unknown target, and the distances are updated
(a vectorised pass over the candidates per pick).  With no labeled row at all, the first
pick is the candidate nearest the candidates' centroid, as in the paper; ``greedy_io``
then goes on as ``greedy_x`` until a row is labeled.  Ties go to the earlier candidate.

References
----------
Wu, D., Lin, C.-T. and Huang, J. (2019). Active learning for regression using greedy
sampling. Information Sciences 474, 90-105.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ..pool import materialize
from .base import Needs, QueryContext, QueryResult, Strategy, check_n_instances
from .registry import register

__all__ = ["GreedyInputSampling", "GreedyInputOutputSampling"]

#: Candidate rows per block of the candidate-by-labeled distance matrix.
_BLOCK_ROWS = 4096


def _dense(X: Any, name: str) -> np.ndarray:
    X = materialize(X)
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows x features), got shape {X.shape}.")
    return X.astype(np.float64, copy=False)


def _labeled(context: QueryContext, n_features: int, with_targets: bool) -> tuple[np.ndarray, np.ndarray]:
    """The labeled rows (and targets) of the context; empty when there are none."""
    if context.X_labeled is None:
        return np.empty((0, n_features)), np.empty(0)
    XL = _dense(context.X_labeled, "X_labeled")
    if XL.shape[0] and XL.shape[1] != n_features:
        raise ValueError(
            f"X_labeled has {XL.shape[1]} features but the candidates have {n_features}; "
            "pass labeled rows with the same columns."
        )
    if not with_targets or XL.shape[0] == 0:
        return XL, np.empty(0)
    if context.y_labeled is None or len(context.y_labeled) != XL.shape[0]:
        raise ValueError("greedy_io needs y_labeled, one target per row of X_labeled.")
    return XL, np.asarray(context.y_labeled, dtype=np.float64).ravel()


def _distances(X: np.ndarray, XL: np.ndarray) -> np.ndarray:
    """``||x_n - x_m||`` for every candidate ``n`` and labeled row ``m`` (n x m)."""
    sq = (X * X).sum(axis=1)[:, None] + (XL * XL).sum(axis=1)[None, :] - 2.0 * X @ XL.T
    return np.sqrt(np.maximum(sq, 0.0))


def _min_scores(X: np.ndarray, f: np.ndarray | None, XL: np.ndarray, yL: np.ndarray) -> np.ndarray:
    """``min_m`` of the input distance (times the output distance when ``f`` is given)."""
    out = np.full(X.shape[0], np.inf)
    if XL.shape[0] == 0:
        return out
    for start in range(0, X.shape[0], _BLOCK_ROWS):
        rows = slice(start, start + _BLOCK_ROWS)
        d = _distances(X[rows], XL)
        if f is not None:
            d = d * np.abs(f[rows, None] - yL[None, :])
        out[rows] = d.min(axis=1)
    return out


def _pick(scores: np.ndarray, taken: np.ndarray, X: np.ndarray) -> int:
    """The untaken candidate of largest score; nearest the centroid when none is scored."""
    if np.isinf(scores[~taken]).all():
        centre = X.mean(axis=0)
        d = ((X - centre) ** 2).sum(axis=1)
        d[taken] = np.inf
        return int(np.argmin(d))
    s = np.where(taken, -np.inf, scores)
    return int(np.argmax(s))


def _greedy(X: np.ndarray, f: np.ndarray | None, XL: np.ndarray, yL: np.ndarray,
            n_instances: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the batch, picked one by one, and the utilities before the batch."""
    scores = _min_scores(X, f, XL, yL)
    first = scores.copy()
    taken = np.zeros(X.shape[0], dtype=bool)
    picks = []
    for _ in range(n_instances):
        p = _pick(scores, taken, X)
        picks.append(p)
        taken[p] = True
        d = np.sqrt(np.maximum(((X - X[p]) ** 2).sum(axis=1), 0.0))
        if f is not None and XL.shape[0]:  # the pick's prediction stands in for its target
            d = d * np.abs(f - f[p])
        scores = np.minimum(scores, d)
    return np.asarray(picks, dtype=np.int64), first


def _result(context: QueryContext, picks: np.ndarray, first: np.ndarray, name: str) -> QueryResult:
    utilities = np.where(np.isinf(first), np.nan, first)
    return QueryResult(
        ids=context.candidate_ids[picks],
        candidate_ids=context.candidate_ids,
        utilities=utilities,
        strategy=name,
        info={"picked_scores": [float(first[p]) if np.isfinite(first[p]) else None
                                for p in picks]},
    )


@register
class GreedyInputSampling(Strategy):
    """GSx: the candidate farthest from every labeled row in the input space.

    Needs only the features and the labeled rows (no model).  The utility of a candidate
    is its distance to the nearest labeled row (NaN with no labeled row).
    """

    name = "greedy_x"
    needs = frozenset({Needs.FEATURES, Needs.LABELED})
    tasks = frozenset({"regression"})

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        X = _dense(context.X, "X")
        XL, _ = _labeled(context, X.shape[1], with_targets=False)
        picks, first = _greedy(X, None, XL, np.empty(0), n_instances)
        return _result(context, picks, first, self.name)


@register
class GreedyInputOutputSampling(Strategy):
    """iGS: farthest from the labeled rows in the input and the output space at once.

    The utility of a candidate is ``min_m ||x_n - x_m|| * |f(x_n) - y_m|`` over the
    labeled rows (NaN with no labeled row); the regression task's default strategy.
    """

    name = "greedy_io"
    needs = frozenset({Needs.FEATURES, Needs.LABELED, Needs.PREDICTIONS})
    tasks = frozenset({"regression"})

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        X = _dense(context.X, "X")
        XL, yL = _labeled(context, X.shape[1], with_targets=True)
        f = np.asarray(context.predictions, dtype=np.float64).ravel() if XL.shape[0] else None
        picks, first = _greedy(X, f, XL, yL, n_instances)
        return _result(context, picks, first, self.name)
