"""``activelab benchmark`` and ``activelab report``.

``activelab benchmark --config bench.toml`` (or flags) runs datasets × strategies ×
models × noise levels × seeds in parallel worker processes, resumably: started again
with the same ``--out`` it skips every finished run.  ``activelab report RUN_DIR``
builds a self-contained HTML report of such a folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from . import _options as opt
from ._checks import (
    check_data,
    check_model_name,
    check_out,
    check_strategy_names,
    split_names,
)
from ._errors import UsageError, friendly_errors


def _split(value: str | None, option: str = "a list option") -> list[str] | None:
    return split_names(value, option)


def _seeds(value: str | None) -> Any:
    if value is None:
        return None
    try:
        if "," in value:
            return [int(v) for v in value.split(",") if v.strip()]
        return int(value)
    except ValueError:
        raise UsageError(
            f"--seeds must be a count (e.g. 5) or a list (e.g. 0,1,2), got {value!r}."
        ) from None


def _noise(value: str | None) -> list[float] | None:
    if value is None:
        return None
    try:
        return [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"--noise must be rates such as 0,0.1,0.3, got {value!r}.") from None


def _progress_callback() -> tuple[Any, Any]:
    """A rich progress bar over all runs (plain lines when rich is missing)."""
    try:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
    except ImportError:  # pragma: no cover - rich is a CLI dependency
        return None, True
    bar = Progress(
        TextColumn("benchmark"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(), TextColumn("{task.description}"), transient=False,
    )
    task = bar.add_task("", total=None)

    def update(done: int, total: int, run_id: str) -> None:
        bar.update(task, completed=done, total=total, description=run_id)

    return bar, update


# ------------------------------------------------------------------ the options
Config = Annotated[Path | None, typer.Option("--config", "-c", help="TOML file of settings.")]
Out = Annotated[Path | None, typer.Option(
    "--out", "-o", help="Benchmark folder (default runs/<name>); the same folder resumes.",
)]
Datasets = Annotated[str | None, typer.Option(
    help="Comma-separated datasets: iris,digits,zhan:australian,imbalanced,"
    "spamassassin-domain, or file paths."
)]
Strategies = Annotated[str | None, typer.Option(
    help="Comma-separated strategies (random is added; default by the datasets' task: "
    "auto,margin; regression greedy_io,greedy_x; multi-label cvirs,multilabel_margin)."
)]
Models = Annotated[str | None, typer.Option(
    help="Comma-separated models: logreg, rf, svm, nb, knn or import paths."
)]
Seeds = Annotated[str | None, typer.Option(help="Number of seeds, or a list such as 0,1,2.")]
Noise = Annotated[str | None, typer.Option(help="Oracle error rates, e.g. 0,0.1,0.3.")]
Initial = Annotated[int | None, typer.Option(help="Initial labels.")]
BatchSize = Annotated[int | None, typer.Option(help="Labels per round.")]
Budget = Annotated[int | None, typer.Option(help="Total labels per run, initial included.")]
TestSize = Annotated[float | None, typer.Option(help="Share held out for testing.")]
NJobs = Annotated[int | None, typer.Option(
    "--n-jobs", "-j", help="Worker processes (default: all cores; -1 = all cores)."
)]
TableFormat = Annotated[str | None, typer.Option("--format", help="parquet or csv.")]
Name = Annotated[str | None, typer.Option(help="Name of the benchmark.")]
Report = Annotated[bool, typer.Option(help="Build the HTML report at the end.")]
RunDir = Annotated[Path, typer.Argument(help="A folder written by `activelab benchmark`.")]
ReportOut = Annotated[Path | None, typer.Option(
    "--out", "-o", help="HTML file (default RUN_DIR/report/report.html)."
)]


def _benchmark_config(config: Path | None, overrides: dict[str, Any]) -> Any:
    """The settings from ``--config`` with the flags on top, or from the flags alone."""
    from ..lab.config import BenchmarkConfig, load_config

    if config is not None:
        return load_config(config, **overrides)
    if overrides["datasets"] is None:
        raise UsageError("give --config bench.toml or --datasets (e.g. --datasets iris).")
    return BenchmarkConfig.from_dict({k: v for k, v in overrides.items() if v is not None})


def _check_flags(flags: dict[str, Any], out: Path | None) -> None:
    """What the flags alone tell, checked before the settings are built (no heavy import)."""
    sizes = {"--initial": (flags["initial"], 1), "--batch-size": (flags["batch_size"], 1),
             "--budget": (flags["budget"], 2)}
    for option, (value, low) in sizes.items():
        if value is not None and value < low:
            raise UsageError(f"{option} must be at least {low}, got {value}.")
    if flags["batch_size"] is not None and flags["budget"] is not None \
            and flags["batch_size"] > flags["budget"]:
        raise UsageError(
            f"--batch-size ({flags['batch_size']}) is larger than the whole --budget "
            f"({flags['budget']}); one round can never label that many, so lower --batch-size."
        )
    n_jobs = flags["n_jobs"]
    if n_jobs is not None and not (n_jobs >= 1 or n_jobs == -1):
        raise UsageError(
            f"--n-jobs must be a number of worker processes (1 or more, or -1 for all "
            f"cores), got {n_jobs}."
        )
    if out is not None:
        check_out(out)
    load = {k: flags[k] for k in _FILE_KEYS if flags.get(k) is not None}
    if load and flags["datasets"] and not any(_is_path(d) for d in flags["datasets"]):
        raise UsageError(
            f"{sorted(load)[0]} only applies to CSV/Parquet datasets, and none of --datasets "
            "is a file; leave it out."
        )
    for name in flags["datasets"] or ():
        if name not in ("imbalanced", "spamassassin-domain"):
            check_data(name, flags["data_dir"], load if _is_path(name) else {})
    if flags["strategies"]:
        check_strategy_names(flags["strategies"], registry=False)
    for model in flags["models"] or ():
        check_model_name(model, "--models")


_FILE_KEYS = ("label_column", "text_column", "drop_columns", "id_column", "text_method",
              "encoding", "delimiter")


def _is_path(name: str) -> bool:
    from ..datasets import _looks_like_path

    return _looks_like_path(name)


def _run_with_progress(cfg: Any, target: Path, n_jobs: int | None) -> Any:
    from ..lab.runner import run_benchmark

    bar, callback = _progress_callback()
    if bar is None:  # pragma: no cover
        return run_benchmark(cfg, target, n_jobs=n_jobs, progress=True)
    with bar:
        return run_benchmark(cfg, target, n_jobs=n_jobs, progress=callback)


def benchmark(
    config: Config = None,
    out: Out = None,
    datasets: Datasets = None,
    strategies: Strategies = None,
    models: Models = None,
    seeds: Seeds = None,
    noise: Noise = None,
    initial: Initial = None,
    batch_size: BatchSize = None,
    budget: Budget = None,
    test_size: TestSize = None,
    data_dir: opt.DataDir = None,
    n_jobs: NJobs = None,
    table_format: TableFormat = None,
    name: Name = None,
    report: Report = True,
    load: dict[str, Any] | None = None,
) -> None:
    """Compare strategies against random on datasets x models x seeds (resumable)."""
    flags = {
        "datasets": _split(datasets, "--datasets"), "strategies": _split(strategies, "--strategies"),
        "models": _split(models, "--models"), "seeds": _seeds(seeds), "noise": _noise(noise),
        "initial": initial, "batch_size": batch_size, "budget": budget,
        "test_size": test_size, "data_dir": data_dir, "n_jobs": n_jobs,
        "format": table_format, "name": name, **(load or {}),
    }
    flags.update({k: flags.get(k) for k in _FILE_KEYS})
    _check_flags(flags, out)
    cfg = _benchmark_config(config, flags)
    target = out if out is not None else Path("runs") / cfg.name
    if out is None:
        check_out(target)
    cfg.check_datasets()
    summary = _run_with_progress(cfg, target, n_jobs)
    typer.echo(
        f"{summary.n_ran} runs done now, {summary.n_skipped} were already done "
        f"({summary.n_total} in all); table: {summary.table_path}"
    )
    from ..lab.live import benchmark_verdict_lines

    for line in benchmark_verdict_lines(target):
        typer.echo(line)
    if report:
        from ..lab.report import build_report

        typer.echo(f"report: {build_report(target)}")


def report_command(run_dir: RunDir, out: ReportOut = None) -> None:
    """Build a self-contained HTML report (and PNGs) of a benchmark folder."""
    if not run_dir.exists():
        raise UsageError(
            f"no such run folder {str(run_dir)!r}; pass the folder given to "
            "`activelab benchmark --out`."
        )
    if out is not None:
        check_out(out.parent, "--out")
    from ..lab.report import build_report, report_summary

    path = build_report(run_dir, out)
    for row in report_summary(run_dir):
        typer.echo(f"- {row['verdict']}")
    typer.echo(f"report: {path}")


def register(app: typer.Typer) -> None:
    """Add the ``benchmark`` and ``report`` commands to the app."""
    app.command("benchmark")(friendly_errors(opt.table_flags(benchmark)))
    app.command("report")(friendly_errors(report_command))
