"""Bayesian disagreement: BALD and BatchBALD over sampled probabilities.

Both read *sampled probabilities*, an array of shape (n_samples, n_candidates,
n_classes): T draws of the model's class distribution per candidate, e.g. from MC
dropout or the members of a deep ensemble (``activelab.torch``).  They are taken from
``context.extras["sampled_proba"]``, else from the estimator's ``sample_proba(X)``,
else from a committee's member probabilities, so both strategies also work with any
:class:`activelab.Committee` and without torch.

BALD (Houlsby et al., 2011) scores each candidate by the mutual information between its
label and the model parameters, ``H[mean_t p_t] - mean_t H[p_t]``.  BatchBALD (Kirsch et
al., 2019) chooses a batch greedily by the mutual information of the *joint* labels of
the batch, so that near-duplicates are not picked together; the joint distribution is
computed exactly while it has at most ``num_samples`` label configurations and estimated
from ``num_samples`` sampled configurations after that.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import entr
from sklearn.utils import check_random_state

from ._shared import bald_utility, check_sampled, entropy_rows, sampled_proba_of
from .base import (
    Needs,
    QueryContext,
    QueryResult,
    Strategy,
    UtilityStrategy,
    check_n_instances,
    top_k,
)
from .registry import register

__all__ = [
    "bald_utility",
    "batchbald_select",
    "sampled_proba_of",
    "BALD",
    "BatchBALD",
]


def _joint_entropy_with(
    config_proba: np.ndarray, weights: np.ndarray, p_cand: np.ndarray, block: int = 256
) -> np.ndarray:
    """Entropy of the joint labels (batch configuration, candidate label) per candidate.

    ``config_proba`` (T, M): probability of each batch configuration under each draw;
    ``weights`` (M,): weight of each configuration in the sum (1 when enumerated,
    ``1 / (M p(config))`` when sampled); ``p_cand`` (T, n, C).
    """
    T, n, C = p_cand.shape
    out = np.empty(n)
    for start in range(0, n, block):  # blocks of candidates, not single rows
        stop = min(start + block, n)
        # joint[n, m, c] = mean_t config_proba[t, m] * p_cand[t, n, c]
        joint = np.einsum("tm,tnc->nmc", config_proba, p_cand[:, start:stop], optimize=True) / T
        out[start:stop] = np.einsum("nmc,m->n", entr(joint), weights)
    return out


def batchbald_select(
    sampled_proba: np.ndarray,
    n_instances: int,
    *,
    num_samples: int = 1000,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy BatchBALD: positions of a batch with high joint mutual information.

    Parameters
    ----------
    sampled_proba : ndarray of shape (T, n, C)
    n_instances : int
        Batch size.
    num_samples : int, default=1000
        Largest number of joint label configurations enumerated exactly; beyond it,
        this many configurations are sampled (seeded by ``random_state``).
    random_state : int, RandomState or None
        Seeds tie breaking and the sampled configurations.

    Returns
    -------
    positions : ndarray of int64, shape (n_instances,)
        Positions into the candidates, in the order chosen.
    mutual_information : ndarray of float64, shape (n_instances,)
        Mutual information between the batch's labels and the model after each pick
        (non-decreasing up to estimation error).
    """
    p = check_sampled(sampled_proba)
    T, n, C = p.shape
    k = check_n_instances(n_instances, n)
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or (
        num_samples < 1
    ):
        raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}.")
    rng = check_random_state(random_state)
    cond = entropy_rows(p).mean(axis=0)  # E_t H[p_t(x)], per candidate
    chosen: list[int] = []
    mi: list[float] = []
    config = np.ones((T, 1))  # probability of each batch configuration per draw
    weights = np.ones(1)
    draws: np.ndarray | None = None  # draw index per sampled configuration
    labels = np.empty((0, 0), dtype=np.int64)  # sampled labels, (M, batch size)
    available = np.ones(n, dtype=bool)
    cond_sum = 0.0
    for _ in range(k):
        joint_h = _joint_entropy_with(config, weights, p)
        score = joint_h - cond - cond_sum
        score[~available] = -np.inf
        pos = int(top_k(score, 1, rng)[0])
        chosen.append(pos)
        mi.append(float(score[pos]))
        available[pos] = False
        cond_sum += float(cond[pos])
        # extend the configurations by the chosen candidate's label
        if draws is None and config.shape[1] * C <= num_samples:
            config = (config[:, :, None] * p[:, pos, None, :]).reshape(T, -1)
            weights = np.ones(config.shape[1])
            continue
        if draws is None:  # switch to sampled configurations
            draws = rng.randint(0, T, size=num_samples)
            labels = np.empty((num_samples, 0), dtype=np.int64)
            batch = chosen
        else:
            batch = chosen[-1:]
        new = _sample_labels(p[:, batch, :], draws, rng)  # (M, len(batch))
        labels = np.concatenate([labels, new], axis=1)
        sel = p[:, chosen, :]  # (T, b, C)
        config = np.prod(sel[:, np.arange(len(chosen))[None, :], labels], axis=2)  # (T, M)
        marginal = config.mean(axis=0)
        weights = 1.0 / (num_samples * np.maximum(marginal, np.finfo(float).tiny))
    return np.asarray(chosen, dtype=np.int64), np.asarray(mi)


def _sample_labels(p_batch: np.ndarray, draws: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """One label per (configuration, batch item), drawn from ``p_t`` of that configuration."""
    probs = p_batch[draws]  # (M, b, C)
    cdf = np.cumsum(probs, axis=2)
    u = rng.random_sample(probs.shape[:2])[..., None] * cdf[..., -1:]
    return np.minimum((u >= cdf).sum(axis=2), probs.shape[2] - 1).astype(np.int64)


@register
class BALD(UtilityStrategy):
    """Query the candidates whose labels the model's samples disagree on most (BALD).

    Reads sampled probabilities (MC dropout, a deep ensemble or a committee); see
    :func:`sampled_proba_of`.
    """

    name = "bald"
    needs = frozenset({Needs.SAMPLED_PROBA})

    def utility(self, context: QueryContext) -> np.ndarray:
        return bald_utility(sampled_proba_of(context))


@register
class BatchBALD(Strategy):
    """Choose a batch by the joint mutual information of its labels (BatchBALD).

    Parameters
    ----------
    num_samples : int, default=1000
        Joint label configurations enumerated exactly, or sampled beyond that.
    prefilter : int or None, default=None
        Run the greedy search on the ``prefilter`` candidates with the highest BALD
        only (for large pools); all candidates when None.
    random_state : int, RandomState or None
    """

    name = "batchbald"
    needs = frozenset({Needs.SAMPLED_PROBA})

    def __init__(
        self, num_samples: int = 1000, prefilter: int | None = None, random_state: Any = None
    ) -> None:
        super().__init__(random_state=random_state)
        self.num_samples = num_samples
        self.prefilter = prefilter

    def chunked_prefilter(self) -> tuple[UtilityStrategy, int]:
        """How a pool too large for memory is scored: BALD chunk by chunk keeps the
        ``prefilter`` best, and BatchBALD chooses among them."""
        if self.prefilter is None:
            raise ValueError(
                "BatchBALD scores a pool out of core only with a prefilter: give "
                "BatchBALD(prefilter=m), and BALD keeps the m best candidates for it."
            )
        return BALD(random_state=self.random_state), int(self.prefilter)

    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        p = sampled_proba_of(context)
        utilities = bald_utility(p)
        positions = np.arange(len(context))
        if self.prefilter is not None:
            if isinstance(self.prefilter, bool) or not isinstance(
                self.prefilter, (int, np.integer)
            ):
                raise TypeError(f"prefilter must be an integer or None, got {self.prefilter!r}.")
            if self.prefilter < n_instances:
                raise ValueError(
                    f"prefilter={self.prefilter} is smaller than n_instances={n_instances}; "
                    "keep at least as many candidates as you query."
                )
            if self.prefilter < len(context):
                positions = np.sort(top_k(utilities, int(self.prefilter), self.random_state))
        chosen, mi = batchbald_select(
            p[:, positions], n_instances, num_samples=self.num_samples,
            random_state=self.random_state,
        )
        return QueryResult(
            ids=context.candidate_ids[positions[chosen]],
            candidate_ids=context.candidate_ids,
            utilities=utilities,
            strategy=self.name,
            info={
                "batch_mutual_information": mi.tolist(),
                "prefilter": None if self.prefilter is None else int(positions.size),
            },
        )
