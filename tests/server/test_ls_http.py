"""The backend over real HTTP: a webhook flood, and Label Studio's API played by a local server.

The Label Studio side is a small ``http.server`` on 127.0.0.1 that serves the recorded
export and records what the backend sends back (no mocking library).
"""

from __future__ import annotations

import copy
import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from _ls_fixtures import FIXTURES, needs_fixtures
from activelab.server.labelstudio import LSBackendConfig, create_app

pytestmark = needs_fixtures

TOKEN = "0123456789abcdef0123456789abcdef01234567"

MORE_LABELS = [
    (2, "Terrible service, never again", "Negative"),
    (3, "awful it broke after two days", "Negative"),
    (4, "great quality, I love it", "Positive"),
    (5, "it is okay, nothing special", "Neutral"),
    (6, "average product, okay price", "Neutral"),
]
UNLABELED = [
    (11, "love it, great"),
    (12, "never again, awful"),
    (13, "okay I guess"),
    (14, "great but broke"),
]


def recorded(name: str) -> dict:
    body = json.loads((FIXTURES / name).read_text())["body"]
    if isinstance(body.get("tasks"), list):
        body["tasks"] = [t for t in body["tasks"] if isinstance(t, dict)]
    return body


def export_tasks(include_unlabeled: bool) -> list[dict]:
    """The recorded JSON export, grown by copies of its task with other texts and labels."""
    [recorded_task] = json.loads((FIXTURES / "export_JSON.json").read_text())
    tasks = [recorded_task]
    for task_id, text, label in MORE_LABELS:
        task = copy.deepcopy(recorded_task)
        task["id"] = task["inner_id"] = task_id
        task["data"] = {"text": text}
        ann = task["annotations"][0]
        ann["id"], ann["task"] = 100 + task_id, task_id
        ann["result"][0]["value"]["choices"] = [label]
        tasks.append(task)
    if include_unlabeled:
        for task_id, text in UNLABELED:
            task = copy.deepcopy(recorded_task)
            task["id"] = task["inner_id"] = task_id
            task["data"] = {"text": text}
            task["annotations"] = []
            task["total_annotations"] = 0
            tasks.append(task)
    return tasks


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that keeps test output quiet and answers JSON."""

    def log_message(self, *args):
        pass

    def _reply(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class LoopbackServer:
    """A threaded HTTP server on a free loopback port (``url``), served inside ``with``."""

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def assert_stored_is_what_predict_gives(client: TestClient, held: dict[int, dict]) -> None:
    """The predictions Label Studio holds (``held``, by task) are those ``/predict`` gives
    now for the unlabeled tasks."""
    body = recorded("predict_request_batch.json")
    body["tasks"] = [{"id": i, "data": {"text": text}} for i, text in UNLABELED]
    now = client.post("/predict", json=body).json()["results"]
    for (task_id, _), pred in zip(UNLABELED, now, strict=True):
        assert held[task_id]["result"] == pred["result"]
        assert held[task_id]["score"] == pytest.approx(pred["score"], abs=0.05)


class FakeLabelStudio(LoopbackServer):
    """Label Studio's export, prediction import, data-manager action and project update
    endpoints."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str | None, object]] = []
        owner = self

        class Handler(JsonHandler):
            def _record(self) -> tuple[str, object]:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                owner.requests.append(
                    (self.command, self.path, self.headers.get("Authorization"), body))
                return urlsplit(self.path).path, body

            def do_GET(self):
                path, _ = self._record()
                if self.headers.get("Authorization") != f"Token {TOKEN}":
                    return self._reply(401, {"detail": "no token"})
                if path == "/api/projects/1/export":
                    query = parse_qs(urlsplit(self.path).query)
                    everything = query.get("download_all_tasks") == ["true"]
                    return self._reply(200, export_tasks(include_unlabeled=everything))
                return self._reply(404, {"detail": "not found"})

            def do_POST(self):
                path, body = self._record()
                if path == "/api/projects/1/import/predictions":
                    return self._reply(201, {"created": len(body)})
                if path == "/api/dm/actions":  # e.g. delete_tasks_predictions
                    return self._reply(200, {"processed_items": len(
                        (body or {}).get("selectedItems", {}).get("included", []))})
                return self._reply(404, {"detail": "not found"})

            def do_PATCH(self):
                path, body = self._record()
                if path == "/api/projects/1":
                    return self._reply(200, {"id": 1, **body})
                return self._reply(404, {"detail": "not found"})

        self._serve(Handler)

    def calls(self, method: str, path: str) -> list:
        return [r for r in self.requests if r[0] == method and urlsplit(r[1]).path == path]


@pytest.fixture
def fake_ls():
    with FakeLabelStudio() as server:
        yield server


def _client(tmp_path, **settings) -> TestClient:
    settings.setdefault("db", f"sqlite:///{tmp_path / 'ls.db'}")
    return TestClient(create_app(LSBackendConfig(**settings)))


def _setup_body(url: str) -> dict:
    body = recorded("setup_request.json")
    body["hostname"] = url
    body["access_token"] = TOKEN
    return body


def test_start_training_fetches_annotations_with_the_setup_token(tmp_path, fake_ls):
    with _client(tmp_path) as client:
        r = client.post("/setup", json=_setup_body(fake_ls.url))
        assert r.json()["model_version"] == "activelab-entropy-v0"
        r = client.post("/webhook", json=recorded("webhook_START_TRAINING.json"))
        assert r.status_code == 201 and r.json()["queued"] is True
        backend = client.app.state.backend
        assert backend.wait_idle(60), backend.errors
        assert backend.errors == []
        [(method, path, auth, _)] = fake_ls.requests
        assert (method, urlsplit(path).path, auth) == (
            "GET", "/api/projects/1/export", f"Token {TOKEN}")
        labels = {t.task_id: t.choices[0] for t in backend.state.labeled_tasks("1")}
        assert labels == {1: "Positive", **{i: label for i, _, label in MORE_LABELS}}
        r = client.post("/setup", json=_setup_body(fake_ls.url))
        assert r.json()["model_version"] == "activelab-entropy-v1"
        # nothing is pushed without the flag
        assert fake_ls.calls("POST", "/api/projects/1/import/predictions") == []


def test_start_training_replaces_stale_labels(tmp_path, fake_ls):
    with _client(tmp_path) as client:
        client.post("/setup", json=_setup_body(fake_ls.url))
        stale = recorded("webhook_ANNOTATION_CREATED.json")
        stale["annotation"]["id"], stale["task"]["id"] = 999, 999
        client.post("/webhook", json=stale)
        client.post("/webhook", json=recorded("webhook_START_TRAINING.json"))
        backend = client.app.state.backend
        assert backend.wait_idle(60)
        assert 999 not in {t.task_id for t in backend.state.labeled_tasks("1")}


def test_push_predictions_for_unlabeled_tasks(tmp_path, fake_ls):
    with _client(tmp_path, push_predictions=True, strategy="least_confident") as client:
        client.post("/setup", json=_setup_body(fake_ls.url))
        client.post("/webhook", json=recorded("webhook_START_TRAINING.json"))
        backend = client.app.state.backend
        assert backend.wait_idle(60), backend.errors
        assert backend.errors == []
        # one stable version for every push (the project's model version)
        version = "activelab-least_confident-ranked"
        assert client.post("/setup", json=_setup_body(fake_ls.url)).json()["model_version"] \
            == version
        [push] = fake_ls.calls("POST", "/api/projects/1/import/predictions")
        sent = push[3]
        assert push[2] == f"Token {TOKEN}"
        assert [p["task"] for p in sent] == [task_id for task_id, _ in UNLABELED]
        assert all(p["model_version"] == version for p in sent)
        [patch] = fake_ls.calls("PATCH", "/api/projects/1")
        assert patch[3] == {"model_version": version}
        # the pushed predictions are the ones /predict gives for the same tasks
        tasks = [{"id": i, "data": {"text": text}} for i, text in UNLABELED]
        body = recorded("predict_request_batch.json")
        body["tasks"] = tasks
        results = client.post("/predict", json=body).json()["results"]
        assert [r["score"] for r in results] == pytest.approx([p["score"] for p in sent])
        assert [r["result"] for r in results] == [p["result"] for p in sent]


def test_start_training_reports_label_studio_errors(tmp_path, fake_ls):
    with _client(tmp_path) as client:
        body = _setup_body(fake_ls.url)
        body["access_token"] = "wrong-token"
        client.post("/setup", json=body)
        client.post("/webhook", json=recorded("webhook_START_TRAINING.json"))
        backend = client.app.state.backend
        assert backend.wait_idle(60)
        assert any("401" in e for e in backend.errors)
        assert backend.state.versions("1") == []


class RunningBackend:
    """The backend's app served by uvicorn on a free loopback port."""

    def __init__(self, app) -> None:
        self.app = app
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def test_webhook_flood_loses_no_annotation(tmp_path):
    n = 120
    words = ["love great fine", "awful broke bad", "okay average so-so"]
    labels = ["Positive", "Negative", "Neutral"]
    template = recorded("webhook_ANNOTATION_CREATED.json")

    def event(i: int) -> dict:
        body = copy.deepcopy(template)
        body["annotation"]["id"] = 1000 + i
        body["annotation"]["task"] = i
        body["annotation"]["result"][0]["value"]["choices"] = [labels[i % 3]]
        body["task"]["id"] = i
        body["task"]["data"] = {"text": f"{words[i % 3]} item {i}"}
        return body

    app = create_app(LSBackendConfig(db=f"sqlite:///{tmp_path / 'flood.db'}"))
    backend = app.state.backend
    with RunningBackend(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        assert http.post("/setup", json=recorded("setup_request.json")).status_code == 200

        def send(i: int) -> tuple[int, float]:
            start = time.perf_counter()
            r = http.post("/webhook", json=event(i))
            return r.status_code, time.perf_counter() - start

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(send, range(n)))
        assert [status for status, _ in answers] == [201] * n
        # acknowledged well inside Label Studio's 1 s webhook timeout
        assert statistics.median(seconds for _, seconds in answers) < 0.5
        assert backend.wait_idle(120), backend.errors
        assert backend.errors == []
        stored = backend.state.labeled_tasks("1")
        assert sorted(t.task_id for t in stored) == list(range(n))
        assert all(t.choices == [labels[t.task_id % 3]] for t in stored)
        latest = backend.state.latest_version("1")
        assert latest["n_labels"] == n  # the final model saw every label
        versions = http.get("/versions", params={"project": "1"}).json()
        assert versions["model_version"] == latest["version"]
        assert 1 <= len(versions["versions"]) <= n
