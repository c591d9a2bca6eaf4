"""One split policy for ``activelab simulate`` and ``activelab benchmark``.

For seed ``k`` the rows are split once into a pool and a test set, **stratified** (every
class keeps its share on both sides) by ``StratifiedShuffleSplit(test_size=test_size,
random_state=k)``; pool and test rows are kept in the data's row order, so pool id ``i``
is the ``i``-th pool row of the file.  Then ``n_initial`` pool ids are drawn with
``RandomState(k)``; when the draw holds a single class (a rare class of 1 % is missed by
most draws of 20), its last id is swapped for a random pool item of another class, as a
person starting a project would make sure of.  Every strategy of seed ``k`` gets the same
split and initial set, which is what makes the comparisons paired.

Stratified, because a learning curve measured on a test set that lacks a class, or holds
it at another rate than the pool, reads as a strategy effect when it is a split effect;
seeded by the seed alone, so a seed means the same split in both commands.

The other tasks (``task=``) split in their own way, seeded the same:

* **regression** is stratified by target quantile bins (up to :data:`REGRESSION_BINS`
  bins of equal count, fewer when the data is small), so pool and test cover the same
  range of the target; the initial set is a plain seeded draw.
* **multi-label** is a seeded shuffle split (label combinations are too many to
  stratify on); the initial draw is then completed so that every label column the pool
  holds is positive at least once, where the draw has room: an unseen label replaces
  the last drawn id whose removal loses no label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engine.tasks import Task

__all__ = [
    "PairedSplit",
    "REGRESSION_BINS",
    "check_split_sizes",
    "split_pool_test",
    "initial_ids",
    "paired_split",
]

#: Most quantile bins a regression split is stratified on.
REGRESSION_BINS = 10


@dataclass(frozen=True)
class PairedSplit:
    """The split and initial set of one seed.

    Attributes
    ----------
    pool_rows, test_rows : ndarray of int64
        Positions into the labels that were split, in increasing order.
    initial_ids : ndarray of int64
        Pool ids (positions into ``pool_rows``) of the initial labeled set, sorted.
    """

    pool_rows: np.ndarray
    test_rows: np.ndarray
    initial_ids: np.ndarray


def check_split_sizes(
    y: np.ndarray, test_size: float, task: Task | str = Task.CLASSIFICATION
) -> int:
    """The number of test rows; ValueError when a stratified split cannot be made.

    Every class needs two items or more, and both sides need room for every class.  For
    regression and multi-label targets both sides need two rows or more.
    """
    y = np.asarray(y)
    if Task(task) is not Task.CLASSIFICATION:
        n_test = int(math.ceil(test_size * y.shape[0]))
        if n_test < 2 or y.shape[0] - n_test < 2:
            raise ValueError(
                f"the data is too small to split {test_size:g} for testing ({y.shape[0]} "
                "rows); both the pool and the test set need two rows or more."
            )
        return n_test
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise ValueError("the labels hold a single class; a classifier needs at least two.")
    n_test = int(math.ceil(test_size * y.shape[0]))
    if counts.min() < 2 or n_test < classes.size or y.shape[0] - n_test < classes.size:
        raise ValueError(
            f"the data is too small to split {test_size:g} for testing with every class on "
            f"both sides ({y.shape[0]} rows, smallest class {int(counts.min())}); use more "
            "data or change test_size."
        )
    return n_test


def _quantile_bins(y: np.ndarray, test_size: float) -> np.ndarray:
    """Bin of each target: equal-count quantile bins, as many as both sides have room for."""
    n = y.shape[0]
    n_small = min(math.ceil(test_size * n), n - math.ceil(test_size * n))
    n_bins = max(1, min(REGRESSION_BINS, n_small, n // 2))
    edges = np.quantile(y, np.linspace(0.0, 1.0, n_bins + 1)[1:-1])
    bins = np.searchsorted(edges, y, side="right")
    _, bins, counts = np.unique(bins, return_inverse=True, return_counts=True)
    while counts.size > 1 and counts.min() < 2:  # merge a bin of one row into its neighbour
        small = int(np.argmin(counts))
        bins[bins == small] = small - 1 if small > 0 else 1
        _, bins, counts = np.unique(bins, return_inverse=True, return_counts=True)
    return bins


def split_pool_test(
    y: np.ndarray, test_size: float, seed: int, task: Task | str = Task.CLASSIFICATION
) -> tuple[np.ndarray, np.ndarray]:
    """Pool and test positions of ``y`` for one seed, each in increasing order: stratified
    by class (classification) or target quantile bin (regression), shuffled (multi-label)."""
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

    task = Task(task)
    y = np.asarray(y)
    check_split_sizes(y, test_size, task)
    rows = np.zeros((y.shape[0], 1))
    if task is Task.MULTILABEL:
        split = ShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        pool, test = next(split.split(rows))
    else:
        strata = y if task is Task.CLASSIFICATION else _quantile_bins(
            y.astype(np.float64), test_size)
        split = StratifiedShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        pool, test = next(split.split(rows, strata))
    return np.sort(pool).astype(np.int64), np.sort(test).astype(np.int64)


def initial_ids(y_pool: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` random pool ids (seeded) holding at least two classes, sorted.

    When the draw holds one class, its last id is swapped for a random item of another
    class (drawn with the same generator).
    """
    y_pool = np.asarray(y_pool)
    rng = np.random.RandomState(seed)
    n = min(n, y_pool.shape[0])
    ids = rng.choice(y_pool.shape[0], n, replace=False)
    if np.unique(y_pool[ids]).size < 2:
        others = np.flatnonzero(y_pool != y_pool[ids[0]])
        if others.size:
            ids[-1] = rng.choice(others)
    return np.sort(ids).astype(np.int64)


def _initial_multilabel(Y_pool: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` seeded pool ids in which every label column the pool holds is positive once,
    where ``n`` leaves room: an unseen label's random positive row replaces the last drawn
    id whose removal loses no label."""
    Y = np.asarray(Y_pool) != 0
    rng = np.random.RandomState(seed)
    n = min(n, Y.shape[0])
    ids = rng.choice(Y.shape[0], n, replace=False)
    for label in np.flatnonzero(Y.any(axis=0)):
        if Y[ids, label].any():
            continue
        counts = Y[ids].sum(axis=0)
        # the last drawn id that is not the only positive of any label
        spare = np.flatnonzero(~(Y[ids] & (counts == 1)).any(axis=1))
        if not spare.size:
            break  # every drawn id is the only one of some label: no room
        candidates = np.setdiff1d(np.flatnonzero(Y[:, label]), ids)
        ids[spare[-1]] = rng.choice(candidates)
    return np.sort(ids).astype(np.int64)


def paired_split(
    y: np.ndarray, *, test_size: float, n_initial: int, seed: int,
    task: Task | str = Task.CLASSIFICATION,
) -> PairedSplit:
    """The split and the initial set of seed ``seed`` for ``task`` (see the module notes)."""
    task = Task(task)
    y = np.asarray(y)
    pool, test = split_pool_test(y, test_size, seed, task)
    if task is Task.CLASSIFICATION:
        first = initial_ids(y[pool], n_initial, seed)
    elif task is Task.MULTILABEL:
        first = _initial_multilabel(y[pool], n_initial, seed)
    else:
        rng = np.random.RandomState(seed)
        first = np.sort(rng.choice(pool.size, min(n_initial, pool.size), replace=False))
    return PairedSplit(pool, test, first.astype(np.int64))
