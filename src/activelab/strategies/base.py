"""The strategy contract: a utility per candidate plus a selector.

A *strategy* receives a :class:`QueryContext` (the candidates of one round and the
model outputs computed for them, once) and returns a :class:`QueryResult` (the chosen
pool ids, the utility of every candidate it scored, and named facts).  Most strategies
only define :meth:`UtilityStrategy.utility`; the top-k selection with seeded tie
breaking is shared.

This module is the contract only.  Probabilities are computed by
:mod:`activelab.proba` (``QueryContext.proba`` calls it), rows are taken with
:func:`activelab.pool.take_rows`, and strategies are named and found by
:mod:`activelab.strategies.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar

import numpy as np
from sklearn.utils import check_random_state

from .._ranks import near_top
from ..pool import n_rows, take_rows
from ..proba import predict_proba_chunked

__all__ = [
    "Needs",
    "needs_of",
    "QueryContext",
    "QueryResult",
    "Strategy",
    "UtilityStrategy",
    "top_k",
    "select_top",
    "check_n_instances",
    "MODEL_NEEDS",
]


#: Pools larger than this get a sampled lower bound of the top-k threshold first.


class Needs(str, Enum):
    """What a strategy reads from a :class:`QueryContext`.

    Every face asks a strategy what it needs (``needs_of(strategy)``) instead of keeping
    lists of strategy names.  The members compare equal to their string values, so a
    third-party strategy may still declare ``needs = frozenset({"proba"})``.
    """

    PROBA = "proba"
    """Class probabilities of the candidates (``context.proba``)."""
    COMMITTEE_PROBA = "committee_proba"
    """Member probabilities of a committee (``context.committee_proba``)."""
    SAMPLED_PROBA = "sampled_proba"
    """Sampled probabilities, T x n x C (MC dropout, ensembles): ``context.extras``."""
    FEATURES = "features"
    """The candidates' feature rows (``context.X``)."""
    LABELED = "labeled"
    """The labeled set (``context.X_labeled``, ``context.y_labeled``)."""
    ESTIMATOR = "estimator"
    """The fitted model itself (``context.estimator``), e.g. to refit or read weights."""
    COSTS = "costs"
    """A labeling cost per candidate (``context.costs``)."""
    EMBEDDINGS = "embeddings"
    """Learned embeddings of the candidates (``context.extras["embeddings"]``, and of the
    labeled rows ``context.extras["labeled_embeddings"]``), used when the model provides
    them (an ``embed`` hook, or given by the caller); a strategy that declares it works
    on the features otherwise, so a face that has no embeddings can still run it."""
    LABEL_PROBA = "label_proba"
    """Multi-label: P(label j applies) per candidate, n x L (``context.label_proba``)."""
    PREDICTIONS = "predictions"
    """Regression: the model's predicted value per candidate (``context.predictions``)."""
    COMMITTEE_PREDICTIONS = "committee_predictions"
    """Regression: each member's prediction, members x n (``context.committee_predictions``)."""
    PREDICTIVE_STD = "predictive_std"
    """Regression: the model's own predictive standard deviation (``context.predictive_std``)."""

    def __str__(self) -> str:
        return self.value


#: The needs that require a fitted model.
MODEL_NEEDS = frozenset({Needs.PROBA, Needs.COMMITTEE_PROBA, Needs.ESTIMATOR})


def needs_of(strategy: Any) -> frozenset[Needs]:
    """The :class:`Needs` of a strategy (or strategy class), normalised to members.

    Raises
    ------
    ValueError
        When the strategy declares a need that is not a :class:`Needs` value.
    """
    declared = getattr(strategy, "needs", frozenset()) or frozenset()
    out = set()
    for need in declared:
        try:
            out.add(Needs(need))
        except ValueError:
            raise ValueError(
                f"strategy {getattr(strategy, 'name', strategy)!r} declares need {need!r}; "
                f"use one of: {', '.join(n.value for n in Needs)}."
            ) from None
    return frozenset(out)


@dataclass(frozen=True)
class QueryResult:
    """What a strategy chose, and why.

    Attributes
    ----------
    ids : ndarray of int64, shape (n_chosen,)
        Chosen pool ids, most useful first.
    candidate_ids : ndarray of int64, shape (n_candidates,)
        The pool ids that were scored.
    utilities : ndarray of float64, shape (n_candidates,)
        Utility of each candidate (higher = more worth labeling), aligned with
        ``candidate_ids``.  Batch-aware strategies store the score they ranked by.
    strategy : str
        Name of the strategy that produced the result.
    info : dict
        Named facts about the choice (e.g. which bandit arm, the pre-filter size).
    """

    ids: np.ndarray
    candidate_ids: np.ndarray
    utilities: np.ndarray
    strategy: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    def utility_of(self, ids: np.ndarray | list[int]) -> np.ndarray:
        """Utility of the given pool ids (NaN for ids that were not scored)."""
        ids = np.asarray(ids, dtype=np.int64)
        cand = self.candidate_ids
        # candidates usually arrive sorted (the pool's unlabeled ids): skip the O(n log n) sort
        if cand.size < 2 or bool(np.all(cand[1:] > cand[:-1])):
            order = np.arange(cand.size)
        else:
            order = np.argsort(cand, kind="stable")
        sorted_ids = cand[order]
        pos = np.searchsorted(sorted_ids, ids)
        pos = np.clip(pos, 0, max(len(sorted_ids) - 1, 0))
        out = np.full(ids.shape, np.nan)
        if len(sorted_ids):
            hit = sorted_ids[pos] == ids
            out[hit] = self.utilities[order[pos[hit]]]
        return out

    def ranks(self) -> np.ndarray:
        """Rank of each chosen id within the batch (1 = chosen first)."""
        return np.arange(1, len(self.ids) + 1)


class QueryContext:
    """The candidates of one query round and their model outputs, computed once.

    Model outputs are computed lazily and cached, so that several strategies (or a
    strategy and the loop's logging) share one ``predict_proba`` call.  Any of them
    can also be given precomputed.

    Parameters
    ----------
    candidate_ids : array-like of int
        Pool ids of the candidates.
    X : array-like or sparse matrix, optional
        Features of the candidates, row ``i`` belonging to ``candidate_ids[i]``.
    estimator : fitted classifier, optional
        Model used to compute probabilities when they are not given.
    proba : ndarray of shape (n_candidates, n_classes), optional
        Precomputed class probabilities.
    committee_proba : ndarray of shape (n_members, n_candidates, n_classes), optional
        Precomputed member probabilities, aligned on one class order.
    X_labeled, y_labeled : optional
        The labeled set (needed by diversity and expected-error strategies).
    classes : ndarray, optional
        Class labels in the column order of the probabilities.
    costs : ndarray of shape (n_candidates,), optional
        Labeling cost of each candidate (for cost-aware strategies).
    extras : dict, optional
        Anything else a strategy needs (embeddings, sampled probabilities, ...).
    """

    def __init__(
        self,
        candidate_ids: Any,
        X: Any = None,
        *,
        estimator: Any = None,
        proba: np.ndarray | None = None,
        committee_proba: np.ndarray | None = None,
        X_labeled: Any = None,
        y_labeled: Any = None,
        classes: np.ndarray | None = None,
        costs: np.ndarray | None = None,
        extras: dict[str, Any] | None = None,
    ) -> None:
        self.candidate_ids = np.asarray(candidate_ids, dtype=np.int64).ravel()
        self.X = X
        self.estimator = estimator
        self._proba = None if proba is None else np.asarray(proba, dtype=np.float64)
        self._committee_proba = (
            None if committee_proba is None else np.asarray(committee_proba, dtype=np.float64)
        )
        self.X_labeled = X_labeled
        self.y_labeled = None if y_labeled is None else np.asarray(y_labeled)
        self._classes = classes
        self.costs = None if costs is None else np.asarray(costs, dtype=np.float64)
        self.extras: dict[str, Any] = dict(extras or {})
        n = len(self.candidate_ids)
        if X is not None and n_rows(X) != n:
            raise ValueError(
                f"X has {n_rows(X)} rows but candidate_ids has {n}; "
                "pass one feature row per candidate id."
            )
        if self.costs is not None and self.costs.shape != (n,):
            raise ValueError(
                f"costs has shape {self.costs.shape}; expected ({n},), one cost per candidate."
            )

    def __len__(self) -> int:
        return len(self.candidate_ids)

    @property
    def proba(self) -> np.ndarray:
        """Class probabilities of the candidates, shape (n_candidates, n_classes)."""
        if self._proba is None:
            if self.estimator is None:
                raise ValueError(
                    "this strategy needs class probabilities: pass a fitted estimator "
                    "or precomputed proba to the query."
                )
            self._proba = predict_proba_chunked(self.estimator, self.X)
        return self._proba

    @property
    def proba_if_known(self) -> np.ndarray | None:
        """The class probabilities when they were given or already computed, else None.

        Reading it computes nothing: a utility that is a function of each row's
        probabilities can then score the pool block by block
        (:func:`activelab.proba.reduce_proba`) instead of asking for :attr:`proba`.
        """
        return self._proba

    @property
    def committee_proba_if_known(self) -> np.ndarray | None:
        """The member probabilities when they were given or already computed, else None."""
        return self._committee_proba

    @property
    def committee_proba(self) -> np.ndarray:
        """Member probabilities, shape (n_members, n_candidates, n_classes)."""
        if self._committee_proba is None:
            member_proba = getattr(self.estimator, "committee_proba", None)
            if member_proba is None:
                raise ValueError(
                    "this strategy needs a committee: use activelab.Committee as the learner "
                    "or pass committee_proba (n_members x n_candidates x n_classes)."
                )
            self._committee_proba = np.asarray(member_proba(self.X), dtype=np.float64)
        return self._committee_proba

    def _output(self, key: str, compute: Any) -> np.ndarray:
        """A per-task model output, computed once and kept in :attr:`extras`."""
        if key not in self.extras:
            if self.estimator is None:
                raise ValueError(
                    f"this strategy needs {key.replace('_', ' ')}: pass a fitted estimator "
                    f"or extras={{{key!r}: ...}} to the query."
                )
            self.extras[key] = compute(self.estimator, self.X)
        return self.extras[key]

    @property
    def label_proba(self) -> np.ndarray:
        """Multi-label: P(label j applies) per candidate, shape (n_candidates, n_labels)."""
        from ..outputs import label_marginals

        return self._output("label_proba", label_marginals)

    @property
    def predictions(self) -> np.ndarray:
        """Regression: the model's predicted value per candidate, shape (n_candidates,)."""
        from ..outputs import predict_values

        return self._output("predictions", predict_values)

    @property
    def committee_predictions(self) -> np.ndarray:
        """Regression: each member's prediction, shape (n_members, n_candidates)."""
        from ..outputs import member_predictions

        return self._output("committee_predictions", member_predictions)

    @property
    def predictive_std(self) -> np.ndarray:
        """Regression: the model's predictive standard deviation, shape (n_candidates,)."""
        from ..outputs import predictive_std

        return self._output("predictive_std", predictive_std)

    @property
    def classes(self) -> np.ndarray | None:
        """Class labels in probability column order, when known."""
        if self._classes is None and self.estimator is not None:
            self._classes = getattr(self.estimator, "classes_", None)
        return self._classes

    def subset(self, positions: np.ndarray) -> QueryContext:
        """A context restricted to some candidates (positions into this context)."""
        positions = np.asarray(positions, dtype=np.int64)
        return QueryContext(
            self.candidate_ids[positions],
            None if self.X is None else take_rows(self.X, positions),
            estimator=self.estimator,
            proba=None if self._proba is None else self._proba[positions],
            committee_proba=None
            if self._committee_proba is None
            else self._committee_proba[:, positions],
            X_labeled=self.X_labeled,
            y_labeled=self.y_labeled,
            classes=self._classes,
            costs=None if self.costs is None else self.costs[positions],
            extras={k: _subset_extra(k, v, positions, len(self)) for k, v in self.extras.items()},
        )


_CANDIDATES_ON_AXIS_1 = frozenset({"sampled_proba", "committee_predictions"})


def _subset_extra(key: str, value: Any, positions: np.ndarray, n: int) -> Any:
    # sampled probabilities (draws x n x C) and member predictions (members x n): axis 1
    if key in _CANDIDATES_ON_AXIS_1 and isinstance(value, np.ndarray) and value.ndim >= 2:
        return value[:, positions]
    return value[positions] if _is_row_aligned(value, n) else value


def _is_row_aligned(value: Any, n: int) -> bool:
    return isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n


def check_n_instances(n_instances: Any, n_candidates: int) -> int:
    """Validate the number of items to query against the number of candidates."""
    if isinstance(n_instances, bool) or not isinstance(n_instances, (int, np.integer)):
        raise TypeError(
            f"n_instances must be a positive integer, got {type(n_instances).__name__}."
        )
    n_instances = int(n_instances)
    if n_instances < 1:
        raise ValueError(f"n_instances must be at least 1, got {n_instances}.")
    if n_instances > n_candidates:
        raise ValueError(
            f"n_instances={n_instances} is larger than the {n_candidates} unlabeled "
            "candidates; ask for at most that many."
        )
    return n_instances


def top_k(
    utilities: np.ndarray, k: int, random_state: Any = None
) -> np.ndarray:
    """Positions of the ``k`` largest utilities, largest first.

    Uses ``np.argpartition`` (linear time); items tied at the cut-off value are
    chosen uniformly at random with the seeded generator, so the result is
    reproducible for a given ``random_state`` and unbiased among ties.  NaN
    utilities rank last.

    Parameters
    ----------
    utilities : ndarray of shape (n,)
    k : int
        Number of positions to return, ``1 <= k <= n``.
    random_state : int, RandomState instance or None

    Returns
    -------
    ndarray of int64, shape (k,)
        Positions into ``utilities``, sorted by decreasing utility (ties in random order).
    """
    u = np.asarray(utilities, dtype=np.float64)
    n = u.shape[0]
    k = check_n_instances(k, n)
    if np.isnan(u).any():
        u = np.where(np.isnan(u), -np.inf, u)
    if k == n:
        chosen = np.arange(n)
    else:
        above, tied = _above_and_tied(u, k)
        n_tied_needed = k - above.size
        if tied.size > n_tied_needed:
            rng = check_random_state(random_state)
            tied = rng.choice(tied, size=n_tied_needed, replace=False)
        chosen = np.concatenate([above, tied])
    rng_keys = check_random_state(random_state).random_sample(chosen.size)
    order = np.lexsort((rng_keys, -u[chosen]))
    return chosen[order].astype(np.int64, copy=False)


def _above_and_tied(u: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (ascending) above, and at, the ``k``-th largest value of ``u`` (no NaN).

    On a large pool the k-th largest value of a strided sample is a lower bound of the
    threshold; only the items at or above it (a few times ``k``) are partitioned, which
    gives the same positions as partitioning the whole pool in a fraction of the time
    and memory.
    """
    candidates = near_top(u, k)
    sub = u if candidates is None else u[candidates]
    threshold = sub[np.argpartition(-sub, k - 1)[:k]].min()
    above = np.flatnonzero(sub > threshold)
    tied = np.flatnonzero(sub == threshold)
    if candidates is not None:
        above, tied = candidates[above], candidates[tied]
    return above, tied


def select_top(
    context: QueryContext,
    utilities: np.ndarray,
    n_instances: int,
    random_state: Any,
    name: str,
    info: dict[str, Any] | None = None,
) -> QueryResult:
    """The :class:`QueryResult` choosing the ``n_instances`` most useful candidates.

    ``utilities`` (one per candidate of ``context``) is stored as given; the choice is
    :func:`top_k` over it with ``random_state``, and ``name`` and ``info`` are recorded.
    """
    positions = top_k(utilities, n_instances, random_state)
    return QueryResult(
        ids=context.candidate_ids[positions],
        candidate_ids=context.candidate_ids,
        utilities=utilities,
        strategy=name,
        info={} if info is None else info,
    )


class Strategy:
    """Base class of query strategies.

    Subclasses set :attr:`name`, declare :attr:`needs` and implement :meth:`select`.
    Parameters are given to ``__init__`` (scikit-learn style); ``random_state`` is
    always one of them.
    """

    name: ClassVar[str] = ""
    #: What the strategy reads from the context, as :class:`Needs` members (plain
    #: strings with the same values are accepted; :func:`needs_of` normalises them).
    needs: ClassVar[frozenset[Needs]] = frozenset()
    #: The tasks the strategy serves (:class:`activelab.engine.tasks.Task` values);
    #: classification when a subclass says nothing.
    tasks: ClassVar[frozenset[str]] = frozenset({"classification"})

    def __init__(self, random_state: Any = None) -> None:
        self.random_state = random_state

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        """Choose ``n_instances`` candidates of ``context``."""
        raise NotImplementedError(f"{type(self).__name__} must implement select()")

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in sorted(vars(self).items()))
        return f"{type(self).__name__}({params})"


class UtilityStrategy(Strategy):
    """A strategy defined by one utility per candidate, selected by top-k."""

    def utility(self, context: QueryContext) -> np.ndarray:
        """Utility of every candidate, shape (n_candidates,), higher = more useful."""
        raise NotImplementedError(f"{type(self).__name__} must implement utility()")

    def query_info(self, context: QueryContext) -> dict[str, Any]:
        """Named facts recorded with each query (none by default)."""
        return {}

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        utilities = np.asarray(self.utility(context), dtype=np.float64)
        return select_top(
            context, utilities, n_instances, self.random_state, self.name,
            info=self.query_info(context) or None,
        )

