"""The lecture's cost-effectiveness analysis: labels, hours and money to reach a target.

The lecture prices labeling at 30 seconds per label and $20 per hour ("10,000 labels x
30 seconds = 83 hours; at $20/hour = $1,660" -- the exact product is $1,666.67).  Its
``cost_analysis`` sketch finds the labels to a target with
``np.argmax(results >= target) * 10``, which

* returns 0 labels when the curve *never* reaches the target (``argmax`` of all-False),
  claiming the target was free;
* forgets the initial labeled set (the first evaluation is at 20 labels, not 0);
* compares one active run with one random run, so the "savings" may be luck.

Here ``activelab.simulate`` runs margin sampling and random sampling over several seeds
(paired: seed k of both share the split and the initial labels); ``labels_to_target``
gives NaN where a seed never reaches the target, and ``activelab.evaluation.cost_analysis``
and ``compare_to_random`` turn the per-seed label counts into hours, money and savings
with 95 % intervals.

Run ``python examples/cost_analysis.py`` (``--small`` for fewer seeds).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from threadpoolctl import threadpool_limits

import activelab as al
from activelab.evaluation import compare_to_random, cost_analysis, labels_to_target

SECONDS_PER_LABEL = 30.0
COST_PER_LABEL = 20.0 * SECONDS_PER_LABEL / 3600.0  # $20 per hour
TARGET = 0.90


def lecture_labels_needed(results: np.ndarray, target: float) -> int:
    """The lecture's formula, as written."""
    return int(np.argmax(results >= target) * 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="fewer seeds (a quick check)")
    args = parser.parse_args()
    small = args.small or os.environ.get("ACTIVELAB_EXAMPLES_SMALL") == "1"
    n_seeds = 3 if small else 10

    lecture = cost_analysis([10_000], cost_per_label=COST_PER_LABEL,
                            seconds_per_label=SECONDS_PER_LABEL)
    print(f"labeling everything: 10000 labels = {lecture.hours.mean:.1f} hours = "
          f"${lecture.money.mean:,.2f}")

    sim = al.simulate(
        "digits", strategies=["margin"], seeds=n_seeds, model="logreg", initial=20,
        batch_size=10, budget=200, target=TARGET, cost_per_label=COST_PER_LABEL,
        seconds_per_label=SECONDS_PER_LABEL,
    )
    curves = sim.curves("accuracy")
    to_target = {
        name: np.array([labels_to_target(n, v, TARGET) for n, v in cs])
        for name, cs in curves.items()
    }
    print(f"\ndigits, logistic regression, {n_seeds} seed{'s' * (n_seeds != 1)}, "
          f"target accuracy {TARGET}:")
    for name, labels in to_target.items():
        c = cost_analysis(labels, cost_per_label=COST_PER_LABEL,
                          seconds_per_label=SECONDS_PER_LABEL)
        print(f"{name:>7}: {c.labels.mean:.0f} labels [{c.labels.low:.0f}, {c.labels.high:.0f}]"
              f" = {c.hours.mean:.2f} hours = ${c.money.mean:.2f} "
              f"(reached in {c.n_reached}/{c.n_seeds} seeds)")
    saved = compare_to_random(to_target["margin"], to_target["random"],
                              cost_per_label=COST_PER_LABEL,
                              seconds_per_label=SECONDS_PER_LABEL)
    print(f"margin saves {saved.labels.mean:.0f} labels [{saved.labels.low:.0f}, "
          f"{saved.labels.high:.0f}] = {saved.percent.mean:.0f}% "
          f"[{saved.percent.low:.0f}%, {saved.percent.high:.0f}%] = ${saved.money.mean:.2f} "
          f"saved, paired over {saved.n_pairs} seeds")

    # The lecture's formula on the first seed, and on a target the run never reaches.
    n, values = curves["margin"][0]
    print(f"\nseed {sim.seeds[0]}, margin: labels to {TARGET}: lecture's formula "
          f"{lecture_labels_needed(values, TARGET)}, labels_to_target "
          f"{labels_to_target(n, values, TARGET):.0f}")
    print(f"target 0.999 (never reached): lecture's formula "
          f"{lecture_labels_needed(values, 0.999)}, labels_to_target "
          f"{labels_to_target(n, values, 0.999)}")


if __name__ == "__main__":
    with threadpool_limits(1):  # many small fits: one BLAS thread is fastest
        main()
