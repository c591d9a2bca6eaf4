"""Ready-made networks: a multi-layer perceptron and the small CNN of Gal et al. (2017).

Both are ``nn.Sequential``, so MC-dropout sampling runs the layers before the first
dropout once per batch and only the rest once per draw (see :mod:`.mc`).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

__all__ = ["make_mlp", "make_cnn"]


def make_mlp(
    n_features: int, n_classes: int, hidden_units: Sequence[int] = (64,), dropout: float = 0.25
) -> nn.Sequential:
    """A multi-layer perceptron: (Linear, ReLU, Dropout) per hidden layer, then Linear.

    Parameters
    ----------
    n_features, n_classes : int
    hidden_units : sequence of int, default=(64,)
    dropout : float, default=0.25
        Dropout probability after each hidden layer (0 disables it).

    Returns
    -------
    torch.nn.Sequential
        Maps (batch, n_features) float32 inputs to (batch, n_classes) logits.
    """
    layers: list[nn.Module] = []
    width = int(n_features)
    for units in hidden_units:
        layers += [nn.Linear(width, int(units)), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = int(units)
    layers.append(nn.Linear(width, int(n_classes)))
    return nn.Sequential(*layers)


def make_cnn(
    input_shape: Sequence[int] = (1, 28, 28),
    n_classes: int = 10,
    *,
    filters: int = 32,
    kernel_size: int = 4,
    hidden_units: int = 128,
    dropout: tuple[float, float] = (0.25, 0.5),
) -> nn.Sequential:
    """The CNN of Gal, Islam and Ghahramani (2017), "Deep Bayesian Active Learning with
    Image Data": conv-ReLU-conv-ReLU-maxpool-dropout-dense-ReLU-dropout-dense.

    Parameters
    ----------
    input_shape : (channels, height, width), default=(1, 28, 28)
    n_classes : int, default=10
    filters : int, default=32
        Filters of each of the two convolutions.
    kernel_size : int, default=4
    hidden_units : int, default=128
        Width of the dense hidden layer (its output is the embedding).
    dropout : (float, float), default=(0.25, 0.5)
        Dropout after the pooling and after the dense hidden layer.

    Returns
    -------
    torch.nn.Sequential
        Maps (batch, *input_shape) float32 images to (batch, n_classes) logits.
    """
    channels, height, width = (int(s) for s in input_shape)
    k = int(kernel_size)
    side_h, side_w = (height - 2 * (k - 1)) // 2, (width - 2 * (k - 1)) // 2
    if side_h < 1 or side_w < 1:
        raise ValueError(
            f"input_shape {tuple(input_shape)} is too small for two {k}x{k} convolutions "
            "and a 2x2 pooling; use larger images or a smaller kernel_size."
        )
    return nn.Sequential(
        nn.Conv2d(channels, filters, k), nn.ReLU(),
        nn.Conv2d(filters, filters, k), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(dropout[0]), nn.Flatten(),
        nn.Linear(filters * side_h * side_w, hidden_units), nn.ReLU(), nn.Dropout(dropout[1]),
        nn.Linear(hidden_units, int(n_classes)),
    )
