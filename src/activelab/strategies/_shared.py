"""Helpers the strategy families share.

Family modules import these instead of each other's internals:

- :func:`base_utility` and :func:`nonnegative_utility`: the utility a batch-aware,
  density or cost-aware strategy pre-filters or weights by, given by name;
- :func:`entropy_block`: the entropy of class-major probability blocks (for the
  uncertainty and committee measures);
- :func:`proba_utility`: a row-wise function of the class probabilities, computed from
  the probabilities when the context has them and straight from the model block by
  block otherwise;
- :func:`dense_float32` and :data:`BLOCK_ROWS`: feature rows as one dense float32
  array, and the block size of blocked distance computations;
- :func:`linear_head`: the inputs of a model's last linear layer (for gradient-based
  strategies);
- :func:`kmeans_pp_factored` and :func:`badge_batch`: k-means++ seeding over embeddings
  ``a_i ⊗ h_i`` that are never formed, and the batch it gives with the embeddings'
  norms as utilities (BADGE and its multi-label form);
- :func:`sampled_proba_of`, :func:`check_sampled` and :func:`bald_utility`: the sampled
  probabilities (T x n x C) of the candidates, and BALD over them (for the Bayesian and
  sampled-output families);
- :class:`PrefilterDiverse`: the parameters of a strategy that pre-filters by a utility
  and then chooses a diverse batch, and their checks (``hybrid`` and
  ``multilabel_hybrid``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import entr
from sklearn.utils import check_random_state

from ..parallel import run_blocks, scratch
from ..pool import materialize
from ..proba import BlockFn, class_reduce, reduce_proba, reduce_proba_matrix
from .base import QueryContext, QueryResult, Strategy, UtilityStrategy, top_k
from .registry import get_strategy

__all__ = [
    "BLOCK_ROWS",
    "TINY",
    "badge_batch",
    "bald_utility",
    "base_utility",
    "check_sampled",
    "dense_float32",
    "entropy_block",
    "entropy_rows",
    "GREEDY_ROWS",
    "kmeans_pp_factored",
    "linear_head",
    "nonnegative_utility",
    "PrefilterDiverse",
    "proba_utility",
    "sampled_proba_of",
]

#: Rows per block in blocked distance computations (block × centers float32 values).
BLOCK_ROWS = 4096
#: Smallest positive normal float64 (the committee measures clamp ratios to it).
TINY = float(np.finfo(np.float64).tiny)


def entropy_block(pt: np.ndarray, out: np.ndarray) -> None:
    """Shannon entropy ``-sum_c p log p`` (natural log, 0 log 0 = 0) of class-major
    probabilities ``pt`` (C, b) into ``out``."""
    if pt.shape[0] == 0:
        out.fill(0.0)
        return
    terms = scratch("entropy_terms", pt.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.log(pt, out=terms, dtype=np.float64)
        terms *= pt
    class_reduce(terms, np.add, out)
    zero_rows = np.flatnonzero(np.isnan(out))
    if zero_rows.size:  # 0 * log 0 gave NaN: take those terms as 0 (NaN inputs stay NaN)
        p = pt[:, zero_rows].astype(np.float64)
        t = np.log(np.where(p == 0, 1.0, p))
        t *= p
        out[zero_rows] = class_reduce(t, np.add, np.empty(zero_rows.size))
    np.negative(out, out=out)




def proba_utility(context: QueryContext, block_fn: BlockFn) -> np.ndarray:
    """A row-wise function of the candidates' class probabilities, one value per candidate.

    When the context holds the probabilities (given, or computed for another strategy)
    ``block_fn`` reduces them; otherwise the model scores the candidates block by block
    (:func:`activelab.proba.reduce_proba`: logits, link and ``block_fn`` per block, on
    all cores) and the n × C matrix is never made.  Both give bit-equal values.

    Parameters
    ----------
    context : QueryContext
    block_fn : callable ``fn(pT, out)``, see :data:`activelab.proba.BlockFn`

    Returns
    -------
    ndarray of float64, shape (n_candidates,)
    """
    proba = context.proba_if_known
    if proba is None and context.estimator is not None and context.X is not None:
        return reduce_proba(context.estimator, context.X, block_fn)
    return reduce_proba_matrix(context.proba if proba is None else proba, block_fn)


def _utility_strategy(spec: Any, random_state: Any = None) -> UtilityStrategy:
    strategy = get_strategy(spec, random_state=random_state)
    if not isinstance(strategy, UtilityStrategy):
        raise ValueError(
            f"utility {spec!r} is not a utility strategy (it has no per-item score); "
            "use one of least_confident, margin, entropy or a committee measure."
        )
    return strategy


def base_utility(spec: Any, context: QueryContext, random_state: Any = None) -> np.ndarray:
    """The utility of every candidate under a named utility strategy.

    Parameters
    ----------
    spec : str or UtilityStrategy
        A registered utility strategy name (e.g. ``"margin"``) or an instance.
    context : QueryContext
    random_state : int, RandomState or None

    Returns
    -------
    ndarray of float64, shape (n_candidates,)
    """
    strategy = _utility_strategy(spec, random_state)
    return np.asarray(strategy.utility(context), dtype=np.float64)


def nonnegative_utility(spec: Any, context: QueryContext, random_state: Any = None) -> np.ndarray:
    """A non-negative version of a utility, for weighting and dividing by costs.

    ``margin`` (which is ``-(p_best - p_second)`` in ``[-1, 0]``) becomes
    ``1 - (p_best - p_second)`` in ``[0, 1]``; non-negative utilities are unchanged;
    other utilities with negative values are shifted by their minimum.
    """
    strategy = _utility_strategy(spec, random_state)
    u = np.asarray(strategy.utility(context), dtype=np.float64)
    if strategy.name == "margin":
        return 1.0 + u
    finite = u[np.isfinite(u)]
    if finite.size and finite.min() < 0:
        return u - finite.min()
    return u


class PrefilterDiverse(Strategy):
    """Base of the strategies that keep the ``factor x n`` best candidates by ``utility``
    and choose ``n`` diverse ones among them (k-means or greedy k-center).

    Holds the parameters ``utility``, ``factor``, ``method`` and ``weighted`` and checks
    them; subclasses give the defaults (their own ``__init__``) and :meth:`select`.
    """

    def __init__(self, utility: str, factor: int, method: str, weighted: bool,
                 random_state: Any = None) -> None:
        super().__init__(random_state=random_state)
        if method not in ("kmeans", "coreset"):
            raise ValueError(f"method must be 'kmeans' or 'coreset', got {method!r}.")
        if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
            raise ValueError(f"factor must be an integer of at least 1, got {factor!r}.")
        self.utility = utility
        self.factor = factor
        self.method = method
        self.weighted = weighted


def dense_float32(X: Any, name: str = "X") -> np.ndarray:
    """Rows as a dense C-contiguous float32 array (RowView and sparse accepted)."""
    if X is None:
        raise ValueError(
            f"this strategy needs the candidates' features: pass {name} to the query context."
        )
    X = materialize(X)
    if sp.issparse(X):
        X = X.toarray()
    return np.ascontiguousarray(np.asarray(X), dtype=np.float32)


def _final_step(estimator: Any) -> tuple[Any, list[Any]]:
    steps = getattr(estimator, "steps", None)
    if steps is not None:  # a scikit-learn Pipeline
        return steps[-1][1], [s for _, s in steps[:-1] if s not in (None, "passthrough")]
    inner = getattr(estimator, "estimator_", None)  # an ActiveLearner
    if inner is not None and not hasattr(estimator, "coef_"):
        return _final_step(inner)
    return estimator, []


def linear_head(context: QueryContext, intercept: bool = True) -> tuple[np.ndarray, bool, bool]:
    """The inputs ``h`` of the model's last linear layer for every candidate.

    Uses ``context.extras["embeddings"]`` when given (a network's last hidden layer),
    otherwise the features seen by a fitted linear scikit-learn model (a model with
    ``coef_``, possibly the last step of a pipeline).

    Parameters
    ----------
    context : QueryContext
    intercept : bool, default=True
        Whether the last layer has a bias, for embeddings given through ``extras``.

    Returns
    -------
    H : ndarray of float64, shape (n_candidates, d)
    has_intercept : bool
    binary_sigmoid : bool
        True for a scikit-learn binary model with one weight vector (sigmoid output).

    Raises
    ------
    TypeError
        When there are no embeddings and the model is not linear.
    """
    if "embeddings" in context.extras:
        H = np.asarray(context.extras["embeddings"], dtype=np.float64)
        if H.ndim != 2 or H.shape[0] != len(context):
            raise ValueError(
                f"extras['embeddings'] has shape {H.shape}; expected "
                f"({len(context)}, n_features), one embedding row per candidate."
            )
        return H, bool(intercept), False
    model, transformers = _final_step(context.estimator)
    coef = getattr(model, "coef_", None)
    if coef is None:
        raise TypeError(
            f"{type(model).__name__} is not a fitted linear model (it has no coef_); "
            "gradient-based strategies need a linear last layer: use a linear model such as "
            "LogisticRegression, or pass the last hidden layer as extras['embeddings']."
        )
    if context.X is None:
        raise ValueError("gradient-based strategies need the candidates' features X.")
    X = materialize(context.X)
    for step in transformers:
        X = step.transform(X)
    if sp.issparse(X):
        X = X.toarray()
    H = np.asarray(X, dtype=np.float64)
    has_intercept = bool(getattr(model, "fit_intercept", True))
    binary = np.ndim(coef) == 2 and np.shape(coef)[0] == 1
    return H, has_intercept, bool(binary)


def check_sampled(sampled_proba: Any) -> np.ndarray:
    """Sampled probabilities as a float64 array of shape (T, n, C), checked."""
    p = np.asarray(sampled_proba, dtype=np.float64)
    if p.ndim != 3:
        raise ValueError(
            "sampled probabilities must have shape (n_samples, n_candidates, n_classes), "
            f"got {p.shape}; stack T predictions along the first axis."
        )
    if p.shape[0] < 1 or p.shape[2] < 1:
        raise ValueError(f"sampled probabilities of shape {p.shape} hold no samples or classes.")
    return p


def entropy_rows(p: np.ndarray) -> np.ndarray:
    """Entropy (natural log) along the last axis."""
    return entr(p).sum(axis=-1)


def bald_utility(sampled_proba: np.ndarray) -> np.ndarray:
    """Mutual information between each candidate's label and the model (natural log).

    Parameters
    ----------
    sampled_proba : ndarray of shape (T, n, C)

    Returns
    -------
    ndarray of shape (n,)
        ``H[mean_t p_t(x)] - mean_t H[p_t(x)]``, at least 0.
    """
    p = check_sampled(sampled_proba)
    mi = entropy_rows(p.mean(axis=0)) - entropy_rows(p).mean(axis=0)
    return np.maximum(mi, 0.0)


def sampled_proba_of(context: QueryContext) -> np.ndarray:
    """The candidates' sampled probabilities (T, n, C), computed once and cached.

    Looked up in ``context.extras["sampled_proba"]``, else taken from the estimator's
    ``sample_proba(X)`` (MC dropout, deep ensembles), else from the committee's member
    probabilities.
    """
    sampled = context.extras.get("sampled_proba")
    if sampled is None:
        estimator = context.estimator
        if estimator is not None and hasattr(estimator, "sample_proba") and context.X is not None:
            sampled = estimator.sample_proba(materialize(context.X))
        elif estimator is not None and hasattr(estimator, "committee_proba"):
            sampled = context.committee_proba
        else:
            raise ValueError(
                "this strategy needs sampled probabilities: pass "
                "extras={'sampled_proba': array of shape (T, n_candidates, n_classes)}, use a "
                "Committee, or a model with sample_proba (activelab.torch.TorchClassifier "
                "with dropout, DeepEnsemble)."
            )
        context.extras["sampled_proba"] = sampled
    p = check_sampled(sampled)
    if p.shape[1] != len(context):
        raise ValueError(
            f"sampled_proba has {p.shape[1]} candidates (axis 1) but the query has "
            f"{len(context)}; give one column of samples per candidate."
        )
    return p


#: Rows per block of the running-minimum updates (a fixed partition).
GREEDY_ROWS = 16_384


def kmeans_pp_factored(
    A: np.ndarray, Ht: np.ndarray, n: int, random_state: Any = None
) -> np.ndarray:
    """k-means++ seeding over the rows ``a_i ⊗ h_i``, without forming them.

    The first row is the one of largest norm (ties broken at random); each further
    row is drawn with probability proportional to its squared distance to the
    nearest row chosen so far (uniformly among the rest when all distances are 0).
    The running minimum is updated in place, block by block on all cores.

    Returns
    -------
    ndarray of int64, shape (n,)
        Positions, in the order chosen.
    """
    rng = check_random_state(random_state)
    running = _FactoredMin(A, Ht)
    n_rows = A.shape[0]
    positions = np.empty(n, dtype=np.int64)
    chosen = np.zeros(n_rows, dtype=bool)
    for i in range(n):  # picks, not rows
        if i == 0:
            p = int(top_k(running.g_sq, 1, rng)[0])
        else:
            weights = np.where(chosen, 0.0, running.mind)
            total = weights.sum()
            if total > 0 and np.isfinite(total):
                p = _draw(weights / total, rng)
            else:
                p = int(rng.choice(np.flatnonzero(~chosen)))
        positions[i] = p
        chosen[p] = True
        running.add(p)
    return positions



def badge_batch(
    context: QueryContext, A: np.ndarray, Ht: np.ndarray, n_instances: int,
    random_state: Any, name: str, embedding: str,
) -> QueryResult:
    """BADGE's batch over the gradient embeddings ``a_i ⊗ h_i``: k-means++ seeding
    (:func:`kmeans_pp_factored`), each candidate's utility the norm of its embedding.

    ``info["embedding"]`` is ``"extras"`` when ``context.extras`` holds the embeddings,
    else ``embedding`` (where ``h`` came from).
    """
    positions = kmeans_pp_factored(A, Ht, n_instances, random_state)
    norms = np.sqrt(np.einsum("ij,ij->i", A, A) * np.einsum("ij,ij->i", Ht, Ht))
    return QueryResult(
        ids=context.candidate_ids[positions],
        candidate_ids=context.candidate_ids,
        utilities=norms,
        strategy=name,
        info={"embedding": "extras" if "embeddings" in context.extras else embedding},
    )

def _draw(p: np.ndarray, rng: np.random.RandomState) -> int:
    """``rng.choice(len(p), p=p)`` for valid ``p``: the same draw, without re-checking ``p``.

    ``RandomState`` (whose stream numpy keeps frozen) draws by the cumulative sum,
    normalised by its last value, searched with one uniform sample.
    """
    cdf = np.cumsum(p, out=p)
    cdf /= cdf[-1]
    return int(cdf.searchsorted(rng.random_sample(), side="right"))


class _FactoredMin:
    """Running minimum of ``|g_i - g_p|²`` over the chosen ``p``, for ``g = a ⊗ h̃``."""

    def __init__(self, A: np.ndarray, Ht: np.ndarray) -> None:
        self.A, self.Ht = A, Ht
        self.g_sq = np.einsum("ij,ij->i", A, A) * np.einsum("ij,ij->i", Ht, Ht)
        self.mind = np.full(A.shape[0], np.inf)
        self.n_blocks = -(-A.shape[0] // GREEDY_ROWS)

    def add(self, p: int) -> None:
        """Fold in ``|g_i - g_p|² = |g_i|² + |g_p|² - 2 (a_i·a_p)(h_i·h_p)``."""
        A, Ht, g_sq, mind = self.A, self.Ht, self.g_sq, self.mind
        a_p, h_p, g_p = A[p].copy(), Ht[p].copy(), g_sq[p]

        def one(i: int) -> None:
            r0, r1 = i * GREEDY_ROWS, min((i + 1) * GREEDY_ROWS, A.shape[0])
            aa = scratch("badge_aa", (r1 - r0,))
            hh = scratch("badge_hh", (r1 - r0,))
            np.matmul(A[r0:r1], a_p, out=aa)
            np.matmul(Ht[r0:r1], h_p, out=hh)
            aa *= 2.0
            aa *= hh
            d = np.add(g_sq[r0:r1], g_p, out=hh)
            d -= aa
            np.maximum(d, 0.0, out=d)
            np.minimum(mind[r0:r1], d, out=mind[r0:r1])

        run_blocks(self.n_blocks, one)
