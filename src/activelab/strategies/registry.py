"""Strategies by name, and turning whatever a user passes into a strategy object.

The family modules import this module for :func:`register` (and, to resolve the
strategies they combine, :func:`get_strategy`); it imports no family.  The built-in
families are registered by :mod:`activelab.strategies._families`, which the package's
``__init__`` imports, so every name is in the table before any code outside the
package can ask for one.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine.tasks import Task, tasks_of
from ..pool import materialize
from .base import Needs, QueryContext, QueryResult, Strategy, check_n_instances

__all__ = [
    "register",
    "get_strategy",
    "available_strategies",
    "check_strategy_task",
    "CallableStrategy",
]

_REGISTRY: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: make a strategy available by its ``name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a non-empty class attribute `name`.")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"a strategy named {cls.name!r} is already registered.")
    _REGISTRY[cls.name] = cls
    return cls


def available_strategies(task: Any = None) -> list[str]:
    """Names of the registered strategies, sorted.

    Parameters
    ----------
    task : {"classification", "multilabel", "regression"} or Task, optional
        Only the strategies that serve this task (see ``Strategy.tasks``).
    """
    if task is None:
        return sorted(_REGISTRY)
    task = Task(task)
    return sorted(name for name, cls in _REGISTRY.items() if task in tasks_of(cls))


class CallableStrategy(Strategy):
    """A plain modAL-style function ``(estimator, X, n_instances) -> indices``.

    The function may return the indices alone or ``(indices, X[indices])``;
    indices are positions into ``X``.
    """

    name = "callable"
    needs = frozenset({Needs.FEATURES, Needs.ESTIMATOR})  # f(estimator, X, n)
    tasks = frozenset({"classification", "multilabel", "regression"})  # the user's function

    def __init__(self, func: Callable[..., Any], random_state: Any = None) -> None:
        super().__init__(random_state=random_state)
        self.func = func

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        # positional, so that functions like f(model, X, n_samples=10) work as written
        out = self.func(context.estimator, materialize(context.X), n_instances)
        if isinstance(out, tuple):
            out = out[0]
        positions = np.asarray(out).ravel()
        if positions.dtype == bool:
            positions = np.flatnonzero(positions)
        if not np.issubdtype(positions.dtype, np.integer):
            raise TypeError(
                f"query strategy {getattr(self.func, '__name__', self.func)!r} returned "
                f"{positions.dtype} indices; it must return integer positions into X."
            )
        if positions.size and (positions.min() < 0 or positions.max() >= len(context)):
            raise ValueError(
                f"query strategy returned positions outside 0..{len(context) - 1}."
            )
        if np.unique(positions).size != positions.size:
            raise ValueError("query strategy returned the same position twice.")
        name = getattr(self.func, "__name__", "callable")
        return QueryResult(
            ids=context.candidate_ids[positions.astype(np.int64)],
            candidate_ids=context.candidate_ids,
            utilities=np.full(len(context), np.nan),
            strategy=name,
        )


def get_strategy(spec: Any = "margin", random_state: Any = None, **params: Any) -> Strategy:
    """Turn a name, a strategy object or a callable into a :class:`Strategy`.

    Parameters
    ----------
    spec : str, Strategy or callable
        A registered name (see :func:`available_strategies`), a strategy instance, a
        strategy class, or a function ``(estimator, X, n_instances) -> indices``.
        An instance is returned as is, except that an instance without a
        ``random_state`` given together with a ``random_state`` is returned as a
        shallow copy (``copy.copy``) with the seed set: the caller's object is never
        changed.
    random_state : int, RandomState or None
        Seed for the strategy (ignored when ``spec`` is already an instance that has one).
    **params
        Parameters for the named strategy's constructor.
    """
    if isinstance(spec, Strategy):
        if params:
            raise TypeError("strategy parameters can only be given with a strategy name.")
        if spec.random_state is None and random_state is not None:
            seeded = copy.copy(spec)
            seeded.random_state = random_state
            return seeded
        return spec
    if isinstance(spec, str):
        key = spec.strip().lower().replace("-", "_")
        if key not in _REGISTRY:
            raise ValueError(
                f"unknown query strategy {spec!r}; choose one of: "
                + ", ".join(sorted(_REGISTRY))
                + "."
            )
        cls = _REGISTRY[key]
        _check_params(cls, params)
        return cls(random_state=random_state, **params)
    if inspect.isclass(spec) and issubclass(spec, Strategy):
        _check_params(spec, params)
        return spec(random_state=random_state, **params)
    if callable(spec):
        return CallableStrategy(spec, random_state=random_state)
    raise TypeError(
        f"query_strategy must be a strategy name, a Strategy or a callable, "
        f"got {type(spec).__name__}."
    )


def _check_params(cls: type[Strategy], params: dict[str, Any]) -> None:
    sig = inspect.signature(cls.__init__)
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    unknown = [k for k in params if k not in sig.parameters and not accepts_any]
    if unknown:
        allowed = [k for k in sig.parameters if k not in ("self", "random_state")]
        raise ValueError(
            f"strategy {cls.name!r} has no parameter {unknown[0]!r}; "
            f"its parameters are: {', '.join(allowed) or 'none'}."
        )


def check_strategy_task(strategy: Any, task: Any) -> None:
    """Refuse a strategy that does not serve ``task``, naming the registered ones that do.

    Raises
    ------
    ValueError
    """
    task = Task(task)
    if task in tasks_of(strategy):
        return
    name = getattr(strategy, "name", None) or type(strategy).__name__
    served = ", ".join(sorted(t.value for t in tasks_of(strategy)))
    raise ValueError(
        f"query strategy {name!r} is for {served}, not {task.value}; for {task.value} use "
        f"one of: {', '.join(available_strategies(task=task))}."
    )
