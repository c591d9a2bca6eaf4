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

from ._errors import UsageError, friendly_errors


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise UsageError("a list option is empty; give comma-separated names, e.g. iris,digits.")
    return items


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
    help="Comma-separated strategies (random is added)."
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
DataDir = Annotated[str | None, typer.Option(
    help="Folder of the real datasets (default $ACTIVELAB_DATA_DIR or ../shared/data)."
)]
NJobs = Annotated[int | None, typer.Option(
    "--n-jobs", "-j", help="Worker processes (all cores)."
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
    data_dir: DataDir = None,
    n_jobs: NJobs = None,
    table_format: TableFormat = None,
    name: Name = None,
    report: Report = True,
) -> None:
    """Compare strategies against random on datasets x models x seeds (resumable)."""
    from ..lab.report import build_report

    cfg = _benchmark_config(config, {
        "datasets": _split(datasets), "strategies": _split(strategies),
        "models": _split(models), "seeds": _seeds(seeds), "noise": _noise(noise),
        "initial": initial, "batch_size": batch_size, "budget": budget,
        "test_size": test_size, "data_dir": data_dir, "n_jobs": n_jobs,
        "format": table_format, "name": name,
    })
    target = out if out is not None else Path("runs") / cfg.name
    if target.exists() and not target.is_dir():
        raise UsageError(f"--out {str(target)!r} is a file; give a folder.")
    cfg.check_datasets()
    summary = _run_with_progress(cfg, target, n_jobs)
    typer.echo(
        f"{summary.n_ran} runs done now, {summary.n_skipped} were already done "
        f"({summary.n_total} in all); table: {summary.table_path}"
    )
    if report:
        typer.echo(f"report: {build_report(target)}")


def report_command(run_dir: RunDir, out: ReportOut = None) -> None:
    """Build a self-contained HTML report (and PNGs) of a benchmark folder."""
    from ..lab.report import build_report, report_summary

    path = build_report(run_dir, out)
    for row in report_summary(run_dir):
        typer.echo(f"- {row['verdict']}")
    typer.echo(f"report: {path}")


def register(app: typer.Typer) -> None:
    """Add the ``benchmark`` and ``report`` commands to the app."""
    app.command("benchmark")(friendly_errors(benchmark))
    app.command("report")(friendly_errors(report_command))
