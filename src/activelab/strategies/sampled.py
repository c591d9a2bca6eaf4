"""Strategies over sampled probabilities: variation ratios, mean STD, MC entropy,
PowerBALD and EPIG.

Like BALD and BatchBALD (:mod:`.bayesian`) they read *sampled probabilities*, shape
(T, n_candidates, n_classes): T draws of the model's class distribution per candidate,
from MC dropout, a deep ensemble or a committee (see
:func:`~activelab.strategies.bayesian.sampled_proba_of`).

- ``variation_ratios`` (Freeman 1965; Gal et al. 2017): ``1 - f_m / T``, where ``f_m``
  is how many of the T draws predict the modal class.
- ``mean_std`` (Kampffmeyer et al. 2016; Gal et al. 2017): the standard deviation of
  ``p_t(c | x)`` over the draws, averaged over the classes.
- ``mc_entropy`` (max entropy, Gal et al. 2017): the entropy of the mean of the draws.
  ``entropy`` reads ``predict_proba`` instead, which for a
  :class:`~activelab.torch.TorchClassifier` is one pass with dropout *off*; use
  ``mc_entropy`` for the MC-dropout predictive entropy.
- ``power_bald`` (Kirsch et al. 2023, stochastic batch acquisition): a batch drawn
  without replacement with probability proportional to ``BALD(x) ** beta``, by adding
  Gumbel noise to ``beta * log BALD(x)`` and taking the top k.
- ``epig`` (Bickford Smith et al. 2023): the expected predictive information gain, the
  mutual information between a candidate's label and the label of a target input,
  averaged over target inputs (by default a seeded sample of the candidates).

Randomness (the Gumbel noise, the target sample) is keyed by a query key and the
candidates' *positions*: position ``i`` of a query gets the same draw whatever else the
query holds.  Chunked scoring (:func:`activelab.scale.score_out_of_core`) passes one key
for the whole pool in ``extras["query_seed"]`` and each chunk's offset in
``extras["position_offset"]``, so a chunked query chooses the ids the whole pool would.
Without a key in ``extras`` a strategy draws a fresh one from its ``random_state`` for
every query (the same sequence for the same seed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import entr
from sklearn.utils import check_random_state

from ..pool import materialize
from ._shared import bald_utility, check_sampled, sampled_proba_of
from .base import Needs, QueryContext, UtilityStrategy
from .registry import register

__all__ = [
    "variation_ratios_utility",
    "mean_std_utility",
    "mc_entropy_utility",
    "epig_utility",
    "uniform_at",
    "VariationRatios",
    "MeanStd",
    "MCEntropy",
    "PowerBALD",
    "EPIG",
]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def variation_ratios_utility(sampled_proba: np.ndarray) -> np.ndarray:
    """``1 - f_m / T``: the share of draws that do not predict the modal class.

    Parameters
    ----------
    sampled_proba : ndarray of shape (T, n, C)

    Returns
    -------
    ndarray of shape (n,), in ``[0, 1 - 1/min(T, C)]``
        Each draw votes for its most probable class (the first of tied classes).
    """
    p = check_sampled(sampled_proba)
    T, n, C = p.shape
    votes = p.argmax(axis=2) + C * np.arange(n)  # (T, n): flat (candidate, class) cells
    counts = np.bincount(votes.ravel(), minlength=n * C).reshape(n, C)
    return 1.0 - counts.max(axis=1) / T


def mean_std_utility(sampled_proba: np.ndarray) -> np.ndarray:
    """The standard deviation of ``p_t(c | x)`` over the draws, averaged over classes.

    ``(1/C) sum_c sqrt(E_t[p_t(c)^2] - E_t[p_t(c)]^2)`` (population standard deviation).
    """
    p = check_sampled(sampled_proba)
    var = np.maximum((p * p).mean(axis=0) - p.mean(axis=0) ** 2, 0.0)
    return np.sqrt(var).mean(axis=1)


def mc_entropy_utility(sampled_proba: np.ndarray) -> np.ndarray:
    """Entropy (natural log) of the mean of the draws, ``H[mean_t p_t(x)]``."""
    p = check_sampled(sampled_proba)
    return entr(p.mean(axis=0)).sum(axis=1)


def epig_utility(
    sampled_proba: np.ndarray, target_sampled_proba: np.ndarray, block: int = 256
) -> np.ndarray:
    """Expected predictive information gain of each candidate (natural log).

    ``EPIG(x) = mean_j I(y; y*_j | x, x*_j)`` with the joint
    ``p(y, y*_j) = mean_t p_t(y | x) p_t(y* | x*_j)``; draw ``t`` must be the same model
    sample for the candidates and the targets.

    Parameters
    ----------
    sampled_proba : ndarray of shape (T, n, C)
        The candidates' draws.
    target_sampled_proba : ndarray of shape (T, m, C)
        The same T draws on m target inputs.
    block : int, default=256
        Candidates per block (memory grows with ``block * m * C * C``).

    Returns
    -------
    ndarray of shape (n,), at least 0
    """
    p = check_sampled(sampled_proba)
    q = check_sampled(target_sampled_proba)
    if q.shape[0] != p.shape[0] or q.shape[2] != p.shape[2]:
        raise ValueError(
            f"target samples of shape {q.shape} do not match the candidates' {p.shape}; give "
            "the same draws (axis 0) and classes (axis 2) for the target inputs."
        )
    T, n, C = p.shape
    m = q.shape[1]
    h_cand = entr(p.mean(axis=0)).sum(axis=1)  # (n,)
    h_target = entr(q.mean(axis=0)).sum(axis=1).mean()  # mean over targets
    q_flat = q.reshape(T, m * C)
    out = np.empty(n)
    for start in range(0, n, block):  # blocks of candidates, not single rows
        stop = min(start + block, n)
        p_flat = p[:, start:stop].reshape(T, -1)  # (T, b*C)
        joint = (p_flat.T @ q_flat) / T  # (b*C, m*C): p(y = c, y*_j = c')
        h_joint = entr(joint).reshape(stop - start, C, m, C).sum(axis=(1, 3))  # (b, m)
        out[start:stop] = h_cand[start:stop] + h_target - h_joint.mean(axis=1)
    return np.maximum(out, 0.0)


def uniform_at(positions: np.ndarray, key: int) -> np.ndarray:
    """Uniform draws in (0, 1), one per position, fixed by ``key`` (a counter-based hash).

    The draw of a position does not depend on the other positions asked, so a pool
    scored in chunks gets the draws the whole pool would.
    """
    key_mix = np.asarray([int(key) % 2**64], dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.asarray(positions, dtype=np.uint64) + (key_mix + 1) * _GOLDEN  # splitmix64
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


class _Keyed:
    """Mixin: one key per query, from ``extras["query_seed"]`` or the seeded stream."""

    random_state: Any

    def _query_key(self, context: QueryContext) -> int:
        given = context.extras.get("query_seed")
        if given is not None:
            return int(given)
        source = self.random_state
        cached = getattr(self, "_key_source", None)
        if not (cached is source or (isinstance(source, (int, np.integer))
                                     and type(cached) is type(source) and cached == source)):
            self._key_rng = check_random_state(source)
            self._key_source = source
        return int(self._key_rng.randint(0, 2**31 - 1))

    def __repr__(self) -> str:
        params = ", ".join(
            f"{k}={v!r}" for k, v in sorted(vars(self).items()) if not k.startswith("_")
        )
        return f"{type(self).__name__}({params})"


def _positions(context: QueryContext) -> np.ndarray:
    offset = int(context.extras.get("position_offset", 0))
    return np.arange(offset, offset + len(context), dtype=np.int64)


def _check_positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not (
        np.isfinite(value) and value > 0
    ):
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    return float(value)


@register
class VariationRatios(UtilityStrategy):
    """Query the candidates whose draws disagree most on the predicted class.

    Utility: :func:`variation_ratios_utility`, ``1 - f_m / T``.  It takes few values
    (multiples of ``1/T``), so ties are common; they are broken at random (seeded).
    """

    name = "variation_ratios"
    needs = frozenset({Needs.SAMPLED_PROBA})

    def utility(self, context: QueryContext) -> np.ndarray:
        return variation_ratios_utility(sampled_proba_of(context))


@register
class MeanStd(UtilityStrategy):
    """Query the candidates whose class probabilities vary most over the draws.

    Utility: :func:`mean_std_utility`, the mean over classes of the standard deviation.
    """

    name = "mean_std"
    needs = frozenset({Needs.SAMPLED_PROBA})

    def utility(self, context: QueryContext) -> np.ndarray:
        return mean_std_utility(sampled_proba_of(context))


@register
class MCEntropy(UtilityStrategy):
    """Max entropy with MC samples: the entropy of the mean of the draws.

    Utility: :func:`mc_entropy_utility`.  Unlike ``entropy`` (which reads
    ``predict_proba``, dropout off for a TorchClassifier) it averages the MC-dropout or
    ensemble draws first.
    """

    name = "mc_entropy"
    needs = frozenset({Needs.SAMPLED_PROBA})

    def utility(self, context: QueryContext) -> np.ndarray:
        return mc_entropy_utility(sampled_proba_of(context))


@register
class PowerBALD(_Keyed, UtilityStrategy):
    """PowerBALD: sample a batch with probability proportional to ``BALD ** beta``.

    Kirsch et al. (2023) show that sampling by BALD, instead of taking its top k,
    avoids batches of near-duplicates at no extra cost.  The draw is the top k of
    ``beta * log BALD(x) + G(x)`` with ``G`` Gumbel noise keyed by position (see the
    module notes); candidates with zero BALD are chosen last.

    Parameters
    ----------
    beta : float, default=1.0
        Larger values follow BALD more closely (``beta -> inf`` is top-k BALD).
    random_state : int, RandomState or None

    Notes
    -----
    ``QueryResult.utilities`` holds the perturbed scores that ranked the candidates;
    ``info["bald_max"]`` the largest BALD.
    """

    name = "power_bald"
    needs = frozenset({Needs.SAMPLED_PROBA})

    def __init__(self, beta: float = 1.0, random_state: Any = None) -> None:
        super().__init__(random_state=random_state)
        self.beta = beta

    def utility(self, context: QueryContext) -> np.ndarray:
        """The perturbed score ``beta * log BALD + Gumbel`` of every candidate."""
        beta = _check_positive(self.beta, "beta")
        bald = bald_utility(sampled_proba_of(context))
        gumbel = -np.log(-np.log(uniform_at(_positions(context), self._query_key(context))))
        with np.errstate(divide="ignore"):
            return beta * np.log(bald) + gumbel

    def query_info(self, context: QueryContext) -> dict[str, Any]:
        return {"beta": float(self.beta),
                "bald_max": float(bald_utility(sampled_proba_of(context)).max())}


def target_positions(n_candidates: int, n_target: int, key: int) -> np.ndarray:
    """The positions of EPIG's default target sample among ``n_candidates`` (sorted).

    The ``n_target`` positions with the smallest keyed draws (:func:`uniform_at`): a
    uniform sample without replacement that chunked scoring can reproduce.
    """
    m = min(int(n_target), int(n_candidates))
    draws = uniform_at(np.arange(n_candidates, dtype=np.int64), key)
    if m == n_candidates:
        return np.arange(n_candidates, dtype=np.int64)
    return np.sort(np.argpartition(draws, m - 1)[:m]).astype(np.int64)


def _sampled_for(context: QueryContext, X: Any) -> np.ndarray:
    """The model's draws on other inputs ``X`` (the same draws as for the candidates)."""
    model = context.estimator
    if model is not None and hasattr(model, "sample_proba"):
        return check_sampled(model.sample_proba(materialize(X)))
    if model is not None and hasattr(model, "committee_proba"):
        return check_sampled(model.committee_proba(materialize(X)))
    raise ValueError(
        "EPIG with target inputs needs a model that samples (sample_proba or a Committee); "
        "or pass extras={'epig_target': {'sampled_proba': array (T, m, C)}}."
    )


@register
class EPIG(_Keyed, UtilityStrategy):
    """EPIG: the information a label gives about the predictions on target inputs.

    Bickford Smith et al. (2023): BALD values information about the parameters, much of
    which may not matter for predictions on the inputs one cares about; EPIG values the
    expected mutual information between the candidate's label and a target input's.

    Parameters
    ----------
    n_target : int, default=100
        Size of the default target sample: that many candidates, drawn by position with
        the query key (see the module notes).
    X_target : array-like of shape (m, n_features), optional
        Target inputs (e.g. unlabeled test inputs) instead of the sample of candidates;
        the model must sample (``sample_proba``, e.g. a TorchClassifier, or a Committee).
    random_state : int, RandomState or None

    Notes
    -----
    ``extras["epig_target"]``, a dict with ``"X"`` (target rows) or ``"sampled_proba"``
    (T, m, C), overrides both (chunked scoring passes the pool's target sample this way).
    """

    name = "epig"
    needs = frozenset({Needs.SAMPLED_PROBA})

    def __init__(self, n_target: int = 100, X_target: Any = None,
                 random_state: Any = None) -> None:
        super().__init__(random_state=random_state)
        self.n_target = n_target
        self.X_target = X_target

    def _check_n_target(self) -> int:
        n = self.n_target
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n_target must be a positive integer, got {n!r}.")
        return int(n)

    def target_samples(self, context: QueryContext, p: np.ndarray) -> np.ndarray:
        """The draws on the target inputs, shape (T, m, C)."""
        given = context.extras.get("epig_target")
        if given is not None:
            if isinstance(given, dict) and "sampled_proba" in given:
                return check_sampled(given["sampled_proba"])
            if isinstance(given, dict) and "X" in given:
                return _sampled_for(context, given["X"])
            raise ValueError(
                "extras['epig_target'] must be a dict with 'X' (target rows) or "
                "'sampled_proba' (T, m, C)."
            )
        if self.X_target is not None:
            return _sampled_for(context, self.X_target)
        positions = target_positions(len(context), self._check_n_target(),
                                     self._query_key(context))
        return p[:, positions]

    def chunk_extras(self, read_rows: Callable[[np.ndarray], Any], n_candidates: int,
                     key: int) -> dict[str, Any]:
        """What every chunk of a chunked query needs: the pool's target rows.

        ``read_rows(positions)`` returns the feature rows of the candidates at those
        positions (in candidate order).
        """
        if self.X_target is not None:
            return {}
        positions = target_positions(n_candidates, self._check_n_target(), key)
        return {"epig_target": {"X": np.asarray(read_rows(positions))}}

    def utility(self, context: QueryContext) -> np.ndarray:
        p = sampled_proba_of(context)
        return epig_utility(p, self.target_samples(context, p))
