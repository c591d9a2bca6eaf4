"""The serving commands refuse a bad or busy port with one line and exit code 2."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from activelab.cli import app


@pytest.fixture()
def busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("command", [["ls-backend", "--labels", "a,b"],
                                     ["label", "items.txt", "--labels", "a,b"]])
def test_busy_port_is_one_clear_line(command, busy_port, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "items.txt").write_text("one\ntwo\nthree\n")
    result = CliRunner().invoke(app, [*command, "--port", str(busy_port)],
                                env={"COLUMNS": "400"})
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{busy_port}" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "activelab.db").exists()


@pytest.mark.parametrize("command", [["ls-backend", "--labels", "a,b"],
                                     ["label", "items.txt", "--labels", "a,b"]])
def test_port_out_of_range(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, [*command, "--port", "70000"], env={"COLUMNS": "400"})
    assert result.exit_code == 2
    assert "--port must be between 1 and 65535" in result.output
