"""Oracles: whoever answers the question "what is the label of this item?".

An oracle receives pool ids and the :class:`~activelab.pool.Pool` and returns an
:class:`OracleAnswer`: the ids it labeled (in the order asked), their labels, the ids it
declined and whether it asked to end the run.

- :class:`SimulatedOracle` looks labels up in a known ``y`` (experiments).
- :class:`NoisyOracle` does the same but gives a wrong label at a chosen rate, uniformly
  or following a class-conditional noise matrix (annotators make mistakes).
- :class:`TerminalOracle` shows each item in the terminal and asks a person.
- :func:`as_oracle` turns any function ``f(ids, X_rows) -> labels`` into an oracle.
- :func:`check_answer` checks an answer against the ids asked, for any oracle.

Examples
--------
>>> import numpy as np
>>> from activelab.pool import Pool
>>> pool = Pool(np.zeros((4, 2)))
>>> oracle = SimulatedOracle(np.array(["a", "b", "a", "b"]))
>>> answer = oracle.label(np.array([3, 0]), pool)
>>> answer.ids.tolist(), answer.labels.tolist()
([3, 0], ['b', 'a'])
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .pool import label_column

__all__ = [
    "OracleAnswer",
    "Oracle",
    "SimulatedOracle",
    "NoisyOracle",
    "TerminalOracle",
    "CallableOracle",
    "as_oracle",
    "check_answer",
]


def _empty_ids() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


@dataclass
class OracleAnswer:
    """What an oracle returned for one batch of ids.

    Attributes
    ----------
    ids : ndarray of int64
        Ids that received a label, in the order they were asked.
    labels : ndarray
        One label per id in ``ids``.
    skipped : ndarray of int64
        Ids the oracle declined (e.g. a person pressed skip).
    stop : bool, default=False
        The oracle asked to end the run (e.g. a person pressed quit).  Ids asked after
        the quit appear neither in ``ids`` nor in ``skipped``.
    """

    ids: np.ndarray
    labels: np.ndarray
    skipped: np.ndarray = field(default_factory=_empty_ids)
    stop: bool = False

    def __post_init__(self) -> None:
        self.ids = np.asarray(self.ids, dtype=np.int64).ravel()
        labels = np.asarray(self.labels)  # multi-label answers keep their n x L 0/1 rows
        self.labels = labels if labels.ndim == 2 and labels.shape[1] > 1 else labels.ravel()
        self.skipped = np.asarray(self.skipped, dtype=np.int64).ravel()
        if self.labels.shape[0] != self.ids.shape[0]:
            raise ValueError(
                f"OracleAnswer got {self.ids.shape[0]} ids but {self.labels.shape[0]} labels; "
                "give one label per labeled id."
            )

    @property
    def n_labeled(self) -> int:
        """Number of labels in the answer."""
        return int(self.ids.shape[0])


def _check_ids(ids: Any, n: int | None, name: str = "ids") -> np.ndarray:
    arr = np.asarray(ids)
    if arr.size == 0:
        return _empty_ids()
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be integer pool ids, got dtype {arr.dtype}.")
    arr = arr.astype(np.int64, copy=False).ravel()
    if arr.min() < 0 or (n is not None and arr.max() >= n):
        hi = "" if n is None else f" and {n - 1}"
        raise ValueError(
            f"{name} must be between 0{hi}; got {int(arr.min())}..{int(arr.max())}."
        )
    return arr


def _check_y(y: Any) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and 1 in y.shape:
        y = y.ravel()
    if y.ndim == 2 and y.dtype.kind not in "biuf":
        raise ValueError(f"y must be 1-D (one label per pool id), got shape {y.shape}.")
    if y.ndim not in (1, 2):  # 2-D: multi-label 0/1 rows, one per pool id
        raise ValueError(f"y must be 1-D (one label per pool id), got shape {y.shape}.")
    if y.shape[0] == 0:
        raise ValueError("y is empty; give one label per pool id.")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError("y contains NaN; a simulated oracle needs a label for every pool id.")
    return y


class Oracle:
    """Base class of oracles.

    Subclasses implement :meth:`label`.  An oracle may keep counts of what it answered
    (attributes ending in ``_``).
    """

    def label(self, ids: np.ndarray, pool: Any) -> OracleAnswer:
        """Labels for ``ids``.

        Parameters
        ----------
        ids : ndarray of int64
            Pool ids to label.
        pool : Pool
            The pool the ids refer to (for features, raw items and keys).

        Returns
        -------
        OracleAnswer
        """
        raise NotImplementedError

    def recall(self, ids: np.ndarray, labels: np.ndarray, pool: Any = None) -> None:
        """Take note of labels this oracle gave in an earlier part of the run.

        Called instead of :meth:`label` while a run resumed from its event log replays
        the rounds it had finished, so nobody is asked again.  The base class does
        nothing; an oracle with state of its own brings that state up to date here.

        Parameters
        ----------
        ids : ndarray of int64
            Ids labeled earlier, in the order they were labeled.
        labels : ndarray
            Their labels, as the log holds them.
        pool : Pool, optional
        """

    def __call__(self, ids: np.ndarray, pool: Any) -> OracleAnswer:
        return self.label(ids, pool)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SimulatedOracle(Oracle):
    """An oracle that knows every label: ``y[id]`` for each asked id.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The true label of every pool id.

    Attributes
    ----------
    n_labeled_ : int
        Number of labels handed out so far.
    """

    def __init__(self, y: Any) -> None:
        self.y = _check_y(y)
        self.n_labeled_ = 0

    def _ids(self, ids: Any, pool: Any) -> np.ndarray:
        n = self.y.shape[0]
        if pool is not None and getattr(pool, "n_samples", n) != n:
            raise ValueError(
                f"y has {n} labels but the pool has {pool.n_samples} items; give one label "
                "per pool id (y indexed by pool id)."
            )
        return _check_ids(ids, n)

    def label(self, ids: np.ndarray, pool: Any = None) -> OracleAnswer:
        """The true labels of ``ids`` (``pool`` is only checked for size)."""
        ids = self._ids(ids, pool)
        self.n_labeled_ += int(ids.size)
        return OracleAnswer(ids=ids, labels=self.y[ids], skipped=_empty_ids())

    def recall(self, ids: np.ndarray, labels: np.ndarray, pool: Any = None) -> None:
        """Answer ``ids`` again, so the counts (and a noisy oracle's draws) are as they were.

        Raises
        ------
        ValueError
            When the answers differ from ``labels``: the log was written with another
            oracle (other labels, or another noise seed).
        """
        given = self.label(ids, pool).labels
        if np.asarray(given).tolist() != np.asarray(labels).tolist():
            raise ValueError(
                "the oracle's labels differ from those in the log being resumed; resume "
                "with the oracle (labels, noise and its random_state) of the logged run."
            )

    def __repr__(self) -> str:
        return f"SimulatedOracle(n_samples={self.y.shape[0]})"


class NoisyOracle(SimulatedOracle):
    """A simulated annotator who gives a wrong label at a known rate.

    A corrupted answer is always a *different* class than the true one.  Each id is
    decided once: asking again for the same id returns the same (possibly wrong) label,
    as a data set with label noise would.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The true label of every pool id.
    error_rate : float, default=0.1
        Probability in ``[0, 1]`` that an answer is wrong; the wrong label is drawn
        uniformly among the other classes (for two classes: always the other one).
        Ignored when ``noise_matrix`` is given.
    noise_matrix : array-like of shape (n_classes, n_classes), optional
        Class-conditional noise: ``noise_matrix[i, j]`` (``i != j``) is the probability that
        an item of true class ``classes_[i]`` is labeled ``classes_[j]``; rows are true
        classes in the sorted order of :attr:`classes_`.  Entries must be non-negative and
        the off-diagonal entries of each row must sum to at most 1; the label is kept with
        the remaining probability.  The diagonal is either left at zero or holds exactly
        that probability of keeping the label (a row-stochastic transition matrix, every
        row summing to 1); any other diagonal is rejected.
    random_state : int, RandomState or None
        Seed of the noise.
    classes : array-like, optional
        All classes, when some never occur in ``y`` (sorted; defines the matrix order).

    Attributes
    ----------
    classes_ : ndarray
        The classes, sorted.
    transition_ : ndarray of shape (n_classes, n_classes)
        Probability of each given label (columns) for each true class (rows).
    corrupted_ids_ : ndarray of int64
        Ids whose answer is wrong, in the order they were first asked.
    n_labeled_ : int
        Labels handed out (repeats included).
    n_asked_ : int
        Distinct ids answered so far.
    n_corrupted_ : int
        Distinct ids answered wrongly.
    flip_counts_ : ndarray of shape (n_classes, n_classes)
        Counts of distinct answered ids by true class (rows) and given class (columns).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 1] * 500)
    >>> oracle = NoisyOracle(y, error_rate=0.2, random_state=0)
    >>> answer = oracle.label(np.arange(1000), None)
    >>> bool(np.all(answer.labels[oracle.corrupted_ids_] != y[oracle.corrupted_ids_]))
    True
    """

    def __init__(
        self,
        y: Any,
        error_rate: float = 0.1,
        noise_matrix: Any = None,
        random_state: Any = None,
        *,
        classes: Any = None,
    ) -> None:
        super().__init__(y)
        self.error_rate = error_rate
        self.noise_matrix = noise_matrix
        self.random_state = random_state
        self.classes = classes
        if classes is None:
            self.classes_ = np.unique(self.y)
        else:
            self.classes_ = np.unique(np.asarray(classes))
            missing = np.setdiff1d(np.unique(self.y), self.classes_)
            if missing.size:
                raise ValueError(
                    f"y holds classes {missing[:5].tolist()} that are not in classes; "
                    "list every class of y in classes."
                )
        self._y_codes = np.searchsorted(self.classes_, self.y).astype(np.int64)
        self.transition_ = self._transition()
        self._rng = check_random_state(random_state)
        n_classes = self.classes_.shape[0]
        self._given = np.full(self.y.shape[0], -1, dtype=np.int64)
        self._corrupted: list[np.ndarray] = []
        self.n_asked_ = 0
        self.n_corrupted_ = 0
        self.flip_counts_ = np.zeros((n_classes, n_classes), dtype=np.int64)

    def _transition(self) -> np.ndarray:
        n_classes = self.classes_.shape[0]
        if self.noise_matrix is None:
            rate = self.error_rate
            if isinstance(rate, bool) or not isinstance(rate, (int, float, np.number)):
                raise TypeError(f"error_rate must be a number in [0, 1], got {rate!r}.")
            if not 0.0 <= float(rate) <= 1.0:
                raise ValueError(f"error_rate must be in [0, 1], got {rate}.")
            if n_classes < 2 and rate > 0:
                raise ValueError(
                    "y holds a single class, so no label can be flipped to another class; "
                    "pass classes=[...] with every class, or error_rate=0."
                )
            if n_classes < 2:
                return np.ones((1, 1))
            off = float(rate) / (n_classes - 1)
            T = np.full((n_classes, n_classes), off)
            np.fill_diagonal(T, 1.0 - float(rate))
            return T
        M = np.asarray(self.noise_matrix, dtype=np.float64)
        if M.shape != (n_classes, n_classes):
            raise ValueError(
                f"noise_matrix must have shape ({n_classes}, {n_classes}) (one row and column "
                f"per class of {self.classes_.tolist()[:10]}), got {M.shape}."
            )
        if not np.isfinite(M).all() or (M < 0).any():
            raise ValueError("noise_matrix must hold non-negative finite probabilities.")
        diag = np.diag(M).copy()
        off = M.copy()
        np.fill_diagonal(off, 0.0)
        flip = off.sum(axis=1)
        tol = 1e-9
        if (flip > 1 + tol).any():
            bad = int(np.flatnonzero(flip > 1 + tol)[0])
            raise ValueError(
                f"noise_matrix row {bad} (true class {self.classes_[bad]!r}) has flip "
                f"probabilities summing to {flip[bad]:.4g} > 1; each row's off-diagonal "
                "entries must sum to at most 1."
            )
        keep = 1.0 - flip
        if np.any(diag != 0) and not np.allclose(diag, keep, atol=1e-9):
            raise ValueError(
                "noise_matrix diagonal must be all zero (off-diagonal entries are flip "
                "probabilities, the rest is kept) or hold the probability of keeping the "
                "label so that every row sums to 1."
            )
        T = off
        np.fill_diagonal(T, np.clip(keep, 0.0, 1.0))
        return T

    def label(self, ids: np.ndarray, pool: Any = None) -> OracleAnswer:
        """Labels of ``ids``, some of them wrong (see the class description)."""
        ids = self._ids(ids, pool)
        new = ids[self._given[ids] < 0]
        if new.size:
            _, first = np.unique(new, return_index=True)
            new = new[np.sort(first)]  # distinct, in first-asked order
            true = self._y_codes[new]
            cum = np.cumsum(self.transition_[true], axis=1)
            cum /= cum[:, -1:]  # rows sum to 1 exactly, so a draw always lands in a class
            u = self._rng.random_sample(new.size)
            given = (u[:, None] >= cum).sum(axis=1)
            self._given[new] = given
            np.add.at(self.flip_counts_, (true, given), 1)
            wrong = new[given != true]
            self._corrupted.append(wrong)
            self.n_asked_ += int(new.size)
            self.n_corrupted_ += int(wrong.size)
        self.n_labeled_ += int(ids.size)
        return OracleAnswer(
            ids=ids, labels=self.classes_[self._given[ids]], skipped=_empty_ids()
        )

    @property
    def corrupted_ids_(self) -> np.ndarray:
        """Ids answered with a wrong label, in first-asked order."""
        if not self._corrupted:
            return _empty_ids()
        return np.concatenate(self._corrupted)

    @property
    def observed_error_rate_(self) -> float:
        """Share of distinct answered ids that got a wrong label (``nan`` before any)."""
        return self.n_corrupted_ / self.n_asked_ if self.n_asked_ else float("nan")

    def __repr__(self) -> str:
        if self.noise_matrix is not None:
            return f"NoisyOracle(n_samples={self.y.shape[0]}, noise_matrix=...)"
        return f"NoisyOracle(n_samples={self.y.shape[0]}, error_rate={self.error_rate})"


def _default_display(pool_id: int, pool: Any, max_chars: int = 800) -> str:
    """Text showing one item: its key, then its raw item or its feature row."""
    lines = []
    keys = getattr(pool, "keys", None)
    if keys is not None:
        lines.append(f"key: {keys[pool_id]}")
    raw = getattr(pool, "raw", None)
    if raw is not None:
        text = str(raw[pool_id])
        if len(text) > max_chars:
            text = text[:max_chars] + f"... [{len(text) - max_chars} more characters]"
        lines.append(text)
    else:
        row = pool.X[pool_id]
        if sp.issparse(row):
            row = row.toarray()
        row = np.asarray(row).ravel()
        names = getattr(pool, "feature_names", None)
        shown = min(row.size, 20)
        if names:
            parts = [f"{names[j]}={row[j]:.4g}" for j in range(shown)]
        else:
            parts = [f"{v:.4g}" for v in row[:shown]]
        more = f" ... ({row.size - shown} more features)" if row.size > shown else ""
        lines.append("features: " + ", ".join(parts) + more)
    return "\n".join(lines)


class TerminalOracle(Oracle):
    """Ask a person in the terminal for each label.

    Each item is shown (its key, then its raw item when the pool has one, else its
    feature row) and the person types a class name, or its number when no class name
    looks like a number; ``s`` skips the item and ``q`` ends the run.  Anything else is
    asked again.

    Parameters
    ----------
    classes : sequence
        The known classes; answers must be one of them.
    display : callable, optional
        ``display(pool_id, pool) -> str`` giving the text shown for an item.
    input : callable, default=builtins.input
        Reads one answer given a prompt (replace it to script a session).
    output : callable, default=builtins.print
        Writes one line of text.

    Attributes
    ----------
    n_labeled_, n_skipped_ : int
        Labels given and items skipped so far.

    Examples
    --------
    >>> import numpy as np
    >>> from activelab.pool import Pool
    >>> answers = iter(["dog", "x", "s"])
    >>> oracle = TerminalOracle(["cat", "dog"], input=lambda prompt: next(answers),
    ...                         output=lambda text: None)
    >>> result = oracle.label(np.array([0, 1]), Pool(np.eye(2)))
    >>> result.labels.tolist(), result.skipped.tolist()
    (['dog'], [1])
    """

    def __init__(
        self,
        classes: Sequence[Any],
        display: Callable[[int, Any], str] | None = None,
        input: Callable[[str], str] = builtins.input,
        output: Callable[[str], Any] = builtins.print,
    ) -> None:
        classes_arr = np.asarray(classes)
        if classes_arr.ndim != 1 or classes_arr.size < 1:
            raise ValueError("classes must be a non-empty 1-D list of the known classes.")
        names = [str(c) for c in classes_arr.tolist()]
        if len(set(names)) != len(names):
            raise ValueError(f"classes must be distinct, got {names}.")
        if {"s", "q"} & set(names):
            raise ValueError(
                "classes may not be named 's' or 'q' (they mean skip and quit); rename them."
            )
        if display is not None and not callable(display):
            raise TypeError("display must be a callable display(pool_id, pool) -> str.")
        self.classes = classes
        self.classes_ = classes_arr
        self.display = display
        self.input = input
        self.output = output
        self._names = names
        self._numbered = not any(n.strip().lstrip("-").isdigit() for n in names)
        self.n_labeled_ = 0
        self.n_skipped_ = 0

    def _prompt(self) -> str:
        if self._numbered:
            choices = ", ".join(f"[{i}] {n}" for i, n in enumerate(self._names))
        else:
            choices = ", ".join(self._names)
        return f"label ({choices}; s = skip, q = quit): "

    def _parse(self, text: str) -> int | str | None:
        """A class position, "s", "q", or None when the answer is not valid."""
        text = text.strip()
        if text in ("s", "q"):
            return text
        if text in self._names:
            return self._names.index(text)
        if self._numbered and text.isdigit() and int(text) < len(self._names):
            return int(text)
        return None

    def label(self, ids: np.ndarray, pool: Any) -> OracleAnswer:
        """Show each item and read its label from the person at the terminal."""
        ids = _check_ids(ids, getattr(pool, "n_samples", None))
        show = self.display or _default_display
        labeled: list[int] = []
        codes: list[int] = []
        skipped: list[int] = []
        stop = False
        prompt = self._prompt()
        for k, pool_id in enumerate(ids.tolist()):
            self.output(f"--- item {k + 1} of {ids.size} (id {pool_id}) ---")
            self.output(show(pool_id, pool))
            while True:
                try:
                    answer = self._parse(self.input(prompt))
                except EOFError:
                    answer = "q"
                if answer is None:
                    self.output(f"not a known class; type one of {', '.join(self._names)}, "
                                "or s to skip, q to quit.")
                    continue
                break
            if answer == "q":
                stop = True
                break
            if answer == "s":
                skipped.append(pool_id)
            else:
                labeled.append(pool_id)
                codes.append(int(answer))
        self.n_labeled_ += len(labeled)
        self.n_skipped_ += len(skipped)
        labels = self.classes_[np.asarray(codes, dtype=np.int64)]
        return OracleAnswer(ids=np.asarray(labeled, dtype=np.int64), labels=labels,
                            skipped=np.asarray(skipped, dtype=np.int64), stop=stop)

    def __repr__(self) -> str:
        return f"TerminalOracle(classes={self._names})"


class CallableOracle(Oracle):
    """An oracle from a function ``f(ids, X_rows) -> labels``.

    ``X_rows`` are the feature rows of ``ids`` (``pool.features(ids)``).  The function
    returns one label per id; a ``None`` label marks an id as skipped.

    Parameters
    ----------
    func : callable
    """

    def __init__(self, func: Callable[[np.ndarray, Any], Any]) -> None:
        if not callable(func):
            raise TypeError("func must be callable as func(ids, X_rows) -> labels.")
        self.func = func
        self.n_labeled_ = 0

    def label(self, ids: np.ndarray, pool: Any) -> OracleAnswer:
        """Call the function on the ids and their feature rows."""
        ids = _check_ids(ids, getattr(pool, "n_samples", None))
        rows = pool.features(ids) if pool is not None else None
        labels = np.asarray(self.func(ids, rows))
        if labels.ndim != 1 or labels.shape[0] != ids.shape[0]:
            raise ValueError(
                f"the oracle function returned {labels.shape} labels for {ids.shape[0]} ids; "
                "it must return one label per id (None to skip an id)."
            )
        if labels.dtype == object:
            missing = np.array([v is None for v in labels.tolist()], dtype=bool)
            if missing.any():
                kept = labels[~missing]
                kept = np.asarray(kept.tolist()) if kept.size else kept
                self.n_labeled_ += int((~missing).sum())
                return OracleAnswer(ids=ids[~missing], labels=kept, skipped=ids[missing])
        self.n_labeled_ += int(ids.size)
        return OracleAnswer(ids=ids, labels=labels, skipped=_empty_ids())

    def __repr__(self) -> str:
        return f"CallableOracle({getattr(self.func, '__name__', type(self.func).__name__)})"


def as_oracle(obj: Any) -> Oracle:
    """Turn ``obj`` into an :class:`Oracle`.

    Parameters
    ----------
    obj : Oracle, callable or array-like
        An oracle is returned as is; a callable ``f(ids, X_rows) -> labels`` is wrapped
        in a :class:`CallableOracle`; a 1-D array of labels indexed by pool id becomes a
        :class:`SimulatedOracle`.

    Raises
    ------
    TypeError
        For anything else.
    """
    if isinstance(obj, Oracle):
        return obj
    if callable(obj):
        return CallableOracle(obj)
    if isinstance(obj, (np.ndarray, list, tuple)) or hasattr(obj, "to_numpy"):
        y = obj.to_numpy() if hasattr(obj, "to_numpy") else obj
        return SimulatedOracle(y)
    raise TypeError(
        f"oracle must be an Oracle, a function f(ids, X_rows) -> labels, or an array of "
        f"labels indexed by pool id; got {type(obj).__name__}."
    )


def check_answer(
    answer: Any, asked_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Check an oracle's answer against the ids it was asked about.

    Parameters
    ----------
    answer : OracleAnswer or any object with ``ids``, ``labels``, ``skipped``, ``stop``
    asked_ids : ndarray of int64
        The ids passed to ``label()``.

    Returns
    -------
    ids : ndarray of int64
        The labeled ids.
    labels : ndarray of object
        Their labels.
    skipped : ndarray of int64
        The declined ids; unless the oracle asked to stop, an asked id it neither labeled
        nor skipped counts as skipped (so it is not asked forever).
    stop : bool
        Whether the oracle asked to end the run.

    Raises
    ------
    ValueError
        When the labels do not match the labeled ids one to one, or an id was not asked
        about or answered twice.
    """
    got = np.asarray(getattr(answer, "ids", _empty_ids()), dtype=np.int64).ravel()
    labels = label_column(getattr(answer, "labels", []))
    skipped = np.asarray(getattr(answer, "skipped", _empty_ids()), dtype=np.int64).ravel()
    stop = bool(getattr(answer, "stop", False))
    if labels.shape[0] != got.shape[0]:
        raise ValueError(
            f"the oracle returned {got.shape[0]} ids but {labels.shape[0]} labels; an "
            "OracleAnswer needs one label per labeled id."
        )
    answered = np.concatenate([got, skipped])
    stray = answered[~np.isin(answered, asked_ids)]
    if stray.size:
        raise ValueError(
            f"the oracle answered ids {stray[:5].tolist()} it was not asked about; "
            "return only (a subset of) the ids passed to label()."
        )
    if np.unique(answered).size != answered.size:
        raise ValueError(
            "the oracle answered an id twice (labeled and skipped, or labeled twice); "
            "answer each asked id at most once."
        )
    if not stop:
        silent = asked_ids[~np.isin(asked_ids, answered)]
        if silent.size:
            skipped = np.concatenate([skipped, silent])
    return got, labels, skipped, stop
