"""activelab: find the few examples worth labeling.

The public API, re-exported.  Submodules load on first use, so ``import activelab``
needs only numpy, scipy and scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # pool and learners
    "Pool": "activelab.pool",
    "RowView": "activelab.pool",
    "ActiveLearner": "activelab.learners",
    "Committee": "activelab.learners",
    # strategies
    "QueryContext": "activelab.strategies",
    "QueryResult": "activelab.strategies",
    "Strategy": "activelab.strategies",
    "UtilityStrategy": "activelab.strategies",
    "available_strategies": "activelab.strategies",
    "get_strategy": "activelab.strategies",
    "register_strategy": "activelab.strategies",
    "top_k": "activelab.strategies",
    "least_confident_utility": "activelab.strategies",
    "margin_utility": "activelab.strategies",
    "entropy_utility": "activelab.strategies",
    "vote_entropy_utility": "activelab.strategies",
    "consensus_entropy_utility": "activelab.strategies",
    "kl_max_disagreement_utility": "activelab.strategies",
    # cold start
    "cold_start": "activelab.cold_start",
    # oracles
    "Oracle": "activelab.oracles",
    "OracleAnswer": "activelab.oracles",
    "SimulatedOracle": "activelab.oracles",
    "NoisyOracle": "activelab.oracles",
    "TerminalOracle": "activelab.oracles",
    "as_oracle": "activelab.oracles",
    # stopping
    "StoppingCriterion": "activelab.stopping",
    "BudgetExhausted": "activelab.stopping",
    "PerformancePlateau": "activelab.stopping",
    "UncertaintyBelow": "activelab.stopping",
    "TimeLimit": "activelab.stopping",
    "StabilizingPredictions": "activelab.stopping",
    "AnyOf": "activelab.stopping",
    "AllOf": "activelab.stopping",
    # the loop and its events
    "run": "activelab.loop",
    "RunResult": "activelab.engine.records",
    "RoundRecord": "activelab.engine.records",
    "LoopState": "activelab.engine.records",
    "JSONLSink": "activelab.events",
    "ProgressSink": "activelab.events",
    "CallbackSink": "activelab.events",
    "read_events": "activelab.events",
    # evaluation
    "aulc": "activelab.evaluation",
    "labels_to_target": "activelab.evaluation",
    "learning_curve_stats": "activelab.evaluation",
    "cost_analysis": "activelab.evaluation",
    "compare_to_random": "activelab.evaluation",
    "plot_learning_curves": "activelab.evaluation",
    "simulate": "activelab.experiment",
    "SimulationResult": "activelab.experiment",
    # data
    "load_dataset": "activelab.datasets",
    "Dataset": "activelab.datasets",
    # more strategies (batch-aware, diversity, model change, Bayesian, bandit)
    "KMeansSampling": "activelab.strategies.diversity",
    "CoreSet": "activelab.strategies.diversity",
    "Hybrid": "activelab.strategies.diversity",
    "RankedBatch": "activelab.strategies.diversity",
    "InformationDensity": "activelab.strategies.density",
    "ClassBalanced": "activelab.strategies.class_balanced",
    "ExpectedErrorReduction": "activelab.strategies.expected_error",
    "ExpectedGradientLength": "activelab.strategies.model_change",
    "Badge": "activelab.strategies.badge",
    "CostAware": "activelab.strategies.cost",
    "StrategyBandit": "activelab.strategies.bandit",
    "bald_utility": "activelab.strategies.bayesian",
    # extras of the core modules
    "CallableOracle": "activelab.oracles",
    "as_stopping": "activelab.stopping",
    "cohens_kappa": "activelab.stopping",
    "typicality": "activelab.cold_start",
    "replay": "activelab.events",
    "split_runs": "activelab.events",
    "METRICS": "activelab.loop",
    "full_pool_score": "activelab.evaluation",
    "make_model": "activelab.engine.models",
    # visualisation
    "plot_uncertainty": "activelab.visualize",
    "plot_query_batch": "activelab.visualize",
    "batch_spread": "activelab.visualize",
    # features for raw items
    "text_features": "activelab.featurize",
    "image_features": "activelab.featurize",
    # Label Studio interoperability
    "read_labelstudio": "activelab.labelstudio_io",
    "write_labelstudio": "activelab.labelstudio_io",
    "to_labelstudio": "activelab.labelstudio_io",
    "parse_label_config": "activelab.labelstudio_io",
    # the lab: benchmarks and reports
    "BenchmarkConfig": "activelab.lab.config",
    "load_config": "activelab.lab.config",
    "run_benchmark": "activelab.lab.runner",
    "build_report": "activelab.lab.report",
    "paired_test": "activelab.lab.stats",
    # scale and deep learning (optional extras)
    "score_out_of_core": "activelab.scale",
    "score_dask": "activelab.scale",
    "TorchClassifier": "activelab.torch",
    "DeepEnsemble": "activelab.torch",
}

_RENAMED = {"register_strategy": "register"}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'activelab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
