"""The Label Studio backend for a team: deletes after a sync, batches with unreadable
images, the reason of a 400 in the log, few and clean prediction pushes, project set-up."""

from __future__ import annotations

import copy
import logging
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from test_ls_http import (
    MORE_LABELS,
    TOKEN,
    UNLABELED,
    FakeLabelStudio,
    _client,
    _setup_body,
    assert_stored_is_what_predict_gives,
    recorded,
)

from _ls_fixtures import needs_fixtures

pytestmark = needs_fixtures


@pytest.fixture
def fake_ls():
    with FakeLabelStudio() as server:
        yield server


def _labels(backend) -> dict[int, str]:
    return {t.task_id: t.choices[0] for t in backend.state.labeled_tasks("1")}


def _deleted(annotation_id: int) -> dict:
    body = recorded("webhook_ANNOTATION_CREATED.json")
    return {"action": "ANNOTATIONS_DELETED", "project": body["project"],
            "annotations": [{"id": annotation_id}]}


def _updated(task_id: int, annotation_id: int, text: str, label: str) -> dict:
    body = recorded("webhook_ANNOTATION_CREATED.json")
    body["action"] = "ANNOTATION_UPDATED"
    body["annotation"].update(id=annotation_id, task=task_id)
    body["annotation"]["result"][0]["value"]["choices"] = [label]
    body["task"].update(id=task_id, data={"text": text})
    return body


def test_delete_and_edit_after_start_training(tmp_path, fake_ls) -> None:
    with _client(tmp_path) as client:
        backend = client.app.state.backend
        client.post("/setup", json=_setup_body(fake_ls.url))
        client.post("/webhook", json=recorded("webhook_START_TRAINING.json"))
        assert backend.wait_idle(60) and backend.errors == []
        assert 3 in _labels(backend)
        # task 3's annotation (id 103) is deleted in Label Studio: it stops teaching the model
        r = client.post("/webhook", json=_deleted(103))
        assert r.json()["removed"] == 1
        assert backend.wait_idle(60)
        assert 3 not in _labels(backend)
        assert backend.state.latest_version("1")["n_labels"] == len(MORE_LABELS)  # 6 - 1
        # task 4's annotation (id 104) is edited: one row, the new label
        before = backend.state.n_annotations("1")
        client.post("/webhook", json=_updated(4, 104, "great quality, I love it", "Negative"))
        assert backend.wait_idle(60)
        assert _labels(backend)[4] == "Negative"
        assert backend.state.n_annotations("1") == before


def test_delete_after_legacy_train(tmp_path, fake_ls) -> None:
    from test_ls_http import export_tasks

    with _client(tmp_path) as client:
        backend = client.app.state.backend
        client.post("/setup", json=_setup_body(fake_ls.url))
        body = recorded("setup_request.json")
        client.post("/train", json={"project": body["project"], "label_config": body["schema"],
                                    "annotations": export_tasks(include_unlabeled=False)})
        assert backend.wait_idle(60) and 5 in _labels(backend)
        assert client.post("/webhook", json=_deleted(105)).json()["removed"] == 1
        assert 5 not in _labels(backend)


IMAGE_CONFIG = ('<View><Image name="image" value="$image"/><Choices name="shade" '
                'toName="image"><Choice value="dark"/><Choice value="light"/></Choices></View>')


def test_unreadable_images_get_an_empty_prediction_and_an_error(tmp_path) -> None:
    from PIL import Image

    root = tmp_path / "media"
    (root / "upload" / "1").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(6):
        pixels = np.clip(rng.normal(230 if i % 2 else 20, 5, (8, 8)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(root / "upload" / "1" / f"{i}.png")
    with _client(tmp_path, image_root=str(root), image_size=(4, 4)) as client:
        backend = client.app.state.backend
        client.post("/setup", json={"project": "2.1", "schema": IMAGE_CONFIG})
        for i in range(4):
            body = recorded("webhook_ANNOTATION_CREATED.json")
            body["project"] = {"id": 2}
            body["annotation"].update(id=i + 1, task=i + 1)
            body["annotation"]["result"][0].update(from_name="shade", to_name="image")
            body["annotation"]["result"][0]["value"]["choices"] = ["light" if i % 2 else "dark"]
            body["task"].update(id=i + 1, data={"image": f"/data/upload/1/{i}.png"})
            client.post("/webhook", json=body)
        assert backend.wait_idle(60)
        tasks = [{"id": 10, "data": {"image": "/data/upload/1/4.png"}},
                 {"id": 11, "data": {"image": "/data/upload/1/missing.png"}},
                 {"id": 12, "data": {"image": "https://example.org/cat.png"}},
                 {"id": 13, "data": {"image": "/data/upload/../../secret.png"}},
                 {"id": 14, "data": {"image": "/data/upload/1/5.png"}}]
        r = client.post("/predict", json={"tasks": tasks, "project": "2.1"})
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert len(results) == 5
        assert [e["result"][0]["value"]["choices"][0] for e in (results[0], results[4])] == [
            "dark", "light"]
        assert results[1:4] == [[], [], []]  # nothing to show: Label Studio asks again later
        errors = client.get("/health").json()["last_error"]
        assert "task 13" in errors and "3 of 5 tasks" in errors
        assert any("task 11" in e for e in backend.errors)
        assert any("task 12" in e and "local files only" in e for e in backend.errors)


def test_the_reason_of_a_400_is_logged(tmp_path, caplog) -> None:
    with _client(tmp_path) as client, caplog.at_level(logging.WARNING,
                                                       logger="activelab.labelstudio"):
        r = client.post("/predict", json={"project": "1.1", "tasks": "not a list"})
        assert r.status_code == 400
        reason = r.json()["detail"]
        assert any(reason in rec.getMessage() and "/predict" in rec.getMessage()
                   for rec in caplog.records)
        r = client.post("/setup", content=b"{not json")
        assert r.status_code == 400
        assert any("the body must be JSON" in rec.getMessage() for rec in caplog.records)


def _pushes(fake) -> list[list[dict]]:
    return [r[3] for r in fake.calls("POST", "/api/projects/1/import/predictions")]


def _deletes(fake) -> list[list[int]]:
    out = []
    for method, path, _, body in fake.requests:
        query = parse_qs(urlsplit(path).query)
        if method == "POST" and urlsplit(path).path == "/api/dm/actions":
            assert query["id"] == ["delete_tasks_predictions"] and query["project"] == ["1"]
            out.append(body["selectedItems"]["included"])
    return out


def test_pushes_are_few_and_replace_what_they_supersede(tmp_path, fake_ls) -> None:
    with _client(tmp_path, push_predictions=True, push_interval=3600.0,
                 strategy="least_confident") as client:
        backend = client.app.state.backend
        client.post("/setup", json=_setup_body(fake_ls.url))
        client.post("/webhook", json=recorded("webhook_START_TRAINING.json"))
        assert backend.wait_idle(60) and backend.errors == []
        [first] = _pushes(fake_ls)  # the first model: every unlabeled task
        assert sorted(p["task"] for p in first) == [t for t, _ in UNLABELED]
        version = first[0]["model_version"]
        assert {p["model_version"] for p in first} == {version}
        assert fake_ls.calls("PATCH", "/api/projects/1")[-1][3] == {"model_version": version}
        # more labels within the push interval: retrains, but no push yet (debounced)
        for task_id, text, label in [(21, "love it, great value", "Positive"),
                                     (22, "broke, awful, never again", "Negative")]:
            body = copy.deepcopy(recorded("webhook_ANNOTATION_CREATED.json"))
            body["annotation"].update(id=200 + task_id, task=task_id)
            body["annotation"]["result"][0]["value"]["choices"] = [label]
            body["task"].update(id=task_id, data={"text": text})
            client.post("/webhook", json=body)
            assert backend.wait_idle(60)
        assert len(_pushes(fake_ls)) == 1 and backend.pending_pushes() == ["1"]
        backend.flush_pushes()  # what the timer does when the interval is over
        pushes, deletes = _pushes(fake_ls), _deletes(fake_ls)
        assert len(pushes) == 2
        changed = sorted(p["task"] for p in pushes[1])
        # only tasks whose prediction moved are sent again, each old one deleted first
        assert len(changed) < len(first) or changed == sorted(p["task"] for p in first)
        # the first push replaced whatever Label Studio held for those tasks
        assert deletes == [sorted(p["task"] for p in first), changed]
        assert all(p["model_version"] == version for p in pushes[1])
        # what Label Studio holds now is exactly what /predict gives
        held = {p["task"]: p for p in first} | {p["task"]: p for p in pushes[1]}
        assert_stored_is_what_predict_gives(client, held)


def test_prepare_project_sets_uncertainty_sampling(tmp_path, fake_ls) -> None:
    from _live import run_cli

    result = run_cli(["ls-backend", "--ls-url", fake_ls.url, "--ls-token", TOKEN,
                      "--prepare-project", "1"], tmp_path)
    assert result.returncode == 0, result.output
    [patch] = fake_ls.calls("PATCH", "/api/projects/1")
    assert patch[2] == f"Token {TOKEN}" and patch[3] == {"sampling": "Uncertainty sampling"}
    assert "--push-predictions" in result.output
