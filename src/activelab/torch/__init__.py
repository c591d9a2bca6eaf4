"""PyTorch adapters (the ``deep`` extra): a scikit-learn style classifier, consistent MC
dropout, deep ensembles, an embedding hook and frozen-encoder heads, whose sampled
probabilities feed ``bald``, ``batchbald``, ``power_bald``, ``epig``, ``mc_entropy``,
``variation_ratios`` and ``mean_std``.

Everything but ``DeepEnsemble`` needs torch (``pip install torch==2.13.0``, the CPU
wheel, or a CUDA build); ``DeepEnsemble`` works with any scikit-learn classifier that
has a ``random_state``.
"""

from __future__ import annotations

from typing import Any

from .ensemble import DeepEnsemble

__all__ = [
    "DeepEnsemble",
    "FrozenEncoder",
    "FrozenEncoderClassifier",
    "TorchClassifier",
    "WarmStart",
    "make_mlp",
    "make_cnn",
    "mc_dropout_proba",
]

_NEEDS_TORCH = {
    "TorchClassifier": "classifier",
    "WarmStart": "training",
    "make_mlp": "nets",
    "make_cnn": "nets",
    "mc_dropout_proba": "mc",
    "FrozenEncoder": "head",
    "FrozenEncoderClassifier": "head",
}


def __getattr__(name: str) -> Any:
    if name in _NEEDS_TORCH:
        from importlib import import_module

        from . import classifier  # noqa: F401  (says how to install torch when it is missing)

        return getattr(import_module(f".{_NEEDS_TORCH[name]}", __name__), name)
    raise AttributeError(f"module 'activelab.torch' has no attribute {name!r}")
