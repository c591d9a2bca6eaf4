"""``activelab simulate``: strategies against random on a dataset, over several seeds.

Every option is checked before anything heavy is imported or read (the numbers, the
output folder, the data's path or name, the strategy and model names), then the data is
loaded and the whole simulation runs before the output folder is created, so bad input
(or an interrupted run) leaves nothing behind; if writing the files fails, what this
command created is removed again.
"""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer

from . import _options as opt
from ._checks import (
    check_data,
    check_model_name,
    check_out,
    check_strategy_names,
    check_task_option,
)
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


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _print_report(result: Any, paths: dict[str, Path]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    c = result.config
    header, rows = result.table()
    full = result.full_pool_scores
    kind = "regression" if c.get("task") == "regression" else f"{c['n_classes']} classes"
    console.print(
        f"[bold]{result.dataset}[/]: {c['n_pool']} pool / {c['n_test']} test items, "
        f"{kind}, model {c['model']}, {_count(len(result.seeds), 'seed')}, "
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
    from ..lab.live import simulation_verdict_lines

    for line in simulation_verdict_lines(result):
        console.print(line)
    for note in result.notes:
        console.print(f"note: {note}")
    out = paths["plot"].parent
    console.print(f"wrote {', '.join(p.name for p in paths.values())} to {out}/")
    console.print(f"learning curves: [bold]{paths['plot']}[/]")


# ------------------------------------------------------------------ the options
Data = Annotated[str, typer.Option(
    "--data", "-d",
    help="Dataset: iris, digits, wine, breast_cancer, diabetes (regression), "
    "synthetic[:classes=3,imbalance=0.05,samples=2000], a real set (mnist-10k, "
    "zhan:australian, ...), or a CSV/Parquet/libsvm path.",
)]
Strategies = Annotated[str | None, typer.Option(
    "--strategies", "-s",
    help="Comma-separated strategy names; random is always added as the baseline "
    "(default: auto,margin,entropy for classification; multilabel_margin,cvirs for "
    "multi-label; greedy_io,greedy_x,qbc_variance,emcm for regression).",
)]
TaskOption = Annotated[str | None, typer.Option(
    "--task", help="classification, multilabel or regression (default: from the data's "
    "targets and the model).",
)]
Seeds = Annotated[str, typer.Option("--seeds", metavar="INT", help="Number of seeds.")]
Initial = Annotated[str, typer.Option("--initial", metavar="INT", help="Initial labels.")]
Batch = Annotated[str, typer.Option("--batch", metavar="INT", help="Labels per query round.")]
Budget = Annotated[str, typer.Option(
    "--budget", metavar="INT", help="Total labels per run, initial ones included."
)]
Model = Annotated[str | None, typer.Option(
    "--model", "-m",
    help="logreg, rf, svm, knn, nb, or module:Class of any scikit-learn classifier "
    "(default logreg); for regression ridge, bayes_ridge, gp, rf, knn, svm or a "
    "regressor's module:Class (default ridge).",
)]
Noise = Annotated[str, typer.Option(
    "--noise", metavar="FLOAT", help="Share of wrong answers from the oracle."
)]
Target = Annotated[str | None, typer.Option(
    "--target", metavar="FLOAT", help="Target accuracy for 'labels to target', e.g. 0.9."
)]
TargetOfFull = Annotated[str | None, typer.Option(
    "--target-of-full", metavar="FLOAT",
    help="Target as a share of the full-pool accuracy (default 0.95 when --target is "
    "not given).",
)]
TestSize = Annotated[str, typer.Option(
    "--test-size", metavar="FLOAT", help="Share held out for testing."
)]
CostPerLabel = Annotated[str, typer.Option(
    "--cost-per-label", metavar="FLOAT", help="Money per label (cost analysis)."
)]
SecondsPerLabel = Annotated[str, typer.Option(
    "--seconds-per-label", metavar="FLOAT", help="Seconds a person needs per label."
)]
Out = Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default runs/<dataset>).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


def _numbers(
    *, seeds: str, initial: str, batch: str, budget: str, noise: str, target: str | None,
    target_of_full: str | None, test_size: str, cost_per_label: str, seconds_per_label: str,
) -> dict[str, Any]:
    """The numeric options, parsed and range-checked, as :func:`simulate` arguments."""
    numbers = {
        "seeds": _int(seeds, "--seeds", 1),
        "initial": _int(initial, "--initial", 2),
        "batch_size": _int(batch, "--batch", 1),
        "budget": _int(budget, "--budget", 1),
        "noise": _float(noise, "--noise", 0.0, 1.0, "0.1"),
        "target": _float(target, "--target", 0.0, 1.0, "0.9"),
        "target_of_full": _float(target_of_full, "--target-of-full", 0.0, 1.0, "0.95"),
        "test_size": _float(test_size, "--test-size", 0.0, 1.0, "0.25"),
        "cost_per_label": _float(cost_per_label, "--cost-per-label", 0.0, math.inf, "0.5"),
        "seconds_per_label": _float(seconds_per_label, "--seconds-per-label", 0.0, math.inf,
                                    "30"),
    }
    if numbers["target"] is not None and numbers["target_of_full"] is not None:
        raise UsageError("give --target or --target-of-full, not both.")
    for option, key in (("--target", "target"), ("--target-of-full", "target_of_full")):
        if numbers[key] == 0:
            raise UsageError(f"{option} must be above 0 (every run reaches 0 at once), got 0.")
    _check_rounds(numbers["initial"], numbers["batch_size"], numbers["budget"])
    return numbers


def _check_rounds(initial: int, batch: int, budget: int) -> None:
    """The budget holds the initial labels, and one batch is not larger than the budget."""
    if budget < initial:
        raise UsageError(
            f"budget ({budget}) is smaller than initial ({initial}): --budget counts the "
            "initial labels too, so raise it or lower --initial."
        )
    if batch > budget:
        raise UsageError(
            f"--batch ({batch}) is larger than the whole --budget ({budget}); one round can "
            "never label that many, so lower --batch (e.g. 10)."
        )


#: The strategies simulated when --strategies is not given, per task.  ``auto`` leads
#: for classification: on the held-out part of the label-efficiency suite it beat margin
#: (+0.0065 AULC, 95 % interval [+0.0029, +0.0101], no cell below random; see
#: docs/benchmarks/label-efficiency.md), and its summary carries the live verdict.
DEFAULT_STRATEGIES = {
    "classification": "auto,margin,entropy,random",
    "multilabel": "multilabel_margin,cvirs,random",
    "regression": "greedy_io,greedy_x,qbc_variance,emcm,random",
}


def _check_first(data: str, data_dir: str | None, strategies: str | None, model: str | None,
                 out: Path | None, load: dict[str, Any], task: str | None) -> Path:
    """Everything that can be checked without reading the data; returns the output folder."""
    out_dir = Path(out) if out is not None else _default_out(data)
    check_out(out_dir)
    check_data(data, data_dir, load)
    check_task_option(task)
    if strategies is not None:
        names = [s for s in strategies.split(",") if s.strip()]
        if not names:
            raise UsageError("--strategies is empty; give at least one, e.g. margin,entropy.")
        check_strategy_names(names)
    if model is not None:
        check_model_name(model)
    return out_dir


def _run(data: str, data_dir: str | None, strategies: str | None, model: str | None,
         out: Path | None, quiet: bool, numbers: dict[str, Any], load: dict[str, Any],
         task: str | None = None) -> None:
    """Check the names, load the data, simulate, then write and print the results."""
    out_dir = _check_first(data, data_dir, strategies, model, out, load, task)
    from ..datasets import load_dataset
    from ..experiment import simulate
    from ..lab.tasks import resolve_task

    dataset = load_dataset(data, data_dir=data_dir, progress=not quiet, **load)
    if strategies is None:
        kind = resolve_task(task, dataset.task, dataset.y, model)
        strategies = DEFAULT_STRATEGIES[kind.value]
    result = simulate(dataset, strategies=strategies, model=model, progress=not quiet,
                      task=task, **numbers)
    paths = _write(result, out_dir)
    _print_report(result, paths)


@opt.table_flags
def simulate_command(
    data: Data = "digits",
    data_dir: opt.DataDir = None,
    strategies: Strategies = None,
    seeds: Seeds = "3",
    initial: Initial = "20",
    batch: Batch = "10",
    budget: Budget = "300",
    model: Model = None,
    noise: Noise = "0.0",
    target: Target = None,
    target_of_full: TargetOfFull = None,
    test_size: TestSize = "0.25",
    cost_per_label: CostPerLabel = "1.0",
    seconds_per_label: SecondsPerLabel = "30",
    out: Out = None,
    quiet: Quiet = False,
    task: TaskOption = None,
    load: dict[str, Any] | None = None,
) -> None:
    """Run strategies against random over several seeds; write curves, summary and plot."""
    numbers = _numbers(
        seeds=seeds, initial=initial, batch=batch, budget=budget, noise=noise, target=target,
        target_of_full=target_of_full, test_size=test_size, cost_per_label=cost_per_label,
        seconds_per_label=seconds_per_label,
    )
    _run(data, data_dir, strategies, model, out, quiet, numbers, load or {}, task)


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command to the app."""
    app.command("simulate")(friendly_errors(simulate_command))
