"""Engines for SQLite (embedded default) and PostgreSQL, with the settings labeling needs.

This is the one place that creates database engines: the labeling app's :class:`Store` and
the Label Studio backend's :class:`~activelab.store.ls_state.LSState` both take theirs from
:func:`make_engines`.

SQLite runs in WAL mode with ``synchronous=FULL`` so that a committed label survives a killed
process; write transactions start with ``BEGIN IMMEDIATE`` so that concurrent writers queue
instead of failing half-way.  A second engine with ordinary deferred transactions serves
reads, a third the background writes that can be recomputed.  An in-memory SQLite database
(``sqlite://``) is one shared connection, for quick library use.  PostgreSQL uses one pooled
engine for all three.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import StaticPool

__all__ = ["make_engines", "check_url", "is_memory_url", "sqlite_file", "check_target",
           "open_error"]

_MEMORY_URLS = ("sqlite://", "sqlite:///:memory:")


def check_url(url: str) -> str:
    """Validate a database URL and return it in the form SQLAlchemy expects.

    Parameters
    ----------
    url : str
        ``sqlite:///path.db`` or ``postgresql://user@host/db`` (``postgresql+psycopg`` is used).

    Returns
    -------
    str

    Raises
    ------
    TypeError
        When ``url`` is not a string.
    ValueError
        When ``url`` names another database (or is no URL at all).
    """
    if not isinstance(url, str) or not url:
        raise TypeError(f"db must be a database URL string, got {url!r}")
    if url.startswith("sqlite:"):
        return url
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("postgresql+"):
        return url
    raise ValueError(
        f"db {url!r} is not supported: give an SQLAlchemy URL, sqlite:///file.db or "
        "postgresql://user@host/dbname"
    )


def is_memory_url(url: str) -> bool:
    """Whether ``url`` names an in-memory SQLite database (gone when the process ends)."""
    return url in _MEMORY_URLS


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``None`` for another database or an in-memory one)."""
    url = check_url(url)
    if not url.startswith("sqlite:") or is_memory_url(url):
        return None
    database = sa.engine.make_url(url).database
    return Path(database) if database else None


def check_target(url: str, option: str = "--db") -> None:
    """Refuse, before connecting, a SQLite file that could not be created.

    Raises
    ------
    ValueError
        The URL names another database, the file is a folder, or its folder is missing or
        not writable.  (Whether a PostgreSQL server answers is known only on connecting:
        see :func:`open_error`.)
    """
    path = sqlite_file(url)
    if path is None:
        return
    if path.is_dir():
        raise ValueError(f"{option} {str(path)!r} is a folder: give a file, e.g. "
                         f"sqlite:///{path / 'activelab.db'}")
    folder = path.parent
    if not folder.is_dir():
        raise ValueError(f"the folder {str(folder)!r} of {option} does not exist: create it, "
                         "or give another path")
    if not path.exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"the folder {str(folder)!r} of {option} is not writable: give "
                         "another path")


def open_error(url: str, exc: BaseException) -> str:
    """One line saying why the database at ``url`` could not be opened (password hidden)."""
    try:
        shown = sa.engine.make_url(check_url(url)).render_as_string(hide_password=True)
        shown = shown.replace("postgresql+psycopg://", "postgresql://", 1)
    except Exception:  # the URL itself is broken
        shown = "(unreadable URL)"
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    hint = ("is the server running, and are host, port, user and database right?"
            if not shown.startswith("sqlite") else
            "the folder must exist and be writable")
    return f"cannot open the database {shown}: {reason[0] if reason else type(exc).__name__}; {hint}"


def _sqlite_engine(url: str, immediate: bool, synchronous: str = "FULL") -> sa.Engine:
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                              pool_size=20, max_overflow=20)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_engines(url: str) -> tuple[sa.Engine, sa.Engine, sa.Engine]:
    """Return ``(write_engine, read_engine, background_engine)`` for a database URL.

    The background engine serves writes that can be recomputed after a crash (published
    queues, model versions, the trainer lease): on SQLite its commits skip the fsync
    (``synchronous=NORMAL``; the next label's commit makes them durable), so they hold the
    write lock for less time.  Labels always go through the write engine.

    Parameters
    ----------
    url : str
        As for :func:`check_url`.

    Returns
    -------
    tuple of sqlalchemy.Engine
        Engines are lazy: one that is never used opens no connection.
    """
    url = check_url(url)
    if is_memory_url(url):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False},
                                  poolclass=StaticPool)
        return engine, engine, engine
    if url.startswith("sqlite:"):
        return (_sqlite_engine(url, True), _sqlite_engine(url, False),
                _sqlite_engine(url, True, "NORMAL"))
    engine = sa.create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True,
                              connect_args={"connect_timeout": 10})
    return engine, engine, engine
