"""``activelab label`` on bad input: one line, exit code 2, nothing left behind; arguments
are checked before any heavy library loads, the data before the web server does."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_app_crash as server

from _live import run_cli

pytestmark = pytest.mark.slow


def _files(tmp_path: Path) -> None:
    (tmp_path / "ok.csv").write_text("text\nhello there\ngeneral kenobi\nnice day\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "latin1.csv").write_bytes("text\ncaf\xe9 cr\xe8me\n".encode("latin-1"))
    (tmp_path / "blank.csv").write_text('id,text\n1,""\n2,"  "\n3,\n')


def _refused(tmp_path: Path, args: list[str], says: str, command: str = "label") -> str:
    result = run_cli([command, *args, "--port", str(server.free_port())], tmp_path)
    lines = [ln for ln in result.output.splitlines() if not ln.startswith("imported:")]
    assert result.returncode == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert says in lines[0], result.output
    assert not (tmp_path / "activelab.db").exists()
    assert not (tmp_path / "activelab-projects").exists()
    return result.output.splitlines()[-1].removeprefix("imported:").strip()


ARGUMENTS = [
    (["missing.csv", "--labels", "a,b"], "DATA 'missing.csv' does not exist"),
    (["ok.csv"], "--labels is required for a new project"),
    (["ok.csv", "--labels", "a,a"], "--labels has 'a' twice"),
    (["ok.csv", "--labels", "spam"], "--labels needs at least two labels"),
    (["ok.csv", "--labels", "a," + "x" * 300], "at most 200 characters"),
    (["ok.csv", "--labels", "a,b", "--batch", "0"], "batch must be at least 1"),
    (["ok.csv", "--labels", "a,b", "--random-share", "1"],
     "--random-share must be a number from 0 up to (not including) 1, e.g. 0.1 (0 turns"),
    (["ok.csv", "--labels", "a,b", "--random-share", "-0.1"], "--random-share must be"),
    (["ok.csv", "--labels", "a,b", "--random-share", "nan"], "--random-share must be"),
    (["ok.csv", "--labels", "a,b", "--db", "sqlite:///no/such/dir/x.db"],
     "the folder 'no/such/dir' of --db does not exist"),
    (["ok.csv", "--labels", "a,b", "--db", "mysql://u@h/db"], "is not supported"),
]


@pytest.mark.parametrize(("args", "says"), ARGUMENTS, ids=[a[1][:30] for a in ARGUMENTS])
def test_bad_arguments_are_refused_before_anything_heavy_loads(tmp_path, args, says) -> None:
    _files(tmp_path)
    assert _refused(tmp_path, args, says) == ""


def test_a_folder_as_database_is_refused(tmp_path) -> None:
    _files(tmp_path)
    (tmp_path / "dbdir").mkdir()
    _refused(tmp_path, ["ok.csv", "--labels", "a,b", "--db", "sqlite:///dbdir"],
             "--db 'dbdir' is a folder")


DATA = [
    (["ok.csv", "--labels", "a,b", "--text-column", "body"], "--text-column 'body' is not a"),
    (["empty.csv", "--labels", "a,b"], "DATA 'empty.csv' could not be read"),
    (["latin1.csv", "--labels", "a,b"], "is not UTF-8"),
    (["blank.csv", "--labels", "a,b"], "--text-column 'text' is empty in every row"),
]


@pytest.mark.parametrize(("args", "says"), DATA, ids=[a[1][:30] for a in DATA])
def test_bad_data_is_refused_before_the_web_server_loads(tmp_path, args, says) -> None:
    _files(tmp_path)
    loaded = _refused(tmp_path, args, says).split(",")
    assert "fastapi" not in loaded and "uvicorn" not in loaded


def test_database_that_cannot_be_opened_is_one_line(tmp_path) -> None:
    _files(tmp_path)
    # root may write anywhere but in /proc: the folder exists, the file cannot be created
    _refused(tmp_path, ["ok.csv", "--labels", "a,b", "--db", "sqlite:////proc/activelab.db"],
             "cannot open the database sqlite:////proc/activelab.db")
    url = f"postgresql://postgres:secret@127.0.0.1:{server.free_port()}/nothing"
    _refused(tmp_path, ["ok.csv", "--labels", "a,b", "--db", url],
             "cannot open the database postgresql://postgres:***@127.0.0.1")


def test_label_studio_backend_database_errors_are_one_line(tmp_path) -> None:
    _refused(tmp_path, ["--labels", "a,b", "--db", "sqlite:///no/dir/ls.db"],
             "the folder 'no/dir' of --db does not exist", command="ls-backend")
    url = f"postgresql://postgres@127.0.0.1:{server.free_port()}/nothing"
    _refused(tmp_path, ["--labels", "a,b", "--db", url], "cannot open the database",
             command="ls-backend")
