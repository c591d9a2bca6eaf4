"""Multi-label strategies against random on yeast (14 labels), 10 seeds, paired by seed.

Every seed draws one split (70 % pool, 30 % test) and one initial set, shared by all
strategies; each run then queries ``--batch`` items a round until ``--budget`` labels,
refitting a one-vs-rest logistic regression (the model table's ``logreg``) each round.
Recorded per round: micro-F1 (the primary metric: curves and AULC), Hamming loss (lower
is better), macro-F1 and subset accuracy on the test set.  The verdict per strategy is
the paired Wilcoxon test of its per-seed AULC against random's, with the 95 % t-interval
of the mean difference (:func:`activelab.lab.stats.paired_test`).

    PYTHONPATH=src python benchmarks/bench_multilabel.py --out runs/multilabel

writes ``curves.csv`` (one row per run and round), ``summary.md`` (the table of
docs/benchmarks/multilabel.md) and ``curves.png``.
"""

from __future__ import annotations

import argparse
import csv
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, hamming_loss
from sklearn.multiclass import OneVsRestClassifier

import activelab as al
from activelab.engine.models import make_model
from activelab.evaluation import aulc
from activelab.lab.stats import paired_test

STRATEGIES = ["random", "multilabel_margin", "binary_minimum", "cardinality_inconsistency",
              "cvirs", "multilabel_badge", "multilabel_hybrid", "coreset", "kmeans"]


def _split(n: int, seed: int, initial: int, Y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Test rows, the pool, and an initial draw in which every label is seen once if it can."""
    rng = np.random.RandomState(seed)
    order = rng.permutation(n)
    n_test = int(round(0.3 * n))
    test, pool = order[:n_test], order[n_test:]
    start = list(pool[:initial])
    missing = np.flatnonzero(Y[start].max(axis=0) == 0)
    for k, j in enumerate(missing):  # labels, not rows: swap in the first pool row having j
        having = pool[initial:][Y[pool[initial:], j] == 1]
        if having.size:
            start[-(k + 1)] = having[0]
    return test, pool, np.unique(np.asarray(start))


def _scores(model: Any, X: np.ndarray, Y: np.ndarray) -> dict[str, float]:
    pred = model.predict(X)
    return {
        "f1_micro": float(f1_score(Y, pred, average="micro", zero_division=0)),
        "f1_macro": float(f1_score(Y, pred, average="macro", zero_division=0)),
        "hamming_loss": float(hamming_loss(Y, pred)),
        "subset_accuracy": float(accuracy_score(Y, pred)),
    }


def run_one(X: np.ndarray, Y: np.ndarray, strategy: str, seed: int, args: Any) -> list[dict]:
    """One run: the curve rows of ``strategy`` on seed ``seed``."""
    test, pool, start = _split(len(X), seed, args.initial, Y)
    estimator = OneVsRestClassifier(make_model("logreg", random_state=seed))
    labeled = start.copy()
    learner = al.ActiveLearner(estimator, query_strategy=strategy, X_training=X[labeled],
                               y_training=Y[labeled], random_state=seed)
    rows = []
    while True:
        rows.append({"strategy": strategy, "seed": seed, "n_labeled": labeled.size,
                     **_scores(learner, X[test], Y[test])})
        if labeled.size >= args.budget:
            return rows
        rest = np.setdiff1d(pool, labeled)
        k = min(args.batch, args.budget - labeled.size)
        idx, _ = learner.query(X[rest], n_instances=k)
        learner.teach(X[rest[idx]], Y[rest[idx]])
        labeled = np.concatenate([labeled, rest[idx]])


def _aulc_by_seed(rows: list[dict], strategy: str, seeds: list[int], key: str) -> np.ndarray:
    out = []
    for seed in seeds:
        mine = [r for r in rows if r["strategy"] == strategy and r["seed"] == seed]
        out.append(aulc([r["n_labeled"] for r in mine], [r[key] for r in mine]))
    return np.asarray(out)


def summarize(rows: list[dict], seeds: list[int]) -> list[dict[str, Any]]:
    """Per strategy: mean AULC of micro-F1 and of Hamming loss, and the paired tests."""
    base = _aulc_by_seed(rows, "random", seeds, "f1_micro")
    base_h = _aulc_by_seed(rows, "random", seeds, "hamming_loss")
    table = []
    for name in STRATEGIES:
        f1 = _aulc_by_seed(rows, name, seeds, "f1_micro")
        ham = _aulc_by_seed(rows, name, seeds, "hamming_loss")
        final = [r for r in rows if r["strategy"] == name and r["n_labeled"] == max(
            q["n_labeled"] for q in rows)]
        table.append({"strategy": name, "aulc_f1": f1.mean(), "aulc_hamming": ham.mean(),
                      "final_f1": np.mean([r["f1_micro"] for r in final]),
                      "final_hamming": np.mean([r["hamming_loss"] for r in final]),
                      "vs_random": None if name == "random" else paired_test(f1, base),
                      "hamming_vs_random": None if name == "random" else paired_test(ham, base_h)})
    return table


def _verdict(test: Any, lower_is_better: bool = False) -> str:
    if test is None:
        return "baseline"
    if not test.significant():
        return "no difference"
    better = test.mean_diff < 0 if lower_is_better else test.mean_diff > 0
    return "**beats random**" if better else "worse than random"


def markdown(table: list[dict], meta: dict[str, str]) -> str:
    lines = [
        f"Command: `{meta['command']}`  ",
        f"Commit: `{meta['commit']}`; machine: {meta['machine']}; wall time {meta['wall']}.",
        "",
        "| strategy | AULC micro-F1 | Δ vs random [95 % CI] | p | verdict | AULC Hamming loss "
        "(lower is better) | Δ vs random [95 % CI] | verdict | final micro-F1 | final Hamming |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in table:
        t, h = row["vs_random"], row["hamming_vs_random"]
        ci = "—" if t is None else f"{t.mean_diff:+.4f} [{t.low:+.4f}, {t.high:+.4f}]"
        p = "—" if t is None else f"{t.p_value:.3f}"
        hci = "—" if h is None else f"{h.mean_diff:+.4f} [{h.low:+.4f}, {h.high:+.4f}]"
        lines.append(
            f"| `{row['strategy']}` | {row['aulc_f1']:.4f} | {ci} | {p} | {_verdict(t)} | "
            f"{row['aulc_hamming']:.4f} | {hci} | {_verdict(h, lower_is_better=True)} | "
            f"{row['final_f1']:.4f} | {row['final_hamming']:.4f} |"
        )
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for name in STRATEGIES:
        mine = [r for r in rows if r["strategy"] == name]
        grid = sorted({r["n_labeled"] for r in mine})
        for ax, key in zip(axes, ("f1_micro", "hamming_loss"), strict=True):
            means = [np.mean([r[key] for r in mine if r["n_labeled"] == g]) for g in grid]
            ax.plot(grid, means, label=name, lw=2.5 if name == "random" else 1.2,
                    color="black" if name == "random" else None)
    axes[0].set(xlabel="labels", ylabel="test micro-F1 (mean of seeds)", title="yeast: micro-F1")
    axes[1].set(xlabel="labels", ylabel="test Hamming loss", title="yeast: Hamming loss (lower is better)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--initial", type=int, default=50)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--budget", type=int, default=450)
    parser.add_argument("--out", default="runs/multilabel")
    args = parser.parse_args()
    data = al.load_dataset("yeast")
    X, Y = data.X, data.y
    seeds = list(range(args.seeds))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started, rows = time.time(), []
    for seed in seeds:
        for name in STRATEGIES:
            rows.extend(run_one(X, Y, name, seed, args))
        print(f"seed {seed} done ({time.time() - started:.0f} s)", flush=True)
    with open(out / "curves.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    meta = {"command": "PYTHONPATH=src python benchmarks/bench_multilabel.py "
                       f"--seeds {args.seeds} --initial {args.initial} --batch {args.batch} "
                       f"--budget {args.budget}",
            "commit": commit, "wall": f"{time.time() - started:.0f} s",
            "machine": f"{platform.machine()}, {platform.python_version()}, "
                       f"{__import__('os').cpu_count()} CPUs (shared)"}
    (out / "summary.md").write_text(markdown(summarize(rows, seeds), meta))
    plot(rows, out / "curves.png")
    print((out / "summary.md").read_text())


if __name__ == "__main__":
    main()
