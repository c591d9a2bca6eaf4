"""Learning-curve plots: each strategy's mean over seeds with its 95 % band, against random.

matplotlib is imported inside the functions (it is an optional extra) and the
non-interactive ``Agg`` backend is used when a file is written, so plots work on
machines without a display.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._plotting import import_pyplot
from .curves import learning_curve_stats

__all__ = ["plot_learning_curves"]


def plot_learning_curves(
    curves: Mapping[str, Sequence[tuple[Any, Any]]],
    *,
    baseline: str | None = "random",
    metric: str = "accuracy",
    target: float | None = None,
    title: str | None = None,
    path: str | os.PathLike[str] | None = None,
    ax: Any = None,
    dpi: int = 120,
    clip: tuple[float, float] | None = (0.0, 1.0),
) -> Any:
    """Plot mean learning curves with 95 % bands, the baseline drawn dashed in black.

    Parameters
    ----------
    curves : mapping of str to sequence of (n_labeled, values)
        For each strategy, one curve per seed (see :func:`learning_curve_stats`).
    baseline : str or None, default="random"
        Strategy drawn as the reference (dashed, black).
    metric : str, default="accuracy"
        Label of the y axis.
    target : float, optional
        Draws a horizontal line at the target value.
    title : str, optional
    path : path-like, optional
        Where to save the figure (PNG by extension); the figure is closed after saving.
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    dpi : int, default=120
    clip : (float, float) or None, default=(0, 1)
        Bands are cut to this range (the metric's possible values); None draws them whole.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not curves:
        raise ValueError("curves is empty; pass {strategy: [(n_labeled, values), ...]}.")
    plt = import_pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.0, 4.5))
    else:
        fig = ax.figure
    colors = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    names = [n for n in curves if n != baseline] + ([baseline] if baseline in curves else [])
    for i, name in enumerate(names):
        runs = curves[name]
        if len(runs) == 0:
            continue
        st = learning_curve_stats(runs)
        is_base = name == baseline
        color = "black" if is_base else colors[i % len(colors)]
        label = f"{name} (baseline)" if is_base else name
        ax.plot(
            st["n_labeled"], st["mean"], color=color, linestyle="--" if is_base else "-",
            linewidth=1.8, label=f"{label}, {len(runs)} seed{'s' if len(runs) != 1 else ''}",
            drawstyle="steps-post",
        )
        band = ~np.isnan(st["low"])
        if band.any():
            low = np.where(band, st["low"], st["mean"])
            high = np.where(band, st["high"], st["mean"])
            if clip is not None:
                low, high = np.clip(low, *clip), np.clip(high, *clip)
            ax.fill_between(
                st["n_labeled"], low, high, color=color, alpha=0.15, linewidth=0, step="post"
            )
    if target is not None:
        ax.axhline(float(target), color="grey", linewidth=0.8, linestyle=":",
                   label=f"target {float(target):.3g}")
    ax.set_xlabel("labels")
    ax.set_ylabel(f"test {metric.replace('_', ' ')}")
    ax.set_title(title or "Learning curves (mean and 95% interval over seeds)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    if path is not None:
        fig.savefig(os.fspath(path), dpi=dpi)
        plt.close(fig)
    return fig
