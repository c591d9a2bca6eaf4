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

A sparse pool (e.g. TF-IDF rows) is never densified: the squared distances come from
``||x - c||^2 = ||x||^2 + ||c||^2 - 2 x.c`` (clipped at 0) with the row norms computed
once, the products sparse by sparse (or by one dense row), and the candidate-by-labeled
distances a block of candidates at a time.  Dense pools keep their formulas (differences
for the per-pick updates and the centroid); both give the same picks on the same data
except where two candidates tie to within rounding.

References
----------
Wu, D., Lin, C.-T. and Huang, J. (2019). Active learning for regression using greedy
sampling. Information Sciences 474, 90-105.
"""

from __future__ import annotations

from collections.abc import Iterator
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


def _csr(X: Any, name: str) -> sp.csr_matrix:
    """Rows as a float64 CSR matrix (no copy when they are one already)."""
    X = materialize(X)
    if not sp.issparse(X):
        return sp.csr_matrix(_dense(X, name))
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows x features), got shape {X.shape}.")
    return sp.csr_matrix(X.tocsr().astype(np.float64, copy=False))


def _rows(X: Any) -> _DenseRows | _SparseRows:
    """The candidates' geometry: sparse when the pool is a sparse matrix."""
    raw = materialize(X)
    return _SparseRows(_csr(raw, "X")) if sp.issparse(raw) else _DenseRows(_dense(raw, "X"))


def _labeled(context: QueryContext, rows: _DenseRows | _SparseRows,
             with_targets: bool) -> tuple[Any, np.ndarray]:
    """The labeled rows (dense or CSR, as the candidates) and targets; empty when none."""
    n_features = rows.n_features
    if context.X_labeled is None:
        return rows.labeled(np.empty((0, n_features))), np.empty(0)
    XL = rows.labeled(context.X_labeled)
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


class _DenseRows:
    """Distances between the rows of a dense pool."""

    def __init__(self, X: np.ndarray) -> None:
        self.X = X
        self.n, self.n_features = X.shape

    def labeled(self, XL: Any) -> np.ndarray:
        """Labeled rows in the form :meth:`blocks_to` takes."""
        return _dense(XL, "X_labeled")

    def blocks_to(self, XL: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
        """``(rows, distances of those candidates to every labeled row)``, block by block."""
        for start in range(0, self.n, _BLOCK_ROWS):
            rows = slice(start, start + _BLOCK_ROWS)
            yield rows, _distances(self.X[rows], XL)

    def to_row(self, p: int) -> np.ndarray:
        """Distance of every candidate to candidate ``p``."""
        return np.sqrt(np.maximum(((self.X - self.X[p]) ** 2).sum(axis=1), 0.0))

    def to_centroid_sq(self) -> np.ndarray:
        """Squared distance of every candidate to the candidates' centroid."""
        centre = self.X.mean(axis=0)
        return ((self.X - centre) ** 2).sum(axis=1)


def _sq_norms(X: sp.csr_matrix) -> np.ndarray:
    return np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()


class _SparseRows:
    """Distances between the rows of a CSR pool, by the norm expansion (never dense)."""

    def __init__(self, X: sp.csr_matrix) -> None:
        self.X = X
        self.n, self.n_features = X.shape
        self.sq = _sq_norms(X)

    def labeled(self, XL: Any) -> sp.csr_matrix:
        """Labeled rows as CSR (dense ones are converted)."""
        return _csr(XL, "X_labeled")

    def blocks_to(self, XL: sp.csr_matrix) -> Iterator[tuple[slice, np.ndarray]]:
        """``(rows, distances of those candidates to every labeled row)``, block by block:
        one ``block x n_labeled`` array at a time."""
        XLt, l_sq = sp.csr_matrix(XL.T), _sq_norms(XL)
        for start in range(0, self.n, _BLOCK_ROWS):
            rows = slice(start, start + _BLOCK_ROWS)
            dots = (self.X[rows] @ XLt).toarray()
            sq = self.sq[rows, None] + l_sq[None, :] - 2.0 * dots
            yield rows, np.sqrt(np.maximum(sq, 0.0))

    def to_row(self, p: int) -> np.ndarray:
        """Distance of every candidate to candidate ``p``."""
        xp = self.X[p].toarray().ravel()
        return np.sqrt(np.maximum(self.sq + self.sq[p] - 2.0 * (self.X @ xp), 0.0))

    def to_centroid_sq(self) -> np.ndarray:
        """Squared distance of every candidate to the candidates' centroid."""
        centre = np.asarray(self.X.mean(axis=0), dtype=np.float64).ravel()
        return np.maximum(self.sq + centre @ centre - 2.0 * (self.X @ centre), 0.0)


def _min_scores(rows: _DenseRows | _SparseRows, f: np.ndarray | None, XL: Any,
                yL: np.ndarray) -> np.ndarray:
    """``min_m`` of the input distance (times the output distance when ``f`` is given)."""
    out = np.full(rows.n, np.inf)
    if XL.shape[0] == 0:
        return out
    for block, d in rows.blocks_to(XL):
        if f is not None:
            d = d * np.abs(f[block, None] - yL[None, :])
        out[block] = d.min(axis=1)
    return out


def _pick(scores: np.ndarray, taken: np.ndarray, rows: _DenseRows | _SparseRows) -> int:
    """The untaken candidate of largest score; nearest the centroid when none is scored."""
    if np.isinf(scores[~taken]).all():
        d = rows.to_centroid_sq()
        d[taken] = np.inf
        return int(np.argmin(d))
    s = np.where(taken, -np.inf, scores)
    return int(np.argmax(s))


def _greedy(rows: _DenseRows | _SparseRows, f: np.ndarray | None, XL: Any, yL: np.ndarray,
            n_instances: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the batch, picked one by one, and the utilities before the batch."""
    scores = _min_scores(rows, f, XL, yL)
    first = scores.copy()
    taken = np.zeros(rows.n, dtype=bool)
    picks = []
    for _ in range(n_instances):
        p = _pick(scores, taken, rows)
        picks.append(p)
        taken[p] = True
        d = rows.to_row(p)
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
        rows = _rows(context.X)
        XL, _ = _labeled(context, rows, with_targets=False)
        picks, first = _greedy(rows, None, XL, np.empty(0), n_instances)
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
        rows = _rows(context.X)
        XL, yL = _labeled(context, rows, with_targets=True)
        f = np.asarray(context.predictions, dtype=np.float64).ravel() if XL.shape[0] else None
        picks, first = _greedy(rows, f, XL, yL, n_instances)
        return _result(context, picks, first, self.name)
