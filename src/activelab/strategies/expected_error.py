"""Expected error reduction (Roy & McCallum 2001).

For a candidate ``x`` and each label ``y`` it could receive, the model is retrained on
the labeled set plus ``(x, y)`` and its expected loss on the pool is measured; the
expectation over ``y`` uses the current model's ``p(y|x)``:

``EER(x) = sum_y p(y|x) · mean_{u in E} loss(p'_{x,y}(·|u))``,

with ``loss = 1 - max_c p'(c|u)`` (0/1 loss) or ``-sum_c p' log p'`` (log loss, the
expected entropy of the retrained model).  The utility is ``-EER``: the candidate whose
label is expected to leave the least error.

Cost
----
``n_candidates × n_classes`` retrainings plus as many ``predict_proba`` calls on the
``n_eval`` evaluation rows, per query.  This is why only a random subsample of
``n_candidates`` candidates is scored (the others get utility NaN and are chosen only
when the batch is larger than the subsample, at random) and the loss is averaged over
``n_eval`` sampled pool rows.  The small fits run with one BLAS thread.  Retraining is as cheap as the estimator allows
(``refit="auto"``): ``partial_fit`` on the one new row when the estimator has it (exact
for naive Bayes), else a warm start from the current coefficients when it has
``warm_start`` (logistic regression, SGD), else a full refit of a clone.  See
``docs/benchmarks/strategies.md`` for timings on digits.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import entr
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from ..pool import materialize, take_rows
from ..proba import predict_proba_checked
from .base import (
    Needs,
    QueryContext,
    QueryResult,
    Strategy,
    check_n_instances,
    select_top,
)
from .registry import register

__all__ = ["ExpectedErrorReduction"]

_REFIT_MODES = ("auto", "full", "warm_start", "partial_fit")


def _resolve_refit(estimator: Any, refit: str) -> str:
    if not hasattr(estimator, "get_params"):
        raise TypeError(
            f"expected_error retrains copies of the model, but {type(estimator).__name__} is "
            "not a scikit-learn estimator (no get_params); use it with a single classifier."
        )
    has_warm = "warm_start" in getattr(estimator, "get_params", dict)()
    if refit == "auto":
        if hasattr(estimator, "partial_fit"):
            return "partial_fit"
        return "warm_start" if has_warm else "full"
    if refit == "warm_start" and not has_warm:
        raise ValueError(
            f"{type(estimator).__name__} has no warm_start parameter; use refit='full' "
            "or refit='auto'."
        )
    if refit == "partial_fit" and not hasattr(estimator, "partial_fit"):
        raise ValueError(
            f"{type(estimator).__name__} has no partial_fit; use refit='full' or refit='auto'."
        )
    return refit


def _stack_rows(A: Any, row: Any) -> Any:
    if sp.issparse(A) or sp.issparse(row):
        return sp.vstack([sp.csr_matrix(A), sp.csr_matrix(row)], format="csr")
    return np.concatenate([np.asarray(A), np.asarray(row)], axis=0)


@register
class ExpectedErrorReduction(Strategy):
    """Expected error reduction with log or 0/1 loss, on a candidate subsample.

    Parameters
    ----------
    loss : {"log", "zero_one"}, default="log"
    n_candidates : int or None, default=50
        Candidates scored per query (a random subsample); ``None`` scores all of them.
    n_eval : int or None, default=500
        Pool rows over which the loss is averaged (a random sample of the candidates);
        ``None`` uses every candidate.
    refit : {"auto", "full", "warm_start", "partial_fit"}, default="auto"
        How each hypothetical model is trained (see the module notes).
    random_state : int, RandomState or None

    Notes
    -----
    ``info`` holds ``n_fits``, the ``refit`` mode used, ``subsample_size`` and
    ``eval_size``.  The estimator is never changed: each hypothetical model is a copy.
    """

    name = "expected_error"
    needs = frozenset({Needs.PROBA, Needs.ESTIMATOR, Needs.FEATURES, Needs.LABELED})

    def __init__(
        self,
        loss: str = "log",
        n_candidates: int | None = 50,
        n_eval: int | None = 500,
        refit: str = "auto",
        random_state: Any = None,
    ) -> None:
        super().__init__(random_state=random_state)
        if loss not in ("log", "zero_one"):
            raise ValueError(f"loss must be 'log' or 'zero_one', got {loss!r}.")
        if refit not in _REFIT_MODES:
            raise ValueError(f"refit must be one of {', '.join(_REFIT_MODES)}; got {refit!r}.")
        for name, value in (("n_candidates", n_candidates), ("n_eval", n_eval)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1
            ):
                raise ValueError(f"{name} must be a positive integer or None, got {value!r}.")
        self.loss = loss
        self.n_candidates = n_candidates
        self.n_eval = n_eval
        self.refit = refit

    def _loss(self, proba: np.ndarray) -> float:
        if self.loss == "log":
            return float(entr(proba).sum(axis=1).mean())
        return float((1.0 - proba.max(axis=1)).mean())

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        estimator = context.estimator
        if estimator is None or not hasattr(estimator, "classes_"):
            raise ValueError("expected_error needs the fitted estimator in the query context.")
        if context.X_labeled is None or context.y_labeled is None:
            raise ValueError(
                "expected_error retrains on the labeled set: pass X_labeled and y_labeled."
            )
        if context.X is None:
            raise ValueError("expected_error needs the candidates' features X.")
        mode = _resolve_refit(estimator, self.refit)
        rng = check_random_state(self.random_state)
        n = len(context)
        n_sub = n if self.n_candidates is None else min(n, int(self.n_candidates))
        n_ev = n if self.n_eval is None else min(n, int(self.n_eval))
        scored = np.sort(rng.choice(n, n_sub, replace=False))
        evaluated = np.sort(rng.choice(n, n_ev, replace=False))
        X_eval = materialize(take_rows(context.X, evaluated))
        X_sub = materialize(take_rows(context.X, scored))
        XL = materialize(context.X_labeled)
        yL = np.asarray(context.y_labeled)
        classes = np.asarray(estimator.classes_)
        p_sub = context.proba[scored]
        base = estimator
        if mode == "warm_start":
            base = copy.deepcopy(estimator)
            base.set_params(warm_start=True)
        expected = np.zeros(n_sub)
        n_fits = 0
        # many tiny fits: BLAS threads only add overhead (10x on a busy 2-core machine)
        with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
            # tiny warm-started refits may stop before meeting the solver tolerance
            warnings.simplefilter("ignore", ConvergenceWarning)
            for i in range(n_sub):
                row = take_rows(X_sub, np.array([i]))
                X_aug = None if mode == "partial_fit" else _stack_rows(XL, row)
                for k in np.flatnonzero(p_sub[i] > 0):
                    y_new = classes[k : k + 1]
                    if mode == "partial_fit":
                        model = copy.deepcopy(base).partial_fit(row, y_new)
                    elif mode == "warm_start":
                        model = copy.deepcopy(base).fit(X_aug, np.concatenate([yL, y_new]))
                    else:
                        model = clone(base).fit(X_aug, np.concatenate([yL, y_new]))
                    n_fits += 1
                    expected[i] += p_sub[i, k] * self._loss(predict_proba_checked(model, X_eval))
        utilities = np.full(n, np.nan)
        utilities[scored] = -expected
        return select_top(
            context,
            utilities,
            n_instances,
            rng,
            self.name,
            info={
                "n_fits": n_fits,
                "refit": mode,
                "subsample_size": int(n_sub),
                "eval_size": int(n_ev),
                "loss": self.loss,
            },
        )
