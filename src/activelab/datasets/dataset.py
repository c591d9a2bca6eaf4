"""The :class:`Dataset` record that every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Dataset"]


@dataclass
class Dataset:
    """Features and labels of a dataset, with what is known about its items.

    Attributes
    ----------
    name : str
    X : ndarray or sparse matrix, shape (n_samples, n_features)
    y : ndarray, shape (n_samples,)
    raw : sequence, optional
        The items as a person sees them (images, texts, the original table).
    feature_names : list of str, optional
    groups : ndarray, optional
        A group per item (e.g. the corpus an e-mail came from).
    classes : ndarray
        The sorted distinct labels (computed from ``y`` when not given).
    keys : ndarray, optional
        An identifier per item (a table's id column), never used as a feature.
    notes : list of str
        What the loader decided that the user should know (e.g. which column it took as
        the items' ids).
    task : str
        ``"classification"``, ``"multilabel"`` or ``"regression"``; inferred from ``y``
        when not given (:func:`activelab.engine.tasks.infer_task`).  A regression set has
        no ``classes`` (an empty array).
    """

    name: str
    X: Any
    y: np.ndarray
    raw: Any = None
    feature_names: list[str] | None = None
    groups: Any = None
    classes: np.ndarray = field(default=None)  # type: ignore[assignment]
    keys: Any = None
    notes: list[str] = field(default_factory=list)
    task: str | None = None

    def __post_init__(self) -> None:
        from ..engine.tasks import Task, infer_task

        self.y = np.asarray(self.y)
        if self.X.shape[0] != self.y.shape[0]:
            raise ValueError(
                f"dataset {self.name!r}: X has {self.X.shape[0]} rows but y has "
                f"{self.y.shape[0]} labels."
            )
        self.task = (infer_task(self.y) if self.task is None else Task(self.task)).value
        if self.classes is None:
            self.classes = np.empty(0) if self.task == "regression" else np.unique(self.y)

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    def __repr__(self) -> str:
        kind = f"task={self.task!r}" if self.task == "regression" \
            else f"n_classes={len(self.classes)}"
        return (
            f"Dataset(name={self.name!r}, n_samples={self.n_samples}, "
            f"n_features={self.n_features}, {kind})"
        )
