"""The ``activelab`` command line: thin commands that parse, call the library, print."""

from __future__ import annotations

import typer

from . import benchmark, label, ls_backend, score, simulate
from ._errors import run_app

app = typer.Typer(
    name="activelab",
    help="Active learning: find the few examples worth labeling.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (simulate, benchmark, label, ls_backend, score):
    _module.register(app)


def main() -> None:
    """Entry point of the ``activelab`` script.

    A mistyped option or value (``--pool``, ``--port x``, a missing argument) is one line
    and exit code 2 like every other bad input, not click's framed usage panel.
    """
    run_app(app)
