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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["PairedSplit", "check_split_sizes", "split_pool_test", "initial_ids", "paired_split"]


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


def check_split_sizes(y: np.ndarray, test_size: float) -> int:
    """The number of test rows; ValueError when a stratified split cannot be made.

    Every class needs two items or more, and both sides need room for every class.
    """
    y = np.asarray(y)
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


def split_pool_test(y: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified pool and test positions of ``y`` for one seed, each in increasing order."""
    from sklearn.model_selection import StratifiedShuffleSplit

    y = np.asarray(y)
    check_split_sizes(y, test_size)
    split = StratifiedShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    pool, test = next(split.split(np.zeros((y.shape[0], 1)), y))
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


def paired_split(y: np.ndarray, *, test_size: float, n_initial: int, seed: int) -> PairedSplit:
    """The stratified split and the initial set of seed ``seed`` (see the module notes)."""
    pool, test = split_pool_test(y, test_size, seed)
    return PairedSplit(pool, test, initial_ids(np.asarray(y)[pool], n_initial, seed))
