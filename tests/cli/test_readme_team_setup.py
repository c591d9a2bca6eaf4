"""The README's "serving it to colleagues" setup uses flags and routes that exist."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from activelab.cli import app
from activelab.server.app import create_app

README = Path(__file__).resolve().parents[2] / "README.md"


def _team_block() -> str:
    text = README.read_text()
    start = text.index("**Serving it to colleagues**")
    return text[start:text.index("### Label Studio", start)]


def _commands(block: str, program: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", block)
    return [ln.strip() for ln in joined.splitlines() if ln.strip().startswith(program)]


def test_every_flag_of_the_team_setup_is_an_option_of_activelab_label() -> None:
    block = _team_block()
    label = typer.main.get_command(app).commands["label"]
    options = {o for p in label.params for o in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])}
    used = {f for cmd in _commands(block, "activelab label") for f in re.findall(r"--[a-z-]+", cmd)}
    used |= set(re.findall(r"`(--[a-z-]+)", block))  # flags named in the prose after it
    assert {"--public-url", "--overlap", "--show-columns", "--db"} <= used
    assert used <= options, sorted(used - options)


def test_every_route_of_the_team_setup_exists(tmp_path) -> None:
    from activelab.store import Store

    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    pid, _ = store.create_project("p", ["a", "b"], [("0", "text", "x")])
    paths = set(create_app(store, pid).openapi()["paths"])
    used = set(re.findall(r"https://label\.example\.org(/api/[a-z/]+)", _team_block()))
    assert {"/api/admin/annotators", "/api/admin/disagreements"} <= used
    assert used <= paths, sorted(used - paths)
    store.close()
