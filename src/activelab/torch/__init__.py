"""PyTorch adapters (the ``deep`` extra): a scikit-learn style classifier, MC dropout
and deep ensembles, whose sampled probabilities feed the ``bald`` and ``batchbald``
strategies.

``TorchClassifier``, ``make_mlp`` and ``mc_dropout_proba`` need torch
(``pip install torch==2.13.0``, the CPU wheel); ``DeepEnsemble`` works with any
scikit-learn classifier that has a ``random_state``.
"""

from __future__ import annotations

from typing import Any

from .ensemble import DeepEnsemble

__all__ = ["DeepEnsemble", "TorchClassifier", "make_mlp", "mc_dropout_proba"]

_NEEDS_TORCH = {"TorchClassifier", "make_mlp", "mc_dropout_proba"}


def __getattr__(name: str) -> Any:
    if name in _NEEDS_TORCH:
        from . import classifier

        return getattr(classifier, name)
    raise AttributeError(f"module 'activelab.torch' has no attribute {name!r}")
