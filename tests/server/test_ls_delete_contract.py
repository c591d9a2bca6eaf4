"""The backend's prediction deletes against Label Studio 1.23.2's own rules.

The fake below answers ``POST /api/dm/actions`` the way Label Studio's ``ProjectActionsAPI``
does (the project an integer in the query, ``id`` required, ``selectedItems`` from the JSON
body, every prediction of the selected tasks deleted, ``processed_items`` counting
predictions), and holds predictions shaped as the recorded ``GET /api/predictions?project=``
answer (``ls_stored_predictions.json``).  The project key of ``/setup`` is the recorded
``"1.1795632400"``.  After pushes, Label Studio must hold exactly one prediction per unlabeled
task: ours, of the version ``/setup`` reports, and equal to what ``/predict`` answers.
"""

from __future__ import annotations

import copy
import json
from urllib.parse import parse_qs, urlsplit

from test_ls_http import (
    TOKEN,
    UNLABELED,
    JsonHandler,
    LoopbackServer,
    _client,
    _setup_body,
    assert_stored_is_what_predict_gives,
    export_tasks,
    recorded,
)

from _ls_fixtures import FIXTURES, needs_fixtures

pytestmark = needs_fixtures

#: The actions of Label Studio's data manager (its ``id`` enum).
ACTIONS = {"retrieve_tasks_predictions", "predictions_to_annotations", "remove_duplicates",
           "delete_tasks", "delete_ground_truths", "delete_tasks_annotations",
           "delete_tasks_reviews", "delete_tasks_predictions", "delete_reviewers",
           "delete_annotators"}


class StrictLabelStudio(LoopbackServer):
    """Export, prediction import and list, data-manager actions, project update: with Label
    Studio's checks, and predictions kept as it keeps them."""

    def __init__(self, stored: list[dict]) -> None:
        self.predictions = [copy.deepcopy(p) for p in stored]
        self.refused: list[tuple[int, str]] = []
        self.actions: list[dict] = []
        owner = self

        class Handler(JsonHandler):
            def _reply(self, status: int, payload: object) -> None:
                if status >= 400:
                    owner.refused.append((status, self.path))
                super()._reply(status, payload)

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length)) if length else {}

            def _route(self):
                if self.headers.get("Authorization") != f"Token {TOKEN}":
                    return self._reply(401, {"detail": "no token"})
                return urlsplit(self.path).path, parse_qs(urlsplit(self.path).query)

            def do_GET(self):
                path, query = self._route()
                if path == "/api/projects/1/export":
                    return self._reply(200, export_tasks(
                        include_unlabeled=query.get("download_all_tasks") == ["true"]))
                if path.rstrip("/") == "/api/predictions":
                    return self._reply(200, owner.predictions)
                return self._reply(404, {"detail": "not found"})

            def do_POST(self):
                path, query = self._route()
                body = self._body()
                if path == "/api/projects/1/import/predictions":
                    return self._reply(201, {"created": owner.add(body)})
                if path == "/api/dm/actions":
                    status, payload = owner.action(query, body)
                    return self._reply(status, payload)
                return self._reply(404, {"detail": "not found"})

            def do_PATCH(self):
                path, _ = self._route()
                body = self._body()
                return self._reply(200, {"id": 1, **body}) if path == "/api/projects/1" \
                    else self._reply(404, {"detail": "not found"})

        self._serve(Handler)

    def add(self, predictions: list[dict]) -> int:
        for p in predictions:  # what the import serializer requires
            assert isinstance(p["task"], int) and isinstance(p["result"], list)
            assert isinstance(p["score"], float) and isinstance(p["model_version"], str)
        top = max((p["id"] for p in self.predictions), default=0)
        self.predictions += [dict(p, id=top + k + 1, project=1)
                             for k, p in enumerate(predictions)]
        return len(predictions)

    def action(self, query: dict, body: dict) -> tuple[int, dict]:
        """``ProjectActionsAPI.post`` and ``delete_tasks_predictions``."""
        project = (query.get("project") or ["0"])[0]
        if not project.isdigit() or int(project) != 1:
            return 404, {"detail": "Not found."}
        action = (query.get("id") or [None])[0]
        if action is None:
            return 422, {"detail": 'No action id "None", use ?id=<action-id>'}
        if action not in ACTIONS:
            return 422, {"detail": f"Can't find '{action}' in registered actions"}
        selected = body.get("selectedItems", {"all": True, "excluded": []})
        if not isinstance(selected, dict) or not isinstance(selected.get("all"), bool):
            return 400, {"detail": "selectedItems must be a dict with 'all'"}
        self.actions.append({"id": action, "selectedItems": selected})
        if selected["all"]:  # everything but "excluded": a missing body would wipe the project
            tasks = {p["task"] for p in self.predictions} - set(selected.get("excluded", []))
        else:
            included = selected.get("included")
            assert isinstance(included, list) and all(isinstance(t, int) for t in included)
            tasks = set(included)
        gone = [p for p in self.predictions if p["task"] in tasks]
        self.predictions = [p for p in self.predictions if p["task"] not in tasks]
        return 200, {"processed_items": len(gone), "detail": f"Deleted {len(gone)} predictions"}


def _stored_for_unlabeled() -> list[dict]:
    """The recorded stored predictions, moved onto the unlabeled tasks (an older model's)."""
    stored = json.loads((FIXTURES / "ls_stored_predictions.json").read_text())["predictions"]
    return [dict(p, task=task_id) for p, (task_id, _) in zip(stored, UNLABELED, strict=False)]


def test_pushes_leave_exactly_one_current_prediction_per_unlabeled_task(tmp_path) -> None:
    stored = _stored_for_unlabeled()
    assert {p["model_version"] for p in stored} == {"mock-v1"}
    with StrictLabelStudio(stored) as ls, _client(tmp_path, push_predictions=True,
                                                  push_interval=3600.0) as client:
        backend = client.app.state.backend
        setup = _setup_body(ls.url)
        assert setup["project"] == "1.1795632400"  # the recorded key: id and timestamp
        client.post("/setup", json=setup)
        client.post("/webhook", json=recorded("webhook_START_TRAINING.json"))
        assert backend.wait_idle(60) and backend.errors == []
        assert ls.refused == []  # every call passed Label Studio's checks
        assert ls.actions and all(a["id"] == "delete_tasks_predictions"
                                  and a["selectedItems"]["all"] is False for a in ls.actions)
        version = client.post("/setup", json=setup).json()["model_version"]
        held = {}
        for p in ls.predictions:
            assert p["task"] not in held, f"task {p['task']} holds two predictions"
            held[p["task"]] = p
        assert sorted(held) == [t for t, _ in UNLABELED]  # the older ones are replaced
        assert {p["model_version"] for p in held.values()} == {version}
        assert_stored_is_what_predict_gives(client, held)
