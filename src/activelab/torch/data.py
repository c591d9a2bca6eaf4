"""Inputs of a :class:`~activelab.torch.TorchClassifier`: arrays of any rank, or a torch
``Dataset``, turned into mini-batches.

- Arrays (numpy, sparse, pandas, :class:`~activelab.pool.RowView`): 2-D rows, or N-d
  arrays such as images ``(n, 1, 28, 28)``.  With ``input_shape`` set, 2-D rows are
  reshaped to ``(n, *input_shape)``, so a CNN trains and scores on the flat rows that
  a :class:`~activelab.Pool` holds.
- A ``torch.utils.data.Dataset`` whose items are ``(x, y)`` pairs (or ``x`` alone, to
  predict).  It is read through a ``DataLoader``, so per-item transforms (augmentation)
  run again every epoch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from ..pool import check_features, materialize

__all__ = ["is_dataset", "as_array", "shaped", "Batches", "dataset_labels", "dataset_inputs"]


def is_dataset(X: Any) -> bool:
    """Whether ``X`` is a torch ``Dataset`` (read item by item) rather than an array."""
    return isinstance(X, Dataset)


def as_array(X: Any, name: str = "X") -> np.ndarray:
    """``X`` as a float32 numpy array of rank 2 or more (finite values checked)."""
    X = materialize(X)
    if sp.issparse(X) or hasattr(X, "columns") or np.ndim(X) == 2:
        X = check_features(X, name)
        X = X.toarray() if sp.issparse(X) else X
    else:
        X = np.asarray(X)
        if X.ndim < 2:
            raise ValueError(
                f"{name} must have one row per sample, got shape {X.shape}; use "
                "X.reshape(-1, 1) for a single feature."
            )
        if not np.issubdtype(X.dtype, np.number):
            raise TypeError(f"{name} must hold numbers, got dtype {X.dtype}.")
        if X.shape[0] == 0:
            raise ValueError(f"{name} has no rows.")
        if np.issubdtype(X.dtype, np.floating) and not np.isfinite(X).all():
            raise ValueError(f"{name} holds NaN or infinite values; impute or drop them.")
    return np.ascontiguousarray(X, dtype=np.float32)


def shaped(X: np.ndarray, input_shape: Sequence[int] | None, name: str = "X") -> np.ndarray:
    """Rows reshaped to ``(n, *input_shape)`` (unchanged when ``input_shape`` is None)."""
    if input_shape is None:
        return X
    shape = tuple(int(s) for s in input_shape)
    if tuple(X.shape[1:]) == shape:
        return X
    if X.ndim == 2 and X.shape[1] == int(np.prod(shape)):
        return X.reshape((X.shape[0], *shape))
    raise ValueError(
        f"{name} has rows of shape {tuple(X.shape[1:])}, which do not fit input_shape "
        f"{shape}; give rows of {int(np.prod(shape))} values or of shape {shape}."
    )


def _item_input(item: Any) -> Any:
    return item[0] if isinstance(item, (tuple, list)) else item


def dataset_labels(dataset: Dataset) -> np.ndarray:
    """The labels of a dataset of ``(x, y)`` items: ``dataset.targets`` when it has one
    (torchvision's convention), else read item by item once."""
    targets = getattr(dataset, "targets", None)
    if targets is not None:
        return np.asarray(targets.cpu() if torch.is_tensor(targets) else targets)
    labels = []
    for item in DataLoader(dataset, batch_size=256):  # batches, not single rows
        if not isinstance(item, (tuple, list)) or len(item) < 2:
            raise ValueError(
                "a Dataset to fit on must yield (x, y) pairs; wrap it or pass y for arrays."
            )
        labels.append(np.asarray(item[1]))
    return np.concatenate(labels)


def dataset_inputs(dataset: Dataset, batch_size: int) -> Iterator[torch.Tensor]:
    """The inputs of a dataset's items, in order, one float32 batch at a time."""
    for item in DataLoader(dataset, batch_size=batch_size):  # batches, not single rows
        yield _item_input(item).float()


class Batches:
    """Shuffled mini-batches ``(x, y_index)`` of the training rows, epoch after epoch.

    Parameters
    ----------
    X : ndarray of shape (n, ...) or Dataset
    y_index : ndarray of int64, shape (n,)
        Class index of every row (a dataset's labels are mapped through ``classes``).
    batch_size : int
    classes : ndarray
        The classes, for mapping a dataset's labels to indices.
    """

    def __init__(self, X: Any, y_index: np.ndarray, batch_size: int, classes: np.ndarray,
                 positions: np.ndarray | None = None) -> None:
        self.batch_size = int(batch_size)
        self.classes = classes
        if positions is None:
            positions = np.arange(len(y_index))
        self.n = int(positions.size)
        if is_dataset(X):
            self._dataset: Dataset | None = Subset(X, positions.tolist())
            self._X, self._y = None, None
        else:
            self._dataset = None
            self._X = torch.from_numpy(X[positions])
            self._y = torch.from_numpy(y_index[positions].astype(np.int64))

    def epoch(self, rng: np.random.RandomState) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The batches of one epoch, in an order drawn from ``rng``."""
        if self._dataset is None:
            order = torch.from_numpy(rng.permutation(self.n))
            for start in range(0, self.n, self.batch_size):  # mini-batches
                idx = order[start : start + self.batch_size]
                yield self._X[idx], self._y[idx]
            return
        gen = torch.Generator().manual_seed(int(rng.randint(0, 2**31 - 1)))
        loader = DataLoader(self._dataset, batch_size=self.batch_size, shuffle=True,
                            generator=gen)
        for xb, yb in loader:  # mini-batches
            idx = np.searchsorted(self.classes, np.asarray(yb))
            yield xb.float(), torch.from_numpy(idx.astype(np.int64))

    def all(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Every row once, in order (to compute a validation loss)."""
        if self._dataset is None:
            for start in range(0, self.n, 4096):  # blocks of rows
                yield self._X[start : start + 4096], self._y[start : start + 4096]
            return
        for xb, yb in DataLoader(self._dataset, batch_size=256):  # blocks of rows
            idx = np.searchsorted(self.classes, np.asarray(yb))
            yield xb.float(), torch.from_numpy(idx.astype(np.int64))
