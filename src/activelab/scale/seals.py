"""SEALS-style candidate restriction: score only the labeled set's nearest neighbours.

Scoring every unlabeled row each round costs time linear in the pool; past 10⁸–10⁹ rows
that is the whole budget.  SEALS (Coleman et al., "Similarity search for efficient
active learning and search of rare concepts", AAAI 2022) keeps a candidate set that is
the union of the ``k`` nearest neighbours of every labeled row, found through a
similarity index built once over the pool's embeddings.  Each round scores only the
candidates; the neighbours of the rows labeled in that round then join the set.  The
candidate set grows by at most ``k`` per label, so a round's cost depends on the labels,
not on the pool.

:class:`SealsCandidates` keeps that set.  Two index backends answer the neighbour
queries:

* ``"exact"`` — brute-force Euclidean search in numpy/scikit-learn, query rows in
  blocks (always available; the reference);
* ``"faiss"`` — `faiss-cpu <https://pypi.org/project/faiss-cpu/>`_ (the ``ann``
  extra): ``IndexFlatL2`` (exact, the same neighbours as ``"exact"`` up to ties) or,
  with ``approximate=True``, ``IndexHNSWFlat`` (graph search: sub-linear queries, the
  way past 10⁹ rows).

``index="auto"`` takes faiss when it is installed and numpy otherwise.

Examples
--------
>>> seals = SealsCandidates(embeddings, k=100).add_labeled(initial_ids)   # doctest: +SKIP
>>> cand = seals.candidate_ids_                                            # doctest: +SKIP
>>> result = learner.query_result(X_pool[cand], 10, candidate_ids=cand)    # doctest: +SKIP
>>> seals.add_labeled(result.ids)                                          # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

__all__ = ["SealsCandidates", "ExactIndex", "FaissIndex", "make_index"]

#: Query rows per block of the exact search (bounds the block x pool distance matrix).
_QUERY_BLOCK = 256


def _as_float32_rows(X: Any, name: str) -> np.ndarray:
    arr = np.asarray(X)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array of embeddings, got shape {arr.shape}.")
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}.")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity; embed every row before indexing.")
    return arr


class ExactIndex:
    """Brute-force Euclidean nearest neighbours over ``X`` (numpy, blocks of queries)."""

    name = "exact"

    def __init__(self, X: np.ndarray) -> None:
        self.X = X
        self.sq_norms = np.einsum("ij,ij->i", X, X)

    def search(self, queries: np.ndarray, k: int) -> np.ndarray:
        """Ids of the ``k`` nearest rows of every query row, shape ``(n_queries, k)``."""
        k = min(k, self.X.shape[0])
        out = np.empty((queries.shape[0], k), dtype=np.int64)
        for s in range(0, queries.shape[0], _QUERY_BLOCK):
            q = queries[s : s + _QUERY_BLOCK]
            # |x|^2 - 2 q.x (the query's own norm does not change its ranking)
            d = self.sq_norms[None, :] - 2.0 * (q @ self.X.T)
            part = np.argpartition(d, k - 1, axis=1)[:, :k]
            order = np.argsort(np.take_along_axis(d, part, axis=1), axis=1, kind="stable")
            out[s : s + q.shape[0]] = np.take_along_axis(part, order, axis=1)
        return out


class FaissIndex:
    """Nearest neighbours through faiss: exact ``IndexFlatL2`` or graph ``IndexHNSWFlat``."""

    name = "faiss"

    def __init__(self, X: np.ndarray, approximate: bool = False, hnsw_m: int = 32,
                 ef_search: int = 128) -> None:
        import faiss

        dim = X.shape[1]
        if approximate:
            self.index = faiss.IndexHNSWFlat(dim, hnsw_m)
            self.index.hnsw.efSearch = ef_search
        else:
            self.index = faiss.IndexFlatL2(dim)
        self.index.add(X)
        self.n = X.shape[0]

    def search(self, queries: np.ndarray, k: int) -> np.ndarray:
        """Ids of the ``k`` nearest rows of every query row (``-1`` where none found)."""
        _, ids = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, self.n))
        return ids.astype(np.int64)


def _faiss_installed() -> bool:
    return importlib.util.find_spec("faiss") is not None


def make_index(X: Any, index: str = "auto", approximate: bool = False) -> ExactIndex | FaissIndex:
    """A neighbour index over the embeddings ``X``.

    Parameters
    ----------
    X : array-like of shape (n, d)
        The pool's embeddings (or features), kept as float32.
    index : {"auto", "exact", "faiss"}, default="auto"
        ``"auto"`` is faiss when installed, else the numpy exact search.
    approximate : bool, default=False
        faiss only: a graph index (HNSW) instead of the exact flat index.

    Raises
    ------
    ValueError
        For an unknown backend, approximate search without faiss, or bad embeddings.
    ImportError
        When ``index="faiss"`` and faiss-cpu is not installed.
    """
    if index not in ("auto", "exact", "faiss"):
        raise ValueError(f"index must be 'auto', 'exact' or 'faiss', got {index!r}.")
    X = _as_float32_rows(X, "X")
    use_faiss = index == "faiss" or (index == "auto" and _faiss_installed())
    if use_faiss and not _faiss_installed():
        raise ImportError(
            "index='faiss' needs faiss-cpu: pip install 'activelab[ann]' (or index='exact')."
        )
    if approximate and not use_faiss:
        raise ValueError(
            "approximate=True needs the faiss backend: pip install 'activelab[ann]', or use "
            "approximate=False for the exact numpy search."
        )
    return FaissIndex(X, approximate=approximate) if use_faiss else ExactIndex(X)


class SealsCandidates:
    """The union of the labeled rows' ``k`` nearest neighbours, minus the labeled rows.

    Parameters
    ----------
    X : array-like of shape (n_pool, d)
        Embeddings of the whole pool, row ``i`` being pool id ``i``.
    k : int, default=100
        Neighbours added per labeled row.
    index : {"auto", "exact", "faiss"}, default="auto"
        See :func:`make_index`.
    approximate : bool, default=False
        Use faiss's HNSW graph (sub-linear search) instead of an exact index.

    Attributes
    ----------
    candidate_ids_ : ndarray of int64
        The current candidates, sorted.
    labeled_ids_ : ndarray of int64
        Every id given to :meth:`add_labeled`, sorted.
    index_ : ExactIndex or FaissIndex
        The neighbour index (built once).
    """

    def __init__(self, X: Any, k: int = 100, *, index: str = "auto",
                 approximate: bool = False) -> None:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive integer (neighbours per label), got {k!r}.")
        self.k = int(k)
        self.index_ = make_index(X, index=index, approximate=approximate)
        self._X = _as_float32_rows(X, "X")
        self.candidate_ids_ = np.empty(0, dtype=np.int64)
        self.labeled_ids_ = np.empty(0, dtype=np.int64)

    @property
    def n_pool(self) -> int:
        """Rows in the pool."""
        return self._X.shape[0]

    def add_labeled(self, ids: Any) -> SealsCandidates:
        """Record newly labeled pool ids: their neighbours join, they leave the candidates.

        Raises
        ------
        ValueError
            For ids outside the pool.
        """
        ids = np.unique(np.asarray(ids, dtype=np.int64).ravel())
        if ids.size and (ids[0] < 0 or ids[-1] >= self.n_pool):
            raise ValueError(f"ids must be pool ids in [0, {self.n_pool}), got {ids[0]}..{ids[-1]}.")
        new = np.setdiff1d(ids, self.labeled_ids_, assume_unique=True)
        self.labeled_ids_ = np.union1d(self.labeled_ids_, ids)
        if new.size:
            found = self.index_.search(self._X[new], self.k + 1).ravel()
            found = found[found >= 0]
            self.candidate_ids_ = np.union1d(self.candidate_ids_, found)
        self.candidate_ids_ = np.setdiff1d(self.candidate_ids_, self.labeled_ids_,
                                           assume_unique=True)
        return self

    def __len__(self) -> int:
        return int(self.candidate_ids_.size)

    def __repr__(self) -> str:
        return (f"SealsCandidates(k={self.k}, index={self.index_.name!r}, "
                f"n_candidates={len(self)}, n_labeled={self.labeled_ids_.size})")
