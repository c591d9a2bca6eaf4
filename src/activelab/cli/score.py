"""``activelab score``: choose the items of a big pool worth labeling, with a saved model.

Parses and checks the arguments, calls :mod:`activelab.scale` (chunk by chunk from disk,
or on Dask workers), shows progress and writes ``rank,id,utility`` rows to a CSV file.
Every bad input is one line and exit code 2; a failed run leaves no output file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import typer

from ._errors import UsageError, friendly_errors


def _check_out(out: str) -> Path:
    path = Path(out)
    if path.suffix.lower() != ".csv":
        raise UsageError(f"--out must be a .csv file, got {out!r}.")
    if path.is_dir():
        raise UsageError(f"--out {out!r} is a folder; name a .csv file.")
    if not path.parent.is_dir():
        raise UsageError(f"--out's folder {str(path.parent)!r} does not exist; create it first.")
    return path


def _read_ids(path: str) -> np.ndarray:
    """Labeled pool ids from a ``.npy`` file or a text file (one id a line)."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"--labeled {path!r} does not exist; give a .npy or text file of ids.")
    try:
        ids = np.load(p, allow_pickle=False) if p.suffix == ".npy" else np.loadtxt(
            p, dtype=np.int64, ndmin=1, comments="#", delimiter=",")
    except ValueError as exc:
        raise UsageError(f"--labeled {path!r} must hold integer pool ids, one a line ({exc}).") \
            from None
    if ids.size and not np.issubdtype(ids.dtype, np.integer):
        raise UsageError(f"--labeled {path!r} must hold integer pool ids, got {ids.dtype}.")
    return ids.astype(np.int64).ravel()


@contextlib.contextmanager
def _dask_client(workers: int | None, scheduler: str | None, timeout: float) -> Iterator[Any]:
    if workers is None and scheduler is None:
        yield None
        return
    if workers is not None and scheduler is not None:
        raise UsageError("give --workers N (a local cluster) or --scheduler ADDRESS, not both.")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}.")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--workers and --scheduler need Dask: pip install "
                         "'activelab[scale]'.") from None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{timeout}s")
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); "
                             "check --scheduler and that the scheduler runs.") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator[Any]:
    """A ``progress(done, total)`` callback drawing a bar on stderr from its first call."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress("scoring", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=Console(stderr=True), disable=quiet)
    task: list[Any] = []

    def update(done: int, total: int) -> None:
        if not task:
            bar.start()
            task.append(bar.add_task("scoring", total=total))
        bar.update(task[0], completed=done, total=total)

    try:
        yield update
    finally:
        if task:
            bar.stop()


def _write_csv(path: Path, result: Any) -> None:
    partial = path.with_name(path.name + ".partial")
    utilities = result.utility_of(result.ids)
    try:
        with open(partial, "w", encoding="utf-8") as f:
            f.write("rank,id,utility\n")
            for rank, (i, u) in enumerate(zip(result.ids.tolist(), utilities.tolist(),
                                              strict=True), start=1):  # the picks only
                f.write(f"{rank},{i},{u!r}\n")
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()


def _score(model: Any, pool: Any, options: dict[str, Any], client: Any, progress: Any) -> Any:
    from ..scale import prefilter_select, score_dask, score_out_of_core
    from ..strategies.base import UtilityStrategy
    from ..strategies.registry import get_strategy

    strategy = get_strategy(options["strategy"], random_state=options["seed"])
    common = {"chunk_rows": options["chunk_rows"], "random_state": options["seed"],
              "progress": progress}
    if not isinstance(strategy, UtilityStrategy):  # the labeled rows: distances to them
        return prefilter_select(model, pool, options["n"], strategy=strategy,
                                prefilter=options["prefilter"], labeled_ids=options["labeled"],
                                n_candidates=options["candidates"], client=client, **common)
    common["exclude_ids"] = options["labeled"]
    if client is not None:
        return score_dask(model, pool, options["n"], strategy=strategy, client=client, **common)
    return score_out_of_core(model, pool, options["n"], strategy=strategy, **common)


def register(app: typer.Typer) -> None:
    """Add the ``score`` command to the app."""

    @app.command("score")
    @friendly_errors
    def score(
        pool: str = typer.Argument(..., help="The pool: a .npy file, a .zarr directory or "
                                   "Parquet (file or folder); a path or a URL (s3://, gs://, "
                                   "file://)."),
        model: str = typer.Option(..., "--model", help="A skops file: ActiveLearner.save() "
                                  "or a fitted estimator saved with skops.io.dump."),
        strategy: str = typer.Option("entropy", "--strategy", help="A utility (entropy, "
                                     "margin, ...) or a batch strategy (coreset, kmeans, "
                                     "badge: run on --candidates pre-filtered rows)."),
        n: int = typer.Option(1000, "--n", help="How many items to choose."),
        labeled: str = typer.Option(None, "--labeled", help="Pool ids already labeled (.npy "
                                    "or text, one a line): never chosen."),
        columns: str = typer.Option(None, "--columns", help="Parquet feature columns, "
                                    "comma-separated (default: all)."),
        chunk_rows: int = typer.Option(65_536, "--chunk-rows", help="Rows read at a time."),
        workers: int = typer.Option(None, "--workers", help="Score on a local Dask cluster "
                                    "of N worker processes."),
        scheduler: str = typer.Option(None, "--scheduler", help="Score on the Dask cluster "
                                      "at this address (tcp://host:8786)."),
        prefilter: str = typer.Option("margin", "--prefilter", help="Batch strategies: the "
                                      "utility whose top --candidates rows they see."),
        candidates: int = typer.Option(None, "--candidates", help="Batch strategies: rows "
                                       "they choose from (default max(10 n, 1000))."),
        connect_timeout: float = typer.Option(10.0, "--connect-timeout", help="Seconds to "
                                              "wait for the --scheduler."),
        trust: list[str] = typer.Option([], "--trust", help="A further type to trust in "
                                        "the model file (repeatable)."),
        out: str = typer.Option(..., "--out", help="Where to write rank,id,utility (.csv)."),
        seed: int = typer.Option(0, "--seed", help="Random seed."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        """Choose the N items of a big pool most worth labeling, with a saved model."""
        from ..scale import CandidateRows, open_pool_array
        from ..scale.modelfile import check_model_fits_pool, load_model
        from ..strategies.base import check_n_instances

        out_path = _check_out(out)
        if n < 1:
            raise UsageError(f"--n must be at least 1, got {n}.")
        ids = None if labeled is None else _read_ids(labeled)
        fitted = load_model(model, trusted=trust)
        pool_rows = open_pool_array(pool, columns=columns)
        check_model_fits_pool(fitted, pool_rows, pool)
        left = CandidateRows(int(pool_rows.shape[0]), exclude_ids=ids).n_candidates
        check_n_instances(n, left)
        options = {"strategy": strategy, "n": n, "labeled": ids, "chunk_rows": chunk_rows,
                   "seed": seed, "prefilter": prefilter, "candidates": candidates}
        with _dask_client(workers, scheduler, connect_timeout) as client, _progress(quiet) as progress:
            result = _score(fitted, pool_rows, options, client, progress)
        _write_csv(out_path, result)
        info = result.info
        typer.echo(f"wrote {result.ids.size} ids to {out_path} ({result.strategy}; "
                   f"{info.get('n_pool_candidates', info.get('n_candidates'))} candidates)")
