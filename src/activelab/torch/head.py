"""Transfer learning for active learning: a frozen encoder and a trainable head.

The encoder (a pretrained network, or any fixed map such as a fitted PCA) never
changes, so each pool row is encoded once: :class:`FrozenEncoder` keeps the
embeddings of the rows it has seen, found again by a 128-bit fingerprint of each row's
bytes, and every clone of a :class:`FrozenEncoderClassifier` shares them.  In an
active-learning run (which clones the estimator before each fit) only the head is
trained each round, on the cached embeddings of the labeled rows, and the pool is
scored from the cache.

For text, encode once with ``activelab.featurize.text_features(texts, method="minilm",
cache_dir=...)`` (cached on disk) and use a :class:`TorchClassifier` as the head.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .classifier import TorchClassifier
from .data import as_array, shaped
from .embedding import embedding_outputs
from .training import resolve_device, torch_threads

__all__ = ["FrozenEncoder", "FrozenEncoderClassifier", "row_fingerprints"]

_MIX = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * _MIX[0]
    z = (z ^ (z >> np.uint64(27))) * _MIX[1]
    return z ^ (z >> np.uint64(31))


def row_fingerprints(X: np.ndarray) -> np.ndarray:
    """A 128-bit fingerprint of each row's bytes, as an array of ``void16`` (n,).

    Two sums of independently mixed 64-bit words: rows with other bytes collide with
    probability about ``2**-128``.
    """
    X = np.ascontiguousarray(X)
    raw = X.reshape(X.shape[0], -1).view(np.uint8)
    pad = (-raw.shape[1]) % 8
    if pad:
        raw = np.hstack([raw, np.zeros((raw.shape[0], pad), np.uint8)])
    words = np.ascontiguousarray(raw).view(np.uint64)  # (n, w)
    column = np.arange(words.shape[1], dtype=np.uint64)
    out = np.empty((words.shape[0], 2), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(2):  # two hashes, not rows
            salt = (column + np.uint64(1 + k * words.shape[1])) * _GOLDEN
            out[:, k] = _mix64(words ^ salt).sum(axis=1, dtype=np.uint64)
    return out.view(np.dtype((np.void, 16))).ravel()


class FrozenEncoder:
    """A fixed map from inputs to embeddings that encodes each distinct row once.

    Parameters
    ----------
    encoder : torch.nn.Module or callable
        A module (run in evaluation mode without gradients; its output, flattened per
        row, is the embedding, or the output of ``layer``) or a function of a float32
        array of rows returning their embeddings.
    input_shape : tuple of int, optional
        Shape of one input for the module (2-D rows are reshaped to it).
    layer : str, optional
        Name of the module's layer whose output is the embedding (a trunk inside a
        whole classifier); by default the module's output.
    batch_rows : int, default=512
    device : str or torch.device, default="auto"
    n_threads : int or None, default=1
        torch CPU threads while encoding.

    Attributes
    ----------
    n_encoded_ : int
        Rows encoded so far (the rest came from the cache).

    Notes
    -----
    ``copy.deepcopy`` and ``sklearn.clone`` return the same object, so that the clones
    of a classifier share the cache.
    """

    def __init__(self, encoder: nn.Module | Callable[[np.ndarray], Any], *,
                 input_shape: tuple[int, ...] | None = None, layer: str | None = None,
                 batch_rows: int = 512, device: Any = "auto", n_threads: int | None = 1
                 ) -> None:
        if not (isinstance(encoder, nn.Module) or callable(encoder)):
            raise TypeError(
                f"encoder must be a torch.nn.Module or a function of rows, got "
                f"{type(encoder).__name__}."
            )
        self.encoder = encoder
        self.input_shape = input_shape
        self.layer = layer
        self.batch_rows = int(batch_rows)
        self.device = device
        self.n_threads = n_threads
        self.n_encoded_ = 0
        self._keys = np.empty(0, dtype=np.dtype((np.void, 16)))
        self._rows: np.ndarray | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenEncoder:
        return self

    def __copy__(self) -> FrozenEncoder:
        return self

    def __repr__(self) -> str:
        return f"FrozenEncoder({type(self.encoder).__name__})"

    def _run(self, X: np.ndarray) -> np.ndarray:
        if not isinstance(self.encoder, nn.Module):
            return np.asarray(self.encoder(X), dtype=np.float32).reshape(X.shape[0], -1)
        device = resolve_device(self.device)
        module = self.encoder.to(device)
        X_t = torch.from_numpy(shaped(X, self.input_shape, "X"))
        with torch_threads(self.n_threads, device):
            if self.layer is not None:
                return embedding_outputs(module, X_t, self.layer, device=device)
            outs = []
            module.eval()
            with torch.no_grad():
                for start in range(0, X_t.shape[0], self.batch_rows):  # blocks of rows
                    out = module(X_t[start : start + self.batch_rows].to(device))
                    outs.append(out.reshape(out.shape[0], -1).float().cpu().numpy())
            return np.concatenate(outs)

    def __call__(self, X: Any) -> np.ndarray:
        """The embeddings of the rows of ``X``, float32 (n, d); new rows are encoded."""
        X = as_array(X, "X")
        keys = row_fingerprints(X)
        unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        pos = np.minimum(np.searchsorted(self._keys, unique), max(self._keys.size - 1, 0))
        known = (self._keys[pos] == unique) if self._keys.size else np.zeros(unique.size, bool)
        if not known.all():
            new_rows = self._run(X[first[~known]])
            self.n_encoded_ += int(new_rows.shape[0])
            keys_all = np.concatenate([self._keys, unique[~known]])
            rows_all = new_rows if self._rows is None else np.vstack([self._rows, new_rows])
            order = np.argsort(keys_all)
            self._keys, self._rows = keys_all[order], rows_all[order]
            pos = np.searchsorted(self._keys, unique)
        assert self._rows is not None
        return self._rows[pos[inverse.ravel()]]


class FrozenEncoderClassifier(ClassifierMixin, BaseEstimator):
    """A frozen encoder followed by a trainable head (scikit-learn interface).

    Parameters
    ----------
    encoder : FrozenEncoder, torch.nn.Module or callable
        The fixed map to embeddings; a module or function is wrapped in a
        :class:`FrozenEncoder` (pass one yourself to share its cache between runs).
    head : classifier, optional
        Trained on the embeddings; by default ``TorchClassifier(hidden_units=(128,),
        dropout=0.5)``, whose MC dropout gives :meth:`sample_proba` (for ``bald``,
        ``batchbald``, ``epig``, ...).

    Attributes
    ----------
    head_ : the fitted head
    encoder_ : FrozenEncoder
    classes_ : ndarray
    """

    def __init__(self, encoder: Any, head: Any = None) -> None:
        self.encoder = encoder
        self.head = head

    def _encoder(self) -> FrozenEncoder:
        if isinstance(self.encoder, FrozenEncoder):
            return self.encoder
        return FrozenEncoder(self.encoder)

    def fit(self, X: Any, y: Any) -> FrozenEncoderClassifier:
        """Encode ``X`` (each new row once) and fit the head on the embeddings."""
        self.encoder_ = self._encoder()
        head = TorchClassifier(hidden_units=(128,), dropout=0.5) if self.head is None \
            else self.head
        self.head_ = clone(head).fit(self.encoder_(X), y)
        self.classes_ = self.head_.classes_
        return self

    def embed(self, X: Any) -> np.ndarray:
        """The encoder's embeddings of ``X`` (for core-set, BADGE and the like)."""
        check_is_fitted(self, "head_")
        return self.encoder_(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.head_.predict_proba(self.embed(X))

    def predict(self, X: Any) -> np.ndarray:
        return self.head_.predict(self.embed(X))

    def sample_proba(self, X: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        """The head's sampled probabilities (e.g. MC dropout), shape (T, n, n_classes)."""
        sample = getattr(self.head_, "sample_proba", None)
        if sample is None:
            raise TypeError(
                f"the head {type(self.head_).__name__} does not sample (no sample_proba); "
                "use a TorchClassifier with dropout or a DeepEnsemble as the head."
            )
        return sample(self.embed(X), *args, **kwargs)
