"""Pictures of what a strategy sees: the pool in two dimensions, coloured by utility.

"Visualize uncertainty: plot samples by uncertainty to understand strategy."  Two plots:

* :func:`plot_uncertainty` projects the pool to 2-D (PCA by default, or coordinates you
  give), colours every unlabeled item by the strategy's utility (higher = more worth
  labeling), and marks the labeled items and the items a query chose.
* :func:`plot_query_batch` draws one batch against the pool, numbered in the order it was
  chosen, with the batch's spread (:func:`batch_spread`) in the title, so that a batch of
  near-duplicates ("over-querying similar examples") is visible at a glance.

matplotlib is imported inside the functions (it is the ``plot`` extra), and the
non-interactive ``Agg`` backend is chosen when no backend is configured, so the plots work
on machines without a display.  Both functions return the ``Figure``; the scatter layers
carry labels (``"unlabeled"``, ``"labeled"``, ``"queried"``, ``"pool"``, ``"batch"``) so that
their content can be read back from ``fig.axes[0].collections``.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from ._plotting import import_pyplot
from .learners import ActiveLearner, Committee
from .pool import Pool, RowView, check_features, materialize, take_rows
from .strategies.query import utilities_once
from .strategies.registry import get_strategy

__all__ = [
    "batch_spread",
    "plot_query_batch",
    "plot_uncertainty",
    "project_2d",
    "strategy_utilities",
]

#: At most this many unlabeled points are drawn (a seeded sample); labeled and queried
#: points are always drawn.
DEFAULT_MAX_POINTS = 20_000


# --------------------------------------------------------------------------- helpers
def _pool_matrix(X_pool: Any) -> tuple[Any, Pool | None]:
    if isinstance(X_pool, Pool):
        return X_pool.X, X_pool
    if isinstance(X_pool, RowView):
        X_pool = materialize(X_pool)
    return check_features(X_pool, "X_pool"), None


def _check_ids(ids: Any, n: int, name: str) -> np.ndarray:
    if ids is None:
        return np.empty(0, dtype=np.int64)
    arr = np.asarray(ids)
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(
                f"{name} is a boolean mask of shape {arr.shape}; give one entry per pool row "
                f"({n},) or integer pool ids."
            )
        return np.flatnonzero(arr).astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be integer pool ids (row positions), got dtype {arr.dtype}.")
    arr = arr.astype(np.int64).ravel()
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(
            f"{name} must be pool ids between 0 and {n - 1}; got {int(arr.min())}..{int(arr.max())}."
        )
    if np.unique(arr).size != arr.size:
        raise ValueError(f"{name} contains the same id twice; give each pool id once.")
    return arr


def project_2d(X: Any, projection: Any = "pca", random_state: Any = None) -> np.ndarray:
    """Two coordinates per row of ``X``, for plotting.

    Parameters
    ----------
    X : ndarray or sparse matrix, shape (n_samples, n_features)
    projection : "pca", "features", array-like of shape (n_samples, 2), or transformer
        ``"pca"`` (default): the first two principal components (``TruncatedSVD`` for
        sparse ``X``).  ``"features"``: the two columns of a 2-feature ``X`` as they are.
        An array: the coordinates to use.  An object with ``fit_transform`` (e.g.
        ``sklearn.manifold.TSNE(n_components=2)``): its output.
    random_state : int, RandomState or None
        Seed of the randomized SVD.

    Returns
    -------
    ndarray of float64, shape (n_samples, 2)

    Raises
    ------
    ValueError
        For an unknown projection name or coordinates of the wrong shape.
    """
    n = X.shape[0]
    if isinstance(projection, str):
        if projection == "pca":
            if X.shape[1] == 1:
                X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
                return np.column_stack([X[:, 0], np.zeros(n)])
            if sp.issparse(X):
                from sklearn.decomposition import TruncatedSVD

                return np.asarray(
                    TruncatedSVD(2, random_state=random_state).fit_transform(X), dtype=np.float64
                )
            from sklearn.decomposition import PCA

            seed = check_random_state(random_state).randint(2**31 - 1)
            coords = PCA(n_components=2, random_state=seed).fit_transform(X)
            return np.asarray(coords, dtype=np.float64)
        if projection == "features":
            if X.shape[1] != 2:
                raise ValueError(
                    f"projection='features' needs a pool with exactly 2 features, got "
                    f"{X.shape[1]}; use projection='pca' or pass (n_samples, 2) coordinates."
                )
            return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
        raise ValueError(
            f"projection must be 'pca', 'features', an (n_samples, 2) array or a transformer "
            f"with fit_transform; got {projection!r}."
        )
    if hasattr(projection, "fit_transform"):
        coords = np.asarray(projection.fit_transform(X), dtype=np.float64)
    else:
        coords = np.asarray(projection, dtype=np.float64)
    if coords.shape != (n, 2):
        raise ValueError(
            f"projection coordinates must have shape ({n}, 2), one (x, y) per pool row; "
            f"got {coords.shape}."
        )
    if not np.isfinite(coords).all():
        raise ValueError("projection coordinates contain NaN or infinite values.")
    return coords


def _fitted_model(learner_or_estimator: Any) -> tuple[Any, Any, Any]:
    """(model for the query, X_labeled, y_labeled) of a learner or estimator."""
    obj = learner_or_estimator
    if isinstance(obj, ActiveLearner):
        if not obj.is_fitted:
            raise ValueError(
                "learner_or_estimator has no training data yet: fit or teach() it before "
                "plotting its utilities."
            )
        return obj.estimator_, obj.X_training_, obj.y_training_
    if isinstance(obj, Committee):
        if not obj.is_fitted:
            raise ValueError(
                "learner_or_estimator (a Committee) has no training data yet: teach() it "
                "before plotting its utilities."
            )
        return obj, obj.X_training_, obj.y_training_
    if obj is None or not (hasattr(obj, "predict_proba") or hasattr(obj, "fit")):
        raise TypeError(
            "learner_or_estimator must be an ActiveLearner, a Committee or a fitted "
            f"classifier, got {type(obj).__name__}."
        )
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(obj)
    except NotFittedError as exc:
        raise ValueError(
            f"learner_or_estimator ({type(obj).__name__}) is not fitted; call fit() on the "
            "labeled data first."
        ) from exc
    except TypeError:  # not a scikit-learn estimator; trust it
        pass
    return obj, None, None


def strategy_utilities(
    learner_or_estimator: Any,
    X_pool: Any,
    candidate_ids: Any = None,
    *,
    strategy: Any = "margin",
    labeled_ids: Any = None,
    costs: Any = None,
    random_state: Any = None,
) -> np.ndarray:
    """The utility a strategy gives each candidate (higher = more worth labeling).

    Parameters
    ----------
    learner_or_estimator : ActiveLearner, Committee or fitted classifier
    X_pool : array-like, sparse matrix or Pool, shape (n_samples, n_features)
    candidate_ids : array-like of int, optional
        Pool ids to score; all rows when omitted.
    strategy : str or Strategy, default="margin"
        A registered name (see :func:`activelab.available_strategies`) or a strategy
        object (a copy is used, so its state never changes).  Utility strategies give :meth:`UtilityStrategy.utility`; batch-aware
        ones (``coreset``, ``kmeans``, ...) give the score their selection ranked by.
    labeled_ids : array-like of int, optional
        The labeled pool ids, for strategies that need the labeled set when the
        learner does not carry it (a plain estimator).
    costs : array-like of shape (n_samples,), optional
        Labeling cost of every pool item, for cost-aware strategies.
    random_state : int, RandomState or None

    Returns
    -------
    ndarray of float64, shape (n_candidates,)
    """
    X, _ = _pool_matrix(X_pool)
    n = X.shape[0]
    ids = np.arange(n, dtype=np.int64) if candidate_ids is None else _check_ids(
        candidate_ids, n, "candidate_ids"
    )
    if ids.size == 0:
        raise ValueError("candidate_ids is empty; give at least one pool id to score.")
    if isinstance(strategy, str) or hasattr(strategy, "select"):
        # a copy, so that plotting never changes the state of a strategy in use
        strat = get_strategy(
            strategy if isinstance(strategy, str) else copy.deepcopy(strategy),
            random_state=random_state,
        )
    else:
        raise TypeError(
            f"strategy must be a strategy name or a Strategy object, got "
            f"{type(strategy).__name__}; see activelab.available_strategies()."
        )
    model, X_lab, y_lab = _fitted_model(learner_or_estimator)
    if X_lab is None and labeled_ids is not None:
        lab = _check_ids(labeled_ids, n, "labeled_ids")
        X_lab = take_rows(X, lab) if lab.size else None
    if costs is not None:
        costs = np.asarray(costs, dtype=np.float64).ravel()
        if costs.shape != (n,):
            raise ValueError(
                f"costs has shape {costs.shape}; give one cost per pool row ({n},)."
            )
        costs = costs[ids]
    rows = RowView(X, ids) if not sp.issparse(X) else take_rows(X, ids)
    utilities = utilities_once(
        model, rows, ids, strat, X_labeled=X_lab, y_labeled=y_lab, costs=costs
    )
    if np.isnan(utilities).all():
        raise ValueError(
            f"strategy {getattr(strat, 'name', strat)!r} gives no per-item utility to colour "
            "by; plot a utility strategy (e.g. 'margin') and mark its batch with query_ids."
        )
    return utilities


def _sample_positions(n: int, keep: np.ndarray, max_points: int | None, rng: Any) -> np.ndarray:
    """Positions of the points to draw: all, or ``max_points`` of them plus ``keep``."""
    if max_points is None or n <= max_points:
        return np.arange(n, dtype=np.int64)
    chosen = rng.choice(n, size=max_points, replace=False)
    return np.union1d(chosen, keep).astype(np.int64)


def _check_max_points(max_points: Any) -> int | None:
    if max_points is None:
        return None
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)):
        raise TypeError(f"max_points must be an integer or None, got {max_points!r}.")
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1 (or None for all), got {max_points}.")
    return int(max_points)


def _axes(ax: Any, plt: Any) -> tuple[Any, Any]:
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 5.0))
        return fig, ax
    return ax.figure, ax


# --------------------------------------------------------------------------- plots
def plot_uncertainty(
    learner_or_estimator: Any,
    X_pool: Any,
    *,
    labeled_ids: Any = None,
    query_ids: Any = None,
    strategy: Any = "margin",
    projection: Any = "pca",
    ax: Any = None,
    max_points: int | None = DEFAULT_MAX_POINTS,
    costs: Any = None,
    cmap: str = "viridis",
    title: str | None = None,
    random_state: Any = None,
) -> Any:
    """Scatter the pool in 2-D, coloured by the strategy's utility.

    Every unlabeled item is a dot whose colour is its utility (higher = more worth
    labeling; the colour bar shows the scale).  Labeled items are drawn as black
    crosses; queried items get a red ring.  Where the bright dots sit tells what the
    strategy is after: a margin strategy lights up the class boundaries, a density or
    diversity strategy the populated regions.

    Parameters
    ----------
    learner_or_estimator : ActiveLearner, Committee or fitted classifier
        The model whose outputs the strategy reads.  Committee strategies
        (``vote_entropy``, ...) need a :class:`activelab.Committee`.
    X_pool : array-like, sparse matrix or Pool, shape (n_samples, n_features)
        The pool; ids are its row positions.  With a :class:`activelab.Pool`, its labeled
        ids are used when ``labeled_ids`` is not given.
    labeled_ids : array-like of int or boolean mask, optional
        Pool ids that already have a label (drawn as crosses, not coloured).
    query_ids : array-like of int, optional
        Pool ids a query chose (ringed in red), e.g. ``learner.query(X_pool, 10)[0]``.
    strategy : str or Strategy, default="margin"
        Whose utility colours the dots (see :func:`strategy_utilities`).
    projection : "pca", "features", array-like of shape (n_samples, 2), or transformer
        How the pool is put in 2-D (see :func:`project_2d`).
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    max_points : int or None, default=20000
        Draw at most this many unlabeled items (a seeded random sample; labeled and
        queried items are always drawn).  ``None`` draws every item.
    costs : array-like of shape (n_samples,), optional
        Labeling cost of every pool item, for ``strategy="cost_aware"``.
    cmap : str, default="viridis"
    title : str, optional
    random_state : int, RandomState or None
        Seed of the sample, the projection and the strategy's tie breaking.

    Returns
    -------
    matplotlib.figure.Figure
        Its first axes holds the scatter layers labeled ``"unlabeled"`` (colour array =
        utilities of the drawn items), ``"labeled"`` and ``"queried"``.

    Raises
    ------
    ValueError
        For ids out of range, an unfitted model, or coordinates of the wrong shape.
    TypeError
        For a model without probabilities when the strategy needs them.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from activelab import ActiveLearner
    >>> X, y = load_iris(return_X_y=True)
    >>> learner = ActiveLearner(LogisticRegression(max_iter=500), "margin",
    ...                         X[::15], y[::15], random_state=0)
    >>> fig = plot_uncertainty(learner, X, labeled_ids=range(0, 150, 15),
    ...                        query_ids=learner.query(X, 5)[0])
    >>> len(fig.axes[0].collections[0].get_offsets())  # the unlabeled items
    140
    """
    X, pool = _pool_matrix(X_pool)
    n = X.shape[0]
    if labeled_ids is None and pool is not None:
        labeled_ids = pool.labeled_ids
    labeled = _check_ids(labeled_ids, n, "labeled_ids")
    queried = _check_ids(query_ids, n, "query_ids")
    max_points = _check_max_points(max_points)
    rng = check_random_state(random_state)

    is_labeled = np.zeros(n, dtype=bool)
    is_labeled[labeled] = True
    unlabeled = np.flatnonzero(~is_labeled).astype(np.int64)
    if unlabeled.size == 0:
        raise ValueError("every pool item is labeled; there is nothing left to score.")
    keep = np.flatnonzero(np.isin(unlabeled, queried))
    drawn = unlabeled[_sample_positions(unlabeled.size, keep, max_points, rng)]

    coords = project_2d(X, projection, random_state=rng)
    utilities = strategy_utilities(
        learner_or_estimator, X, drawn, strategy=strategy, labeled_ids=labeled,
        costs=costs, random_state=rng,
    )
    plt = import_pyplot()
    fig, ax = _axes(ax, plt)
    finite = np.isfinite(utilities)
    sc = ax.scatter(
        coords[drawn, 0], coords[drawn, 1], c=utilities, cmap=cmap, s=14,
        linewidths=0, alpha=0.9, label="unlabeled", zorder=1,
        plotnonfinite=True,
    )
    if finite.any():
        sc.set_clim(float(np.min(utilities[finite])), float(np.max(utilities[finite])))
    name = getattr(strategy, "name", None) or str(strategy)
    fig.colorbar(sc, ax=ax, label=f"{name} utility (higher = more worth labeling)")
    ax.scatter(
        coords[labeled, 0], coords[labeled, 1], marker="x", c="black", s=30,
        linewidths=1.2, label="labeled", zorder=2,
    )
    ax.scatter(
        coords[queried, 0], coords[queried, 1], marker="o", facecolors="none",
        edgecolors="red", s=90, linewidths=1.6, label="queried", zorder=3,
    )
    _label_axes(ax, projection)
    shown = "" if drawn.size == unlabeled.size else f" ({drawn.size} of {unlabeled.size} shown)"
    ax.set_title(
        title
        or f"{name}: {unlabeled.size} unlabeled{shown}, {labeled.size} labeled, "
        f"{queried.size} queried"
    )
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    return fig


def _label_axes(ax: Any, projection: Any) -> None:
    if isinstance(projection, str) and projection == "pca":
        ax.set_xlabel("principal component 1")
        ax.set_ylabel("principal component 2")
    elif isinstance(projection, str) and projection == "features":
        ax.set_xlabel("feature 1")
        ax.set_ylabel("feature 2")
    else:
        ax.set_xlabel("x")
        ax.set_ylabel("y")


def batch_spread(
    X_pool: Any,
    query_ids: Any,
    *,
    n_pairs: int = 2000,
    random_state: Any = None,
) -> float:
    """How spread out a batch is, relative to the pool: 1 is as spread as random items.

    The mean Euclidean distance between the batch's items, divided by the mean distance
    between two random pool items (estimated on ``n_pairs`` seeded random pairs).  A batch
    of near-duplicates scores near 0: the strategy is over-querying similar examples.

    Parameters
    ----------
    X_pool : array-like, sparse matrix or Pool, shape (n_samples, n_features)
    query_ids : array-like of int
        The batch, at least two pool ids.
    n_pairs : int, default=2000
        Random pairs used to estimate the pool's mean distance.
    random_state : int, RandomState or None

    Returns
    -------
    float
        ``NaN`` when every pool item is identical (no scale to compare with).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.0], [1.0], [1.0]])
    >>> round(batch_spread(X, [0, 1]), 3)  # two copies of one item
    0.0
    """
    X, _ = _pool_matrix(X_pool)
    n = X.shape[0]
    ids = _check_ids(query_ids, n, "query_ids")
    if ids.size < 2:
        raise ValueError(
            f"query_ids must hold at least 2 pool ids to measure a spread, got {ids.size}."
        )
    if n < 2:
        raise ValueError("X_pool must have at least 2 rows to measure a spread.")
    if isinstance(n_pairs, bool) or not isinstance(n_pairs, (int, np.integer)) or n_pairs < 1:
        raise ValueError(f"n_pairs must be a positive integer, got {n_pairs!r}.")
    from sklearn.metrics import pairwise_distances

    rows = X[ids]
    d = pairwise_distances(rows)
    k = ids.size
    within = float(d[np.triu_indices(k, 1)].mean())
    rng = check_random_state(random_state)
    a = rng.randint(0, n, size=int(n_pairs))
    b = (a + rng.randint(1, n, size=int(n_pairs))) % n  # b != a
    diff = X[a] - X[b]
    if sp.issparse(diff):
        sq = np.asarray(diff.multiply(diff).sum(axis=1)).ravel()
    else:
        diff = np.asarray(diff, dtype=np.float64)
        sq = np.einsum("ij,ij->i", diff, diff)
    scale = float(np.sqrt(sq).mean())
    if scale == 0.0:
        return float("nan")
    return within / scale


def plot_query_batch(
    X_pool: Any,
    query_ids: Any,
    *,
    labeled_ids: Any = None,
    utilities: Any = None,
    projection: Any = "pca",
    ax: Any = None,
    max_points: int | None = DEFAULT_MAX_POINTS,
    annotate: bool = True,
    title: str | None = None,
    random_state: Any = None,
) -> Any:
    """Draw one query batch against the pool, to see whether it covers the pool.

    The pool is drawn in light grey, labeled items as black crosses and the batch in
    red, each item numbered by its rank in the batch (1 = chosen first).  The title gives
    the batch's spread (:func:`batch_spread`, measured in the full feature space): near 1
    the batch is as spread out as random items, near 0 it is a clump of similar items,
    the "over-querying similar examples" pitfall that diversity strategies (``kmeans``,
    ``coreset``, ``hybrid``, ``badge``) avoid.

    Parameters
    ----------
    X_pool : array-like, sparse matrix or Pool, shape (n_samples, n_features)
    query_ids : array-like of int
        The batch, in the order chosen (e.g. ``QueryResult.ids``).
    labeled_ids : array-like of int or boolean mask, optional
        Pool ids labeled before the batch (the Pool's labeled ids when ``X_pool`` is one).
    utilities : array-like of shape (n_samples,), optional
        Utility of every pool item; when given the pool dots are coloured by it
        (grey otherwise).
    projection : "pca", "features", array-like of shape (n_samples, 2), or transformer
        See :func:`project_2d`.  Give the same coordinates to compare several batches.
    ax : matplotlib Axes, optional
    max_points : int or None, default=20000
        Draw at most this many pool items (a seeded sample; the batch and labeled items are
        always drawn).
    annotate : bool, default=True
        Number the batch items by rank.
    title : str, optional
    random_state : int, RandomState or None
        Seed of the sample, the projection and the spread's pair sample.

    Returns
    -------
    matplotlib.figure.Figure
        Its first axes holds the scatter layers labeled ``"pool"``, ``"labeled"`` and
        ``"batch"`` (offsets in batch order).
    """
    X, pool = _pool_matrix(X_pool)
    n = X.shape[0]
    if labeled_ids is None and pool is not None:
        labeled_ids = pool.labeled_ids
    labeled = _check_ids(labeled_ids, n, "labeled_ids")
    batch = _check_ids(query_ids, n, "query_ids")
    if batch.size == 0:
        raise ValueError("query_ids is empty; pass the ids of the batch to draw.")
    max_points = _check_max_points(max_points)
    rng = check_random_state(random_state)
    util = None
    if utilities is not None:
        util = np.asarray(utilities, dtype=np.float64).ravel()
        if util.shape != (n,):
            raise ValueError(
                f"utilities has shape {util.shape}; give one utility per pool row ({n},)."
            )
    drawn = _sample_positions(n, np.union1d(batch, labeled), max_points, rng)
    coords = project_2d(X, projection, random_state=rng)
    spread = batch_spread(X, batch, random_state=rng) if batch.size >= 2 else float("nan")

    plt = import_pyplot()
    fig, ax = _axes(ax, plt)
    if util is None:
        ax.scatter(coords[drawn, 0], coords[drawn, 1], c="lightgrey", s=10, linewidths=0,
                   label="pool", zorder=1)
    else:
        sc = ax.scatter(coords[drawn, 0], coords[drawn, 1], c=util[drawn], cmap="viridis",
                        s=10, linewidths=0, alpha=0.6, label="pool", zorder=1)
        fig.colorbar(sc, ax=ax, label="utility")
    ax.scatter(coords[labeled, 0], coords[labeled, 1], marker="x", c="black", s=30,
               linewidths=1.2, label="labeled", zorder=2)
    ax.scatter(coords[batch, 0], coords[batch, 1], c="red", edgecolors="black", s=60,
               linewidths=0.8, label="batch", zorder=3)
    if annotate:
        for rank, (x, y) in enumerate(coords[batch], start=1):  # one label per batch item
            ax.annotate(str(rank), (x, y), xytext=(4, 4), textcoords="offset points",
                        fontsize=7, color="darkred")
    _label_axes(ax, projection)
    verdict = ""
    if np.isfinite(spread):
        verdict = " (clumped)" if spread < 0.5 else ""
    ax.set_title(
        title or f"batch of {batch.size}: spread {spread:.2f} of the pool's{verdict}"
    )
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    return fig
