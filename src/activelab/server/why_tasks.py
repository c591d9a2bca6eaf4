"""Why a multi-label or regression project asked for an item, in words true for its strategy.

:func:`activelab.server.views.why_text` speaks of class probabilities; a multi-label
strategy's utility speaks of per-label probabilities and a regression strategy's of
distances and spreads.  Each text says what the queue row's utility measures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["task_why_text", "TEXTS"]


def _fmt(x: Any, digits: int = 3) -> str:
    return "–" if x is None else f"{float(x):.{digits}f}"


#: What the utility of each strategy says, given the utility ``u``.
TEXTS: dict[str, Callable[[float], str]] = {
    "coreset": lambda u: (f"it lies far from every labeled item (distance {_fmt(u)} to the "
                          "nearest; farther = ranked first)"),
    "kmeans": lambda u: "it stands for a cluster of the unlabeled items",
    "multilabel_margin": lambda u: (f"the model is unsure which labels apply (per-label "
                                    f"uncertainty 1 - |2p - 1| is {_fmt(u)} on average; 1 = "
                                    "a coin flip on every label)"),
    "binary_minimum": lambda u: (f"one label is close to a coin flip for the model (its "
                                 f"least sure label has 1 - |2p - 1| = {_fmt(u)})"),
    "cardinality_inconsistency": lambda u: (f"the model gives it a number of labels unlike "
                                            f"the labeled items' (off by {_fmt(u, 2)} from "
                                            "their mean count)"),
    "cvirs": lambda u: (f"it is uncertain across labels and its predicted set is unlike the "
                        f"labeled sets (CVIRS score {_fmt(u)}; higher = ranked first)"),
    "greedy_x": lambda u: (f"it lies far from every labeled item (distance {_fmt(u)} to the "
                           "nearest; farther = ranked first)"),
    "greedy_io": lambda u: (f"no labeled item is near it in both the features and the "
                            f"number: the smallest distance times difference between the "
                            f"model's prediction and a label is {_fmt(u)} (larger = ranked "
                            "first)"),
    "qbc_variance": lambda u: (f"the committee's predictions for it disagree (variance "
                               f"{_fmt(u)}; larger = ranked first)"),
    "max_std": lambda u: (f"the model is unsure of the number (predictive standard "
                          f"deviation {_fmt(u)}; larger = ranked first)"),
    "emcm": lambda u: (f"labeling it would change the linear model most (expected change "
                       f"{_fmt(u)}; larger = ranked first)"),
}


def task_why_text(why: dict[str, Any], task: str) -> str:
    """Why an item was asked for, for a multi-label or regression project.

    Parameters
    ----------
    why : dict
        ``strategy``, ``utility``, ``rank`` and ``model_version`` of the item's queue row.
    task : {"multilabel", "regression"}
    """
    strategy = str(why.get("strategy") or "")
    u, rank, mv = why.get("utility"), why.get("rank"), why.get("model_version") or 0
    if strategy.startswith("cold_start:"):
        return (f"no model yet, so {strategy.split(':', 1)[1]} cold start picked it to cover "
                f"the data (pick {rank})")
    if strategy == "random" or u is None:
        needs = "two different label sets" if task == "multilabel" else "two different numbers"
        return f"picked at random: the model cannot rank items yet (it needs {needs} first)"
    where = f"rank {rank} of the items model v{mv} chose"
    text = TEXTS.get(strategy)
    if text is None:
        return f"{strategy} ranked it (score {_fmt(u)}; a higher score ranks first): {where}"
    return f"{text(float(u))}: {where}"
