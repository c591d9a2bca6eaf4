"""``auto``: activelab's default selector, with a random share and a live verdict.

Every batch of ``n`` items is made of two parts:

* ``n - r`` items chosen by the **arm**, ``cluster_margin`` by default (margin sampling
  with the batch spread over the decision boundary, see
  :mod:`activelab.strategies.cluster_margin`);
* ``r`` items drawn **uniformly at random** from the rest of the candidates, with
  ``r`` the running share ``random_share × n`` (a fractional share carries over between
  rounds, so ``0.1`` gives one item in every batch of ten, and one query in ten with
  batches of one).

The random picks are the evidence.  Before their labels arrive they are predicted by two
models of the same size ``k`` (the run's first ``k`` labels, and the ``k`` labels that came
from random draws alone); once the labels are known, the paired outcomes give the **live
verdict** (:mod:`activelab.evaluation.live_verdict`): an estimate with an interval of
whether this run's choice of labels is beating random sampling, with no test labels.  The
current model's accuracy on the random picks is an unbiased estimate of its accuracy on
the unlabeled pool (``live_accuracy``).

The selector moves only on that evidence: while the verdict's interval lies below zero
(the run's labels are measurably worse than random ones), the random share is raised to
``fallback_share``; it goes back when the interval no longer lies below zero.

How the loop drives it: as for any strategy with feedback, after each refit call
``strategy.update(labeled_ids, labels, learner)`` (:class:`activelab.engine.session.Session`
does).  Without updates the selector is the arm plus the random share.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.utils import check_random_state

from ..evaluation.live_verdict import LiveVerdict, paired_verdict, wilson_interval
from ..pool import materialize, take_rows
from .base import Needs, QueryContext, QueryResult, Strategy, check_n_instances
from .registry import get_strategy, register

__all__ = ["DefaultSelector", "live_accuracy", "live_verdict"]


def _stack(parts: list[Any]) -> Any:
    if any(sp.issparse(p) for p in parts):
        return sp.vstack([sp.csr_matrix(p) for p in parts], format="csr")
    return np.concatenate([np.asarray(p) for p in parts], axis=0)


def _fit(template: Any, X: Any, y: np.ndarray) -> Any:
    """A clone of ``template`` fitted on ``(X, y)``; a constant model for one class."""
    classes = np.unique(y)
    if classes.size < 2:
        return _Constant(classes[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return clone(template).fit(X, y)


class _Constant:
    """Predicts one class (a training set with a single class)."""

    def __init__(self, label: Any) -> None:
        self.label = label

    def predict(self, X: Any) -> np.ndarray:
        return np.full(X.shape[0], self.label, dtype=np.asarray([self.label]).dtype)


@register
class DefaultSelector(Strategy):
    """The default strategy: a strong arm, a random share, and a live verdict.

    Parameters
    ----------
    arm : str or Strategy, default="cluster_margin"
        The strategy that chooses the non-random part of each batch.
    random_share : float in [0, 1), default=0.1
        Share of each batch drawn uniformly at random (the evidence).
    fallback_share : float in [0, 1], default=0.5
        Random share while the live verdict says the run is behind random.
    confidence : float, default=0.95
        Confidence of the live verdict's interval.
    random_state : int, RandomState or None

    Attributes
    ----------
    verdict_ : LiveVerdict
        The live verdict after the last :meth:`update` (see :func:`live_verdict`).
    history_ : list of dict
        Per :meth:`select`: ``n_random`` and ``random_share``.

    Notes
    -----
    ``info`` of each query records ``arm``, ``random_ids`` (the uniform picks),
    ``random_share`` and ``live_verdict`` (the verdict as of the last update, a dict).
    Besides the arm's cost, each update fits two small models (on ``k`` labels, ``k`` the
    initial labels plus the random picks so far).
    """

    name = "auto"
    needs = frozenset({Needs.PROBA, Needs.FEATURES, Needs.LABELED, Needs.ESTIMATOR})

    def __init__(self, arm: Any = "cluster_margin", random_share: float = 0.1,
                 fallback_share: float = 0.5, confidence: float = 0.95,
                 random_state: Any = None) -> None:
        super().__init__(random_state=random_state)
        if not 0 <= random_share < 1:
            raise ValueError(f"random_share must be in [0, 1), got {random_share!r}.")
        if not 0 <= fallback_share <= 1:
            raise ValueError(f"fallback_share must be in [0, 1], got {fallback_share!r}.")
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}.")
        self.arm = arm
        self.random_share = random_share
        self.fallback_share = fallback_share
        self.confidence = confidence

    def __repr__(self) -> str:
        return (f"DefaultSelector(arm={self.arm!r}, random_share={self.random_share!r}, "
                f"fallback_share={self.fallback_share!r}, random_state={self.random_state!r})")

    # ------------------------------------------------------------- state
    def _init_state(self) -> None:
        if hasattr(self, "arm_strategy_"):
            return
        self._rng = check_random_state(self.random_state)
        self.arm_strategy_ = get_strategy(self.arm, random_state=self._rng)
        self.history_: list[dict[str, Any]] = []
        self._debt = 0.0
        self._seq_X: list[Any] = []  # every labeled row, in the order asked
        self._seq_y: list[np.ndarray] = []
        self._seq_random: list[np.ndarray] = []  # which of them came from random draws
        self._pending: list[dict[str, Any]] = []
        self._models: tuple[Any, Any, int] | None = None  # active, random, k
        self._scored: dict[str, list[Any]] = {"active": [], "random": [], "k": [], "now": []}
        self.verdict_ = live_verdict(self)

    def current_share(self) -> float:
        """The random share of the next batch (raised while the verdict is behind)."""
        self._init_state()
        behind = self.verdict_.n > 0 and self.verdict_.high < 0
        return max(self.random_share, self.fallback_share) if behind else self.random_share

    # ------------------------------------------------------------ select
    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        self._init_state()
        if not self._seq_y and context.y_labeled is not None and len(context.y_labeled):
            self._seq_X.append(materialize(context.X_labeled))
            self._seq_y.append(np.asarray(context.y_labeled))
            self._seq_random.append(np.ones(len(context.y_labeled), dtype=bool))
        share = self.current_share()
        self._debt += share * n_instances
        n_random = int(min(np.floor(self._debt + 1e-9), n_instances))
        self._debt -= n_random
        n_arm = n_instances - n_random
        arm_ids = (self.arm_strategy_.select(context, n_arm).ids if n_arm
                   else np.empty(0, dtype=np.int64))
        rest = np.flatnonzero(~np.isin(context.candidate_ids, arm_ids))
        rand_pos = np.sort(self._rng.choice(rest, n_random, replace=False)) if n_random else (
            np.empty(0, dtype=np.int64))
        ids = np.concatenate([arm_ids, context.candidate_ids[rand_pos]]).astype(np.int64)
        self._remember(context, ids, n_arm, rand_pos)
        self.history_.append({"n_random": n_random, "random_share": share})
        return QueryResult(
            ids=ids, candidate_ids=context.candidate_ids,
            utilities=self._utilities(context, ids), strategy=self.name,
            info={"arm": self.arm_strategy_.name, "random_ids": ids[n_arm:].tolist(),
                  "random_share": share, "live_verdict": self.verdict_.to_dict()},
        )

    @staticmethod
    def _utilities(context: QueryContext, ids: np.ndarray) -> np.ndarray:
        """1 for the chosen candidates (in their order of choice, descending), 0 otherwise."""
        u = np.zeros(len(context))
        pos = np.flatnonzero(np.isin(context.candidate_ids, ids))
        rank = {int(i): r for r, i in enumerate(ids)}
        u[pos] = [1.0 - rank[int(i)] / (len(ids) + 1) for i in context.candidate_ids[pos]]
        return u

    def _remember(self, context: QueryContext, ids: np.ndarray, n_arm: int,
                  rand_pos: np.ndarray) -> None:
        """Keep the batch's rows and the predictions made for its random picks."""
        positions = np.flatnonzero(np.isin(context.candidate_ids, ids))
        order = {int(i): p for p, i in zip(positions, context.candidate_ids[positions],
                                           strict=True)}
        rows = materialize(take_rows(context.X, np.asarray([order[int(i)] for i in ids])))
        preds: dict[str, Any] = {}
        if rand_pos.size:
            r_rows = take_rows(rows, np.arange(n_arm, len(ids)))
            proba = context.proba[rand_pos]
            classes = np.asarray(getattr(context.estimator, "classes_", np.arange(proba.shape[1])))
            preds["now"] = classes[np.argmax(proba, axis=1)]
            if self._models is not None:
                active, rand, k = self._models
                preds.update(active=active.predict(r_rows), random=rand.predict(r_rows), k=k)
        self._pending.append({"ids": ids, "rows": rows, "n_arm": n_arm, "preds": preds})

    # ------------------------------------------------------------ update
    def update(self, pool_ids: Any, labels: Any, learner: Any) -> LiveVerdict:
        """Score the last batch's random picks and refit the two verdict models.

        Parameters
        ----------
        pool_ids : array-like of int
            Ids of the last batch(es) that received a label (skipped ids left out).
        labels : array-like
            Their labels, in the same order.
        learner : ActiveLearner, Committee or fitted classifier
            The refit learner; its unfitted ``estimator`` (or itself) is cloned for the
            verdict models.

        Returns
        -------
        LiveVerdict
        """
        self._init_state()
        if not self._pending:
            raise ValueError("update() must follow a select(): there is no batch to score.")
        ids = np.asarray(pool_ids, dtype=np.int64).ravel()
        labels = np.asarray(labels).ravel()
        if ids.shape != labels.shape:
            raise ValueError(f"got {ids.size} ids but {labels.size} labels; pass one label per id.")
        asked = np.concatenate([b["ids"] for b in self._pending])
        if not np.isin(ids, asked).all():
            raise ValueError(
                f"ids {ids[~np.isin(ids, asked)][:5].tolist()} were not in the last queried "
                "batch; pass the ids that the last select() returned and that got a label."
            )
        pending, self._pending = self._pending, []
        for batch in pending:
            self._absorb(batch, ids, labels)
        self._refit(getattr(learner, "estimator", learner))
        self.verdict_ = live_verdict(self)
        return self.verdict_

    def _absorb(self, batch: dict[str, Any], ids: np.ndarray, labels: np.ndarray) -> None:
        """Add the labeled part of one batch to the sequence; score its random picks."""
        where = {int(i): j for j, i in enumerate(ids)}
        got = np.asarray([j for j, i in enumerate(batch["ids"]) if int(i) in where], dtype=int)
        if got.size == 0:
            return
        y = labels[[where[int(batch["ids"][j])] for j in got]]
        is_random = got >= batch["n_arm"]
        self._seq_X.append(take_rows(batch["rows"], got))
        self._seq_y.append(y)
        self._seq_random.append(is_random)
        preds = batch["preds"]
        r = got[is_random] - batch["n_arm"]
        truth = y[is_random]
        if "now" in preds:
            self._scored["now"].extend((preds["now"][r] == truth).tolist())
        if "active" in preds:
            self._scored["active"].extend((preds["active"][r] == truth).tolist())
            self._scored["random"].extend((preds["random"][r] == truth).tolist())
            self._scored["k"].extend([preds["k"]] * int(r.size))

    def _refit(self, template: Any) -> None:
        """Fit the active and random models on ``k`` labels each (k = random labels so far)."""
        X = _stack(self._seq_X)
        y = np.concatenate(self._seq_y)
        is_random = np.concatenate(self._seq_random)
        k = int(is_random.sum())
        if k < 2 or k >= y.size:
            self._models = None
            return
        random_rows = np.flatnonzero(is_random)
        self._models = (_fit(template, take_rows(X, np.arange(k)), y[:k]),
                        _fit(template, take_rows(X, random_rows), y[random_rows]), k)


def live_verdict(strategy: Any) -> LiveVerdict:
    """The live verdict of a strategy that keeps one (``auto``), as of its last update.

    Parameters
    ----------
    strategy : DefaultSelector
        The run's strategy object, e.g. ``result.learner.strategy_`` of a run, or the
        session's ``strategy``.

    Returns
    -------
    LiveVerdict
        ``n == 0`` ("no evidence yet") before any random pick was scored.

    Raises
    ------
    TypeError
        For a strategy without a random share.
    """
    scored = getattr(strategy, "_scored", None)
    if scored is None:
        if isinstance(strategy, DefaultSelector):
            return paired_verdict([], [])
        raise TypeError(
            f"{type(strategy).__name__} keeps no live verdict; use query_strategy='auto', "
            "whose random share is the evidence."
        )
    return paired_verdict(scored["active"], scored["random"], label_counts=scored["k"],
                          confidence=strategy.confidence)


def live_accuracy(strategy: Any, last: int = 50) -> tuple[float, float, float, int]:
    """The model's accuracy on the last ``last`` random picks, predicted before labeling.

    Returns
    -------
    mean, low, high, n
        The share of correct predictions with its Wilson interval (NaN with no picks).
    """
    now = list(getattr(strategy, "_scored", {}).get("now", []))[-last:]
    if not now:
        return float("nan"), float("nan"), float("nan"), 0
    low, high = wilson_interval(int(sum(now)), len(now))
    return float(np.mean(now)), low, high, len(now)

