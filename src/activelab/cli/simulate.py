"""``activelab simulate``: strategies against random on a dataset, over several seeds.

Everything is checked and the whole simulation runs before the output folder is created,
so bad input (or an interrupted run) leaves nothing behind; if writing the files fails,
what this command created is removed again.
"""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path
from typing import Any

import typer

from ._errors import UsageError, friendly_errors

OUTPUT_FILES = ("events.jsonl", "curves.csv", "summary.md", "learning_curve.png")


def _int(value: str | None, option: str, minimum: int) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise UsageError(f"{option} must be a whole number, got {value!r}.") from None
    if number < minimum:
        raise UsageError(f"{option} must be at least {minimum}, got {number}.")
    return number


def _float(value: str | None, option: str, lo: float, hi: float, example: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"{option} must be a number (e.g. {example}), got {value!r}.") from None
    if math.isnan(number) or not lo <= number <= hi:
        raise UsageError(f"{option} must be between {lo:g} and {hi:g} (e.g. {example}), got {value}.")
    return number


def _default_out(data: str) -> Path:
    from ..datasets import _looks_like_path, parse_spec

    stem = Path(data).name.split(".")[0] if _looks_like_path(data) else parse_spec(data)[0]
    return Path("runs") / (re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-") or "simulation")


def _check_out(out: Path) -> None:
    """The output path must be a folder (or not exist yet) that we can write into."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a file; give a folder for the results.")
    probe = out
    while not probe.exists():
        parent = probe.parent
        if parent == probe:
            break
        probe = parent
    if not probe.is_dir():
        raise UsageError(f"--out {str(out)!r} is inside {str(probe)!r}, which is a file.")
    import os

    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write into {str(probe)!r}; choose another --out folder.")


def _write(result: Any, out: Path) -> dict[str, Path]:
    """Create ``out`` and write the files; on failure remove what was created here."""
    created: list[Path] = []
    probe = out
    while not probe.exists():
        created.append(probe)
        probe = probe.parent
    existed = {name: (out / name).exists() for name in OUTPUT_FILES}
    try:
        out.mkdir(parents=True, exist_ok=True)
        return result.save(out)
    except BaseException:
        for name in OUTPUT_FILES:
            if not existed[name]:
                (out / name).unlink(missing_ok=True)
        for folder in created:  # deepest first
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _print_report(result: Any, paths: dict[str, Path]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    c = result.config
    header, rows = result.table()
    full = result.full_pool_scores
    console.print(
        f"[bold]{result.dataset}[/]: {c['n_pool']} pool / {c['n_test']} test items, "
        f"{c['n_classes']} classes, model {c['model']}, {len(result.seeds)} seeds, "
        f"{c['initial']} initial + batches of {c['batch_size']} up to {c['budget']} labels"
        + (f", label noise {c['noise']:g}" if c["noise"] else "")
        + f"  ({result.seconds:.0f} s)"
    )
    console.print(
        f"full-pool {result.metric} (every pool label): {full.mean():.3f}; "
        f"target: {result.target_label}"
    )
    table = Table(show_header=True, header_style="bold")
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for line in result.legend():
        console.print(f"[dim]{line}[/]")
    for note in result.notes:
        console.print(f"note: {note}")
    out = paths["plot"].parent
    console.print(f"wrote {', '.join(p.name for p in paths.values())} to {out}/")
    console.print(f"learning curves: [bold]{paths['plot']}[/]")


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command to the app."""

    @app.command("simulate")
    @friendly_errors
    def simulate_command(
        data: str = typer.Option(
            "digits", "--data", "-d",
            help="Dataset: iris, digits, wine, breast_cancer, synthetic[:classes=3,imbalance=0.05,"
            "samples=2000], a real set (mnist-10k, zhan:australian, ...), or a CSV/Parquet/libsvm path.",
        ),
        label_column: str = typer.Option(
            None, "--label-column", help="Column holding the class, for CSV/Parquet files."
        ),
        strategies: str = typer.Option(
            "margin,entropy,random", "--strategies", "-s",
            help="Comma-separated strategy names; random is always added as the baseline.",
        ),
        seeds: str = typer.Option("3", "--seeds", metavar="INT", help="Number of seeds."),
        initial: str = typer.Option("20", "--initial", metavar="INT", help="Initial labels."),
        batch: str = typer.Option("10", "--batch", metavar="INT", help="Labels per query round."),
        budget: str = typer.Option(
            "300", "--budget", metavar="INT", help="Total labels per run, initial ones included."
        ),
        model: str = typer.Option(
            "logreg", "--model", "-m",
            help="logreg, rf, svm, knn, nb, or module:Class of any scikit-learn classifier.",
        ),
        noise: str = typer.Option(
            "0.0", "--noise", metavar="FLOAT", help="Share of wrong answers from the oracle."
        ),
        target: str = typer.Option(
            None, "--target", metavar="FLOAT",
            help="Target accuracy for 'labels to target', e.g. 0.9.",
        ),
        target_of_full: str = typer.Option(
            None, "--target-of-full", metavar="FLOAT",
            help="Target as a share of the full-pool accuracy (default 0.95 when --target is "
            "not given).",
        ),
        test_size: str = typer.Option(
            "0.25", "--test-size", metavar="FLOAT", help="Share held out for testing."
        ),
        cost_per_label: str = typer.Option(
            "1.0", "--cost-per-label", metavar="FLOAT", help="Money per label (cost analysis)."
        ),
        seconds_per_label: str = typer.Option(
            "30", "--seconds-per-label", metavar="FLOAT", help="Seconds a person needs per label."
        ),
        out: Path = typer.Option(
            None, "--out", "-o", help="Output folder (default runs/<dataset>)."
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        """Run strategies against random over several seeds; write curves, summary and plot."""
        from ..datasets import load_dataset
        from ..experiment import check_strategies, make_model, simulate

        n_seeds = _int(seeds, "--seeds", 1)
        n_initial = _int(initial, "--initial", 2)
        n_batch = _int(batch, "--batch", 1)
        n_budget = _int(budget, "--budget", 1)
        f_noise = _float(noise, "--noise", 0.0, 1.0, "0.1")
        f_target = _float(target, "--target", 0.0, 1.0, "0.9")
        f_full = _float(target_of_full, "--target-of-full", 0.0, 1.0, "0.95")
        f_test = _float(test_size, "--test-size", 0.0, 1.0, "0.25")
        f_cost = _float(cost_per_label, "--cost-per-label", 0.0, math.inf, "0.5")
        f_secs = _float(seconds_per_label, "--seconds-per-label", 0.0, math.inf, "30")
        if f_target is not None and f_full is not None:
            raise UsageError("give --target or --target-of-full, not both.")
        check_strategies(strategies)
        make_model(model)
        out_dir = Path(out) if out is not None else _default_out(data)
        _check_out(out_dir)
        dataset = load_dataset(data, label_column=label_column)

        result = simulate(
            dataset,
            strategies=strategies,
            seeds=n_seeds,
            model=model,
            initial=n_initial,
            batch_size=n_batch,
            budget=n_budget,
            test_size=f_test,
            noise=f_noise,
            target=f_target,
            target_of_full=f_full,
            cost_per_label=f_cost,
            seconds_per_label=f_secs,
            progress=not quiet,
        )
        paths = _write(result, out_dir)
        _print_report(result, paths)
