"""Imports every built-in strategy family so that their names are registered.

Add a new family module here.
"""

from . import (  # noqa: F401
    badge,
    bandit,
    bayesian,
    class_balanced,
    cluster_margin,
    committee,
    cost,
    density,
    diversity,
    expected_error,
    greedy,
    model_change,
    multilabel,
    random_sampling,
    regression_uncertainty,
    sampled,
    selector,
    uncertainty,
)
