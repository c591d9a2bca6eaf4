"""``activelab benchmark`` and ``activelab report``.

``activelab benchmark --config bench.toml`` (or flags) runs datasets × strategies ×
models × noise levels × seeds in parallel worker processes, resumably: started again
with the same ``--out`` it skips every finished run.  ``activelab report RUN_DIR``
builds a self-contained HTML report of such a folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def register(app: typer.Typer) -> None:
    """Add the ``benchmark`` and ``report`` commands to the app."""

    @app.command()
    @friendly_errors
    def benchmark(
        config: Path = typer.Option(None, "--config", "-c", help="TOML file of settings."),
        out: Path = typer.Option(
            None, "--out", "-o",
            help="Benchmark folder (default runs/<name>); the same folder resumes.",
        ),
        datasets: str = typer.Option(
            None, help="Comma-separated datasets: iris,digits,zhan:australian,imbalanced,"
            "spamassassin-domain, or file paths."
        ),
        strategies: str = typer.Option(None, help="Comma-separated strategies (random is added)."),
        models: str = typer.Option(None, help="Comma-separated models: logreg, rf, svm, nb, knn "
                                   "or import paths."),
        seeds: str = typer.Option(None, help="Number of seeds, or a list such as 0,1,2."),
        noise: str = typer.Option(None, help="Oracle error rates, e.g. 0,0.1,0.3."),
        initial: int = typer.Option(None, help="Initial labels."),
        batch_size: int = typer.Option(None, help="Labels per round."),
        budget: int = typer.Option(None, help="Total labels per run, initial included."),
        test_size: float = typer.Option(None, help="Share held out for testing."),
        data_dir: str = typer.Option(
            None, help="Folder of the real datasets (default $ACTIVELAB_DATA_DIR or "
            "../shared/data)."
        ),
        n_jobs: int = typer.Option(None, "--n-jobs", "-j", help="Worker processes (all cores)."),
        table_format: str = typer.Option(None, "--format", help="parquet or csv."),
        name: str = typer.Option(None, help="Name of the benchmark."),
        report: bool = typer.Option(True, help="Build the HTML report at the end."),
    ) -> None:
        """Compare strategies against random on datasets x models x seeds (resumable)."""
        from ..lab.config import BenchmarkConfig, load_config
        from ..lab.report import build_report
        from ..lab.runner import run_benchmark

        overrides = {
            "datasets": _split(datasets),
            "strategies": _split(strategies),
            "models": _split(models),
            "seeds": _seeds(seeds),
            "noise": _noise(noise),
            "initial": initial,
            "batch_size": batch_size,
            "budget": budget,
            "test_size": test_size,
            "data_dir": data_dir,
            "n_jobs": n_jobs,
            "format": table_format,
            "name": name,
        }
        if config is not None:
            cfg = load_config(config, **overrides)
        else:
            if overrides["datasets"] is None:
                raise UsageError("give --config bench.toml or --datasets (e.g. --datasets iris).")
            cfg = BenchmarkConfig.from_dict({k: v for k, v in overrides.items() if v is not None})
        target = out if out is not None else Path("runs") / cfg.name
        if target.exists() and not target.is_dir():
            raise UsageError(f"--out {str(target)!r} is a file; give a folder.")
        cfg.check_datasets()
        bar, callback = _progress_callback()
        if bar is not None:
            with bar:
                summary = run_benchmark(cfg, target, n_jobs=n_jobs, progress=callback)
        else:  # pragma: no cover
            summary = run_benchmark(cfg, target, n_jobs=n_jobs, progress=True)
        typer.echo(
            f"{summary.n_ran} runs done now, {summary.n_skipped} were already done "
            f"({summary.n_total} in all); table: {summary.table_path}"
        )
        if report:
            path = build_report(target)
            typer.echo(f"report: {path}")

    @app.command("report")
    @friendly_errors
    def report_command(
        run_dir: Path = typer.Argument(..., help="A folder written by `activelab benchmark`."),
        out: Path = typer.Option(None, "--out", "-o",
                                 help="HTML file (default RUN_DIR/report/report.html)."),
    ) -> None:
        """Build a self-contained HTML report (and PNGs) of a benchmark folder."""
        from ..lab.report import build_report, report_summary

        path = build_report(run_dir, out)
        for row in report_summary(run_dir):
            typer.echo(f"- {row['verdict']}")
        typer.echo(f"report: {path}")
