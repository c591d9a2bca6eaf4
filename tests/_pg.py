"""A throwaway PostgreSQL cluster for tests (Debian's ``postgresql`` package).

``postgres_url()`` starts one cluster per test process (initdb into a temporary folder, run as
the ``postgres`` OS user when the tests run as root, since the server refuses root), on a free
port with its socket in that folder, and returns the URL of a fresh database each call.  The
cluster is stopped and removed when the process exits.  ``PG_SKIP_REASON`` is set when no
PostgreSQL binaries exist, so tests can skip with that reason.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

__all__ = ["pg_bin_dir", "postgres_url", "PG_SKIP_REASON", "pg_available", "postgres", "db_url"]


def pg_bin_dir() -> Path | None:
    """Folder holding ``initdb`` and ``pg_ctl``, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


_BIN = pg_bin_dir()
PG_SKIP_REASON = ("no PostgreSQL binaries (install Debian's postgresql package: make system-deps)"
                  if _BIN is None else "")
_state: dict[str, object] = {}


def pg_available() -> bool:
    """Whether PostgreSQL binaries exist here."""
    return _BIN is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_pg_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _start() -> tuple[str, int]:
    assert _BIN is not None
    base = Path(tempfile.mkdtemp(prefix="activelab-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        os.chmod(base, 0o755)
    port = _free_port()
    subprocess.run(_as_pg_user([str(_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U",
                                "postgres", "--no-sync", "-E", "UTF8"]),
                   check=True, capture_output=True)
    opts = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200 -c synchronous_commit=on")
    subprocess.run(_as_pg_user([str(_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-w",
                                "-l", str(base / "log"), "start"]),
                   check=True, capture_output=True)

    def stop() -> None:
        subprocess.run(_as_pg_user([str(_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                    "-w", "stop"]), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)

    atexit.register(stop)
    return str(base), port


def postgres_url() -> str:
    """URL of a fresh, empty database on the test cluster (started on first use)."""
    if _BIN is None:
        raise RuntimeError(PG_SKIP_REASON)
    if "port" not in _state:
        _state["base"], _state["port"] = _start()
    port = _state["port"]
    name = "t" + uuid.uuid4().hex[:12]
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres",
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:{port}/{name}"


@pytest.fixture(scope="session")
def postgres() -> str:
    """Session fixture: the URL of a fresh database on the throwaway cluster."""
    if _BIN is None:
        pytest.skip(PG_SKIP_REASON)
    return postgres_url()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database per test: a real SQLite file, then a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'labels.db'}"
    if _BIN is None:
        pytest.skip(PG_SKIP_REASON)
    return postgres_url()
