"""Stopping criteria: when more labels are no longer worth their cost.

A criterion is asked once per round, after the model was refitted and evaluated, with
the loop's state.  It reads only these attributes of the state (any object that has them
will do): ``round``, ``pool``, ``learner``, ``n_labeled``, ``n_queried``, ``history`` (one
record per round so far, each with a ``metrics`` dict and ``n_labeled``) and
``elapsed_seconds``.

When a criterion fires, :attr:`StoppingCriterion.reason` holds a short sentence with the
numbers that made it fire.  Criteria combine with ``|`` (stop when any fires,
:class:`AnyOf`) and ``&`` (stop when all fire in the same round, :class:`AllOf`).  Call
:meth:`StoppingCriterion.reset` before reusing a criterion in another run.

Examples
--------
>>> stop = BudgetExhausted(200) | TimeLimit(60)
>>> stop
AnyOf(BudgetExhausted(budget=200), TimeLimit(seconds=60.0))
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from .pool import materialize
from .proba import predict_proba_chunked

__all__ = [
    "StoppingCriterion",
    "BudgetExhausted",
    "PerformancePlateau",
    "UncertaintyBelow",
    "TimeLimit",
    "StabilizingPredictions",
    "AnyOf",
    "AllOf",
    "as_stopping",
    "cohens_kappa",
]


def _check_number(value: Any, name: str, *, low: float, high: float | None = None,
                  low_open: bool = False, integer: bool = False) -> Any:
    kind = "an integer" if integer else "a number"
    ok_type = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, ok_type):
        raise TypeError(f"{name} must be {kind}, got {value!r}.")
    if not math.isfinite(float(value)):
        raise ValueError(f"{name} must be finite, got {value}.")
    too_low = value <= low if low_open else value < low
    if too_low or (high is not None and value > high):
        lo = f"> {low}" if low_open else f">= {low}"
        hi = "" if high is None else f" and <= {high}"
        raise ValueError(f"{name} must be {lo}{hi}, got {value}.")
    return int(value) if integer else float(value)


def _fmt(values: Iterable[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


class StoppingCriterion:
    """Base class of stopping criteria.

    Subclasses implement :meth:`_check`, returning the reason to stop or ``None``.

    Attributes
    ----------
    name : str
        Short name of the criterion.
    reason : str or None
        Why the criterion fired in the latest round (``None`` when it did not).
    triggered : str or None
        Name of the criterion that fired (for :class:`AnyOf` / :class:`AllOf`: the names
        of the members that fired, comma-separated), ``None`` when it did not fire.
    """

    name = "criterion"

    def __init__(self) -> None:
        self.reason: str | None = None
        self.triggered: str | None = None
        self._last_round: Any = None
        self._last_decision = False

    def should_stop(self, state: Any) -> bool:
        """Whether the run should end after this round.

        Asking twice in the same round returns the first answer, so stateful criteria
        count each round once.
        """
        rnd = getattr(state, "round", None)
        if rnd is not None and rnd == self._last_round:
            return self._last_decision
        reason = self._check(state)
        self.reason = reason
        self.triggered = None if reason is None else self._triggered_name()
        self._last_round = rnd
        self._last_decision = reason is not None
        return self._last_decision

    def _triggered_name(self) -> str:
        return self.name

    def _check(self, state: Any) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def reset(self) -> StoppingCriterion:
        """Forget everything seen so far (for reuse in another run)."""
        self.reason = None
        self.triggered = None
        self._last_round = None
        self._last_decision = False
        return self

    def __or__(self, other: StoppingCriterion) -> AnyOf:
        return AnyOf(self, other)

    def __and__(self, other: StoppingCriterion) -> AllOf:
        return AllOf(self, other)

    def _params(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"


class BudgetExhausted(StoppingCriterion):
    """Stop once ``budget`` labels have been obtained (the initial set included).

    Parameters
    ----------
    budget : int
        Total number of labels, >= 1.
    """

    name = "budget"

    def __init__(self, budget: int) -> None:
        super().__init__()
        self.budget = _check_number(budget, "budget", low=1, integer=True)

    def _check(self, state: Any) -> str | None:
        n = int(state.n_labeled)
        if n >= self.budget:
            return f"label budget reached: {n} labels >= budget {self.budget}"
        return None

    def _params(self) -> dict[str, Any]:
        return {"budget": self.budget}


class PerformancePlateau(StoppingCriterion):
    """Stop when a test metric stops moving.

    Fires when the last ``window`` recorded values of ``metric`` differ by less than
    ``threshold`` (max - min < threshold).  Needs a test set: the rounds must record
    the metric.

    Parameters
    ----------
    window : int, default=3
        Number of rounds compared, >= 2.
    threshold : float, default=0.01
        Largest spread that counts as a plateau, > 0.
    metric : str, default="accuracy"
        Key of the round records' ``metrics`` dict.
    """

    name = "plateau"

    def __init__(self, window: int = 3, threshold: float = 0.01, metric: str = "accuracy") -> None:
        super().__init__()
        self.window = _check_number(window, "window", low=2, integer=True)
        self.threshold = _check_number(threshold, "threshold", low=0, low_open=True)
        if not isinstance(metric, str) or not metric:
            raise TypeError(f"metric must be a metric name such as 'accuracy', got {metric!r}.")
        self.metric = metric

    def _values(self, history: list[Any]) -> list[float]:
        values = []
        for record in history:
            metrics = getattr(record, "metrics", None) or {}
            if self.metric not in metrics:
                if metrics:
                    raise ValueError(
                        f"PerformancePlateau watches {self.metric!r} but the rounds record "
                        f"only {sorted(metrics)}; pass metric= one of those."
                    )
                raise ValueError(
                    "PerformancePlateau needs a test set, but the rounds record no metrics; "
                    "pass X_test/y_test to the loop, or use StabilizingPredictions, which "
                    "needs no labels."
                )
            value = metrics[self.metric]
            if value is not None and math.isfinite(float(value)):
                values.append(float(value))
        return values

    def _check(self, state: Any) -> str | None:
        values = self._values(list(state.history))
        if len(values) < self.window:
            return None
        last = values[-self.window:]
        spread = max(last) - min(last)
        if spread < self.threshold:
            return (
                f"{self.metric} plateaued: {_fmt(last)} over the last {self.window} rounds "
                f"vary by {spread:.4f} < {self.threshold:g}"
            )
        return None

    def _params(self) -> dict[str, Any]:
        return {"window": self.window, "threshold": self.threshold, "metric": self.metric}


def _predict_proba(learner: Any, X: Any) -> np.ndarray:
    if hasattr(learner, "query_result"):  # ActiveLearner / Committee read views themselves
        return np.asarray(learner.predict_proba(X), dtype=np.float64)
    return predict_proba_chunked(learner, X)


def _predict(learner: Any, X: Any) -> np.ndarray:
    if hasattr(learner, "query_result"):
        return np.asarray(learner.predict(X))
    return np.asarray(learner.predict(materialize(X)))


class UncertaintyBelow(StoppingCriterion):
    """Stop when the model is confident about every unlabeled item.

    Fires when the largest least-confident uncertainty ``1 - max_c p(c | x)`` over the
    unlabeled pool (or a seeded random sample of it) is below ``threshold``.  Also fires
    when no unlabeled item is left.

    Parameters
    ----------
    threshold : float
        In ``(0, 1]``.
    sample_size : int, optional
        Score at most this many unlabeled items, drawn afresh each round; all when
        ``None``.
    random_state : int, RandomState or None
        Seed of the sample.
    """

    name = "uncertainty"

    def __init__(self, threshold: float, sample_size: int | None = None,
                 random_state: Any = None) -> None:
        super().__init__()
        self.threshold = _check_number(threshold, "threshold", low=0, high=1, low_open=True)
        self.sample_size = (
            None if sample_size is None
            else _check_number(sample_size, "sample_size", low=1, integer=True)
        )
        self.random_state = random_state
        self._rng = check_random_state(random_state)

    def reset(self) -> UncertaintyBelow:
        super().reset()
        self._rng = check_random_state(self.random_state)
        return self

    def _check(self, state: Any) -> str | None:
        pool = state.pool
        ids = pool.unlabeled_ids
        if ids.size == 0:
            return "no unlabeled items left"
        if self.sample_size is not None and ids.size > self.sample_size:
            ids = np.sort(self._rng.choice(ids, self.sample_size, replace=False))
            X = pool.view(ids)
            what = f"a sample of {ids.size:,} unlabeled items"
        else:
            X = pool.unlabeled_view()
            what = f"{ids.size:,} unlabeled items"
        proba = _predict_proba(state.learner, X)
        top = float(1.0 - proba.max(axis=1).min())
        if top < self.threshold:
            return f"max uncertainty {top:.3f} over {what} < {self.threshold:g}"
        return None

    def _params(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "sample_size": self.sample_size,
                "random_state": self.random_state}


class TimeLimit(StoppingCriterion):
    """Stop once the run has taken ``seconds`` of wall-clock time.

    Parameters
    ----------
    seconds : float
        > 0.
    """

    name = "time"

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = _check_number(seconds, "seconds", low=0, low_open=True)

    def _check(self, state: Any) -> str | None:
        elapsed = float(state.elapsed_seconds)
        if elapsed >= self.seconds:
            return f"time limit reached: {elapsed:.1f} s >= {self.seconds:g} s"
        return None

    def _params(self) -> dict[str, Any]:
        return {"seconds": self.seconds}


def cohens_kappa(a: Any, b: Any) -> float:
    """Cohen's kappa between two label vectors of the same length.

    ``(p_o - p_e) / (1 - p_e)`` with ``p_o`` the observed agreement and ``p_e`` the
    agreement expected from each vector's class frequencies.  Two identical constant
    vectors (``p_e = 1``) have kappa 1.
    """
    a = np.asarray(a).ravel()
    b = np.asarray(b).ravel()
    if a.shape != b.shape or a.size == 0:
        raise ValueError(
            f"a and b must be non-empty and of the same length, got {a.size} and {b.size}."
        )
    _, codes = np.unique(np.concatenate([a, b]), return_inverse=True)
    codes = codes.ravel()
    ca, cb = codes[: a.size], codes[a.size:]
    k = int(codes.max()) + 1
    po = float(np.mean(ca == cb))
    pe = float(np.dot(np.bincount(ca, minlength=k), np.bincount(cb, minlength=k))) / a.size**2
    if pe >= 1.0:
        return 1.0 if po >= 1.0 else 0.0
    return (po - pe) / (1.0 - pe)


class StabilizingPredictions(StoppingCriterion):
    """Stop when successive models agree on a fixed unlabeled stop set.

    Bloodgood & Vijay-Shanker (2009): a stop set is drawn once from the unlabeled pool;
    each round the new model's predictions on it are compared with the previous
    model's by Cohen's kappa (or plain agreement).  The run stops when the last
    ``window`` comparisons are all >= ``threshold``.  No test labels are needed.

    Parameters
    ----------
    stop_set_size : int, default=1000
        Items in the stop set (fewer when the pool has fewer unlabeled items).
    window : int, default=3
        Number of consecutive comparisons that must reach the threshold.
    threshold : float, default=0.99
        In ``(0, 1]``.
    measure : {"kappa", "agreement"}, default="kappa"
    random_state : int, RandomState or None
        Seed of the stop set.

    Attributes
    ----------
    stop_set_ids_ : ndarray of int64
        The stop set's pool ids (after the first round).
    agreements_ : list of float
        One comparison per round after the first.
    """

    name = "stabilizing_predictions"

    def __init__(self, stop_set_size: int = 1000, window: int = 3, threshold: float = 0.99,
                 measure: str = "kappa", random_state: Any = None) -> None:
        super().__init__()
        self.stop_set_size = _check_number(stop_set_size, "stop_set_size", low=1, integer=True)
        self.window = _check_number(window, "window", low=1, integer=True)
        self.threshold = _check_number(threshold, "threshold", low=0, high=1, low_open=True)
        if measure not in ("kappa", "agreement"):
            raise ValueError(f"measure must be 'kappa' or 'agreement', got {measure!r}.")
        self.measure = measure
        self.random_state = random_state
        self._clear()

    def _clear(self) -> None:
        self.stop_set_ids_: np.ndarray | None = None
        self.agreements_: list[float] = []
        self._previous: np.ndarray | None = None

    def reset(self) -> StabilizingPredictions:
        super().reset()
        self._clear()
        return self

    def _check(self, state: Any) -> str | None:
        pool = state.pool
        if self.stop_set_ids_ is None:
            ids = pool.unlabeled_ids
            if ids.size == 0:
                return None
            rng = check_random_state(self.random_state)
            size = min(self.stop_set_size, ids.size)
            self.stop_set_ids_ = np.sort(rng.choice(ids, size, replace=False)).astype(np.int64)
        predictions = _predict(state.learner, pool.view(self.stop_set_ids_))
        previous, self._previous = self._previous, predictions
        if previous is None:
            return None
        if self.measure == "kappa":
            value = cohens_kappa(previous, predictions)
        else:
            value = float(np.mean(previous == predictions))
        self.agreements_.append(value)
        last = self.agreements_[-self.window:]
        if len(last) == self.window and min(last) >= self.threshold:
            rounds = "round" if self.window == 1 else f"{self.window} rounds"
            return (
                f"predictions stabilised: {self.measure} {_fmt(last)} over the last {rounds} "
                f">= {self.threshold:g}"
            )
        return None

    def _params(self) -> dict[str, Any]:
        return {"stop_set_size": self.stop_set_size, "window": self.window,
                "threshold": self.threshold, "measure": self.measure,
                "random_state": self.random_state}


def _check_criteria(criteria: tuple[Any, ...], who: str) -> list[StoppingCriterion]:
    if not criteria:
        raise ValueError(f"{who} needs at least one criterion, e.g. {who}(BudgetExhausted(100)).")
    for c in criteria:
        if not isinstance(c, StoppingCriterion):
            raise TypeError(
                f"{who} takes stopping criteria (e.g. BudgetExhausted(100)), got "
                f"{type(c).__name__}."
            )
    return list(criteria)


class _Combined(StoppingCriterion):
    joiner = "; "

    def __init__(self, *criteria: StoppingCriterion) -> None:
        super().__init__()
        flat: list[StoppingCriterion] = []
        for c in _check_criteria(criteria, type(self).__name__):
            flat.extend(c.criteria if type(c) is type(self) else [c])  # type: ignore[attr-defined]
        self.criteria = flat
        self.fired: list[StoppingCriterion] = []

    def _evaluate(self, state: Any) -> list[StoppingCriterion]:
        # every member sees every round, so stateful members stay in step
        decisions = [c.should_stop(state) for c in self.criteria]
        return [c for c, d in zip(self.criteria, decisions, strict=True) if d]

    def _triggered_name(self) -> str:
        return ", ".join(c.triggered or c.name for c in self.fired)

    def reset(self) -> _Combined:
        super().reset()
        self.fired = []
        for c in self.criteria:
            c.reset()
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(repr(c) for c in self.criteria)})"


class AnyOf(_Combined):
    """Stop when any member criterion fires.

    ``a | b`` builds ``AnyOf(a, b)``.  After it fires, :attr:`fired` lists the members
    that fired and :attr:`reason` joins their reasons.
    """

    name = "any_of"

    def _check(self, state: Any) -> str | None:
        self.fired = self._evaluate(state)
        if self.fired:
            return "; ".join(str(c.reason) for c in self.fired)
        return None


class AllOf(_Combined):
    """Stop when every member criterion fires in the same round.

    ``a & b`` builds ``AllOf(a, b)``.  :attr:`fired` lists the members that fired this
    round (all of them when it stops).
    """

    name = "all_of"

    def _check(self, state: Any) -> str | None:
        self.fired = self._evaluate(state)
        if len(self.fired) == len(self.criteria):
            return " and ".join(str(c.reason) for c in self.fired)
        return None


def as_stopping(obj: Any) -> StoppingCriterion | None:
    """Turn ``None``, a criterion, or a list of criteria (any of them) into one criterion.

    Raises
    ------
    TypeError
        For anything else.
    """
    if obj is None or isinstance(obj, StoppingCriterion):
        return obj
    if isinstance(obj, (list, tuple)):
        return AnyOf(*obj)
    raise TypeError(
        f"stopping must be a StoppingCriterion (e.g. BudgetExhausted(100)), a list of them, "
        f"or None; got {type(obj).__name__}."
    )
