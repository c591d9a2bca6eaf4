"""A scikit-learn style classifier around a PyTorch module, with MC-dropout sampling."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

try:
    import torch
    from torch import nn
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "activelab.torch needs PyTorch: pip install torch==2.13.0 (the CPU wheel), "
        "or pip install 'activelab[deep]'."
    ) from exc

from ..learners import check_training_labels
from ..pool import check_features, materialize

__all__ = ["TorchClassifier", "make_mlp", "mc_dropout_proba"]

_PREDICT_ROWS = 8192


def make_mlp(
    n_features: int, n_classes: int, hidden_units: Sequence[int] = (64,), dropout: float = 0.25
) -> nn.Module:
    """A multi-layer perceptron: (Linear, ReLU, Dropout) per hidden layer, then Linear.

    Parameters
    ----------
    n_features, n_classes : int
    hidden_units : sequence of int, default=(64,)
    dropout : float, default=0.25
        Dropout probability after each hidden layer (0 disables it).

    Returns
    -------
    torch.nn.Module
        Maps (batch, n_features) float32 inputs to (batch, n_classes) logits.
    """
    layers: list[nn.Module] = []
    width = n_features
    for units in hidden_units:
        layers += [nn.Linear(width, int(units)), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = int(units)
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


def _seed_from(random_state: Any) -> int:
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


def _as_tensor(X: Any) -> torch.Tensor:
    X = np.asarray(materialize(X))
    if X.dtype != np.float32:
        X = X.astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(X))


def _has_dropout(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.dropout._DropoutNd) for m in module.modules())


def mc_dropout_proba(
    module: nn.Module,
    X: Any,
    n_samples: int = 20,
    *,
    random_state: Any = None,
    batch_rows: int = _PREDICT_ROWS,
) -> np.ndarray:
    """Class probabilities with dropout left on, ``n_samples`` times (MC dropout).

    Only the dropout layers are switched to training mode (batch norm and the like
    stay in evaluation mode); the module is returned to evaluation mode afterwards.

    Parameters
    ----------
    module : torch.nn.Module
        Maps (batch, n_features) float32 inputs to logits; must contain dropout.
    X : array-like of shape (n, n_features)
    n_samples : int, default=20
        Number of stochastic forward passes T.
    random_state : int, RandomState or None
        Seeds the dropout masks (the global torch generator is left as it was).
    batch_rows : int, default=8192
        Rows per forward pass.

    Returns
    -------
    ndarray of float64, shape (T, n, n_classes)
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or (
        n_samples < 1
    ):
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    if not _has_dropout(module):
        raise ValueError(
            "the module has no dropout layer, so every MC-dropout sample would be the same; "
            "add dropout (e.g. TorchClassifier(dropout=0.25)) or use a DeepEnsemble."
        )
    X_t = _as_tensor(X)
    dropouts = [m for m in module.modules() if isinstance(m, nn.modules.dropout._DropoutNd)]
    module.eval()
    out: np.ndarray | None = None
    try:
        for m in dropouts:
            m.train()
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(_seed_from(random_state))
            for t in range(int(n_samples)):  # forward passes, not rows
                for start in range(0, X_t.shape[0], batch_rows):
                    logits = module(X_t[start : start + batch_rows])
                    block = torch.softmax(logits.double(), dim=1).numpy()
                    if out is None:
                        out = np.empty((int(n_samples), X_t.shape[0], block.shape[1]))
                    out[t, start : start + block.shape[0]] = block
    finally:
        module.eval()
    assert out is not None
    return out


class TorchClassifier(ClassifierMixin, BaseEstimator):
    """A PyTorch classifier with the scikit-learn interface (CPU, seeded).

    Parameters
    ----------
    module : torch.nn.Module, callable or None, default=None
        An untrained module mapping (batch, n_features) float32 inputs to logits (a
        copy is trained; the given one is never changed), or a function
        ``(n_features, n_classes) -> Module``.  None builds :func:`make_mlp` with
        ``hidden_units`` and ``dropout``.
    hidden_units : tuple of int, default=(64,)
    dropout : float, default=0.25
        Dropout of the default network; it is what :meth:`sample_proba` samples.
    epochs : int, default=30
    batch_size : int, default=64
    lr : float, default=1e-3
        Adam learning rate.
    weight_decay : float, default=0.0
    n_mc_samples : int, default=20
        Default number of MC-dropout samples of :meth:`sample_proba`.
    random_state : int, RandomState or None
        Seeds initialisation, shuffling, dropout during training and MC dropout.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network.
    classes_ : ndarray
    n_features_in_ : int
    loss_curve_ : list of float
        Mean training loss per epoch.

    Examples
    --------
    >>> clf = TorchClassifier(epochs=20, random_state=0).fit(X, y)   # doctest: +SKIP
    >>> clf.sample_proba(X_pool).shape                              # doctest: +SKIP
    (20, n_pool, n_classes)
    """

    def __init__(
        self,
        module: nn.Module | Callable[[int, int], nn.Module] | None = None,
        *,
        hidden_units: tuple[int, ...] = (64,),
        dropout: float = 0.25,
        epochs: int = 30,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        n_mc_samples: int = 20,
        random_state: Any = None,
    ) -> None:
        self.module = module
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.n_mc_samples = n_mc_samples
        self.random_state = random_state

    def _build(self, n_features: int, n_classes: int) -> nn.Module:
        if self.module is None:
            return make_mlp(n_features, n_classes, self.hidden_units, self.dropout)
        if isinstance(self.module, nn.Module):
            return copy.deepcopy(self.module)
        if callable(self.module):
            built = self.module(n_features, n_classes)
            if not isinstance(built, nn.Module):
                raise TypeError(
                    f"module(n_features, n_classes) must return a torch.nn.Module, got "
                    f"{type(built).__name__}."
                )
            return built
        raise TypeError(
            f"module must be a torch.nn.Module, a function (n_features, n_classes) -> Module "
            f"or None, got {type(self.module).__name__}."
        )

    def fit(self, X: Any, y: Any) -> TorchClassifier:
        """Train a fresh network on ``X, y`` with Adam and cross-entropy."""
        X = check_features(materialize(X), "X")
        if not isinstance(X, np.ndarray):
            X = X.toarray()
        y = check_training_labels(y, X.shape[0], "y")
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        self.n_features_in_ = X.shape[1]
        rng = check_random_state(self.random_state)
        X_t = _as_tensor(X)
        y_t = torch.from_numpy(y_idx.astype(np.int64))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_seed_from(rng))
            module = self._build(X.shape[1], len(self.classes_))
            optimizer = torch.optim.Adam(
                module.parameters(), lr=self.lr, weight_decay=self.weight_decay
            )
            loss_fn = nn.CrossEntropyLoss()
            self.loss_curve_: list[float] = []
            module.train()
            n = X.shape[0]
            for _ in range(int(self.epochs)):
                order = torch.from_numpy(rng.permutation(n))
                total = 0.0
                for start in range(0, n, int(self.batch_size)):  # mini-batches
                    idx = order[start : start + int(self.batch_size)]
                    optimizer.zero_grad()
                    loss = loss_fn(module(X_t[idx]), y_t[idx])
                    loss.backward()
                    optimizer.step()
                    total += loss.item() * len(idx)
                self.loss_curve_.append(total / n)
        module.eval()
        self.module_ = module
        return self

    def _check_X(self, X: Any) -> Any:
        check_is_fitted(self, "module_")
        X = check_features(materialize(X), "X")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features but the classifier was fitted with "
                f"{self.n_features_in_}; pass rows with the same columns."
            )
        return X.toarray() if not isinstance(X, np.ndarray) else X

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (dropout off), shape (n, n_classes), float64."""
        X_t = _as_tensor(self._check_X(X))
        self.module_.eval()
        out = np.empty((X_t.shape[0], len(self.classes_)))
        with torch.no_grad():
            for start in range(0, X_t.shape[0], _PREDICT_ROWS):  # blocks of rows
                logits = self.module_(X_t[start : start + _PREDICT_ROWS])
                out[start : start + logits.shape[0]] = torch.softmax(logits.double(), 1).numpy()
        return out

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def sample_proba(
        self, X: Any, n_samples: int | None = None, random_state: Any = None
    ) -> np.ndarray:
        """MC-dropout class probabilities, shape (T, n, n_classes).

        Parameters
        ----------
        X : array-like of shape (n, n_features)
        n_samples : int, optional
            T; defaults to ``n_mc_samples``.
        random_state : int, RandomState or None
            Seeds the dropout masks; by default derived from the classifier's
            ``random_state``, so repeated calls give the same samples.
        """
        seed = random_state if random_state is not None else _seed_from(self.random_state)
        return mc_dropout_proba(
            self.module_, self._check_X(X),
            self.n_mc_samples if n_samples is None else n_samples, random_state=seed,
        )
