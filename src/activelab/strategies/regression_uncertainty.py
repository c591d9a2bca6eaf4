"""Regression strategies that read the model's uncertainty: ``qbc_variance``, ``max_std``
and ``emcm``.

* ``qbc_variance`` -- query by committee for regression: the variance of the members'
  predictions (``context.committee_predictions``: an :class:`activelab.Committee` of
  regressors, or the trees of a random forest / the members of a bagging ensemble).
* ``max_std`` -- the model's own predictive standard deviation
  (``context.predictive_std``: ``predict(X, return_std=True)`` of a Gaussian process or
  Bayesian ridge, else the spread of an ensemble's members).
* ``emcm`` -- expected model change maximization for linear models (Cai, Zhang and Zhou
  2013): adding ``(x, y)`` moves a linear model by a gradient step of norm
  ``|f(x) - y| ||x||``; the unknown ``y`` is replaced by the predictions of ``K``
  models fitted on bootstrap resamples of the labeled set, so the utility is
  ``||x|| * mean_k |f(x) - f_k(x)|`` with ``x`` the row as the linear model sees it
  (after a pipeline's transforms).

References
----------
Burbidge, R., Rowland, J. J. and King, R. D. (2007). Active learning for regression based
on query by committee.  IDEAL 2007, 209-218.
Cai, W., Zhang, Y. and Zhou, J. (2013). Maximizing expected model change for active
learning in regression.  ICDM 2013, 51-60.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from ..pool import materialize
from .base import Needs, QueryContext, UtilityStrategy
from .registry import register

__all__ = ["CommitteeVariance", "MaxStd", "ExpectedModelChange"]


@register
class CommitteeVariance(UtilityStrategy):
    """The variance of the committee members' predictions (QBC for regression)."""

    name = "qbc_variance"
    needs = frozenset({Needs.COMMITTEE_PREDICTIONS})
    tasks = frozenset({"regression"})

    def utility(self, context: QueryContext) -> np.ndarray:
        members = np.asarray(context.committee_predictions, dtype=np.float64)
        if members.ndim != 2 or members.shape[1] != len(context):
            raise ValueError(
                f"committee_predictions has shape {members.shape}; expected "
                f"(n_members, {len(context)}), one row of predictions per member."
            )
        return members.var(axis=0)


@register
class MaxStd(UtilityStrategy):
    """The largest predictive standard deviation of the model.

    Works with models that give one: ``GaussianProcessRegressor``, ``BayesianRidge``
    (through ``predict(X, return_std=True)``), and ensembles (the spread of their members).
    """

    name = "max_std"
    needs = frozenset({Needs.PREDICTIVE_STD})
    tasks = frozenset({"regression"})

    def utility(self, context: QueryContext) -> np.ndarray:
        std = np.asarray(context.predictive_std, dtype=np.float64).ravel()
        if std.shape != (len(context),):
            raise ValueError(
                f"predictive_std has shape {std.shape}; expected ({len(context)},)."
            )
        return std


def _final_and_before(estimator: Any) -> tuple[Any, Any]:
    steps = getattr(estimator, "steps", None)
    return (steps[-1][1], estimator[:-1]) if steps else (estimator, None)


def _model_rows(before: Any, X: Any) -> np.ndarray:
    import scipy.sparse as sp

    rows = materialize(X) if before is None else before.transform(materialize(X))
    rows = rows.toarray() if sp.issparse(rows) else np.asarray(rows)
    return rows.astype(np.float64, copy=False)


@register
class ExpectedModelChange(UtilityStrategy):
    """EMCM: the expected gradient norm of a linear model, over bootstrap models.

    Parameters
    ----------
    n_members : int, default=4
        Bootstrap models that stand in for the unknown target (``K`` of the paper).
    random_state : int, RandomState or None
        Draws the bootstrap resamples.

    Notes
    -----
    Needs a fitted linear model (its final step has ``coef_``: ``Ridge``,
    ``LinearRegression``, ``BayesianRidge``, ``SGDRegressor``...), the labeled set (the
    bootstrap models are clones fitted on resamples of it; the given model is never
    refitted) and the candidates' features.
    """

    name = "emcm"
    needs = frozenset({Needs.ESTIMATOR, Needs.FEATURES, Needs.LABELED, Needs.PREDICTIONS})
    tasks = frozenset({"regression"})

    def __init__(self, n_members: int = 4, random_state: Any = None) -> None:
        super().__init__(random_state=random_state)
        self.n_members = n_members

    def utility(self, context: QueryContext) -> np.ndarray:
        if isinstance(self.n_members, bool) or not isinstance(self.n_members, (int, np.integer)) \
                or self.n_members < 1:
            raise ValueError(f"n_members must be a positive integer, got {self.n_members!r}.")
        estimator = context.estimator
        final, before = _final_and_before(estimator)
        if getattr(final, "coef_", None) is None:
            raise TypeError(
                f"emcm is for linear models, and {type(final).__name__} has no coef_; use a "
                "linear regressor (Ridge, LinearRegression, BayesianRidge) or another "
                "regression strategy (qbc_variance, greedy_io)."
            )
        if context.X_labeled is None or context.y_labeled is None or len(context.y_labeled) < 2:
            raise ValueError("emcm needs the labeled set (two rows or more) to fit its "
                             "bootstrap models.")
        f = np.asarray(context.predictions, dtype=np.float64).ravel()
        change = np.zeros(len(context))
        for member in self._members(estimator, context):
            change += np.abs(f - np.asarray(member.predict(context.X), dtype=np.float64).ravel())
        norms = np.linalg.norm(_model_rows(before, context.X), axis=1)
        return norms * change / self.n_members

    def _members(self, estimator: Any, context: QueryContext) -> list[Any]:
        """``n_members`` clones of the model, each fitted on a bootstrap resample."""
        rng = check_random_state(self.random_state)
        XL = materialize(context.X_labeled)
        yL = np.asarray(context.y_labeled, dtype=np.float64).ravel()
        n = yL.shape[0]
        out = []
        for _ in range(int(self.n_members)):
            rows = rng.randint(0, n, size=n)
            out.append(clone(estimator).fit(XL[rows], yL[rows]))
        return out
