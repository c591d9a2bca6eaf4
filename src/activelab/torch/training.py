"""Training a module: Adam, cross-entropy, early stopping, device, AMP, threads, warm start.

One epoch is one pass over shuffled mini-batches.  With ``patience`` the monitored loss
(the validation loss when a validation split is held out, else the training loss) must
improve by ``tol`` within ``patience`` epochs, or training stops; with a validation split
the weights of the best epoch are restored.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .data import Batches

__all__ = ["WarmStart", "TrainLog", "train_module", "resolve_device", "torch_threads",
           "amp_dtype", "load_matching"]


class WarmStart:
    """Weights that every clone of one :class:`TorchClassifier` shares.

    ``TorchClassifier(warm_start=WarmStart())`` starts each fit from the weights the last
    fit of any of its clones ended with (tensors whose shapes changed, e.g. the output
    layer when a new class appears, start fresh).  The active-learning loop clones the
    estimator before every fit, so this is how training carries over from round to
    round.  Copying (``copy.deepcopy``, ``sklearn.clone``) returns the same object.

    Attributes
    ----------
    state : dict or None
        The last fit's ``state_dict`` (on the CPU); None before the first fit.
    n_fits : int
        Fits that ended here.
    """

    def __init__(self) -> None:
        self.state: dict[str, torch.Tensor] | None = None
        self.n_fits = 0

    def __deepcopy__(self, memo: dict[int, Any]) -> WarmStart:
        return self

    def __copy__(self) -> WarmStart:
        return self

    def save(self, module: nn.Module) -> None:
        """Keep a CPU copy of ``module``'s weights."""
        self.state = {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
        self.n_fits += 1

    def __repr__(self) -> str:
        return "WarmStart()"


def load_matching(module: nn.Module, state: dict[str, torch.Tensor]) -> int:
    """Load the tensors of ``state`` whose names and shapes match ``module``'s; how many."""
    own = module.state_dict()
    matching = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    module.load_state_dict(matching, strict=False)
    return len(matching)


def resolve_device(device: Any) -> torch.device:
    """``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda[:i]"`` or a device."""
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:<i>' or a torch.device, got "
            f"{device!r}."
        ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but torch sees no CUDA device; use device='auto' or 'cpu'."
        )
    return dev


def amp_dtype(device: torch.device) -> torch.dtype:
    """The autocast type: float16 on CUDA, bfloat16 on the CPU."""
    return torch.float16 if device.type == "cuda" else torch.bfloat16


@contextmanager
def torch_threads(n_threads: int | None, device: torch.device) -> Iterator[None]:
    """Run torch's CPU ops on ``n_threads`` threads inside the block (None: leave it)."""
    if n_threads is None or device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class TrainLog:
    """What a training run did: loss per epoch, epochs run, the best epoch."""

    loss_curve: list[float] = field(default_factory=list)
    validation_loss_curve: list[float] = field(default_factory=list)
    best_epoch: int = 0

    @property
    def n_epochs(self) -> int:
        return len(self.loss_curve)


@dataclass
class TrainSettings:
    """The settings of :func:`train_module` (the classifier's parameters, checked)."""

    epochs: int
    lr: float
    weight_decay: float
    patience: int | None
    tol: float
    device: torch.device
    amp: bool
    transform: Callable[[torch.Tensor], torch.Tensor] | None
    input_shape: tuple[int, ...] | None


def _to_input(xb: torch.Tensor, settings: TrainSettings) -> torch.Tensor:
    xb = xb.to(settings.device, non_blocking=True)
    if settings.input_shape is not None and tuple(xb.shape[1:]) != settings.input_shape:
        xb = xb.reshape((xb.shape[0], *settings.input_shape))
    return xb


def _epoch(module: nn.Module, batches: Batches, optimizer: Any, scaler: Any,
           settings: TrainSettings, rng: np.random.RandomState) -> float:
    module.train()
    loss_fn = nn.CrossEntropyLoss()
    total, n = 0.0, 0
    for xb, yb in batches.epoch(rng):  # mini-batches
        xb, yb = _to_input(xb, settings), yb.to(settings.device)
        if settings.transform is not None:
            xb = settings.transform(xb)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(settings.device.type, dtype=amp_dtype(settings.device),
                            enabled=settings.amp):
            loss = loss_fn(module(xb), yb)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        total += float(loss.detach()) * len(yb)
        n += len(yb)
    return total / max(n, 1)


def _mean_loss(module: nn.Module, batches: Batches, settings: TrainSettings) -> float:
    module.eval()
    total, n = 0.0, 0
    with torch.no_grad(), torch.autocast(settings.device.type,
                                         dtype=amp_dtype(settings.device), enabled=settings.amp):
        for xb, yb in batches.all():  # blocks of rows
            logits = module(_to_input(xb, settings)).float()
            total += float(nn.functional.cross_entropy(
                logits, yb.to(settings.device), reduction="sum"))
            n += len(yb)
    return total / max(n, 1)


def train_module(module: nn.Module, batches: Batches, validation: Batches | None,
                 settings: TrainSettings, rng: np.random.RandomState) -> TrainLog:
    """Train ``module`` in place (Adam, cross-entropy) and say what happened.

    Stops early when ``settings.patience`` epochs pass without the monitored loss
    (validation when given, else training) improving by ``settings.tol``; with a
    validation split the best epoch's weights are restored.
    """
    optimizer = torch.optim.Adam(module.parameters(), lr=settings.lr,
                                 weight_decay=settings.weight_decay)
    scaler = torch.amp.GradScaler(
        "cuda", enabled=settings.amp and settings.device.type == "cuda")
    log = TrainLog()
    best, best_state, waited = np.inf, None, 0
    for epoch in range(settings.epochs):  # epochs
        log.loss_curve.append(_epoch(module, batches, optimizer, scaler, settings, rng))
        monitored = log.loss_curve[-1]
        if validation is not None:
            monitored = _mean_loss(module, validation, settings)
            log.validation_loss_curve.append(monitored)
        if monitored < best - settings.tol:
            best, waited, log.best_epoch = monitored, 0, epoch
            if validation is not None:
                best_state = copy.deepcopy(module.state_dict())
        else:
            waited += 1
        if settings.patience is not None and waited >= settings.patience:
            break
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return log
