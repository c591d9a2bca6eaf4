"""``activelab ls-backend``: serve activelab's strategies to Label Studio."""

from __future__ import annotations

import os

import typer

from ._checks import check_model_name, check_text_method
from ._errors import check_port, friendly_errors


def _split_labels(labels: str | None) -> tuple[str, ...] | None:
    if labels is None:
        return None
    parts = tuple(p.strip() for p in labels.split(",") if p.strip())
    if not parts:
        raise ValueError("--labels is empty; give the classes separated by commas, e.g. Pos,Neg.")
    return parts


def _split_auth(value: str | None) -> tuple[str, str] | None:
    if value is None or value == "":
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("--basic-auth must be USER:PASSWORD, both non-empty.")
    return user, password


def _split_size(value: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise ValueError(f"--image-size must be HEIGHTxWIDTH such as 16x16, got {value!r}.") from None
    if h < 1 or w < 1:
        raise ValueError(f"--image-size must be positive, got {value!r}.")
    return h, w


def _prepare(project: str, ls_url: str | None, ls_token: str | None) -> None:
    """Set a project's sampling to Uncertainty sampling, and say what else it needs."""
    from ..server.labelstudio.client import prepare_project

    token = ls_token or os.environ.get("LABEL_STUDIO_API_TOKEN")
    if not ls_url or not token:
        raise ValueError("--prepare-project needs --ls-url and --ls-token (Label Studio's "
                         "legacy API token, from Account & Settings).")
    prepare_project(ls_url, token, project)
    typer.echo(f"project {project}: sampling set to Uncertainty sampling. Label Studio follows "
               "activelab's ranking only with the predictions it pushes: run "
               "`activelab ls-backend --push-predictions` and connect it to the project.")


def _serve(host: str, port: int, db: str, *, labels: str | None, image_size: str,
           basic_auth: str | None, webhook_secret: str | None, ls_token: str | None,
           seed: int, **settings: object) -> None:
    """Build the backend's settings from the parsed options, check them, and serve."""
    from sqlalchemy.exc import SQLAlchemyError

    from ..server.labelstudio import LSBackendConfig, serve
    from ..store.db import check_target, open_error

    config = LSBackendConfig(
        labels=_split_labels(labels),
        db=db,
        image_size=_split_size(image_size),
        basic_auth=_split_auth(basic_auth),
        webhook_secret=webhook_secret or None,
        ls_token=ls_token or os.environ.get("LABEL_STUDIO_API_TOKEN") or None,
        random_state=seed,
        **settings,
    )
    config.validate()
    check_target(db)
    try:
        serve(config, host=host, port=port)
    except SQLAlchemyError as exc:  # the state database cannot be opened
        raise ValueError(open_error(db, exc)) from None


def register(app: typer.Typer) -> None:
    """Add the ``ls-backend`` command to the app."""

    @app.command("ls-backend")
    @friendly_errors
    def ls_backend(
        labels: str | None = typer.Option(
            None, "--labels",
            help="Classes to learn, comma separated (default: every choice of the config).",
        ),
        strategy: str = typer.Option(
            "entropy", "--strategy", help="Query strategy (one with a per-task score)."
        ),
        multilabel_strategy: str | None = typer.Option(
            None, "--multilabel-strategy",
            help="Strategy of multiple-choice configs (default: multilabel_margin)."),
        regression_strategy: str | None = typer.Option(
            None, "--regression-strategy",
            help="Strategy of <Number> configs (default: greedy_io)."),
        model: str = typer.Option(
            "logreg", "--model", help="Classifier of the model table: logreg, rf, svm, knn, nb, "
            "or module:Class (as in simulate --model).",
        ),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(9090, "--port", help="Port to listen on."),
        db: str = typer.Option(
            "sqlite:///ls-backend.db", "--db", help="SQLAlchemy URL of the state database."
        ),
        text_method: str = typer.Option(
            "tfidf", "--text-features", help="Text features: tfidf or minilm."
        ),
        image_root: str | None = typer.Option(
            None, "--image-root", help="Folder holding the images (Label Studio's media folder)."
        ),
        image_size: str = typer.Option("16x16", "--image-size", help="Image features HxW."),
        basic_auth: str | None = typer.Option(
            None, "--basic-auth", envvar="ACTIVELAB_LS_BASIC_AUTH",
            help="USER:PASSWORD required on /setup, /predict, /versions and /train.",
        ),
        webhook_secret: str | None = typer.Option(
            None, "--webhook-secret", envvar="ACTIVELAB_LS_WEBHOOK_SECRET",
            help="Shared secret required in the X-Activelab-Secret header of /webhook.",
        ),
        push_predictions: bool = typer.Option(
            False, "--push-predictions/--no-push-predictions",
            help="After a retrain, push the changed predictions of unlabeled tasks to Label "
                 "Studio (needed for its Uncertainty sampling in the Community Edition).",
        ),
        push_interval: float = typer.Option(
            30.0, "--push-interval", help="At most one push per project every N seconds."),
        prepare_project: str | None = typer.Option(
            None, "--prepare-project", metavar="ID",
            help="Set Label Studio project ID to Uncertainty sampling (with --ls-url and "
                 "--ls-token) and exit.",
        ),
        ls_url: str | None = typer.Option(
            None, "--ls-url", envvar="LABEL_STUDIO_URL",
            help="Label Studio's URL (default: the hostname sent with /setup).",
        ),
        ls_token: str | None = typer.Option(
            None, "--ls-token", envvar="LABEL_STUDIO_API_KEY",
            help="Label Studio legacy API token (default: the token sent with /setup).",
        ),
        seed: int = typer.Option(0, "--seed", help="Random state of the model and strategy."),
    ) -> None:
        """Serve Label Studio's ML backend protocol with activelab's strategies."""
        if prepare_project is not None:
            _prepare(prepare_project, ls_url, ls_token)
            return
        check_model_name(model)  # before the server's libraries load: a typo answers at once
        check_text_method(text_method)
        check_port(host, port)
        _serve(
            host, port, db, labels=labels, strategy=strategy, model=model,
            multilabel_strategy=multilabel_strategy, regression_strategy=regression_strategy,
            text_method=text_method, image_root=image_root, image_size=image_size,
            basic_auth=basic_auth, webhook_secret=webhook_secret,
            push_predictions=push_predictions, push_interval=push_interval, ls_url=ls_url,
            ls_token=ls_token, seed=seed,
        )
