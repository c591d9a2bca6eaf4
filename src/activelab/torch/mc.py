"""MC dropout with consistent masks: draw ``t`` is one thinned network, whatever the rows.

Every MC-dropout draw ``t`` uses one dropout mask per layer, shared by all the rows and
fixed by ``(seed, t, layer)`` alone (the "consistent MC dropout" of Kirsch et al., 2019).
So

- draw ``t`` is the same model sample for every candidate, as BatchBALD's and EPIG's
  joint distributions assume;
- a row's draws do not depend on which rows it is scored with, so scoring a pool in
  chunks of any size gives the samples (and the chosen ids) of the whole pool.

For an ``nn.Sequential`` the layers before the first dropout do not change between
draws; they run once per batch, and only the rest runs once per draw.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from sklearn.utils import check_random_state
from torch import nn

__all__ = ["mc_dropout_proba", "dropout_layers", "seed_from"]

_PREDICT_ROWS = 8192
_CHANNEL_DROPOUTS = (nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)
_ALPHA_DROPOUTS = (nn.AlphaDropout, nn.FeatureAlphaDropout)


def seed_from(random_state: Any) -> int:
    """A 31-bit seed drawn from ``random_state`` (an int gives the same seed every time)."""
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


def dropout_layers(module: nn.Module) -> list[nn.Module]:
    """The dropout layers of ``module``, in module order."""
    return [m for m in module.modules() if isinstance(m, nn.modules.dropout._DropoutNd)]


class _ConsistentMasks:
    """Forward hooks that replace each dropout layer's output by ``x * mask(t, layer)``."""

    def __init__(self, layers: list[nn.Module], seed: int) -> None:
        self.layers = layers
        self.seed = int(seed)
        self.draw = 0
        self._cache: dict[tuple[int, int, tuple[int, ...]], torch.Tensor] = {}
        self._handles: list[Any] = []

    def _mask(self, index: int, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if isinstance(layer, _CHANNEL_DROPOUTS):
            shape = (x.shape[1],) + (1,) * (x.dim() - 2)  # one value per channel
        else:
            shape = tuple(x.shape[1:])
        key = (self.draw, index, shape)
        mask = self._cache.get(key)
        if mask is None:
            state = np.random.SeedSequence([self.seed, self.draw, index]).generate_state(1)
            gen = torch.Generator().manual_seed(int(state[0]))
            p = float(layer.p)
            keep = torch.rand(shape, generator=gen) >= p
            mask = keep.float() / (1.0 - p) if p < 1.0 else torch.zeros(shape)
            self._cache[key] = mask
        return mask.to(device=x.device, dtype=x.dtype)

    def _hook(self, index: int, layer: nn.Module) -> Any:
        def hook(mod: nn.Module, inputs: tuple[torch.Tensor, ...], output: Any) -> torch.Tensor:
            x = inputs[0]
            return x * self._mask(index, layer, x)

        return hook

    def __enter__(self) -> _ConsistentMasks:
        for i, layer in enumerate(self.layers):
            self._handles.append(layer.register_forward_hook(self._hook(i, layer)))
        return self

    def __exit__(self, *exc: Any) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


def _split(module: nn.Module) -> tuple[nn.Module | None, nn.Module]:
    """``(prefix, rest)``: the layers of a Sequential before the first one holding dropout
    (None when there are none, or the module is not a Sequential) and the others."""
    if not isinstance(module, nn.Sequential):
        return None, module
    children = list(module.children())
    for i, child in enumerate(children):
        if dropout_layers(child):
            if i == 0:
                return None, module
            return nn.Sequential(*children[:i]), nn.Sequential(*children[i:])
    return None, module


@contextmanager
def _eval_mode(module: nn.Module) -> Iterator[None]:
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


def _check_samples(n_samples: Any) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or (
        n_samples < 1
    ):
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    return int(n_samples)


def _check_layers(module: nn.Module) -> list[nn.Module]:
    layers = dropout_layers(module)
    if not layers:
        raise ValueError(
            "the module has no dropout layer, so every MC-dropout sample would be the same; "
            "add dropout (e.g. TorchClassifier(dropout=0.25)) or use a DeepEnsemble."
        )
    alpha = [type(m).__name__ for m in layers if isinstance(m, _ALPHA_DROPOUTS)]
    if alpha:
        raise ValueError(
            f"MC dropout does not sample {alpha[0]} layers; use nn.Dropout or nn.Dropout2d."
        )
    return layers


def mc_dropout_proba(
    module: nn.Module,
    X: Any,
    n_samples: int = 20,
    *,
    random_state: Any = None,
    batch_rows: int = _PREDICT_ROWS,
    device: Any = None,
    amp: bool = False,
) -> np.ndarray:
    """Class probabilities of ``n_samples`` consistent MC-dropout draws.

    The module is run in evaluation mode (batch norm and the like stay fixed) with each
    dropout layer replaced by a mask that depends on ``(seed, draw, layer)`` only.

    Parameters
    ----------
    module : torch.nn.Module
        Maps float32 input batches to logits; must contain ``nn.Dropout`` (or
        ``Dropout1d/2d/3d``, whose masks drop whole channels).
    X : ndarray or torch.Tensor of shape (n, ...)
        The inputs, shaped as the module expects.
    n_samples : int, default=20
        Number of draws T.
    random_state : int, RandomState or None
        Fixes the masks (the global torch generator is not used).
    batch_rows : int, default=8192
        Rows per forward pass (does not change the result).
    device : torch.device or str, optional
        Where to run; the module's own device by default.
    amp : bool, default=False
        Run the forward passes under ``torch.autocast`` (float16 on CUDA, bfloat16 on CPU).

    Returns
    -------
    ndarray of float64, shape (T, n, n_classes)
    """
    T = _check_samples(n_samples)
    layers = _check_layers(module)
    X_t = X if torch.is_tensor(X) else torch.from_numpy(np.ascontiguousarray(X, np.float32))
    if device is None:
        first = next(module.parameters(), None)
        device = first.device if first is not None else "cpu"
    device = torch.device(device)
    prefix, rest = _split(module)
    out: np.ndarray | None = None
    seed = seed_from(random_state)
    with _eval_mode(module), torch.no_grad(), _ConsistentMasks(layers, seed) as masks, \
            torch.autocast(device.type, dtype=_amp_dtype(device), enabled=bool(amp)):
        for start in range(0, X_t.shape[0], int(batch_rows)):  # blocks of rows
            xb = X_t[start : start + int(batch_rows)].to(device)
            if prefix is not None:
                xb = prefix(xb)
            for t in range(T):  # draws, not rows
                masks.draw = t
                block = torch.softmax(rest(xb).double(), dim=1).cpu().numpy()
                if out is None:
                    out = np.empty((T, X_t.shape[0], block.shape[1]))
                out[t, start : start + block.shape[0]] = block
    assert out is not None
    return out


def _amp_dtype(device: torch.device) -> torch.dtype:
    return torch.float16 if device.type == "cuda" else torch.bfloat16
