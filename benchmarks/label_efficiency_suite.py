"""Label-efficiency suite: the default (``auto``) against margin, entropy, hybrid and random.

One command runs a part of the suite and prints, per dataset x model cell and overall, the
mean AULC difference against random with 95 % intervals (paired over seeds), the cells
above and below random, the median labels saved to reach 95 % of the full-pool accuracy,
and how the live verdict of ``auto`` tracked the test-set truth::

    python benchmarks/label_efficiency_suite.py --quick                  # smoke run, ~2 min
    python benchmarks/label_efficiency_suite.py --part tuning --workers 2
    python benchmarks/label_efficiency_suite.py --part heldout --workers 2 --markdown \
        docs/benchmarks/label-efficiency.md

Protocol (every run goes through :func:`activelab.lab.runner.run_benchmark`): per seed a
stratified 75 / 25 pool / test split and 20 random initial labels
(:func:`activelab.lab.splits.paired_split`, shared by every strategy of the seed, so the
comparisons are paired), batches of 10, the model built by
:func:`activelab.engine.models.make_model` (``logreg``, ``rf``), one random baseline per cell,
budget 300 labels for pools under 1,000 items and 400 above.  Pools are capped at 2,000 rows
(a stratified subset drawn once with seed 0); pixel sets are reduced to 50 PCA components
(fitted on the rows without their labels).

The partition into a tuning part and a held-out part is fixed here, before any tuning:

* **held-out**: the Zhan et al. binary sets with at least 690 rows, sorted by name, every
  third from the second (banana, ex8a, german, phoneme, splice), the multi-class Zhan set
  vehicle, Fashion-MNIST as 50 PCA components, and a synthetic 20-class set (two clusters
  per class) drawn with generator seed 2024, a seed used nowhere else.
* **tuning**: australian, checkerboard, phishing, spambase, twonorm, d31 (31 classes),
  MNIST-10k as 50 PCA components, and a synthetic 20-class set drawn with seed 7.

The remaining Zhan sets are in neither part.  Selectors are developed on ``tuning`` only.

Results go to ``--out`` (default ``runs/label-efficiency``), one benchmark folder per part;
a run that has its result file is not run again, so an interrupted suite resumes, and
``--redo auto`` removes one strategy's results first (after changing it).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
STRATEGIES = ("auto", "margin", "entropy", "hybrid", "random")
MODELS = ("logreg", "rf")
MAX_ROWS = 2000
TARGET = 0.95


@dataclass(frozen=True)
class CellData:
    """One dataset of the suite: where it comes from, how it is reduced, its models."""

    name: str
    source: str  # a load_dataset name, or "synthetic-manyclass:<seed>"
    pca: int | None = None
    models: tuple[str, ...] = ("logreg",)


LR_RF = ("logreg", "rf")
HELDOUT = (
    CellData("banana", "zhan:banana"),
    CellData("ex8a", "zhan:ex8a"),
    CellData("german", "zhan:german", models=LR_RF),
    CellData("phoneme", "zhan:phoneme"),
    CellData("splice", "zhan:splice"),
    CellData("vehicle", "zhan:vehicle", models=LR_RF),
    CellData("fashion-pca50", "fashion-mnist", pca=50),
    CellData("synth20-s2024", "synthetic-manyclass:2024"),
)
TUNING = (
    CellData("australian", "zhan:australian", models=LR_RF),
    CellData("checkerboard", "zhan:checkerboard"),
    CellData("phishing", "zhan:phishing"),
    CellData("spambase", "zhan:spambase"),
    CellData("twonorm", "zhan:twonorm"),
    CellData("d31", "zhan:d31"),
    CellData("mnist-pca50", "mnist-10k", pca=50),
    CellData("synth20-s7", "synthetic-manyclass:7"),
    CellData("tictactoe", "zhan:tictactoe", models=("rf",)),
)
QUICK = (CellData("australian", "zhan:australian"),
         CellData("synth20-s7", "synthetic-manyclass:7"))
PARTS = {"tuning": TUNING, "heldout": HELDOUT, "quick": QUICK}


# ------------------------------------------------------------------ data
def _many_class(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_classification

    return make_classification(
        n_samples=MAX_ROWS, n_features=30, n_informative=15, n_redundant=5, n_classes=20,
        n_clusters_per_class=2, class_sep=1.5, random_state=seed,
    )


def _raw(cell: CellData, data_dir: str | None) -> tuple[np.ndarray, np.ndarray]:
    if cell.source.startswith("synthetic-manyclass:"):
        return _many_class(int(cell.source.split(":")[1]))
    from activelab.datasets import load_dataset

    ds = load_dataset(cell.source, data_dir=data_dir)
    X = ds.X.toarray() if hasattr(ds.X, "toarray") else np.asarray(ds.X)
    return X.astype(np.float64), np.asarray(ds.y)


def prepare(cell: CellData, data_dir: str | None, folder: Path) -> Path:
    """Write the cell's rows (capped, PCA-reduced) as a Parquet file; returns its path."""
    import pandas as pd
    from sklearn.decomposition import PCA
    from sklearn.model_selection import train_test_split

    path = folder / f"{cell.name}.parquet"
    if path.exists():
        return path
    X, y = _raw(cell, data_dir)
    if X.shape[0] > MAX_ROWS:
        X, _, y, _ = train_test_split(X, y, train_size=MAX_ROWS, stratify=y, random_state=0)
    if cell.pca:
        X = PCA(n_components=cell.pca, random_state=0).fit_transform(X)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame["label"] = y
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def budget_for(n_rows: int) -> int:
    """300 labels for pools under 1,000 items (75 % of the rows), 400 above."""
    return 300 if 0.75 * n_rows < 1000 else 400


# ------------------------------------------------------------------ running
def run_part(cells: tuple[CellData, ...], args: argparse.Namespace, out: Path) -> list[dict]:
    """Run every cell of a part (resumably); returns the run results."""
    import pandas as pd

    from activelab.lab.config import BenchmarkConfig
    from activelab.lab.runner import load_results, run_benchmark

    groups: dict[tuple[int, tuple[str, ...]], list[str]] = {}
    for cell in cells:
        path = prepare(cell, args.data_dir, out.parent / "data")
        n = len(pd.read_parquet(path, columns=["label"]))
        budget = 100 if args.quick else budget_for(n)
        models = tuple(m for m in cell.models if m in args.models)
        if models:
            groups.setdefault((budget, models), []).append(str(path))
    rows: list[dict] = []
    for (budget, models), datasets in sorted(groups.items()):
        folder = out / f"budget{budget}-{'-'.join(models)}"
        cfg = BenchmarkConfig(
            name=f"label-efficiency-{out.name}", datasets=datasets,
            strategies=list(args.strategies), models=list(models), seeds=args.seeds,
            budget=budget, batch_size=10, initial=20, test_size=0.25, metrics=["accuracy"],
            target=TARGET, format="csv", label_column="label",
        )
        for strategy in args.redo:
            for p in (folder / "results").glob(f"*__{strategy}__*.json"):
                p.unlink()
        run_benchmark(cfg, folder, n_jobs=args.workers, progress=args.progress)
        for r in load_results(folder):
            r["cell"] = Path(r["dataset"]).stem
            r["events"] = str(folder / "runs" / r["run_id"] / "events.jsonl")
            rows.append(r)
    return rows


# ------------------------------------------------------------------ statistics
def live_verdict_of(events: str) -> dict[str, Any] | None:
    """The last live verdict an ``auto`` run logged (in its round events' info)."""
    from activelab.lab.live import logged_verdict

    return logged_verdict(events)


def cell_table(rows: list[dict], strategies: list[str]) -> list[dict[str, Any]]:
    """One entry per (cell, model, strategy): paired test against random and savings."""
    from activelab.lab.stats import summarize

    out = []
    by_cell: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        by_cell.setdefault((r["cell"], r["model"]), []).append(r)
    for (cell, model), runs in sorted(by_cell.items()):
        (setting,) = summarize(runs, target=TARGET)
        for s in strategies:
            st = setting.strategies.get(s)
            if s == "random" or st is None or st.test is None:
                continue
            saved = st.savings.percent.mean if st.savings and st.savings.n_pairs else math.nan
            out.append({"cell": cell, "model": model, "strategy": s, "test": st.test,
                        "savings": float(saved)})
    return out


def per_seed_deltas(rows: list[dict], strategy: str, versus: str = "random") -> np.ndarray:
    """Per seed, the mean over cells of AULC(strategy) - AULC(versus)."""
    table: dict[int, list[float]] = {}
    index = {(r["cell"], r["model"], r["strategy"], r["seed"]): r["aulc"] for r in rows}
    for (cell, model, s, seed), value in index.items():
        if s != strategy or (cell, model, versus, seed) not in index:
            continue
        table.setdefault(seed, []).append(value - index[(cell, model, versus, seed)])
    return np.asarray([np.mean(v) for _, v in sorted(table.items())])


def overall(rows: list[dict], cells: list[dict], strategy: str) -> dict[str, Any]:
    """Overall numbers of one strategy: mean delta with interval, cells above/below, savings."""
    from activelab.evaluation import mean_and_interval

    mine = [c for c in cells if c["strategy"] == strategy]
    mean, low, high, _ = mean_and_interval(per_seed_deltas(rows, strategy))
    savings = np.asarray([c["savings"] for c in mine], dtype=float)
    return {
        "strategy": strategy, "mean": float(mean), "low": float(low), "high": float(high),
        "above": sum(c["test"].low > 0 for c in mine),
        "below": sum(c["test"].high < 0 for c in mine),
        "median_savings": float(np.nanmedian(savings)) if np.isfinite(savings).any() else math.nan,
        "n_cells": len(mine),
    }


def by_model_lines(rows: list[dict], cells: list[dict]) -> list[str]:
    """auto - margin over all cells, then per model: the difference and auto's cells below."""
    from activelab.evaluation import mean_and_interval

    m, lo, hi, _ = mean_and_interval(per_seed_deltas(rows, "auto", "margin"))
    lines = [f"auto - margin, mean ΔAULC over cells: {_ci(float(m), float(lo), float(hi))}"]
    models = sorted({r["model"] for r in rows})
    if len(models) < 2:
        return lines
    for model in models:
        mine = [r for r in rows if r["model"] == model]
        m, lo, hi, _ = mean_and_interval(per_seed_deltas(mine, "auto", "margin"))
        below = sum(c["test"].high < 0 for c in cells
                    if c["model"] == model and c["strategy"] == "auto")
        n = len({r["cell"] for r in mine})
        lines.append(f"- {model} ({n} cells): auto - margin {_ci(float(m), float(lo), float(hi))}"
                     f"; auto's cells below random: {below}")
    return lines


def verdict_tracking(rows: list[dict]) -> dict[str, Any]:
    """How the live verdict of ``auto`` tracked the test-set AULC difference, run by run."""
    index = {(r["cell"], r["model"], r["strategy"], r["seed"]): r for r in rows}
    pairs = []
    for (cell, model, s, seed), r in index.items():
        base = index.get((cell, model, "random", seed))
        if s != "auto" or base is None:
            continue
        v = live_verdict_of(r["events"])
        if v and v.get("n") and math.isfinite(v.get("mean", math.nan)):
            pairs.append((v["mean"], v["low"], v["high"], r["aulc"] - base["aulc"]))
    if not pairs:
        return {"n_runs": 0}
    a = np.asarray(pairs, dtype=float)
    decided = (a[:, 1] > 0) | (a[:, 2] < 0)
    right = ((a[:, 1] > 0) & (a[:, 3] > 0)) | ((a[:, 2] < 0) & (a[:, 3] < 0))
    corr = float(np.corrcoef(a[:, 0], a[:, 3])[0, 1]) if len(a) > 2 else math.nan
    return {
        "n_runs": len(a),
        "covers_sign": float(np.mean(((a[:, 1] <= 0) | (a[:, 3] > 0))
                                     & ((a[:, 2] >= 0) | (a[:, 3] < 0)))),
        "decided": int(decided.sum()),
        "decided_right": int(right.sum()),
        "corr": corr,
        "mean_width": float(np.mean(a[:, 2] - a[:, 1])),
    }


# ------------------------------------------------------------------ printing
def _ci(mean: float, low: float, high: float) -> str:
    return f"{mean:+.4f} [{low:+.4f}, {high:+.4f}]"


def render(part: str, rows: list[dict], strategies: list[str], header: list[str]) -> str:
    """The markdown report of one part."""
    cells = cell_table(rows, strategies)
    n_seeds = len({r["seed"] for r in rows})
    lines = [*header, "", f"### Part: {part} ({n_seeds} seeds)", "",
             "| strategy | mean ΔAULC vs random [95 % CI over seeds] | cells above | cells below "
             "| median labels saved to 95 % of full |", "|---|---|---|---|---|"]
    for s in strategies:
        if s == "random":
            continue
        o = overall(rows, cells, s)
        lines.append(f"| {s} | {_ci(o['mean'], o['low'], o['high'])} | {o['above']} / "
                     f"{o['n_cells']} | {o['below']} | {o['median_savings']:.0f} % |")
    if "auto" in strategies and "margin" in strategies:
        lines += ["", *by_model_lines(rows, cells)]
    t = verdict_tracking(rows)
    if t["n_runs"]:
        lines += ["", f"live verdict of auto ({t['n_runs']} runs): its interval agrees with the "
                  f"sign of the test-set ΔAULC (contains 0 or lies on the true side) in "
                  f"{t['covers_sign']:.0%} of runs; it excluded 0 in {t['decided']} runs, "
                  f"{t['decided_right']} of them on the true side; correlation of its estimate "
                  f"with the test-set ΔAULC {t['corr']:.2f}; mean interval width "
                  f"{t['mean_width']:.3f}."]
    lines += ["", "| cell | model | " + " | ".join(f"{s} ΔAULC [CI]" for s in strategies
                                                    if s != "random") + " |",
              "|---|---|" + "---|" * (len(strategies) - 1)]
    keyed = {(c["cell"], c["model"], c["strategy"]): c for c in cells}
    for cell, model in sorted({(c["cell"], c["model"]) for c in cells}):
        parts = []
        for s in strategies:
            c = keyed.get((cell, model, s))
            if s != "random":
                parts.append("" if c is None else _ci(c["test"].mean_diff, c["test"].low,
                                                      c["test"].high))
        lines.append(f"| {cell} | {model} | " + " | ".join(parts) + " |")
    return "\n".join(lines)


def machine() -> str:
    """One line about this machine."""
    try:
        mem = f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        mem = "unknown memory"
    return f"{os.cpu_count()} vCPU, {mem}, Python {platform.python_version()}, BLAS threads 1"


def commit() -> str:
    """The checkout's commit, ``+changes`` when src/ or benchmarks/ differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "benchmarks"],
                               cwd=REPO, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty.strip() else "")


def write_markdown(path: Path, body: str, tag: str) -> None:
    """Put ``body`` between the ``tag`` markers of ``path`` (added when missing)."""
    start, end = f"<!-- {tag}:start -->", f"<!-- {tag}:end -->"
    block = f"{start}\n{body}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Label efficiency\n"
    if start in text and end in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=["tuning", "heldout", "all"], default="tuning")
    p.add_argument("--quick", action="store_true", help="2 cells, logreg, 2 seeds, budget 100")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--strategies", default=",".join(STRATEGIES))
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--cells", default=None, help="comma-separated cell names (a subset)")
    p.add_argument("--redo", default="", help="strategies whose results are removed first")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default=str(REPO / "runs" / "label-efficiency"))
    p.add_argument("--markdown", default=None, help="write the tables into this file")
    p.add_argument("--progress", action="store_true")
    args = p.parse_args(argv)
    args.strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.redo = [s.strip() for s in args.redo.split(",") if s.strip()]
    if args.quick:
        args.seeds, args.models = min(args.seeds, 2), ["logreg"]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    parts = ["quick"] if args.quick else (["tuning", "heldout"] if args.part == "all"
                                          else [args.part])
    command = "python benchmarks/label_efficiency_suite.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    header = [f"Command: `{command.strip()}`", "", f"Commit: {commit()}; machine: {machine()}."]
    for part in parts:
        cells = PARTS[part]
        if args.cells:
            wanted = {c.strip() for c in args.cells.split(",")}
            cells = tuple(c for c in cells if c.name in wanted)
        out = Path(args.out) / part
        if args.quick and out.exists():
            shutil.rmtree(out)
        rows = run_part(cells, args, out)
        body = render(part, rows, args.strategies, header)
        print(body, flush=True)
        if args.markdown:
            write_markdown(Path(args.markdown), body, f"label-efficiency-{part}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
