"""What a run produces: :class:`RoundRecord` per round, :class:`RunResult` for the run,
the :class:`LoopState` a stopping criterion sees, the stop kinds, and the JSON conversion
the records and the event log share.

This module needs only numpy, so the event sinks and the loop can both import it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..pool import Pool

__all__ = [
    "LoopState",
    "RoundRecord",
    "RunResult",
    "STOP_BUDGET",
    "STOP_POOL",
    "STOP_CRITERION",
    "STOP_ORACLE",
    "STOP_ERROR",
    "json_float",
    "to_jsonable",
]

#: Values of :attr:`RunResult.stop_kind`.
STOP_BUDGET = "budget"
STOP_POOL = "pool"
STOP_CRITERION = "criterion"
STOP_ORACLE = "oracle"
#: ``stop_kind`` of the ``run_end`` event of a run that raised.
STOP_ERROR = "error"


EMPTY_IDS = np.empty(0, dtype=np.int64)


# --------------------------------------------------------------------------- JSON values
def json_float(value: Any) -> float | None:
    """A float for JSON: non-finite values become ``None`` (strict JSON has no NaN)."""
    value = float(value)
    return value if np.isfinite(value) else None


def to_jsonable(value: Any) -> Any:
    """Convert numpy scalars and arrays, nested in dicts and lists, to plain JSON values.

    Non-finite floats become ``None`` so that every line is strict JSON; objects JSON
    does not know are written as their ``repr``.

    Examples
    --------
    >>> to_jsonable({"ids": np.array([3, 1]), "u": np.float32(0.5), "bad": np.nan})
    {'ids': [3, 1], 'u': 0.5, 'bad': None}
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return json_float(value)
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return repr(value)


# --------------------------------------------------------------------------- records
@dataclass
class RoundRecord:
    """What one round of the loop did.

    Round ``r`` fits on the ``n_labeled`` labels known at its start, evaluates, and then
    (unless the run stops) queries a batch and records the labels it got.  Round 0 is
    the fit on the initial set.

    Attributes
    ----------
    round : int
        Round number, 0 for the fit on the initial set.
    n_labeled : int
        Labels the learner was fitted on in this round.
    metrics : dict of str to float
        Test-set metrics of that fit (empty without a test set).
    query_ids : ndarray of int64
        Pool ids the strategy chose and the oracle was asked about, in asked order.
    query_utilities : ndarray of float64
        Utility of each of ``query_ids`` as the strategy scored it (NaN when unscored).
    labels : ndarray
        Labels the oracle gave, aligned with :attr:`labeled_ids`.
    skipped_ids : ndarray of int64
        Ids the oracle declined; they are not labeled and not asked again in this run.
    fit_seconds, query_seconds, label_seconds : float
        Wall time (``time.perf_counter``) spent fitting, querying and labeling.
    eval_seconds : float
        Wall time spent predicting the test set and computing the metrics.
    info : dict
        Facts from the strategy (its name and the :attr:`QueryResult.info` entries).
    labeled_ids : ndarray of int64
        The ids among ``query_ids`` that received a label, in the order labeled.
    """

    round: int
    n_labeled: int
    metrics: dict[str, float] = field(default_factory=dict)
    query_ids: np.ndarray = field(default_factory=lambda: EMPTY_IDS.copy())
    query_utilities: np.ndarray = field(default_factory=lambda: np.empty(0))
    labels: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    skipped_ids: np.ndarray = field(default_factory=lambda: EMPTY_IDS.copy())
    fit_seconds: float = 0.0
    query_seconds: float = 0.0
    label_seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    labeled_ids: np.ndarray = field(default_factory=lambda: EMPTY_IDS.copy())
    eval_seconds: float = 0.0

    @property
    def n_new_labels(self) -> int:
        """Labels obtained by this round's query."""
        return int(len(self.labeled_ids))

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-able Python values (lists, floats, ``None`` for NaN)."""
        return {
            "round": int(self.round),
            "n_labeled": int(self.n_labeled),
            "metrics": {k: json_float(v) for k, v in self.metrics.items()},
            "query_ids": _json_list(self.query_ids),
            "query_utilities": _json_list(self.query_utilities),
            "labeled_ids": _json_list(self.labeled_ids),
            "labels": _json_list(self.labels),
            "skipped_ids": _json_list(self.skipped_ids),
            "fit_seconds": float(self.fit_seconds),
            "query_seconds": float(self.query_seconds),
            "label_seconds": float(self.label_seconds),
            "eval_seconds": float(self.eval_seconds),
            "info": to_jsonable(self.info),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoundRecord:
        """Rebuild a record from :meth:`to_dict` output (or a ``round`` event)."""
        utilities = [np.nan if u is None else u for u in data.get("query_utilities", [])]
        return cls(
            round=int(data["round"]),
            n_labeled=int(data["n_labeled"]),
            metrics={
                k: (np.nan if v is None else float(v))
                for k, v in dict(data.get("metrics") or {}).items()
            },
            query_ids=np.asarray(data.get("query_ids", []), dtype=np.int64),
            query_utilities=np.asarray(utilities, dtype=np.float64),
            labels=np.asarray(data.get("labels", [])),
            skipped_ids=np.asarray(data.get("skipped_ids", []), dtype=np.int64),
            fit_seconds=float(data.get("fit_seconds", 0.0)),
            query_seconds=float(data.get("query_seconds", 0.0)),
            label_seconds=float(data.get("label_seconds", 0.0)),
            info=dict(data.get("info") or {}),
            labeled_ids=np.asarray(data.get("labeled_ids", []), dtype=np.int64),
            eval_seconds=float(data.get("eval_seconds", 0.0)),
        )


@dataclass
class LoopState:
    """What a stopping criterion sees, once per round after evaluation.

    Attributes
    ----------
    round : int
        0 = after fitting on the initial set.
    pool : Pool
    learner : ActiveLearner or Committee
        Fitted on the current labels.
    n_labeled : int
    n_queried : int
        Labels obtained by queries (the initial set excluded).
    history : list of RoundRecord
        Previous rounds, including the current one (whose query fields are still empty).
    elapsed_seconds : float
        Seconds since the run started.
    started_at : float
        ``time.perf_counter()`` at the start of the run.
    """

    round: int
    pool: Pool
    learner: Any
    n_labeled: int
    n_queried: int
    history: list[RoundRecord]
    elapsed_seconds: float
    started_at: float


@dataclass
class RunResult:
    """The outcome of :func:`activelab.run`.

    Attributes
    ----------
    rounds : list of RoundRecord
    stopped_by : str
        Why the run ended, in words (e.g. ``"budget reached: 60 of 60 labels"``).
    pool : Pool or None
        The pool with every label obtained (``None`` for a run rebuilt from its log).
    learner : ActiveLearner, Committee or None
        The learner fitted on all labels (``None`` for a run rebuilt from its log).
    config : dict
        The run's settings, JSON-able.
    initial_ids : ndarray of int64
        Ids of the initial set that received a label, in labeling order.
    initial_labels : ndarray
        Their labels.
    oracle_info : dict
        Facts the oracle knows about its own answers (e.g. the ids a noisy oracle
        corrupted), when it has any.
    stop_kind : str
        ``"budget"``, ``"pool"``, ``"criterion"`` or ``"oracle"``.
    total_seconds : float
        Wall time of the whole run.
    """

    rounds: list[RoundRecord]
    stopped_by: str
    pool: Pool | None
    learner: Any
    config: dict[str, Any]
    initial_ids: np.ndarray = field(default_factory=lambda: EMPTY_IDS.copy())
    initial_labels: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    oracle_info: dict[str, Any] = field(default_factory=dict)
    stop_kind: str = ""
    total_seconds: float = 0.0

    @property
    def labeled_ids(self) -> np.ndarray:
        """Every labeled id in the order labeled: the initial set, then each round's query."""
        parts = [np.asarray(self.initial_ids, dtype=np.int64)]
        parts += [r.labeled_ids for r in self.rounds]
        return np.concatenate(parts).astype(np.int64, copy=False)

    @property
    def labels(self) -> np.ndarray:
        """Labels aligned with :attr:`labeled_ids`."""
        parts = [np.asarray(self.initial_labels, dtype=object)]
        parts += [np.asarray(r.labels, dtype=object) for r in self.rounds]
        return np.asarray(np.concatenate(parts).tolist())

    @property
    def n_labeled(self) -> int:
        """Total labels obtained (initial set included)."""
        return int(len(self.initial_ids) + sum(r.n_new_labels for r in self.rounds))

    @property
    def metric_names(self) -> list[str]:
        """Metrics recorded in at least one round."""
        names: dict[str, None] = {}
        for r in self.rounds:
            names.update(dict.fromkeys(r.metrics))
        return list(names)

    def curve(self, metric: str = "accuracy") -> tuple[np.ndarray, np.ndarray]:
        """The learning curve of one metric.

        Parameters
        ----------
        metric : str, default="accuracy"

        Returns
        -------
        n_labeled : ndarray of int64
            Labels the learner was fitted on, one entry per evaluated round.
        values : ndarray of float64
            The metric after that fit.

        Raises
        ------
        ValueError
            When the metric was not recorded (no test set, or another metric name).
        """
        rows = [r for r in self.rounds if metric in r.metrics]
        if not rows:
            known = self.metric_names
            if not known:
                raise ValueError(
                    "this run recorded no metrics; pass X_test and y_test to run() to get "
                    "a learning curve."
                )
            raise ValueError(
                f"metric {metric!r} was not recorded; choose one of: {', '.join(known)}."
            )
        n = np.asarray([r.n_labeled for r in rows], dtype=np.int64)
        v = np.asarray([r.metrics[metric] for r in rows], dtype=np.float64)
        return n, v

    def to_records(self) -> list[dict[str, Any]]:
        """One flat JSON-able dict per round (metrics as columns), e.g. for a DataFrame."""
        out = []
        for r in self.rounds:
            d = r.to_dict()
            metrics = d.pop("metrics")
            info = d.pop("info")
            row: dict[str, Any] = {"run_name": self.config.get("run_name")}
            row.update(d)
            row.update(metrics)
            row["n_queried"] = len(d["query_ids"])
            row["n_new_labels"] = len(d["labeled_ids"])
            row["n_skipped"] = len(d["skipped_ids"])
            row["strategy"] = info.get("strategy")
            row["info"] = info
            out.append(row)
        return out


def _json_list(a: Any) -> list[Any]:
    return to_jsonable(np.asarray(a))
