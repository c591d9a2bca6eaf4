"""The live verdict: is active learning beating random on this data, without a test set?

A run whose strategy spends a small share of every batch on **uniformly random** picks
(``auto`` does) can answer that question from those picks alone.  Before a random pick's
label is known, two models predict it:

* the *active* model, trained on the run's first ``k`` labels in the order they were
  asked (what the run itself had when it held ``k`` labels);
* the *random* model, trained on the ``k`` labels that came from random draws only (the
  initial set and the random picks so far), i.e. what random sampling would have had.

Both have exactly ``k`` labels and neither saw the pick, and the pick is a uniform draw
from the unlabeled pool made after both training sets were fixed, so the difference of
their correctness on it is an unbiased estimate of ``accuracy(active) - accuracy(random)``
on the pool at ``k`` labels.  :func:`paired_verdict` turns the picks' paired outcomes into
an estimate with an interval: the matched-pairs interval of Agresti & Min (2005), the Wald
interval after adding one half to each cell of the 2 × 2 table of outcomes, which keeps its
coverage with few picks and when most picks are classified alike by both models.

What it answers, and what it does not: ``k`` grows with the random picks only, so with a
random share ``s`` it compares the two at label counts up to ``initial + s × queried``
(the first part of the learning curve), and the pool it measures on is the unlabeled pool
of the moment, not a test set.  With a share of 0.1 and a few hundred labels the interval
is wide (tenths); it says "can't tell yet" far more often than it decides.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["LiveVerdict", "paired_verdict", "pooled_verdict", "wilson_interval"]


@dataclass(frozen=True)
class LiveVerdict:
    """The live estimate of active learning's gain over random sampling.

    Attributes
    ----------
    n : int
        Random picks scored by both models.
    mean : float
        Mean of ``correct(active) - correct(random)`` over them (NaN when ``n == 0``).
    low, high : float
        The interval of the gain (Agresti-Min, see the module notes).
    active_accuracy, random_accuracy : float
        Accuracy of each model on the scored picks.
    labels_from, labels_to : int
        Label counts at which the two models were compared.
    confidence : float
    words : str
        ``"ahead of random"``, ``"behind random"``, ``"can't tell yet"`` or ``"no evidence
        yet"``.
    active_only, random_only : int
        Picks only the active (only the random) model got right; with ``n`` they are all
        that the interval depends on, so verdicts of independent runs can be pooled
        (:func:`pooled_verdict`).
    """

    n: int
    mean: float
    low: float
    high: float
    active_accuracy: float
    random_accuracy: float
    labels_from: int
    labels_to: int
    confidence: float
    words: str
    active_only: int = 0
    random_only: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The verdict as a JSON-able dict (NaN kept as ``None``)."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in asdict(self).items()}

    def summary(self) -> str:
        """One line for a report, e.g. ``+0.040 [-0.020, +0.100] over 48 random picks``."""
        if self.n == 0:
            return "live verdict: no random picks scored yet"
        return (
            f"live verdict: {self.words}: {self.mean:+.3f} [{self.low:+.3f}, {self.high:+.3f}] "
            f"accuracy gain over {self.n} random picks, at {self.labels_from}-{self.labels_to} "
            "labels"
        )


def _z(confidence: float) -> float:
    from scipy import stats

    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}.")
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def paired_verdict(
    active_correct: Any, random_correct: Any, *, label_counts: Any = None,
    confidence: float = 0.95,
) -> LiveVerdict:
    """The gain of the active model over the random one on paired picks, with an interval.

    Parameters
    ----------
    active_correct, random_correct : array-like of bool
        Per random pick, whether each model predicted its label (same order).
    label_counts : array-like of int, optional
        The label count ``k`` at which each pick was scored (for the record).
    confidence : float, default=0.95

    Returns
    -------
    LiveVerdict
        With ``b`` picks only the active model got right, ``c`` only the random one and
        ``n`` picks in all: ``mean = (b - c) / n`` and the interval
        ``d ± z sqrt(((b' + c') - (b' - c')² / n') / n'²)`` with ``b' = b + ½``,
        ``c' = c + ½``, ``n' = n + 2``, ``d = (b' - c') / n'`` (clipped to [-1, 1]).

    Examples
    --------
    >>> v = paired_verdict([1, 1, 1, 1], [0, 0, 0, 0])
    >>> v.mean, round(v.low, 3), v.words
    (1.0, 0.168, 'ahead of random')
    """
    a = np.asarray(active_correct, dtype=bool).ravel()
    r = np.asarray(random_correct, dtype=bool).ravel()
    if a.shape != r.shape:
        raise ValueError(
            f"active_correct has {a.size} picks but random_correct has {r.size}; give one "
            "outcome per random pick for both, in the same order."
        )
    _z(confidence)
    counts = np.asarray([] if label_counts is None else label_counts, dtype=np.int64).ravel()
    lo_k = int(counts.min()) if counts.size else 0
    hi_k = int(counts.max()) if counts.size else 0
    n = int(a.size)
    if n == 0:
        return _from_counts(0, 0, 0, math.nan, math.nan, lo_k, hi_k, confidence)
    return _from_counts(int(np.sum(a & ~r)), int(np.sum(~a & r)), n, float(a.mean()),
                        float(r.mean()), lo_k, hi_k, confidence)


def _from_counts(b: int, c: int, n: int, acc_a: float, acc_r: float, lo_k: int, hi_k: int,
                 confidence: float) -> LiveVerdict:
    if n == 0:
        nan = math.nan
        return LiveVerdict(0, nan, nan, nan, nan, nan, lo_k, hi_k, confidence, "no evidence yet")
    z = _z(confidence)
    b2, c2, n2 = b + 0.5, c + 0.5, n + 2.0
    d = (b2 - c2) / n2
    half = z * math.sqrt(max((b2 + c2) - (b2 - c2) ** 2 / n2, 0.0)) / n2
    low, high = max(d - half, -1.0), min(d + half, 1.0)
    words = "ahead of random" if low > 0 else "behind random" if high < 0 else "can't tell yet"
    return LiveVerdict(n, (b - c) / n, low, high, acc_a, acc_r, lo_k, hi_k, confidence, words,
                       b, c)


def pooled_verdict(verdicts: Any, confidence: float = 0.95) -> LiveVerdict:
    """One verdict from the verdicts of independent runs (e.g. the seeds of a benchmark).

    Parameters
    ----------
    verdicts : iterable of LiveVerdict or dict
        As :meth:`LiveVerdict.to_dict` writes them; those without picks are left out.

    Returns
    -------
    LiveVerdict
        The interval of the pooled counts (the runs' picks are independent).
    """
    rows = [v.to_dict() if isinstance(v, LiveVerdict) else dict(v) for v in verdicts]
    rows = [v for v in rows if v and v.get("n")]
    n = sum(int(v["n"]) for v in rows)
    if n == 0:
        return _from_counts(0, 0, 0, math.nan, math.nan, 0, 0, confidence)
    acc = [sum(v[key] * v["n"] for v in rows) / n for key in ("active_accuracy", "random_accuracy")]
    return _from_counts(
        sum(int(v["active_only"]) for v in rows), sum(int(v["random_only"]) for v in rows), n,
        acc[0], acc[1], min(int(v["labels_from"]) for v in rows),
        max(int(v["labels_to"]) for v in rows), confidence,
    )


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (NaN, NaN when ``n == 0``)."""
    if n == 0:
        return math.nan, math.nan
    z = _z(confidence)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(centre - half, 0.0), min(centre + half, 1.0)
