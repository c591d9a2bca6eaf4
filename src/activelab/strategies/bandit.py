"""Strategy selection by a bandit: ``albl`` (active learning by learning, Hsu & Lin 2015).

This was ``auto`` until the default selector (:mod:`activelab.strategies.selector`)
took that name: on the label-efficiency suite the bandit's importance-weighted reward
was too noisy with batches of ten to move far from its uniform start.

No strategy wins on every dataset.  ``albl`` treats a set of strategies as the arms of
an adversarial bandit and learns, while the run goes on, which one pays off here.

Each round (batch mode):

1. every arm proposes a batch (its "advice", as the experts of EXP4.P);
2. an arm is drawn with probability ``p = (1 - exploration) · softmax(log_weights) +
   exploration / K`` and its batch is queried;
3. every queried item ``x`` remembers its query probability ``q(x) = sum_k p_k ψ_k(x)``,
   where ``ψ_k(x)`` is 1 when arm ``k`` proposed ``x`` (``n / N`` for the uniform ``random``
   arm, whose proposal is a draw);
4. after the labels arrive and the learner has been refit, :meth:`StrategyBandit.update`
   computes the reward: the **importance-weighted accuracy** of the refit learner on
   all items queried so far, each weighted by ``1 / q(x)`` (self-normalised, in
   ``[0, 1]``).  Items that only the random arm would have proposed carry large weights,
   which is what makes the reward an estimate of accuracy on the whole pool rather than
   on the items the arms like;
5. the drawn arm's log-weight grows by ``learning_rate · (reward - baseline) / p_arm``,
   an importance-weighted (unbiased) gain; the baseline (a moving average of past
   rewards) removes the upward trend that every arm shares as labels accumulate.

How the loop drives it
----------------------
After each round's labels are known and the learner has been refit on them, call::

    if hasattr(strategy, "update"):
        strategy.update(answer.ids, answer.labels, learner)

with the pool ids that received a label (skipped ids left out), their labels, and the
refit learner (anything with ``predict``).  When a round calls :meth:`select` more than
once (to replace skipped items), call :meth:`update` once with all of the round's labeled
ids; every arm drawn in the round shares the reward.  Without ``update`` the bandit keeps its
initial uniform weights, i.e. it picks arms at random.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.utils import check_random_state

from ..pool import materialize, take_rows
from .base import Needs, QueryContext, QueryResult, Strategy, check_n_instances
from .registry import get_strategy, register

__all__ = ["StrategyBandit"]


@register
class StrategyBandit(Strategy):
    """Choose among strategies with an EXP4.P-like bandit (ALBL, Hsu & Lin 2015).

    Parameters
    ----------
    arms : sequence of str or Strategy, default=("margin", "hybrid", "class_balanced", "random")
        The strategies to choose among.  Keep ``"random"`` among them: its proposals
        make the importance-weighted reward an estimate of pool accuracy.  The default
        arms work with any probabilistic classifier; entropy and core-set are left out
        because both often fall below random (entropy with many classes, core-set on
        tabular data; Lu et al. 2025), which a short run cannot always unlearn.
    exploration : float in (0, 1], default=0.1
        Share of the arm probabilities spread uniformly (every arm keeps at least
        ``exploration / K``).
    learning_rate : float, default=1.0
        Step of the log-weight update.
    baseline_decay : float in [0, 1), default=0.5
        Weight of the old baseline in the moving average of rewards.
    random_state : int, RandomState or None

    Attributes
    ----------
    arm_names_ : list of str
    log_weights_ : ndarray of shape (K,)
    arm_counts_ : ndarray of int, shape (K,)
        How often each arm was drawn.
    rewards_ : list of float
        Reward of each update, in order.
    history_ : list of dict
        Per round: ``arm``, ``arm_probabilities`` and (after :meth:`update`) ``reward``.

    Notes
    -----
    Every arm runs every round, so a round costs the sum of the arms' costs.  The
    result's ``info`` records ``arm``, ``arm_index``, ``arm_probabilities`` and the
    ``query_probabilities`` of the chosen items.
    """

    name = "albl"
    needs = frozenset({Needs.PROBA, Needs.FEATURES, Needs.LABELED})

    def __init__(
        self,
        arms: Any = ("margin", "hybrid", "class_balanced", "random"),
        exploration: float = 0.1,
        learning_rate: float = 1.0,
        baseline_decay: float = 0.5,
        random_state: Any = None,
    ) -> None:
        super().__init__(random_state=random_state)
        if isinstance(arms, str) or len(arms) < 1:
            raise ValueError(
                "arms must be a sequence of strategy names or objects, e.g. "
                "('margin', 'coreset', 'random')."
            )
        if not 0 < exploration <= 1:
            raise ValueError(f"exploration must be in (0, 1], got {exploration!r}.")
        if not 0 <= baseline_decay < 1:
            raise ValueError(f"baseline_decay must be in [0, 1), got {baseline_decay!r}.")
        self.arms = tuple(arms)
        self.exploration = exploration
        self.learning_rate = learning_rate
        self.baseline_decay = baseline_decay

    def __repr__(self) -> str:
        return (
            f"StrategyBandit(arms={self.arms!r}, exploration={self.exploration!r}, "
            f"learning_rate={self.learning_rate!r}, baseline_decay={self.baseline_decay!r}, "
            f"random_state={self.random_state!r})"
        )

    # ------------------------------------------------------------- state
    def _init_state(self) -> None:
        if hasattr(self, "arm_strategies_"):
            return
        self._rng = check_random_state(self.random_state)
        self.arm_strategies_ = [get_strategy(a, random_state=self._rng) for a in self.arms]
        self.arm_names_ = [s.name or type(s).__name__ for s in self.arm_strategies_]
        k = len(self.arm_strategies_)
        self.log_weights_ = np.zeros(k)
        self.arm_counts_ = np.zeros(k, dtype=np.int64)
        self.rewards_: list[float] = []
        self.history_: list[dict[str, Any]] = []
        self._baseline: float | None = None
        self._pending: list[dict[str, Any]] = []
        self._rows: list[Any] = []
        self._labels: list[np.ndarray] = []
        self._weights: list[np.ndarray] = []

    def arm_probabilities(self) -> np.ndarray:
        """Current probability of drawing each arm."""
        self._init_state()
        k = len(self.log_weights_)
        return (1.0 - self.exploration) * softmax(self.log_weights_) + self.exploration / k

    # ------------------------------------------------------------ select
    def select(self, context: QueryContext, n_instances: int) -> QueryResult:
        n_instances = check_n_instances(n_instances, len(context))
        self._init_state()
        p = self.arm_probabilities()
        n = len(context)
        proposals = [arm.select(context, n_instances) for arm in self.arm_strategies_]
        a = int(self._rng.choice(len(p), p=p))
        chosen = proposals[a]
        # query probability of each chosen item under the mixture of the arms' advice
        q = np.zeros(n_instances)
        for k, (arm, res) in enumerate(zip(self.arm_strategies_, proposals, strict=True)):
            if arm.name == "random":
                q += p[k] * n_instances / n
            else:
                q += p[k] * np.isin(chosen.ids, res.ids)
        order = np.argsort(context.candidate_ids, kind="stable")
        positions = order[np.searchsorted(context.candidate_ids[order], chosen.ids)]
        rows = materialize(take_rows(context.X, positions)) if context.X is not None else None
        self._pending.append(
            {"ids": chosen.ids.copy(), "q": q, "rows": rows, "arm": a, "p_arm": float(p[a])}
        )
        self.arm_counts_[a] += 1
        self.history_.append(
            {"arm": self.arm_names_[a], "arm_probabilities": [float(v) for v in p]}
        )
        return QueryResult(
            ids=chosen.ids,
            candidate_ids=context.candidate_ids,
            utilities=chosen.utilities,
            strategy=self.name,
            info={
                "arm": self.arm_names_[a],
                "arm_index": a,
                "arm_probabilities": [float(v) for v in p],
                "query_probabilities": [float(v) for v in q],
                "arm_info": dict(chosen.info),
            },
        )

    # ------------------------------------------------------------ update
    def update(self, pool_ids: Any, labels: Any, learner: Any) -> float:
        """Reward the arm drawn in the last :meth:`select` once its labels are known.

        Parameters
        ----------
        pool_ids : array-like of int
            Ids of the last batch that received a label (skipped ids left out).
        labels : array-like
            Their labels, in the same order.
        learner : fitted classifier, ActiveLearner or Committee
            The learner refit on the new labels (needs ``predict``).

        Returns
        -------
        float
            The reward, the importance-weighted accuracy of ``learner`` on every item
            queried so far (NaN when nothing has been labeled yet).

        Raises
        ------
        ValueError
            When there was no query to reward, or an id was not in the last batch.
        """
        self._init_state()
        if not self._pending:
            raise ValueError("update() must follow a select(): there is no batch to reward.")
        pending, self._pending = self._pending, []
        ids = np.asarray(pool_ids, dtype=np.int64).ravel()
        labels = np.asarray(labels).ravel()
        if ids.shape != labels.shape:
            raise ValueError(
                f"got {ids.size} ids but {labels.size} labels; pass one label per id."
            )
        # the batches asked since the last update (several when skipped items were replaced)
        where = {
            int(i): (b, j) for b, batch in enumerate(pending) for j, i in enumerate(batch["ids"])
        }
        missing = [int(i) for i in ids if int(i) not in where]
        if missing:
            self._pending = pending
            raise ValueError(
                f"ids {missing[:5]} were not in the last queried batch; pass the ids "
                "that the last select() returned and that received a label."
            )
        for b, batch in enumerate(pending):
            mine = [k for k, i in enumerate(ids) if where[int(i)][0] == b]
            if not mine:
                continue
            pos = np.array([where[int(ids[k])][1] for k in mine], dtype=np.int64)
            if batch["rows"] is None:
                raise ValueError("update() needs the features of the queried items (X).")
            self._rows.append(take_rows(batch["rows"], pos))
            self._labels.append(labels[mine])
            self._weights.append(1.0 / batch["q"][pos])
        if not self._rows:
            reward = float("nan")
        else:
            rows = (
                sp.vstack(self._rows, format="csr")
                if any(sp.issparse(r) for r in self._rows)
                else np.concatenate([np.asarray(r) for r in self._rows], axis=0)
            )
            y = np.concatenate(self._labels)
            w = np.concatenate(self._weights)
            correct = (np.asarray(learner.predict(rows)) == y).astype(np.float64)
            reward = float(np.sum(w * correct) / np.sum(w))
        if np.isfinite(reward):
            baseline = reward if self._baseline is None else self._baseline
            for batch in pending:  # every arm drawn since the last update shares the reward
                self.log_weights_[batch["arm"]] += (
                    self.learning_rate * (reward - baseline) / batch["p_arm"] / len(pending)
                )
            self._baseline = self.baseline_decay * baseline + (1 - self.baseline_decay) * reward
        self.rewards_.append(reward)
        self.history_[-1]["reward"] = reward
        return reward
