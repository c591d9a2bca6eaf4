"""Multi-label strategies: per-label uncertainty, label cardinality, CVIRS, and batches.

Every strategy here reads ``P`` = :attr:`QueryContext.label_proba`, the probability
that label ``j`` applies to candidate ``x`` (``n x L``), and serves the multi-label
task only.  The per-label uncertainty is the binary margin turned round,
``u_j(x) = 1 - |2 p_j(x) - 1|`` (1 when ``p_j = 0.5``, 0 when the model is sure).

- ``multilabel_margin`` (the task's default): ``u_j`` aggregated over the labels, by
  their mean (``aggregate="mean"``), their maximum or their minimum;
- ``binary_minimum`` (Brinker 2006): the item whose most uncertain label is the most
  uncertain, i.e. ``max_j u_j`` (``multilabel_margin`` with ``aggregate="max"``);
- ``cardinality_inconsistency`` (Li & Guo 2013): ``|#{j: p_j >= 0.5} - c̄|``, how far
  the predicted number of labels is from the mean number of labels ``c̄`` of the labeled
  items;
- ``cvirs`` (Reyes, Morell & Ventura 2018): a Borda-count rank aggregation of the
  per-label margins, times the inconsistency of the predicted label vector with the
  labeled ones (see :func:`cvirs_utility`);
- ``multilabel_badge``: BADGE over the binary cross-entropy gradients of all labels;
- ``multilabel_hybrid``: the most uncertain ``factor x n`` by ``multilabel_margin``,
  then a diverse batch among them (k-means or greedy k-center).

``random``, ``coreset`` and ``kmeans`` serve every task already.  Every utility is a
vectorised function of the ``n x L`` matrix (loops run over labels or picks, never over
pool rows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.stats import rankdata

from ..pool import materialize
from ._shared import PrefilterDiverse, badge_batch
from .base import Needs, QueryContext, QueryResult, Strategy, UtilityStrategy, check_n_instances
from .registry import get_strategy, register

__all__ = [
    "label_uncertainty",
    "multilabel_margin_utility",
    "binary_minimum_utility",
    "cardinality_inconsistency_utility",
    "cvirs_utility",
    "label_vector_distance",
    "MultilabelMargin",
    "BinaryMinimum",
    "CardinalityInconsistency",
    "Cvirs",
    "MultilabelBadge",
    "MultilabelHybrid",
]

MULTILABEL = frozenset({"multilabel"})
AGGREGATES = ("mean", "max", "min")


def _check_marginals(P: Any) -> np.ndarray:
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2:
        raise ValueError(
            f"label probabilities must be a 2-D array (n_items, n_labels), got shape {P.shape}."
        )
    return P


def label_uncertainty(P: Any) -> np.ndarray:
    """``1 - |2 p - 1|`` per item and label, shape ``(n, L)``: 1 at ``p = 0.5``."""
    P = _check_marginals(P)
    return 1.0 - np.abs(2.0 * P - 1.0)


def multilabel_margin_utility(P: Any, aggregate: str = "mean") -> np.ndarray:
    """The per-label uncertainty ``1 - |2 p_j - 1|`` aggregated over the labels.

    Parameters
    ----------
    P : ndarray of shape (n, L)
        P(label j applies).
    aggregate : {"mean", "max", "min"}, default="mean"
        ``"mean"``: uncertain on many labels; ``"max"``: very uncertain on one label
        (Brinker's binary minimum); ``"min"``: uncertain on every label.

    Returns
    -------
    ndarray of float64, shape (n,), in [0, 1]
    """
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)}, got {aggregate!r}.")
    u = label_uncertainty(P)
    if u.shape[1] == 0:
        return np.zeros(u.shape[0])
    return getattr(u, aggregate)(axis=1)


def binary_minimum_utility(P: Any) -> np.ndarray:
    """``max_j (1 - |2 p_j - 1|)``: the uncertainty of the item's most uncertain label."""
    return multilabel_margin_utility(P, "max")


def _labeled_table(y_labeled: Any, n_labels: int) -> np.ndarray:
    if y_labeled is None:
        return np.zeros((0, n_labels), dtype=np.int8)
    Y = np.asarray(y_labeled)
    if Y.ndim != 2 or Y.shape[1] != n_labels:
        raise ValueError(
            f"y_labeled has shape {Y.shape}; multi-label strategies need the labeled items' "
            f"0/1 table with one column per label ({n_labels})."
        )
    return (Y > 0).astype(np.int8)


def cardinality_inconsistency_utility(P: Any, y_labeled: Any, threshold: float = 0.5) -> np.ndarray:
    """``|#{j: p_j >= threshold} - c̄|`` with ``c̄`` the labeled items' mean label count.

    With no labeled item ``c̄`` is taken as 0.
    """
    P = _check_marginals(P)
    Y = _labeled_table(y_labeled, P.shape[1])
    mean_cardinality = float(Y.sum(axis=1).mean()) if Y.shape[0] else 0.0
    predicted = (P >= threshold).sum(axis=1)
    return np.abs(predicted - mean_cardinality)


def _entropy(*counts: np.ndarray, total: int) -> np.ndarray:
    """Shannon entropy of the distribution ``counts / total`` (0 log 0 = 0)."""
    out = np.zeros(np.broadcast(*counts).shape)
    for c in counts:  # the cells of a contingency table, not rows
        p = np.asarray(c, dtype=np.float64) / total
        out -= np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return out


def label_vector_distance(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """The CVIRS distance between every row of ``A`` (m x L) and of ``B`` (k x L), m x k.

    From the contingency counts of two 0/1 vectors (``a`` both 1, ``b`` 1 then 0,
    ``c`` 0 then 1, ``d`` both 0): 1 when they differ everywhere (normalised Hamming
    distance 1), else the normalised information distance
    ``(2 H(a,b,c,d) - H(a+b, c+d) - H(a+c, b+d)) / H(a,b,c,d)`` (0 when the joint
    entropy is 0: the same constant vector).
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    n_labels = A.shape[1]
    a = A @ B.T
    b = A.sum(axis=1)[:, None] - a
    c = B.sum(axis=1)[None, :] - a
    d = n_labels - a - b - c
    joint = _entropy(a, b, c, d, total=n_labels)
    first = _entropy(a + b, c + d, total=n_labels)
    second = _entropy(a + c, b + d, total=n_labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        info = np.where(joint > 0, (2.0 * joint - first - second) / joint, 0.0)
    return np.where(b + c == n_labels, 1.0, np.clip(info, 0.0, 1.0))


def _borda_uncertainty(P: np.ndarray) -> np.ndarray:
    """Borda count of the per-label rankings by margin ``|2p - 1|``, in [0, 1]."""
    n, n_labels = P.shape
    if n < 2 or n_labels == 0:
        return np.ones(n)
    ranks = rankdata(np.abs(2.0 * P - 1.0), method="average", axis=0)  # 1 = least sure
    return (n - ranks).sum(axis=1) / (n_labels * (n - 1))


def _vector_inconsistency(P: np.ndarray, Y: np.ndarray, threshold: float) -> np.ndarray:
    """Mean distance of each predicted label vector to the labeled items' vectors."""
    if Y.shape[0] == 0:
        return np.ones(P.shape[0])
    predicted, inverse = np.unique((P >= threshold).astype(np.int8), axis=0, return_inverse=True)
    seen, counts = np.unique(Y, axis=0, return_counts=True)
    mean_distance = label_vector_distance(predicted, seen) @ counts / counts.sum()
    return mean_distance[np.ravel(inverse)]


def cvirs_utility(P: Any, y_labeled: Any, threshold: float = 0.5) -> np.ndarray:
    """CVIRS (Reyes, Morell & Ventura 2018): rank-aggregated uncertainty × inconsistency.

    ``s(x)``: for every label the candidates are ranked by their margin ``|2 p_j - 1|``
    (rank 1 = least sure, ties share the mean rank); the Borda count
    ``sum_j (N - rank_j(x)) / (L (N - 1))`` aggregates the ``L`` rankings into [0, 1].
    ``v(x)``: the mean :func:`label_vector_distance` between the predicted label vector
    ``[p_j >= threshold]`` and the label vector of every labeled item (1 with no labeled
    item).  The utility is ``s(x) · v(x)``.

    Distinct vectors are compared once (predicted and labeled vectors repeat a lot), so
    the cost is ``O(nL)`` plus the distinct pairs.
    """
    P = _check_marginals(P)
    Y = _labeled_table(y_labeled, P.shape[1])
    return _borda_uncertainty(P) * _vector_inconsistency(P, Y, threshold)


def _check_threshold(threshold: Any) -> float:
    if not 0.0 < float(threshold) < 1.0:
        raise ValueError(f"threshold must be strictly between 0 and 1, got {threshold!r}.")
    return float(threshold)


@register
class MultilabelMargin(UtilityStrategy):
    """Multi-label uncertainty: the binary margin of every label, aggregated.

    The default strategy for multi-label targets.

    Parameters
    ----------
    aggregate : {"mean", "max", "min"}, default="mean"
        How the per-label uncertainties ``1 - |2 p_j - 1|`` are combined (see
        :func:`multilabel_margin_utility`).
    random_state : int, RandomState or None
        Breaks ties.
    """

    name = "multilabel_margin"
    needs = frozenset({Needs.LABEL_PROBA})
    tasks = MULTILABEL

    def __init__(self, aggregate: str = "mean", random_state: Any = None) -> None:
        super().__init__(random_state=random_state)
        if aggregate not in AGGREGATES:
            raise ValueError(
                f"aggregate must be one of {', '.join(AGGREGATES)}, got {aggregate!r}."
            )
        self.aggregate = aggregate

    def utility(self, context: QueryContext) -> np.ndarray:
        return multilabel_margin_utility(context.label_proba, self.aggregate)


@register
class BinaryMinimum(UtilityStrategy):
    """Binary minimum (Brinker 2006): the item whose most uncertain label is nearest 0.5.

    The same ranking as ``multilabel_margin`` with ``aggregate="max"``.
    """

    name = "binary_minimum"
    needs = frozenset({Needs.LABEL_PROBA})
    tasks = MULTILABEL

    def utility(self, context: QueryContext) -> np.ndarray:
        return binary_minimum_utility(context.label_proba)


class _ThresholdUtility(UtilityStrategy):
    """A multi-label utility of ``P``, the labeled items' label table and a threshold.

    Subclasses name the utility function ``(P, y_labeled, threshold) -> (n,)`` as
    ``_score`` (and declare their needs, as every registered strategy does); the
    constructor and its check are shared.
    """

    _score: Callable[[Any, Any, float], np.ndarray]

    def __init__(self, threshold: float = 0.5, random_state: Any = None) -> None:
        super().__init__(random_state=random_state)
        self.threshold = _check_threshold(threshold)

    def utility(self, context: QueryContext) -> np.ndarray:
        return self._score(context.label_proba, context.y_labeled, self.threshold)


@register
class CardinalityInconsistency(_ThresholdUtility):
    """Label cardinality inconsistency (Li & Guo 2013).

    Query the items whose predicted number of labels is furthest from the mean number
    of labels of the labeled items.  Many items tie (the counts are whole numbers);
    ties are broken at random with ``random_state``.

    Parameters
    ----------
    threshold : float, default=0.5
        A label is predicted when ``p_j >= threshold``.
    random_state : int, RandomState or None
    """

    name = "cardinality_inconsistency"
    needs = frozenset({Needs.LABEL_PROBA, Needs.LABELED})
    tasks = MULTILABEL
    _score = staticmethod(cardinality_inconsistency_utility)


@register
class Cvirs(_ThresholdUtility):
    """CVIRS (Reyes et al. 2018): category vector inconsistency and ranking of scores.

    See :func:`cvirs_utility`.

    Parameters
    ----------
    threshold : float, default=0.5
        A label is predicted when ``p_j >= threshold``.
    random_state : int, RandomState or None
    """

    name = "cvirs"
    needs = frozenset({Needs.LABEL_PROBA, Needs.LABELED})
    tasks = MULTILABEL
    _score = staticmethod(cvirs_utility)


def _embedding_rows(context: QueryContext) -> np.ndarray:
    """``extras["embeddings"]`` when given, else the candidates' features, dense float64."""
    H = context.extras.get("embeddings")
    if H is None:
        if context.X is None:
            raise ValueError(
                "multilabel_badge needs the candidates' features X or extras['embeddings']."
            )
        H = materialize(context.X)
        H = H.toarray() if hasattr(H, "toarray") else H
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 2 or H.shape[0] != len(context):
        raise ValueError(
            f"the embeddings have shape {H.shape}; expected ({len(context)}, d), one row per "
            "candidate."
        )
    return H


@register
class MultilabelBadge(Strategy):
    """BADGE for multi-label: k-means++ seeding over per-label log-loss gradients.

    Each candidate is embedded as ``g(x) = (p(x) - ŷ(x)) ⊗ [h(x), 1]``: the gradient of
    the binary cross-entropy of all ``L`` labels with respect to a linear last layer,
    taking the model's own prediction ``ŷ_j = [p_j >= 0.5]`` as the label, with ``h``
    the last hidden layer (``extras["embeddings"]``) or, for scikit-learn models, the
    candidates' features.  Its norm is large for uncertain items; k-means++ seeding
    over the embeddings (never formed: see :mod:`activelab.strategies.badge`) picks a
    batch that is uncertain and diverse.

    Notes
    -----
    The utility recorded is the norm of each gradient embedding.
    """

    name = "multilabel_badge"
    needs = frozenset({Needs.LABEL_PROBA, Needs.FEATURES})
    tasks = MULTILABEL

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        P = _check_marginals(context.label_proba)
        H = _embedding_rows(context)
        A = P - (P >= 0.5)
        Ht = np.hstack([H, np.ones((H.shape[0], 1))])
        return badge_batch(context, A, Ht, n_instances, self.random_state, self.name, "features")


@register
class MultilabelHybrid(PrefilterDiverse):
    """Pre-filter by a multi-label utility, then choose a diverse batch among the rest.

    ``hybrid`` with ``utility="multilabel_margin"``: the ``factor x n`` most uncertain
    candidates are kept, and k-means (or greedy k-center) picks ``n`` of them.

    Parameters
    ----------
    utility : str, default="multilabel_margin"
        A multi-label utility strategy for the pre-filter.
    factor : int, default=10
    method : {"kmeans", "coreset"}, default="kmeans"
    weighted : bool, default=False
    random_state : int, RandomState or None
        As for ``hybrid``.
    """

    name = "multilabel_hybrid"
    needs = frozenset({Needs.LABEL_PROBA, Needs.FEATURES, Needs.LABELED})
    tasks = MULTILABEL

    def __init__(
        self,
        utility: str = "multilabel_margin",
        factor: int = 10,
        method: str = "kmeans",
        weighted: bool = False,
        random_state: Any = None,
    ) -> None:
        super().__init__(utility, factor, method, weighted, random_state=random_state)

    def _inner(self) -> Strategy:
        return get_strategy("hybrid", utility=self.utility, factor=self.factor,
                            method=self.method, weighted=self.weighted,
                            random_state=self.random_state)

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        chosen = self._inner().select(context, n_instances)
        return QueryResult(ids=chosen.ids, candidate_ids=chosen.candidate_ids,
                           utilities=chosen.utilities, strategy=self.name, info=chosen.info)
