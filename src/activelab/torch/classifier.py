"""A scikit-learn style classifier around a PyTorch module, with MC-dropout sampling
and an embedding hook."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
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
from .data import Batches, as_array, dataset_inputs, dataset_labels, is_dataset, shaped
from .embedding import embedding_outputs
from .mc import mc_dropout_proba, seed_from
from .nets import make_mlp
from .training import (
    TrainSettings,
    WarmStart,
    amp_dtype,
    load_matching,
    resolve_device,
    torch_threads,
    train_module,
)

__all__ = ["TorchClassifier", "make_mlp", "mc_dropout_proba", "WarmStart"]

_PREDICT_ROWS = 8192


def _positive_int(value: Any, name: str, allow_none: bool = False) -> Any:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _split_validation(n: int, fraction: Any, rng: np.random.RandomState
                      ) -> tuple[np.ndarray, np.ndarray | None]:
    """Training and validation positions (None: no validation split)."""
    if fraction is None:
        return np.arange(n), None
    if isinstance(fraction, bool) or not isinstance(fraction, (float, int)) or not (
        0.0 < fraction < 1.0
    ):
        raise ValueError(f"validation_fraction must be in (0, 1) or None, got {fraction!r}.")
    n_val = max(1, int(round(fraction * n)))
    if n - n_val < 1:
        raise ValueError(
            f"validation_fraction={fraction} leaves no training rows of {n}; use a smaller "
            "fraction, or validation_fraction=None with patience on the training loss."
        )
    order = rng.permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


class TorchClassifier(ClassifierMixin, BaseEstimator):
    """A PyTorch classifier with the scikit-learn interface (seeded; CPU or GPU).

    Parameters
    ----------
    module : torch.nn.Module, callable or None, default=None
        An untrained module mapping float32 input batches to logits (a copy is trained;
        the given one is never changed), or a function ``(n_features, n_classes) ->
        Module``.  None builds :func:`make_mlp` with ``hidden_units`` and ``dropout``.
        A function or None is built inside :meth:`fit` under ``random_state``, so its
        initial weights are reproducible; a given module starts from the weights it was
        built with (seed torch before building it, or pass a function, for a fit that does
        not depend on what ran before in the process).
    hidden_units : tuple of int, default=(64,)
    dropout : float, default=0.25
        Dropout of the default network; it is what :meth:`sample_proba` samples.
    epochs : int, default=30
        Largest number of passes over the training rows.
    batch_size : int, default=64
    lr : float, default=1e-3
        Adam learning rate.
    weight_decay : float, default=0.0
    n_mc_samples : int, default=20
        Default number of MC-dropout draws of :meth:`sample_proba`.
    input_shape : tuple of int, optional
        Shape of one input, e.g. ``(1, 28, 28)`` for a CNN: 2-D rows (as a
        :class:`~activelab.Pool` holds them) are reshaped to ``(n, *input_shape)``.  By
        default the shape of the rows given to :meth:`fit`.
    patience : int, optional
        Early stopping: stop after ``patience`` epochs in which the monitored loss did
        not improve by ``tol``.  None trains all ``epochs``.
    validation_fraction : float, optional
        Hold out this share of the training rows (seeded) and monitor their loss,
        restoring the weights of the best epoch; None monitors the training loss.
    tol : float, default=1e-4
    warm_start : bool or WarmStart, default=False
        False: every fit starts from fresh weights, drawn from ``random_state`` (the
        same initial weights for the same seed: Baal's "reset the weights each round").
        True: refitting the same fitted object continues from its weights.  A
        :class:`WarmStart` object: every fit continues from the weights of the last fit
        of any clone sharing it (this carries over between the rounds of
        :func:`activelab.run`, which clones the estimator before each fit).
    device : str or torch.device, default="auto"
        ``"auto"`` uses CUDA when torch sees a GPU, else the CPU; or ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``.
    amp : bool, default=False
        Automatic mixed precision: autocast (float16 on CUDA with a gradient scaler,
        bfloat16 on the CPU) in training and prediction.
    n_threads : int or None, default=1
        torch CPU threads while fitting and predicting (restored afterwards).  One thread
        is far faster for small batches on a shared or small machine (50 steps of a small
        MLP: 0.09-0.13 s on one thread, 0.7-4.9 s on two); None leaves torch's setting.
        Ignored on a GPU.
    train_transform : callable, optional
        Applied to every training mini-batch of inputs (a tensor on the device, shaped
        as the module expects), e.g. random flips or crops for augmentation; torch
        random functions inside it are seeded by ``random_state``.
    classes : array-like, optional
        Every class there is, when the labels of a fit may not show them all (a module
        with a fixed number of outputs, e.g. ``make_cnn(..., 10)``, before the first
        labels cover the ten digits): ``classes_`` is then this list and the output
        layer has one unit per class.  By default the classes of ``y``.
    embedding_layer : str, optional
        Name (as in ``module.named_modules()``) of the layer whose output
        :meth:`embed` returns; by default the input of the last ``nn.Linear`` (the
        penultimate layer).
    random_state : int, RandomState or None
        Seeds initialisation, shuffling, dropout during training and MC dropout.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (on ``device_``).
    classes_ : ndarray
    n_features_in_ : int
        Values per input (the product of ``input_shape_``).
    input_shape_ : tuple of int
    device_ : torch.device
    loss_curve_ : list of float
        Mean training loss per epoch.
    validation_loss_curve_ : list of float
        Validation loss per epoch (empty without a validation split).
    n_epochs_, best_epoch_ : int
    mc_seed_ : int
        Seed of the MC-dropout masks of :meth:`sample_proba` (fixed per fit).

    Notes
    -----
    :meth:`predict_proba` is one pass with dropout *off*, so ``entropy``, ``margin``
    and ``least_confident`` rank by the deterministic network; the MC strategies
    (``bald``, ``mc_entropy``, ``variation_ratios``, ``mean_std``, ...) read
    :meth:`sample_proba`.

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
        input_shape: tuple[int, ...] | None = None,
        patience: int | None = None,
        validation_fraction: float | None = None,
        tol: float = 1e-4,
        warm_start: bool | WarmStart = False,
        device: Any = "auto",
        amp: bool = False,
        n_threads: int | None = 1,
        train_transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        classes: Any = None,
        embedding_layer: str | None = None,
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
        self.input_shape = input_shape
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.tol = tol
        self.warm_start = warm_start
        self.device = device
        self.amp = amp
        self.n_threads = n_threads
        self.train_transform = train_transform
        self.classes = classes
        self.embedding_layer = embedding_layer
        self.random_state = random_state

    # ------------------------------------------------------------------ building
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

    def _start_weights(self) -> dict[str, torch.Tensor] | None:
        if isinstance(self.warm_start, WarmStart):
            return self.warm_start.state
        if not isinstance(self.warm_start, (bool, np.bool_)):
            raise TypeError(
                f"warm_start must be True, False or a WarmStart, got {self.warm_start!r}."
            )
        if self.warm_start and hasattr(self, "module_"):
            return self.module_.state_dict()
        return None

    def _settings(self, device: torch.device) -> TrainSettings:
        return TrainSettings(
            epochs=_positive_int(self.epochs, "epochs"), lr=float(self.lr),
            weight_decay=float(self.weight_decay),
            patience=_positive_int(self.patience, "patience", allow_none=True),
            tol=float(self.tol), device=device, amp=bool(self.amp),
            transform=self.train_transform,
            input_shape=self.input_shape_,
        )

    # ------------------------------------------------------------------ fitting
    def _training_data(self, X: Any, y: Any) -> tuple[Any, np.ndarray, np.ndarray]:
        """The inputs (array or Dataset), the labels and the first input; sets the input
        attributes."""
        if is_dataset(X):
            y = dataset_labels(X) if y is None else y
            y = check_training_labels(y, len(X), "y")
            first = X[0]  # one item, for the input shape
            first = np.asarray(first[0] if isinstance(first, (tuple, list)) else first,
                               dtype=np.float32)
            shape = tuple(first.shape)
        else:
            if y is None:
                raise ValueError("y is required: give one label per row of X.")
            X = shaped(as_array(X, "X"), self.input_shape, "X")
            y = check_training_labels(y, X.shape[0], "y")
            first, shape = X[0], tuple(X.shape[1:])
        self.input_shape_ = tuple(int(s) for s in (self.input_shape or shape))
        self.n_features_in_ = int(math.prod(self.input_shape_))
        return X, y, first

    def fit(self, X: Any, y: Any = None) -> TorchClassifier:
        """Train the network on ``X, y`` with Adam and cross-entropy.

        Parameters
        ----------
        X : array-like of shape (n, ...) or torch Dataset
            Rows (2-D, or N-d such as images), or a ``Dataset`` of ``(x, y)`` items.
        y : array-like of shape (n,), optional
            The labels; read from the dataset when ``X`` is one.
        """
        X, y, first = self._training_data(X, y)
        batch_size = _positive_int(self.batch_size, "batch_size")
        self.classes_, y_idx = self._class_indices(y)
        device = resolve_device(self.device)
        settings = self._settings(device)
        rng = check_random_state(self.random_state)
        fit_pos, val_pos = _split_validation(len(y_idx), self.validation_fraction, rng)
        batches = Batches(X, y_idx, batch_size, self.classes_, fit_pos)
        validation = None if val_pos is None else Batches(
            X, y_idx, batch_size, self.classes_, val_pos)
        start = self._start_weights()
        forked = [device.index or 0] if device.type == "cuda" else []
        with torch_threads(_positive_int(self.n_threads, "n_threads", True), device), \
                torch.random.fork_rng(devices=forked):
            torch.manual_seed(seed_from(rng))
            module = self._build(self.n_features_in_, len(self.classes_))
            self._check_outputs(module, first)
            if start is not None:
                load_matching(module, start)
            log = train_module(module.to(device), batches, validation, settings, rng)
        self.module_, self.device_ = module, device
        self.loss_curve_ = log.loss_curve
        self.validation_loss_curve_ = log.validation_loss_curve
        self.n_epochs_, self.best_epoch_ = log.n_epochs, log.best_epoch
        self.mc_seed_ = seed_from(rng)
        if isinstance(self.warm_start, WarmStart):
            self.warm_start.save(module)
        return self

    def _class_indices(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.classes is None:
            classes, y_idx = np.unique(y, return_inverse=True)
            return classes, y_idx.ravel()
        classes = np.unique(np.asarray(self.classes))
        unknown = np.setdiff1d(np.unique(y), classes)
        if unknown.size:
            raise ValueError(
                f"y holds {unknown[:5].tolist()}, which are not in classes; give every class "
                "in classes= (or leave it None to take the classes of y)."
            )
        return classes, np.searchsorted(classes, y)

    def _check_outputs(self, module: nn.Module, first: np.ndarray) -> None:
        """The module must give one logit per class (checked on the first input)."""
        x = torch.from_numpy(np.array(first, dtype=np.float32)).reshape((1, *self.input_shape_))
        was_training = module.training
        module.eval()
        with torch.no_grad():
            width = module(x).shape[-1]
        module.train(was_training)
        if width != len(self.classes_):
            raise ValueError(
                f"the module gives {width} outputs but there are {len(self.classes_)} "
                f"classes ({self.classes_.tolist()[:10]}); pass classes= with every class "
                "(e.g. classes=range(10)), or a function (n_features, n_classes) -> Module."
            )

    # ------------------------------------------------------------------ inputs
    def _inputs(self, X: Any) -> torch.Tensor:
        """Checked inputs as one float32 CPU tensor of shape (n, *input_shape_)."""
        check_is_fitted(self, "module_")
        if is_dataset(X):
            return torch.cat(list(dataset_inputs(X, 256)))
        X = as_array(X, "X")
        if X.ndim == 2 and X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features but the classifier was fitted with "
                f"{self.n_features_in_}; pass rows with the same columns."
            )
        X = shaped(X, self.input_shape_, "X")
        return torch.from_numpy(X if X.flags.writeable else X.copy())  # e.g. a read-only memmap

    def _threads(self) -> Any:
        return torch_threads(_positive_int(self.n_threads, "n_threads", True), self.device_)

    # ------------------------------------------------------------------ predicting
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (dropout off), shape (n, n_classes), float64."""
        X_t = self._inputs(X)
        self.module_.eval()
        out = np.empty((X_t.shape[0], len(self.classes_)))
        dev = self.device_
        with self._threads(), torch.no_grad(), torch.autocast(
                dev.type, dtype=amp_dtype(dev), enabled=bool(self.amp)):
            for start in range(0, X_t.shape[0], _PREDICT_ROWS):  # blocks of rows
                logits = self.module_(X_t[start : start + _PREDICT_ROWS].to(dev))
                block = torch.softmax(logits.double(), 1).cpu().numpy()
                out[start : start + block.shape[0]] = block
        return out

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def sample_proba(
        self, X: Any, n_samples: int | None = None, random_state: Any = None
    ) -> np.ndarray:
        """Consistent MC-dropout class probabilities, shape (T, n, n_classes).

        Draw ``t`` uses one dropout mask per layer for every row (see
        :mod:`activelab.torch.mc`), so the draws of a row do not depend on the rows it
        is scored with: chunked scoring gives the samples of the whole pool.

        Parameters
        ----------
        X : array-like of shape (n, ...) or torch Dataset
        n_samples : int, optional
            T; defaults to ``n_mc_samples``.
        random_state : int, RandomState or None
            Seeds the masks; by default ``mc_seed_`` (fixed when fitting), so repeated
            calls give the same draws.
        """
        X_t = self._inputs(X)
        seed = self.mc_seed_ if random_state is None else random_state
        with self._threads():
            return mc_dropout_proba(
                self.module_, X_t, self.n_mc_samples if n_samples is None else n_samples,
                random_state=seed, device=self.device_, amp=bool(self.amp),
            )

    def embed(self, X: Any) -> np.ndarray:
        """The network's embedding of each row (dropout off), float32 (n, d).

        The input of the last ``nn.Linear`` (the penultimate layer), or the output of
        ``embedding_layer``.  BADGE, core-set and other strategies that declare
        ``Needs.EMBEDDINGS`` get it through :func:`activelab.strategies.query.query_once`.
        """
        X_t = self._inputs(X)
        with self._threads():
            return embedding_outputs(self.module_, X_t, self.embedding_layer,
                                     device=self.device_, amp=bool(self.amp))
