"""Create or reopen a labeling project: read the data, store items and features, set it up."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..store import Store
from ..store.db import sqlite_file
from .columns import check_show_columns
from .options import check_hotkeys, check_labels, check_numbers, check_random_share
from .probes import DEFAULT_RANDOM_SHARE
from .scorer import SCORER_PROVIDES, Scorer, ScorerProcess, first_queue, save_features
from .sources import load_project_data

__all__ = ["LabelingProject", "open_project", "scorer_options"]


@dataclass
class LabelingProject:
    """A project ready to serve: its store, id, settings and (when new) the admin token."""

    store: Store
    project_id: int
    settings: dict[str, Any]
    admin_token: str | None
    created: bool

    def scorer(self, use_process: bool = False, poll_seconds: float = 0.5) -> Scorer:
        """The background scorer configured from the project's settings."""
        return Scorer(self.store, self.project_id, self.settings["features_path"],
                      use_process=use_process, poll_seconds=poll_seconds,
                      **scorer_options(self.settings))

    def scorer_process(self, poll_seconds: float = 0.5) -> ScorerProcess:
        """The scorer in its own low-priority process (what ``activelab label`` runs)."""
        s = self.settings
        if not Path(s["features_path"]).is_file():
            raise FileNotFoundError(
                f"the project's features file {s['features_path']!r} is missing; restore it, "
                "or start a new project with --name")
        return ScorerProcess(self.store.url, self.project_id, s["features_path"],
                             poll_seconds=poll_seconds, **scorer_options(s))


def scorer_options(settings: dict[str, Any]) -> dict[str, Any]:
    """The :class:`Scorer` arguments a project's stored settings give."""
    return {"strategy": settings.get("strategy", "margin"), "batch": int(settings["batch"]),
            "task": settings.get("task") or "classification",
            "retrain_every": settings.get("retrain_every"),
            "overlap": int(settings.get("overlap", 1)),
            "cold_start": settings.get("cold_start", "kmeans"),
            "model_dir": settings.get("model_dir"),
            "random_state": int(settings.get("random_state", 0)),
            "random_share": float(settings.get("random_share", DEFAULT_RANDOM_SHARE))}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "project"


def _check_options(*, strategy: str, batch: int, overlap: int, lease_seconds: float,
                   retrain_every: int | None, budget: int | None, cold_start: str,
                   task: str = "classification") -> None:
    """Refuse bad project options before anything is read or stored."""
    from ..cold_start import COLD_START_METHODS
    from ..strategies import get_strategy
    from ..strategies.base import Needs, needs_of
    from .tasks import check_task_strategy

    check_numbers(batch=batch, overlap=overlap, lease_seconds=lease_seconds,
                  retrain_every=retrain_every, budget=budget)
    if cold_start not in COLD_START_METHODS:
        raise ValueError(f"cold_start must be one of {COLD_START_METHODS}, got {cold_start!r}")
    if task != "classification":
        check_task_strategy(strategy, task)
        return
    # embeddings are used when a model provides them, the features otherwise
    needs = needs_of(get_strategy(strategy)) - {Needs.EMBEDDINGS}
    if needs - SCORER_PROVIDES:
        raise ValueError(f"strategy {strategy!r} needs {sorted(map(str, needs))}; the labeling "
                         "app trains one classifier (no committee): choose e.g. margin, "
                         "entropy, least_confident or random")


def open_project(
    data: str | os.PathLike[str],
    labels: list[str] | None,
    *,
    db: str = "sqlite:///activelab.db",
    name: str | None = None,
    project_dir: str | os.PathLike[str] | None = None,
    text_column: str | None = None,
    image_column: str | None = None,
    features: list[str] | None = None,
    text_method: str = "tfidf",
    strategy: str | None = None,
    batch: int = 10,
    retrain_every: int | None = None,
    overlap: int = 1,
    lease_seconds: float = 600.0,
    budget: int | None = None,
    cold_start: str = "kmeans",
    random_state: int = 0,
    hotkeys: list[str] | None = None,
    show_guess: bool | None = None,
    task: str | None = None,
    value_range: tuple[float | None, float | None] | None = None,
    show_columns: list[str] | None = None,
    random_share: float | None = None,
    id_column: str | None = None,
) -> LabelingProject:
    """Create the project named ``name`` (default: the data file's name) or reopen it.

    Reopening keeps the stored items, labels and settings; ``labels`` and ``task`` must then
    match (or be None); ``hotkeys`` (one key per label) and ``show_guess`` (show annotators
    the model's guess once it beats chance; default True) and ``random_share`` (the share of
    random checks in a ranked queue, :mod:`activelab.server.probes`; default 0.1, 0 for
    none), when given, replace the stored ones.  ``show_columns`` (the table's columns annotators see, in order) is chosen when
    the project is created; reopening with other columns is refused.  ``id_column`` names the
    column of item ids (default ``id``, ``key`` or ``ID``, else row numbers); it is read when
    the project is created (a reopened project keeps its stored ids).

    ``task`` is ``"classification"`` (the default: one label per item), ``"multilabel"``
    (any set of ``labels`` per item) or ``"regression"`` (a number per item, within
    ``value_range = (min, max)`` when given; no ``labels``).  ``strategy`` defaults to the
    task's (:data:`activelab.engine.tasks.DEFAULT_STRATEGIES`).
    Creating reads ``data``, computes the features (saved under ``project_dir``, default
    ``activelab-projects/<name>`` next to the working directory) and stores the items.

    Raises
    ------
    ValueError, TypeError, FileNotFoundError
        Bad options or unreadable data; nothing is stored then.
    """
    from .project_tasks import check_task_labels, reopen_task_check

    given_task, task = task, task or "classification"
    strategy, labels, value_range = check_task_labels(task, strategy, labels, value_range,
                                                      hotkeys)
    _check_options(strategy=strategy, batch=batch, overlap=overlap,
                   lease_seconds=lease_seconds, retrain_every=retrain_every, budget=budget,
                   cold_start=cold_start, task=task)
    if labels:
        labels = check_labels(labels)
        if hotkeys is not None:
            hotkeys = check_hotkeys(hotkeys, labels)
    if show_columns is not None:
        show_columns = check_show_columns(show_columns)
    if random_share is not None:
        random_share = check_random_share(random_share)
    name = name or _slug(Path(data).name.split(".")[0])
    db_file = sqlite_file(db)
    # a database file that does not exist yet holds no project: it is created only once the
    # data has been read, so that bad input leaves nothing behind
    store = None if db_file is not None and not db_file.exists() else Store(db)
    pid = None if store is None else store.find_project(name)
    if store is not None and pid is not None:
        reopen_task_check(store, pid, name, given_task)
        return _reopen(store, pid, name, labels, hotkeys,
                       {"show_guess": show_guess, "random_share": random_share}, show_columns)
    try:
        if not labels and task != "regression":
            raise ValueError("--labels is required for a new project, e.g. --labels spam,ham")
        pdata = load_project_data(data, text_column=text_column, image_column=image_column,
                                  features=features, text_method=text_method,
                                  show_columns=show_columns, id_column=id_column)
    except BaseException:
        if store is not None:
            store.close()
        raise
    pdir = Path(project_dir) if project_dir else Path("activelab-projects") / _slug(name)
    settings = {
        "kind": pdata.kind, "root": str(pdata.root), "strategy": strategy, "batch": int(batch),
        "retrain_every": retrain_every, "overlap": int(overlap),
        "lease_seconds": float(lease_seconds), "budget": budget,
        "random_state": int(random_state), "data": str(Path(data).resolve()),
        "text_method": text_method, "cold_start": cold_start, "hotkeys": hotkeys,
        "show_guess": show_guess is not False, "show_columns": show_columns,
        "random_share": DEFAULT_RANDOM_SHARE if random_share is None else random_share,
    } | ({} if task == "classification" else {"task": task, "value_range": value_range})
    return _create(store, db, db_file, name, labels, pdata, pdir.resolve(), settings)


def _reopen(store: Store, pid: int, name: str, labels: list[str] | None,
            hotkeys: list[str] | None, given: dict[str, Any],
            show_columns: list[str] | None) -> LabelingProject:
    """Reopen a stored project; ``given`` settings that are not None replace the stored
    ones (``show_guess``, ``random_share``)."""
    proj = store.project(pid)
    settings, changes = proj["settings"], {}
    try:
        if labels and list(labels) != proj["labels"]:
            raise ValueError(f"project {name!r} exists with labels {proj['labels']}; give "
                             "the same --labels, or a new --name")
        shown = settings.get("show_columns")
        if show_columns is not None and show_columns != shown:
            raise ValueError(f"project {name!r} shows the columns {shown or 'of its items'}; "
                             "--show-columns is chosen when a project is created: give a new "
                             "--name")
        if hotkeys is not None:
            changes["hotkeys"] = check_hotkeys(hotkeys, proj["labels"])
    except ValueError:
        store.close()
        raise
    changes |= {key: value for key, value in given.items() if value is not None}
    if changes:
        settings = store.update_settings(pid, **changes)
    return LabelingProject(store, pid, settings, None, False)


def _create(store: Store | None, db: str, db_file: Path | None, name: str, labels: list[str],
            pdata: Any, pdir: Path, settings: dict[str, Any]) -> LabelingProject:
    """Store a new project; on any failure remove what this call created."""
    new_dir, new_db = not pdir.exists(), store is None and db_file is not None
    try:
        store = store or Store(db)
        settings = settings | {"features_path": str(save_features(pdir / "features", pdata.X)),
                               "model_dir": str(pdir / "models")}
        pid, token = store.create_project(name, labels, pdata.items, settings,
                                          fields=pdata.fields)
        # items to serve before the scorer has started
        first_queue(store, pid, settings["batch"], settings["random_state"])
    except BaseException:
        if store is not None:
            store.close()
        if new_dir:
            shutil.rmtree(pdir, ignore_errors=True)
        if new_db and db_file is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(str(db_file) + suffix).unlink(missing_ok=True)
        raise
    return LabelingProject(store, pid, settings, token, True)
