"""Contract checks for third-party strategies, oracles, stopping rules and sinks.

Like scikit-learn's ``check_estimator``, each check runs an implementation through the
rules the rest of activelab relies on, on small data it makes itself, and raises
:class:`AssertionError` naming the first rule broken.  Call them from your own tests:

>>> from activelab.testing import check_strategy, check_stopping
>>> check_strategy("margin")                      # a name, a class or a Strategy object
>>> from activelab.stopping import BudgetExhausted
>>> check_stopping(BudgetExhausted(30))

- :func:`check_strategy`: the result is a :class:`~activelab.strategies.QueryResult`
  with ``n_instances`` unique ids chosen among the candidates and one utility per
  candidate; a seed gives the same choice; candidate ids that are not ``0..n-1``
  (offset, shuffled, large) are mapped right; the strategy works on
  ``context.subset(...)``, from a context holding only what it declares in ``needs``
  (which must be :class:`~activelab.strategies.base.Needs` values), for 1 and for all
  candidates, refuses a batch of 0 or of more than the candidates, and changes neither
  the context's arrays nor the model.  A strategy that declares ``Needs.LABEL_PROBA``
  is checked on multi-label data: ``label_proba`` (n x 3) and a 0/1 ``y_labeled`` table.
- :func:`check_oracle`: ``label(ids, pool)`` returns an
  :class:`~activelab.oracles.OracleAnswer` whose labeled and skipped ids are the ids
  asked (a prefix of them when it asks to stop), each once, labeled ids in the order
  asked, one label each.
- :func:`check_stopping`: the criterion is a
  :class:`~activelab.stopping.StoppingCriterion` that survives ``copy.deepcopy``; over
  the states of a small real run, ``should_stop`` returns a bool, the same one when
  asked twice in a round, sets a ``reason`` exactly when it fires, decides the same after
  ``reset()``, and composes with ``|`` and ``&``.
- :func:`check_sink`: ``emit`` takes the ``run_start``, ``round`` and ``run_end`` events
  of a small real run without changing them, ``close`` may be called twice, and a closed
  sink accepts events again.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from .events import EVENT_KINDS, to_jsonable
from .oracles import OracleAnswer
from .pool import Pool
from .stopping import StoppingCriterion
from .strategies.base import Needs, QueryContext, QueryResult, Strategy, needs_of
from .strategies.query import query_context
from .strategies.registry import get_strategy

__all__ = ["check_strategy", "check_oracle", "check_stopping", "check_sink"]

#: Pool ids of the candidates in the strategy checks (offset, as in a real pool).
_CANDIDATE_IDS = np.arange(100, 140, dtype=np.int64)
_N_LABELED = 30


def _fail(who: str, rule: str, detail: str = "") -> None:
    raise AssertionError(f"{who}: {rule}" + (f": {detail}" if detail else ""))


@lru_cache(maxsize=1)
def _blobs() -> tuple[np.ndarray, np.ndarray]:
    """70 rows of 4 features around 3 centres; labels 0, 1, 2 (fixed seed)."""
    rng = np.random.RandomState(0)
    centres = np.array([[0.0, 0.0, 0.0, 0.0], [3.0, 0.0, 1.0, 0.5], [0.0, 3.0, -1.0, 1.0]])
    y = np.tile(np.arange(3), 24)[:70]
    X = centres[y] + rng.randn(70, 4)
    return X, y


# --------------------------------------------------------------------------- strategies
@lru_cache(maxsize=1)
def _model_outputs() -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    from .learners import Committee

    X, y = _blobs()
    X_lab, y_lab, X_cand = X[:_N_LABELED], y[:_N_LABELED], X[_N_LABELED:]
    model = LogisticRegression(max_iter=500).fit(X_lab, y_lab)
    committee = Committee.bagging(LogisticRegression(max_iter=500), 3, X_lab, y_lab,
                                  random_state=0)
    members = committee.committee_proba(X_cand)
    rng = np.random.RandomState(1)
    return {
        "X": X_cand, "X_labeled": X_lab, "y_labeled": y_lab, "model": model,
        "committee": committee, "proba": model.predict_proba(X_cand),
        "committee_proba": members, "sampled_proba": members, "classes": model.classes_,
        "costs": 1.0 + np.arange(len(X_cand)) % 3, "embeddings": rng.randn(len(X_cand), 6),
        **_regression_outputs(X_lab, X_cand),
    }


#: The needs that mark a regression strategy: its context gets a regressor and real targets.
_REGRESSION_NEEDS = frozenset({Needs.PREDICTIONS, Needs.COMMITTEE_PREDICTIONS,
                               Needs.PREDICTIVE_STD})


def _regression_outputs(X_lab: np.ndarray, X_cand: np.ndarray) -> dict[str, Any]:
    """A ridge model and a bagging committee of ridges on real targets ``X w + noise``."""
    from sklearn.linear_model import BayesianRidge, Ridge

    from .learners import Committee

    rng = np.random.RandomState(2)
    w = np.array([1.5, -2.0, 0.5, 1.0])
    y_real = X_lab @ w + 0.3 * rng.randn(X_lab.shape[0])
    regressor = Ridge(alpha=1.0).fit(X_lab, y_real)
    committee = Committee.bagging(Ridge(alpha=1.0), 3, X_lab, y_real, random_state=0)
    return {
        "y_real": y_real, "regressor": regressor, "reg_committee": committee,
        "predictions": regressor.predict(X_cand),
        "committee_predictions": committee.committee_predictions(X_cand),
        "predictive_std": BayesianRidge().fit(X_lab, y_real).predict(X_cand, return_std=True)[1],
    }


@lru_cache(maxsize=1)
def _multilabel_outputs() -> dict[str, Any]:
    """Three labels on the same rows (class 0, class 1, first feature > 0), and the
    label probabilities of a one-vs-rest logistic regression fitted on them."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    X, y = _blobs()
    Y = np.column_stack([y == 0, y == 1, X[:, 0] > 0]).astype(np.int8)
    model = OneVsRestClassifier(LogisticRegression(max_iter=500)).fit(X[:_N_LABELED],
                                                                      Y[:_N_LABELED])
    return {"model": model, "y_labeled": Y[:_N_LABELED],
            "label_proba": model.predict_proba(X[_N_LABELED:])}


def _arrays(needs: frozenset[Needs]) -> dict[str, Any]:
    """Fresh copies of the inputs the strategy declares (and only those)."""
    if Needs.LABEL_PROBA in needs:
        return _multilabel_arrays(needs)
    out = _model_outputs()
    given: dict[str, Any] = {"classes": out["classes"].copy(), "extras": {}}
    if Needs.FEATURES in needs:
        given["X"] = out["X"].copy()
    if Needs.PROBA in needs:
        given["proba"] = out["proba"].copy()
    if Needs.COMMITTEE_PROBA in needs:
        given["committee_proba"] = out["committee_proba"].copy()
    if Needs.SAMPLED_PROBA in needs:
        given["extras"]["sampled_proba"] = out["sampled_proba"].copy()
    if Needs.EMBEDDINGS in needs:
        given["extras"]["embeddings"] = out["embeddings"].copy()
    for need in (Needs.PREDICTIONS, Needs.COMMITTEE_PREDICTIONS, Needs.PREDICTIVE_STD):
        if need in needs:
            given["extras"][need.value] = out[need.value].copy()
    if Needs.LABELED in needs:
        given["X_labeled"] = out["X_labeled"].copy()
        given["y_labeled"] = (out["y_real"] if needs & _REGRESSION_NEEDS else out["y_labeled"]).copy()
    if Needs.COSTS in needs:
        given["costs"] = out["costs"].copy()
    return given


def _multilabel_arrays(needs: frozenset[Needs]) -> dict[str, Any]:
    """The inputs of a multi-label strategy: ``label_proba`` and a 0/1 label table."""
    multi = _multilabel_outputs()
    given = _arrays(needs - {Needs.LABEL_PROBA})
    given.pop("classes")
    given["extras"]["label_proba"] = multi["label_proba"].copy()
    if Needs.LABELED in needs:
        given["y_labeled"] = multi["y_labeled"].copy()
    return given


def _model_for(needs: frozenset[Needs]) -> Any:
    """A copy of the fitted model (a committee for committee strategies), when declared."""
    if Needs.ESTIMATOR not in needs:
        return None
    if Needs.LABEL_PROBA in needs:
        return copy.deepcopy(_multilabel_outputs()["model"])
    out = _model_outputs()
    if needs & _REGRESSION_NEEDS:
        return copy.deepcopy(out["reg_committee"] if Needs.COMMITTEE_PREDICTIONS in needs
                             else out["regressor"])
    return copy.deepcopy(out["committee"] if Needs.COMMITTEE_PROBA in needs else out["model"])


def _context(needs: frozenset[Needs], ids: np.ndarray = _CANDIDATE_IDS,
             given: dict[str, Any] | None = None, model: Any = None) -> QueryContext:
    if given is None:
        given, model = _arrays(needs), _model_for(needs)
    kwargs = {k: v for k, v in given.items() if k != "X"}
    return query_context(model, given.get("X"), ids, **kwargs)


def _name_of(strategy: Any) -> str:
    if isinstance(strategy, str):
        return strategy
    return getattr(strategy, "name", "") or getattr(strategy, "__name__", "") or type(
        strategy).__name__


def _fresh(strategy: Any, seed: int) -> Strategy:
    """A new strategy object seeded with ``seed`` (a copy when given an object)."""
    if isinstance(strategy, Strategy):
        fresh = copy.deepcopy(strategy)
        fresh.random_state = seed
        return fresh
    return get_strategy(strategy, random_state=seed)


def _select(strategy: Any, context: QueryContext, n: int, who: str, when: str,
            seed: int = 0) -> Any:
    try:
        return _fresh(strategy, seed).select(context, n)
    except Exception as exc:
        raise AssertionError(
            f"{who}: select() failed {when}: {type(exc).__name__}: {exc}"
        ) from exc


def _check_needs(strategy: Any, who: str) -> frozenset[Needs]:
    declared = getattr(_fresh(strategy, 0), "needs", frozenset())
    if isinstance(declared, str):
        _fail(who, "needs must be a set of Needs values", f"got the string {declared!r}")
    try:
        return needs_of(_fresh(strategy, 0))
    except (ValueError, TypeError) as exc:
        raise AssertionError(f"{who}: needs must hold Needs values: {exc}") from exc


def _check_result(result: Any, context: QueryContext, n: int, who: str, when: str) -> None:
    if not isinstance(result, QueryResult):
        _fail(who, f"select() must return a QueryResult {when}", f"got {type(result).__name__}")
    ids = np.asarray(result.ids)
    cand = context.candidate_ids
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        _fail(who, f"ids must be a 1-D integer array {when}",
              f"got shape {ids.shape}, dtype {ids.dtype}")
    if ids.size != n:
        _fail(who, f"it must choose n_instances ids {when}",
              f"asked for {n}, got {ids.size}")
    if np.unique(ids).size != ids.size:
        _fail(who, f"ids must be unique {when}", f"got {ids.tolist()}")
    outside = ids[~np.isin(ids, cand)]
    if outside.size:
        _fail(who, f"ids must be chosen among the candidate ids {when}",
              f"{outside[:5].tolist()} are not candidates (positions leaking instead of ids? "
              "map them with context.candidate_ids[positions])")
    if not np.array_equal(np.asarray(result.candidate_ids), cand):
        _fail(who, f"candidate_ids must be the context's candidate ids {when}")
    if np.asarray(result.utilities).shape != cand.shape:
        _fail(who, f"utilities must hold one value per candidate, aligned with candidate_ids "
              f"{when}", f"shape {np.asarray(result.utilities).shape}, expected {cand.shape}")
    if not isinstance(result.info, dict):
        _fail(who, f"info must be a dict {when}", f"got {type(result.info).__name__}")


def _snapshot(given: dict[str, Any], model: Any) -> dict[str, Any]:
    arrays = {k: np.array(v, copy=True) for k, v in given.items() if isinstance(v, np.ndarray)}
    arrays.update({f"extras[{k!r}]": np.array(v, copy=True) for k, v in given["extras"].items()})
    if model is not None:
        X = _model_outputs()["X"]
        arrays["the model's predictions"] = _model_output(model, X)
    return arrays


def _model_output(model: Any, X: np.ndarray) -> np.ndarray:
    """What the model says about ``X``: member outputs of a committee, else its
    probabilities (a classifier) or predictions (a regressor)."""
    if hasattr(model, "committee_predictions") and getattr(model, "task_", "") == "regression":
        return model.committee_predictions(X)
    if hasattr(model, "committee_proba"):
        return model.committee_proba(X)
    return model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)


def _check_unchanged(before: dict[str, Any], given: dict[str, Any], model: Any,
                     who: str) -> None:
    after = _snapshot(given, model)
    for key, value in before.items():
        if not np.array_equal(value, after[key], equal_nan=value.dtype.kind == "f"):
            _fail(who, "select() must not change its inputs",
                  f"{key} changed (copy before writing, and never refit the given model)")


def check_strategy(strategy: Any, *, n_instances: int = 3) -> None:
    """Check that a query strategy keeps the strategy contract.

    Parameters
    ----------
    strategy : Strategy, Strategy class, registered name or callable
        A strategy object is deep-copied (and re-seeded) for every query; names,
        classes and callables go through :func:`activelab.get_strategy`.
    n_instances : int, default=3
        Batch size of the main queries (the candidates number 40).

    Raises
    ------
    AssertionError
        Naming the first rule broken (see the module docstring).
    """
    who = f"check_strategy({_name_of(strategy)})"
    needs = _check_needs(strategy, who)
    given = _arrays(needs)
    model = _model_for(needs)
    context = _context(needs, given=given, model=model)
    before = _snapshot(given, model)
    when = f"on a context holding only what it declares (needs={sorted(map(str, needs))})"
    result = _select(strategy, context, n_instances, who, when)
    _check_result(result, context, n_instances, who, when)
    _check_unchanged(before, given, model, who)
    _check_same_seed(strategy, needs, result, n_instances, who)
    _check_id_mapping(strategy, needs, result, n_instances, who)
    _check_subset(strategy, needs, n_instances, who)
    _check_batch_sizes(strategy, needs, who)


def _check_same_seed(strategy: Any, needs: frozenset[Needs], first: QueryResult, n: int,
                     who: str) -> None:
    again = _select(strategy, _context(needs), n, who, "on a second, identical context")
    if np.asarray(again.ids).tolist() != np.asarray(first.ids).tolist():
        _fail(who, "the same random_state must give the same ids",
              f"{np.asarray(first.ids).tolist()} then {np.asarray(again.ids).tolist()} "
              "(draw randomness only from random_state)")
    if not np.array_equal(np.asarray(again.utilities, dtype=float),
                          np.asarray(first.utilities, dtype=float), equal_nan=True):
        _fail(who, "the same random_state must give the same utilities")


def _check_id_mapping(strategy: Any, needs: frozenset[Needs], first: QueryResult, n: int,
                      who: str) -> None:
    rng = np.random.RandomState(7)
    odd_ids = (10**12 + 7919 * rng.permutation(_CANDIDATE_IDS.size)).astype(np.int64)
    context = _context(needs, ids=odd_ids)
    when = "with candidate ids that are not 0..n-1 (shuffled, offset, large)"
    result = _select(strategy, context, n, who, when)
    _check_result(result, context, n, who, when)
    positions = np.searchsorted(_CANDIDATE_IDS, np.asarray(first.ids))
    expected = odd_ids[positions]
    if np.asarray(result.ids).tolist() != expected.tolist():
        _fail(who, f"ids must follow the candidates' rows {when}",
              f"the rows chosen with ids {_CANDIDATE_IDS[0]}..{_CANDIDATE_IDS[-1]} have ids "
              f"{expected.tolist()} here, but it chose {np.asarray(result.ids).tolist()} "
              "(use context.candidate_ids[positions]; never index by id)")
    if not np.allclose(np.asarray(result.utilities, dtype=float),
                       np.asarray(first.utilities, dtype=float), equal_nan=True):
        _fail(who, f"utilities must follow the candidates' rows {when}")


def _check_subset(strategy: Any, needs: frozenset[Needs], n: int, who: str) -> None:
    positions = np.arange(_CANDIDATE_IDS.size - 1, 0, -3)  # every third candidate, reversed
    context = _context(needs).subset(positions)
    when = f"on context.subset(...) ({len(context)} of the candidates, in another order)"
    k = min(n, len(context))
    _check_result(_select(strategy, context, k, who, when), context, k, who, when)


def _check_batch_sizes(strategy: Any, needs: frozenset[Needs], who: str) -> None:
    n_all = _CANDIDATE_IDS.size
    context = _context(needs)
    _check_result(_select(strategy, context, 1, who, "for n_instances=1"), context, 1, who,
                  "for n_instances=1")
    when = "for n_instances = all the candidates"
    context = _context(needs)
    _check_result(_select(strategy, context, n_all, who, when), context, n_all, who, when)
    for bad in (0, n_all + 1):
        try:
            _fresh(strategy, 0).select(_context(needs), bad)
        except ValueError:
            continue
        except Exception as exc:
            _fail(who, f"n_instances={bad} must be refused with ValueError",
                  f"got {type(exc).__name__}: {exc}")
        _fail(who, f"n_instances={bad} must be refused with ValueError",
              "nothing was raised (use activelab.strategies.base.check_n_instances)")


# --------------------------------------------------------------------------- oracles
#: The ids asked in the oracle check: unsorted, first and last rows included.
_ORACLE_IDS = np.array([17, 3, 69, 0, 42, 8], dtype=np.int64)


def check_oracle(oracle: Any, *, pool: Any = None, ids: Any = None) -> None:
    """Check that an oracle keeps the oracle contract.

    Parameters
    ----------
    oracle : Oracle or callable
        An object with ``label(ids, pool)``, or a factory ``factory(y) -> oracle``
        (a class such as ``SimulatedOracle`` will do) called with the true labels of
        the check's 70-item pool; the factory's oracle must answer with those classes.
        Wrap a plain function ``f(ids, X_rows)`` in :func:`activelab.oracles.as_oracle`.
    pool : Pool, optional
        The pool to ask about (for an oracle object); by default the check's pool of
        70 items with labels ``0, 1, 2``.
    ids : array-like of int, optional
        The ids to ask, by default six unsorted ids of the pool.

    Raises
    ------
    AssertionError
        Naming the first rule broken.
    """
    X, y = _blobs()
    factory = inspect.isclass(oracle) or not hasattr(oracle, "label")
    if factory and pool is not None:
        raise ValueError("give pool only with an oracle object; a factory gets the check's pool.")
    pool = Pool(X) if pool is None else pool
    who = f"check_oracle({getattr(oracle, '__name__', None) or type(oracle).__name__})"
    if factory:
        if not callable(oracle):
            _fail(who, "give an object with label(ids, pool), or a factory factory(y)")
        oracle = oracle(y.copy())
    asked = (_ORACLE_IDS if ids is None else np.asarray(ids, dtype=np.int64)).copy()
    try:
        answer = oracle.label(asked, pool)
    except Exception as exc:
        raise AssertionError(f"{who}: label(ids, pool) failed: {type(exc).__name__}: {exc}") \
            from exc
    if not np.array_equal(asked, _ORACLE_IDS if ids is None else np.asarray(ids)):
        _fail(who, "label() must not change the ids it is given")
    _check_answer(answer, asked, who)
    if factory and answer.labels.size:
        strange = np.setdiff1d(np.asarray(answer.labels), np.unique(y))
        if strange.size:
            _fail(who, "labels must be classes of the true labels",
                  f"{strange[:5].tolist()} are not among {np.unique(y).tolist()}")


def _check_answer(answer: Any, asked: np.ndarray, who: str) -> None:
    if not isinstance(answer, OracleAnswer):
        _fail(who, "label() must return an OracleAnswer", f"got {type(answer).__name__}")
    got = np.asarray(answer.ids, dtype=np.int64)
    skipped = np.asarray(answer.skipped, dtype=np.int64)
    if np.asarray(answer.labels).shape != got.shape:
        _fail(who, "one label per labeled id",
              f"{got.size} ids, labels of shape {np.asarray(answer.labels).shape}")
    both = np.concatenate([got, skipped])
    if np.unique(both).size != both.size:
        _fail(who, "each asked id must be labeled or skipped once",
              f"ids {got.tolist()}, skipped {skipped.tolist()}")
    extra = np.setdiff1d(both, asked)
    if extra.size:
        _fail(who, "only the asked ids may be labeled or skipped",
              f"{extra.tolist()} were not asked")
    covered = set(asked[: both.size].tolist()) == set(both.tolist())
    if not covered or (not answer.stop and both.size != asked.size):
        _fail(who, "the labeled and skipped ids must be the ids asked (the first ones, when "
              "the oracle asks to stop)",
              f"asked {asked.tolist()}, labeled {got.tolist()}, skipped {skipped.tolist()}, "
              f"stop={bool(answer.stop)}")
    rank = {v: i for i, v in enumerate(asked.tolist())}
    ranks = [rank[v] for v in got.tolist()]
    if ranks != sorted(ranks):
        _fail(who, "labeled ids must come in the order asked",
              f"asked {asked.tolist()}, labeled {got.tolist()}")


# --------------------------------------------------------------------------- the tiny run
class _Recorder(StoppingCriterion):
    """Never stops; hands a copy of every state to ``keep`` (survives the loop's deepcopy)."""

    name = "recorder"

    def __init__(self, keep: Callable[[Any], None]) -> None:
        super().__init__()
        self.keep = keep

    def _check(self, state: Any) -> str | None:
        self.keep(copy.deepcopy(state))
        return None


class _Collector:
    def __init__(self, keep: Callable[[dict[str, Any]], None]) -> None:
        self.keep = keep

    def emit(self, event: dict[str, Any]) -> None:
        self.keep(copy.deepcopy(event))

    def close(self) -> None:
        pass


@lru_cache(maxsize=1)
def _tiny_run() -> tuple[list[Any], list[dict[str, Any]]]:
    """The loop states and events of a small real run (7 rounds, 10 + 5 per round)."""
    from sklearn.linear_model import LogisticRegression

    from .loop import run

    X, y = _blobs()
    states: list[Any] = []
    events: list[dict[str, Any]] = []
    run(LogisticRegression(max_iter=300), X, y, X_test=X, y_test=y, initial=10,
        batch_size=5, budget=45, stopping=_Recorder(states.append),
        sinks=[_Collector(events.append)], random_state=0)
    for state in states:  # timings made exact, so that TimeLimit decides the same each time
        state.elapsed_seconds = float(state.round)
        state.started_at = 0.0
    return states, events


def _states() -> list[Any]:
    return copy.deepcopy(_tiny_run()[0])


def _events() -> list[dict[str, Any]]:
    return copy.deepcopy(_tiny_run()[1])


# --------------------------------------------------------------------------- stopping
class _Always(StoppingCriterion):
    name = "always"

    def _check(self, state: Any) -> str | None:
        return "always fires"


class _Never(StoppingCriterion):
    name = "never"

    def _check(self, state: Any) -> str | None:
        return None


def _replay(criterion: Any, who: str, label: str) -> list[tuple[bool, Any]]:
    """Ask ``criterion`` round by round, as the loop does, until it fires."""
    decisions: list[tuple[bool, Any]] = []
    for state in _states():
        try:
            first = criterion.should_stop(state)
            second = criterion.should_stop(state)
        except Exception as exc:
            raise AssertionError(
                f"{who}: {label}should_stop() failed in round {state.round}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(first, (bool, np.bool_)):
            _fail(who, f"{label}should_stop() must return a bool",
                  f"got {type(first).__name__} in round {state.round}")
        if bool(second) != bool(first):
            _fail(who, f"{label}asked twice in one round it must answer the same",
                  f"round {state.round}: {first} then {second}")
        reason = getattr(criterion, "reason", None)
        if first and not (isinstance(reason, str) and reason.strip()):
            _fail(who, f"{label}reason must say why when it fires",
                  f"round {state.round}: reason={reason!r}")
        if not first and reason is not None:
            _fail(who, f"{label}reason must be None when it does not fire",
                  f"round {state.round}: reason={reason!r}")
        decisions.append((bool(first), reason))
        if first:
            break
    return decisions


def check_stopping(criterion: Any) -> None:
    """Check that a stopping criterion keeps the stopping contract.

    The criterion is asked, round by round, about the states of a small real run
    (70 items, 10 initial labels, 5 per round, rounds 0 to 6, ``elapsed_seconds`` equal
    to the round number, test metrics on the pool), as the loop asks: a deep copy, reset,
    until it fires.  An unset ``random_state`` attribute is set to 0 on the copies, so
    that a criterion that draws random numbers decides the same in every replay.

    Raises
    ------
    AssertionError
        Naming the first rule broken.
    """
    who = f"check_stopping({type(criterion).__name__})"
    if not isinstance(criterion, StoppingCriterion):
        _fail(who, "it must subclass activelab.StoppingCriterion (for |, &, reason, reset)",
              f"got {type(criterion).__name__}")
    try:
        fresh = _seeded_copy(criterion)
    except Exception as exc:
        raise AssertionError(f"{who}: the loop copies criteria with copy.deepcopy, which "
                             f"failed: {type(exc).__name__}: {exc}") from exc
    template = copy.deepcopy(fresh)
    decisions = _replay(fresh, who, "")
    reset = fresh.reset()
    if reset is not fresh:
        _fail(who, "reset() must return the criterion itself", f"got {reset!r}")
    again = _replay(fresh, who, "after reset(), ")
    if [d for d, _ in again] != [d for d, _ in decisions]:
        _fail(who, "after reset() it must decide as a fresh criterion",
              f"{[d for d, _ in decisions]} then {[d for d, _ in again]}")
    _check_composition(template, decisions, who)


def _seeded_copy(criterion: StoppingCriterion) -> StoppingCriterion:
    """A deep copy whose unset ``random_state`` (members' too) is 0, so replays agree."""
    fresh = copy.deepcopy(criterion)
    todo = [fresh]
    while todo:
        c = todo.pop()
        if "random_state" in vars(c) and c.random_state is None:
            c.random_state = 0
        todo.extend(getattr(c, "criteria", []))
    fresh.reset()
    return fresh


def _check_composition(criterion: StoppingCriterion, decisions: list[tuple[bool, Any]],
                       who: str) -> None:
    fired = [d for d, _ in decisions]
    reason = decisions[-1][1] if fired and fired[-1] else None
    cases = {
        "c | never": (lambda c: c | _Never(), fired),
        "never | c": (lambda c: _Never() | c, fired),
        "c & always": (lambda c: c & _Always(), fired),
        "c & never": (lambda c: c & _Never(), [False] * len(_states())),
    }
    for label, (compose, expected) in cases.items():
        combined = compose(copy.deepcopy(criterion))
        got = _replay(combined, who, f"{label}: ")
        if [d for d, _ in got] != expected:
            _fail(who, f"{label} must fire exactly when expected",
                  f"expected {expected}, got {[d for d, _ in got]}")
        if reason is not None and expected[-1] and reason not in str(got[-1][1]):
            _fail(who, f"{label}: the combined reason must include the criterion's",
                  f"{got[-1][1]!r} does not contain {reason!r}")


# --------------------------------------------------------------------------- sinks
def check_sink(sink: Any) -> None:
    """Check that an event sink keeps the sink contract.

    Parameters
    ----------
    sink : sink or callable
        A sink object (with ``emit`` and ``close``), or a factory without arguments
        that makes a fresh one (a class will do).

    Raises
    ------
    AssertionError
        Naming the first rule broken.
    """
    made = sink() if inspect.isclass(sink) or not hasattr(sink, "emit") else sink
    who = f"check_sink({type(made).__name__})"
    for method in ("emit", "close"):
        if not callable(getattr(made, method, None)):
            _fail(who, f"a sink must have {method}()")
    events = _events()
    assert {e["event"] for e in events} == set(EVENT_KINDS)  # the run gives every kind
    for event in events:
        _emit(made, event, who, "")
    for attempt in ("first", "second"):
        try:
            made.close()
        except Exception as exc:
            raise AssertionError(f"{who}: close() must be safe to call twice; the {attempt} "
                                 f"call failed: {type(exc).__name__}: {exc}") from exc
    _emit(made, events[0], who, "after close() (a closed sink may be used again), ")
    made.close()


def _emit(sink: Any, event: dict[str, Any], who: str, when: str) -> None:
    before = json.dumps(to_jsonable(event), sort_keys=True)
    try:
        sink.emit(event)
    except Exception as exc:
        raise AssertionError(
            f"{who}: {when}emit() failed on a {event.get('event')!r} event: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if json.dumps(to_jsonable(event), sort_keys=True) != before:
        _fail(who, f"{when}emit() must not change the event",
              f"the {event.get('event')!r} event changed (other sinks get the same dict)")
