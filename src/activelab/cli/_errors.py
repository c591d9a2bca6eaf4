"""Turn bad input into one clear line and exit code 2 (no traceback)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

USAGE_ERROR = 2


class UsageError(Exception):
    """A problem with what the user asked for; the message says what to do."""


def fail(message: str) -> None:
    """Print ``error: message`` on stderr and exit with code 2."""
    try:
        from rich.console import Console

        Console(stderr=True, highlight=False).print(
            f"[bold red]error:[/] {message}", markup=True, soft_wrap=True
        )
    except Exception:  # rich missing or message has markup-like text
        print(f"error: {message}", file=sys.stderr)
    raise SystemExit(USAGE_ERROR)


def friendly_errors(func: F) -> F:
    """Decorator for CLI commands: user errors become one line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (UsageError, ValueError, TypeError, FileNotFoundError, PermissionError,
                IsADirectoryError, ImportError) as exc:
            fail(str(exc).replace("\n", " "))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise SystemExit(130) from None

    return wrapper  # type: ignore[return-value]


def _click_exceptions() -> Any:
    """The exceptions module of the click that typer runs on (recent typer carries its own)."""
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions
    return exceptions


def run_app(app: Any) -> None:
    """Run the typer ``app``; click's usage errors become ``error: ...`` on one line.

    The asking for help (no arguments, ``--help``) and its exit codes are unchanged.
    """
    import typer

    cx = _click_exceptions()
    try:
        code = app(standalone_mode=False)
    except cx.NoArgsIsHelpError as exc:  # `activelab` alone: the help, as before
        print(exc.ctx.get_help() if exc.ctx else str(exc))
        raise SystemExit(exc.exit_code) from None
    except cx.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "activelab"
        fail(f"{exc.format_message().rstrip('.')}; see `{where} --help`.")
    except cx.ClickException as exc:
        fail(exc.format_message())
    except typer.Abort:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    if isinstance(code, int) and code != 0:
        raise SystemExit(code)


def check_port(host: str, port: int) -> None:
    """Fail with one line when ``port`` is out of range or already taken on ``host``."""
    import socket

    if not 0 < port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, got {port}.")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
                "pass another --port or stop the program using it."
            ) from None
