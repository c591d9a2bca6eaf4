"""Helpers of the tests that drive the real labeling server and the page in chromium."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import test_app_crash as server

from _cli_probe import REPORT_IMPORTS

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason="needs Debian's chromium at /usr/bin/chromium (make system-deps)")


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0) -> None:
    """Poll from Python (the page's CSP forbids the string predicates of wait_for_function)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@dataclass
class CliResult:
    """What a finished ``activelab`` subprocess printed and returned."""

    returncode: int
    output: str


def run_cli(args: list[str], cwd: Path, timeout: float = 120) -> CliResult:
    """``activelab ARGS`` in a subprocess (one that would serve instead of failing times out).

    The output ends with a line ``imported: ...`` naming the heavy libraries loaded by then.
    """
    cmd = [sys.executable, "-c", REPORT_IMPORTS, *args]
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              env=server.server_env() | {"COLUMNS": "400"})
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"activelab {' '.join(args)} did not exit") from exc
    return CliResult(done.returncode, done.stdout + done.stderr)


@contextmanager
def live_server(args: list[str], cwd: Path) -> Iterator[tuple[str, str, list[str]]]:
    """``activelab label ARGS`` in a subprocess: yields (base URL, admin token, output lines)."""
    port = server.free_port()
    proc, lines = server.start_server(args, cwd, port)
    token = next(ln.split(": ", 1)[1].strip() for ln in lines if ln.startswith("admin token:"))
    try:
        yield f"http://127.0.0.1:{port}", token, lines
    finally:
        server.kill_group(proc, signal.SIGTERM)


@contextmanager
def chromium_page(url: str) -> Iterator[Any]:
    """A page of a headless chromium, opened at ``url``."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(url)
            yield page
        finally:
            browser.close()


def shown_item(page: Any) -> str:
    """The pool id of the item the page shows ("" when none)."""
    return page.get_attribute("#item", "data-item-id") or ""


def api(base: str, token: str, path: str) -> Any:
    """GET an API route with a token; the decoded JSON."""
    r = httpx.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    r.raise_for_status()
    return r.json() if r.headers.get("content-type") == "application/json" else r.text


def next_item(base: str, token: str, timeout: float = 30.0) -> dict[str, Any]:
    """The next item leased to ``token`` (waits while the queue is still empty)."""
    got: list[dict[str, Any]] = []

    def ask() -> bool:
        got.extend(api(base, token, "/api/next?n=1")["items"])
        return bool(got)

    wait_until(ask, timeout)
    return got[0]


def exported_labels(base: str, token: str) -> list[dict[str, Any]]:
    """The project's labels, as the admin's JSONL export gives them."""
    text = api(base, token, "/api/admin/export/labels?format=jsonl")
    return [json.loads(line) for line in text.splitlines()]
