"""Serving a team: TLS, the public address in the links, loopback by default."""

from __future__ import annotations

import shutil
import signal
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest
import test_app_crash as server

from _live import run_cli

pytestmark = pytest.mark.slow


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_tls_and_the_public_address_in_every_link(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    (tmp_path / "t.txt").write_text("first item\nsecond item\nthird item\n")
    port = server.free_port()
    public = "https://label.example.org/team"
    proc, lines = server.start_server(
        [str(tmp_path / "t.txt"), "--labels", "a,b", "--db", f"sqlite:///{tmp_path / 's.db'}",
         "--project-dir", str(tmp_path / "p"), "--ssl-certfile", str(cert),
         "--ssl-keyfile", str(key), "--public-url", public + "/"], tmp_path, port, "https")
    try:
        token = next(ln.split(": ", 1)[1].strip() for ln in lines
                     if ln.startswith("admin token:"))
        assert f"open: {public}/#token={token}\n" in lines
        with httpx.Client(base_url=f"https://127.0.0.1:{port}",
                          verify=ssl.create_default_context(cafile=str(cert)),
                          headers={"Authorization": f"Bearer {token}"}) as c:
            assert c.get("/api/project").json()["public_url"] == public
            made = c.post("/api/admin/annotators", json={"name": "zoe"}).json()
            assert made["url"] == f"{public}/#token={made['token']}"
            page = c.get("/").text
            # the page asks for its files relative to its own address (a proxy may add a path)
            assert 'src="static/app.js"' in page and 'href="static/style.css"' in page
        with pytest.raises(httpx.HTTPError):  # plain HTTP is not served on a TLS port
            httpx.get(f"http://127.0.0.1:{port}/api/me", timeout=5)
    finally:
        server.kill_group(proc, signal.SIGTERM)


@pytest.mark.parametrize(("args", "says"), [
    (["--public-url", "label.example.org"], "--public-url must be a full address"),
    (["--public-url", "ftp://x.org"], "--public-url must be a full address"),
    (["--ssl-certfile", "cert.pem"], "give both --ssl-certfile and --ssl-keyfile"),
    (["--ssl-certfile", "nope.pem", "--ssl-keyfile", "nope.key"],
     "--ssl-certfile 'nope.pem' does not exist"),
])
def test_serving_options_are_checked(tmp_path: Path, args: list[str], says: str) -> None:
    (tmp_path / "t.txt").write_text("one\ntwo\n")
    (tmp_path / "cert.pem").write_text("x")
    result = run_cli(["label", "t.txt", "--labels", "a,b", *args], tmp_path)
    assert result.returncode == 2 and says in result.output, result.output
    assert not (tmp_path / "activelab.db").exists()
