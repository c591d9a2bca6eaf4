"""The embedding hook: what a network computes just before its output layer.

BADGE, core-set and other strategies that read ``Needs.EMBEDDINGS`` want a learned
representation of each candidate.  :func:`embedding_outputs` records, with a forward
hook, the input of the network's last ``nn.Linear`` (the penultimate layer), or the
output of a layer named by the user, with dropout off.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from .mc import _eval_mode
from .training import amp_dtype

__all__ = ["embedding_layer_of", "embedding_outputs"]

_ROWS = 8192


def embedding_layer_of(module: nn.Module, name: str | None) -> tuple[nn.Module, bool]:
    """The layer to record and whether its *input* (True) or output (False) is wanted."""
    if name is None:
        linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise ValueError(
                "the module has no nn.Linear output layer to take the embedding before; "
                "name the layer with embedding_layer='<name in module.named_modules()>'."
            )
        return linears[-1], True
    layers = dict(module.named_modules())
    if name not in layers:
        raise ValueError(
            f"embedding_layer={name!r} is not a layer of the module; choose one of: "
            + ", ".join(k for k in layers if k) + "."
        )
    return layers[name], False


def embedding_outputs(module: nn.Module, X: torch.Tensor, name: str | None = None, *,
                      device: Any = None, amp: bool = False) -> np.ndarray:
    """The embedding of every row of ``X``, float32 of shape (n, d) (flattened per row)."""
    layer, take_input = embedding_layer_of(module, name)
    if device is None:
        first = next(module.parameters(), None)
        device = first.device if first is not None else "cpu"
    device = torch.device(device)
    seen: list[torch.Tensor] = []

    def hook(mod: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        seen.append((inputs[0] if take_input else output).detach())

    handle = layer.register_forward_hook(hook)
    blocks = []
    try:
        with _eval_mode(module), torch.no_grad(), torch.autocast(
                device.type, dtype=amp_dtype(device), enabled=bool(amp)):
            for start in range(0, X.shape[0], _ROWS):  # blocks of rows
                seen.clear()
                module(X[start : start + _ROWS].to(device))
                h = seen[-1]
                blocks.append(h.reshape(h.shape[0], -1).float().cpu().numpy())
    finally:
        handle.remove()
    return np.concatenate(blocks).astype(np.float32, copy=False)
