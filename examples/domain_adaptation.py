"""Domain adaptation with active learning: a model trained on one domain, labels from another.

The lecture's scenario: a model trained on domain A is deployed on domain B, and a
distribution shift makes it poor; active learning picks the domain-B items worth labeling.
Its sketch queries the target pool but never adds the new labels to the model, and never
says what to do with the source data.

Here domain A is half of scikit-learn's digits, and domain B is the other half, rotated
by 10 degrees, with less contrast and a brighter background (lower contrast, higher background): the same classes, shifted
inputs.  The source labels stay in the training set as the initial labeled set (a
:class:`activelab.Pool` that already holds labels), so every query is a target item.
Compared, with the same number of target labels:

* ``source + margin``: the source model, refitted with target labels chosen by margin;
* ``source + random``: the same, target labels chosen at random;
* ``target only``: no source data, 20 random target labels to start, then margin.

Run ``python examples/domain_adaptation.py`` (``--small`` for a smaller budget).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from scipy import ndimage
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import activelab as al


def shift_domain(images: np.ndarray, angle: float = 10.0) -> np.ndarray:
    """Rotate every 8x8 image by ``angle`` degrees and lower its contrast (one call)."""
    rotated = ndimage.rotate(images, angle, axes=(1, 2), reshape=False, order=1, mode="constant")
    return 0.6 * np.clip(rotated, 0, 16) + 4.0  # rotated, dimmed, brighter background


def model() -> object:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def at(result: al.RunResult, n_target: int, offset: int) -> float:
    """Test accuracy after ``n_target`` target labels (the last fit at or before it)."""
    n, acc = result.curve("accuracy")
    return float(acc[np.searchsorted(n - offset, n_target, side="right") - 1])


def one_seed(
    seed: int, n_target_labels: int
) -> tuple[dict[str, tuple[al.RunResult, int]], dict[str, float]]:
    """The three runs on one split of the target domain."""
    digits = load_digits()
    idx_source, idx_target = train_test_split(
        np.arange(len(digits.target)), test_size=0.5, stratify=digits.target, random_state=0
    )
    X_source = digits.images[idx_source].reshape(len(idx_source), -1)
    y_source = digits.target[idx_source]
    X_target = shift_domain(digits.images[idx_target]).reshape(len(idx_target), -1)
    y_target = digits.target[idx_target]
    X_tpool, X_ttest, y_tpool, y_ttest = train_test_split(
        X_target, y_target, test_size=0.4, stratify=y_target, random_state=seed
    )
    source_model = model().fit(X_source, y_source)
    facts = {
        "source on source": source_model.score(X_source, y_source),
        "source on target": source_model.score(X_ttest, y_ttest),
        "full target pool": model().fit(X_tpool, y_tpool).score(X_ttest, y_ttest),
    }
    # pool = labeled source items + unlabeled target items: queries can only be target items
    X_all = np.vstack([X_source, X_tpool])
    y_all = np.concatenate([y_source, y_tpool])
    n_source = len(y_source)
    runs = {}
    for strategy in ("margin", "random"):
        pool = al.Pool(X_all, labeled_ids=np.arange(n_source), labels=y_source)
        runs[f"source + {strategy}"] = (al.run(
            model(), pool, y_all, strategy=strategy, X_test=X_ttest, y_test=y_ttest,
            batch_size=10, budget=n_source + n_target_labels, random_state=seed,
            metrics=("accuracy",),
        ), n_source)
    runs["target only"] = (al.run(
        model(), X_tpool, y_tpool, strategy="margin", X_test=X_ttest, y_test=y_ttest,
        initial=20, batch_size=10, budget=n_target_labels, random_state=seed,
        metrics=("accuracy",),
    ), 0)
    return runs, facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="smaller budget (a quick check)")
    args = parser.parse_args()
    small = args.small or os.environ.get("ACTIVELAB_EXAMPLES_SMALL") == "1"
    n_target_labels = 60 if small else 150
    n_seeds = 1 if small else 3
    checkpoints = [c for c in (0, 20, 50, 100, 150) if c <= n_target_labels]

    table: dict[str, list[list[float]]] = {}
    facts: dict[str, list[float]] = {}
    for seed in range(n_seeds):
        runs, seed_facts = one_seed(seed, n_target_labels)
        for key, value in seed_facts.items():
            facts.setdefault(key, []).append(value)
        for name, (result, offset) in runs.items():
            if offset:  # every query was a target item (ids past the source block)
                assert np.all(result.labeled_ids[offset:] >= offset)
                assert result.n_labeled == offset + n_target_labels
            table.setdefault(name, []).append([
                at(result, c, offset) if (offset or c >= 20) else np.nan for c in checkpoints
            ])
    print(f"source model: accuracy {np.mean(facts['source on source']):.3f} on source, "
          f"{np.mean(facts['source on target']):.3f} on the shifted target")
    print(f"model on every target pool label: accuracy {np.mean(facts['full target pool']):.3f}")
    print("\ntarget test accuracy after n target labels "
          f"(mean over {n_seeds} seed{'s' * (n_seeds != 1)})")
    print(f"{'':>16}" + "".join(f"{c:>7}" for c in checkpoints))
    for name, rows in table.items():
        means = np.mean(rows, axis=0)
        print(f"{name:>16}" + "".join(
            "      -" if np.isnan(m) else f"{m:>7.3f}" for m in means
        ))
    print(f"target labels asked per run: {n_target_labels}, all from the target pool")


if __name__ == "__main__":
    with threadpool_limits(1):  # many small fits: one BLAS thread is fastest
        main()
