"""Contract tests of the Label Studio ML backend: replay the recorded requests."""

from __future__ import annotations

import base64
import copy
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from _ls_fixtures import FIXTURES, needs_fixtures
from activelab.server.labelstudio import (
    SECRET_HEADER,
    LSBackend,
    LSBackendConfig,
    create_app,
    image_path_from_ls,
    project_key,
)

pytestmark = needs_fixtures


def recorded(name: str) -> dict:
    """A recorded request body; the recorder's '... (all tasks)' placeholders are dropped."""
    body = json.loads((FIXTURES / name).read_text())["body"]
    for key in ("tasks",):
        if isinstance(body.get(key), list):
            body[key] = [t for t in body[key] if isinstance(t, dict)]
    return body


TRAIN_TEXTS = [
    ("great product love it", "Positive"),
    ("love it works great", "Positive"),
    ("terrible awful broke", "Negative"),
    ("awful service terrible", "Negative"),
    ("it is okay average", "Neutral"),
    ("average okay nothing special", "Neutral"),
]


def annotation_event(task_id: int, text: str, label: str, annotation_id: int | None = None,
                     action: str = "ANNOTATION_CREATED", cancelled: bool = False) -> dict:
    """The recorded ANNOTATION_CREATED webhook, changed to another task and label."""
    body = recorded("webhook_ANNOTATION_CREATED.json")
    body["action"] = action
    ann = body["annotation"]
    ann["id"] = task_id if annotation_id is None else annotation_id
    ann["task"] = task_id
    ann["was_cancelled"] = cancelled
    ann["result"][0]["value"]["choices"] = [label]
    body["task"]["id"] = task_id
    body["task"]["data"] = {"text": text}
    return body


def predict_body(texts: list[str], first_id: int = 100) -> dict:
    body = recorded("predict_request_batch.json")
    template = body["tasks"][0]
    tasks = []
    for i, text in enumerate(texts):
        task = copy.deepcopy(template)
        task["id"] = first_id + i
        task["data"] = {"text": text}
        tasks.append(task)
    body["tasks"] = tasks
    return body


@pytest.fixture
def make_client(tmp_path):
    clients = []

    def make(**settings) -> TestClient:
        settings.setdefault("db", f"sqlite:///{tmp_path / 'ls.db'}")
        client = TestClient(create_app(LSBackendConfig(**settings)))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def backend_of(client: TestClient) -> LSBackend:
    return client.app.state.backend


def teach(client: TestClient, pairs=TRAIN_TEXTS, first_id: int = 1) -> None:
    for i, (text, label) in enumerate(pairs):
        r = client.post("/webhook", json=annotation_event(first_id + i, text, label))
        assert r.status_code == 201, r.text
    assert backend_of(client).wait_idle(60)


def test_health_is_json_and_up(make_client):
    client = make_client()
    for path in ("/health", "/"):
        r = client.get(path)
        assert r.status_code == 200
        assert r.json()["status"] == "UP"
        assert r.json()["strategy"] == "entropy"
        assert r.json()["busy"] is False and r.json()["last_error"] is None


def test_recorded_setup_returns_cold_version(make_client):
    client = make_client()
    r = client.post("/setup", json=recorded("setup_request.json"))
    assert r.status_code == 200
    assert r.json() == {"model_version": "activelab-entropy-v0"}


@pytest.mark.parametrize("name", ["predict_request_batch.json", "predict_request_single_task.json"])
def test_recorded_predict_before_training(make_client, name):
    client = make_client()
    body = recorded(name)
    r = client.post("/predict", json=body)
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == len(body["tasks"])
    for entry in results:
        assert set(entry) == {"result", "score", "model_version"}
        assert entry["result"] == []
        assert 0.0 <= entry["score"] < 1.0
        assert entry["model_version"] == "activelab-entropy-v0"


def test_recorded_annotation_webhook_is_stored(make_client):
    client = make_client()
    r = client.post("/webhook", json=recorded("webhook_ANNOTATION_CREATED.json"))
    assert r.status_code == 201
    assert r.json()["stored"] == 1
    backend = backend_of(client)
    assert backend.wait_idle(30)
    [task] = backend.state.labeled_tasks("1")
    assert (task.task_id, task.data, task.choices) == (
        1, {"text": "I love this product, it works great"}, ["Positive"])
    # one class only: no model yet, the version stays
    assert client.post("/setup", json=recorded("setup_request.json")).json()["model_version"] \
        == "activelab-entropy-v0"


@pytest.mark.parametrize("name", ["webhook_PROJECT_UPDATED.json", "webhook_TASKS_CREATED.json"])
def test_other_recorded_webhooks_are_acknowledged(make_client, name):
    client = make_client()
    r = client.post("/webhook", json=recorded(name))
    assert r.status_code == 201
    assert r.json()["ignored"] is True


def test_version_changes_after_retrain_and_predictions_follow(make_client):
    client = make_client()
    client.post("/setup", json=recorded("setup_request.json"))
    teach(client)
    version = client.post("/setup", json=recorded("setup_request.json")).json()["model_version"]
    assert version.startswith("activelab-entropy-v") and version != "activelab-entropy-v0"
    texts = ["love it great", "awful terrible", "okay average"]
    r = client.post("/predict", json=predict_body(texts))
    results = r.json()["results"]
    assert len(results) == 3
    assert [e["model_version"] for e in results] == [version] * 3
    assert [e["result"][0]["value"]["choices"] for e in results] == [
        ["Positive"], ["Negative"], ["Neutral"]]
    assert results[0]["result"][0]["from_name"] == "sentiment"
    assert results[0]["result"][0]["to_name"] == "text"
    # another label -> another version
    r = client.post("/webhook", json=annotation_event(50, "great great love", "Positive"))
    assert backend_of(client).wait_idle(60)
    newer = client.post("/setup", json=recorded("setup_request.json")).json()["model_version"]
    assert newer != version
    versions = client.get("/versions", params={"project": "1"}).json()
    assert versions["versions"][-1] == newer
    assert versions["model_version"] == newer


def test_scores_ascend_with_informativeness(make_client):
    client = make_client(strategy="margin")
    client.post("/setup", json=recorded("setup_request.json"))
    teach(client, TRAIN_TEXTS[:4])  # Positive vs Negative only
    texts = ["love great", "terrible awful", "love terrible", "great product love it"]
    results = client.post("/predict", json=predict_body(texts, first_id=200)).json()["results"]
    scores = np.array([e["score"] for e in results])
    # the mixed text is the one to label first, the clearest ones last
    order = np.argsort(scores)
    assert order[0] == 2
    # the score is exactly the margin of the model's probabilities
    backend = backend_of(client)
    model = backend.model("1")
    proba = model.estimator.predict_proba(model.featurizer.transform(texts))
    top2 = np.sort(proba, axis=1)[:, -2:]
    np.testing.assert_allclose(scores, top2[:, 1] - top2[:, 0], rtol=1e-6)


def test_predict_order_and_count_on_long_batch(make_client):
    client = make_client()
    client.post("/setup", json=recorded("setup_request.json"))
    teach(client)
    texts = [f"text number {i} {'love' if i % 2 else 'awful'}" for i in range(57)]
    body = predict_body(texts, first_id=1000)
    results = client.post("/predict", json=body).json()["results"]
    assert len(results) == 57
    # order kept: the prediction for task k is the one of that task alone
    single = client.post("/predict", json=predict_body([texts[13]], first_id=1013)).json()
    assert single["results"][0] == results[13]


def test_annotation_updates_and_deletes_change_the_labeled_set(make_client):
    client = make_client()
    client.post("/setup", json=recorded("setup_request.json"))
    teach(client)
    backend = backend_of(client)
    client.post("/webhook", json=annotation_event(1, TRAIN_TEXTS[0][0], "Neutral",
                                                  action="ANNOTATION_UPDATED"))
    assert backend.wait_idle(60)
    labels = {t.task_id: t.choices for t in backend.state.labeled_tasks("1")}
    assert labels[1] == ["Neutral"] and len(labels) == 6
    deleted = {"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 2}, {"id": 3}],
               "project": recorded("webhook_ANNOTATION_CREATED.json")["project"]}
    r = client.post("/webhook", json=deleted)
    assert r.json()["removed"] == 2
    client.post("/webhook", json=annotation_event(4, TRAIN_TEXTS[3][0], "Negative",
                                                  action="ANNOTATION_UPDATED", cancelled=True))
    assert backend.wait_idle(60)
    assert sorted(t.task_id for t in backend.state.labeled_tasks("1")) == [1, 5, 6]


def test_state_survives_a_restart(make_client):
    first = make_client()
    first.post("/setup", json=recorded("setup_request.json"))
    teach(first)
    version = first.post("/setup", json=recorded("setup_request.json")).json()["model_version"]
    scores = [e["score"] for e in first.post(
        "/predict", json=predict_body(["love okay", "awful"])).json()["results"]]
    first.__exit__(None, None, None)

    second = make_client()  # same database file
    r = second.post("/setup", json=recorded("setup_request.json"))
    assert r.json()["model_version"] == version  # same labels, same version
    again = second.post("/predict", json=predict_body(["love okay", "awful"])).json()["results"]
    assert [e["score"] for e in again] == pytest.approx(scores)
    assert len(backend_of(second).state.labeled_tasks("1")) == len(TRAIN_TEXTS)
    second.post("/webhook", json=annotation_event(77, "love love", "Positive"))
    assert backend_of(second).wait_idle(60)
    assert second.get("/versions", params={"project": "1"}).json()["model_version"] != version


def test_legacy_train_with_annotations(make_client):
    client = make_client()
    config = recorded("setup_request.json")["schema"]
    annotations = [
        {"id": i + 1, "result": [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                                  "value": {"choices": [label]}}],
         "task": {"id": i + 1, "data": {"text": text}}}
        for i, (text, label) in enumerate(TRAIN_TEXTS)
    ]
    r = client.post("/train", json={"annotations": annotations, "project": "1.1795632400",
                                    "label_config": config})
    assert r.status_code == 201
    assert backend_of(client).wait_idle(60)
    assert client.get("/versions", params={"project": "1"}).json()["versions"] == [
        "activelab-entropy-v1"]


def test_legacy_train_with_annotated_tasks(make_client):
    """Label Studio's own /train body: the annotated tasks, as in its JSON export."""
    client = make_client()
    [task] = json.loads((FIXTURES / "export_JSON.json").read_text())
    tasks = []
    for i, (text, label) in enumerate(TRAIN_TEXTS):
        t = copy.deepcopy(task)
        t["id"], t["data"] = i + 1, {"text": text}
        t["annotations"][0]["id"] = 100 + i  # Label Studio's annotation ids are unique
        t["annotations"][0]["result"][0]["value"]["choices"] = [label]
        tasks.append(t)
    body = {"annotations": tasks, "project": "1.1795632400",
            "label_config": recorded("setup_request.json")["schema"],
            "params": {"login": None, "password": None}}
    assert client.post("/train", json=body).status_code == 201
    backend = backend_of(client)
    assert backend.wait_idle(60)
    labels = {t.task_id: t.choices[0] for t in backend.state.labeled_tasks("1")}
    assert labels == {i + 1: label for i, (_, label) in enumerate(TRAIN_TEXTS)}
    assert backend.state.latest_version("1")["n_labels"] == len(TRAIN_TEXTS)


def test_committee_strategy_trains_a_committee(make_client):
    client = make_client(strategy="vote_entropy")
    client.post("/setup", json=recorded("setup_request.json"))
    teach(client)
    results = client.post("/predict", json=predict_body(["love great", "okay"])).json()["results"]
    current = client.get("/versions", params={"project": "1"}).json()["model_version"]
    assert current.startswith("activelab-vote_entropy-v") and current[-1] != "0"
    assert [e["model_version"] for e in results] == [current] * 2
    assert all(0.0 <= e["score"] <= 1.0 for e in results)


def test_labels_option_restricts_classes(make_client):
    client = make_client(labels=("Positive", "Negative"))
    client.post("/setup", json=recorded("setup_request.json"))
    teach(client)  # the Neutral labels are not learned
    results = client.post("/predict", json=predict_body(["okay average"])).json()["results"]
    assert results[0]["result"][0]["value"]["choices"][0] in ("Positive", "Negative")
    bad = make_client(labels=("Happy",), db="sqlite://")
    r = bad.post("/setup", json=recorded("setup_request.json"))
    assert r.status_code == 400 and "Happy" in r.json()["detail"]


def test_image_tasks_under_the_root(make_client, tmp_path):
    from PIL import Image

    root = tmp_path / "media"
    (root / "upload" / "1").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(6):
        value = 230 if i % 2 else 20
        pixels = np.clip(rng.normal(value, 5, (8, 8)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(root / "upload" / "1" / f"{i}.png")
    config = ('<View><Image name="image" value="$image"/><Choices name="shade" toName="image">'
              '<Choice value="dark"/><Choice value="light"/></Choices></View>')
    client = make_client(image_root=str(root), image_size=(4, 4))
    client.post("/setup", json={"project": "2.1", "schema": config})
    for i in range(4):
        body = annotation_event(i + 1, "", "light" if i % 2 else "dark")
        body["project"] = {"id": 2}
        body["task"]["data"] = {"image": f"/data/upload/1/{i}.png"}
        body["annotation"]["result"][0].update(from_name="shade", to_name="image")
        client.post("/webhook", json=body)
    assert backend_of(client).wait_idle(60)
    tasks = [{"id": 10 + i, "data": {"image": f"/data/upload/1/{i}.png"}} for i in (4, 5)]
    r = client.post("/predict", json={"tasks": tasks, "project": "2.1", "label_config": config})
    labels = [e["result"][0]["value"]["choices"][0] for e in r.json()["results"]]
    assert labels == ["dark", "light"]
    # an image outside the root, or remote, is never read: no prediction, and an error
    outside = [{"id": 99, "data": {"image": "/data/upload/../../secret.png"}}]
    r = client.post("/predict", json={"tasks": outside, "project": "2.1"})
    assert r.status_code == 200 and r.json()["results"] == [[]]
    assert "task 99" in backend_of(client).errors[-1]
    assert "outside" in backend_of(client).errors[-1]
    remote = [{"id": 98, "data": {"image": "https://example.org/cat.png"}}]
    r = client.post("/predict", json={"tasks": remote, "project": "2.1"})
    assert r.status_code == 200 and r.json()["results"] == [[]]
    assert "local files only" in backend_of(client).errors[-1]


def test_image_config_without_root_is_refused(make_client):
    config = ('<View><Image name="image" value="$image"/><Choices name="c" toName="image">'
              '<Choice value="a"/><Choice value="b"/></Choices></View>')
    r = make_client().post("/setup", json={"project": "3.1", "schema": config})
    assert r.status_code == 400 and "--image-root" in r.json()["detail"]


def _basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_basic_auth_on_setup_and_predict(make_client):
    client = make_client(basic_auth=("ls", "s3cret"))
    setup = recorded("setup_request.json")
    predict = recorded("predict_request_single_task.json")
    for path, body in (("/setup", setup), ("/predict", predict)):
        assert client.post(path, json=body).status_code == 401
        assert client.post(path, json=body, headers=_basic("ls", "wrong")).status_code == 401
        assert client.post(path, json=body, headers={"Authorization": "Basic !!"}).status_code \
            == 401
        assert client.post(path, json=body, headers=_basic("ls", "s3cret")).status_code == 200
    assert client.get("/versions").status_code == 401
    assert client.get("/health").status_code == 200
    # Label Studio sends no basic auth on webhooks: without a secret they stay open
    assert client.post("/webhook", json=recorded("webhook_PROJECT_UPDATED.json")).status_code \
        == 201


def test_webhook_secret(make_client):
    client = make_client(webhook_secret="hook-secret", basic_auth=("ls", "pw"))
    body = recorded("webhook_ANNOTATION_CREATED.json")
    assert client.post("/webhook", json=body).status_code == 401
    assert client.post("/webhook", json=body, headers={SECRET_HEADER: "nope"}).status_code == 401
    r = client.post("/webhook", json=body, headers={SECRET_HEADER: "hook-secret"})
    assert r.status_code == 201 and r.json()["stored"] == 1
    assert client.post("/webhook", json=body, headers=_basic("ls", "pw")).status_code == 201


def test_bad_bodies_get_clear_errors(make_client):
    client = make_client()
    assert client.post("/predict", content=b"not json").status_code == 400
    r = client.post("/predict", json={"project": "1.1"})
    assert r.status_code == 400 and "tasks" in r.json()["detail"]
    r = client.post("/predict", json={"tasks": [{"id": 1, "data": {"text": "x"}}],
                                      "project": "9.1"})
    assert r.status_code == 400 and "labeling config" in r.json()["detail"]


def test_config_validation():
    with pytest.raises(ValueError, match="unknown model 'bogus'; choose one of logreg, rf, svm"):
        LSBackend(LSBackendConfig(model="bogus", db="sqlite://"))
    with pytest.raises(TypeError, match="has no predict_proba"):
        LSBackend(LSBackendConfig(model="sklearn.svm:LinearSVC", db="sqlite://"))
    with pytest.raises(ValueError, match="per-task score|unknown query strategy"):
        LSBackend(LSBackendConfig(strategy="nothing", db="sqlite://"))
    with pytest.raises(ValueError, match="SQLAlchemy URL"):
        LSBackend(LSBackendConfig(db="ls.db"))
    with pytest.raises(FileNotFoundError, match="image_root"):
        LSBackend(LSBackendConfig(image_root="/no/such/folder", db="sqlite://"))


def test_project_key_and_image_paths():
    assert project_key("1.1795632400") == "1"
    assert project_key({"id": 12}) == "12"
    assert project_key(7) == "7"
    assert project_key(None) == "default"
    assert image_path_from_ls("/data/upload/3/a.png") == "upload/3/a.png"
    assert image_path_from_ls("/data/local-files/?d=imgs%2Fb.png") == "imgs/b.png"
    assert image_path_from_ls("http://localhost:8080/data/upload/3/a.png") == "upload/3/a.png"
    assert image_path_from_ls("pics/c.jpg") == "pics/c.jpg"
    with pytest.raises(ValueError, match="local files only"):
        image_path_from_ls("s3://bucket/a.png")


def test_serve_refuses_open_network_without_auth():
    from activelab.server.labelstudio import serve

    with pytest.raises(ValueError, match="--basic-auth"):
        serve(LSBackendConfig(db="sqlite://"), host="0.0.0.0")


def test_cli_reports_bad_options_in_one_line():
    import typer
    from typer.testing import CliRunner

    from activelab.cli import ls_backend

    app = typer.Typer()
    ls_backend.register(app)

    @app.command("other")
    def other() -> None:  # a second command keeps typer in multi-command mode
        """Nothing."""

    runner = CliRunner()
    result = runner.invoke(app, ["ls-backend", "--model", "bogus"])
    assert result.exit_code == 2
    assert "unknown model 'bogus' for --model" in result.output
    result = runner.invoke(app, ["ls-backend", "--text-features", "bogus"])
    assert result.exit_code == 2
    assert "--text-features must be tfidf or minilm, got 'bogus'" in result.output
    result = runner.invoke(app, ["ls-backend", "--basic-auth", "nopassword"])
    assert result.exit_code == 2 and "USER:PASSWORD" in result.output
    result = runner.invoke(app, ["ls-backend", "--host", "0.0.0.0", "--db", "sqlite://"])
    assert result.exit_code == 2 and "--basic-auth" in result.output


@pytest.mark.parametrize(
    "name", ["logreg", "nb", "rf", "svm", "knn", "sklearn.tree:DecisionTreeClassifier"])
def test_model_names_mean_what_the_model_table_builds(make_client, name):
    from activelab.engine.models import make_model

    client = make_client(model=name)
    client.post("/setup", json=recorded("setup_request.json"))
    teach(client)
    model = backend_of(client).model("1")
    assert model.trained
    assert repr(model.estimator) == repr(make_model(name, random_state=0))
    if name == "nb":  # TF-IDF is sparse: the naive Bayes of sparse counts
        assert type(model.estimator.model_).__name__ == "ComplementNB"
    if name == "logreg":  # scaled without centring: the features stay sparse
        assert model.estimator[0].scaler_.with_mean is False
    results = client.post("/predict", json=predict_body(["terrible awful broke"])).json()
    [entry] = results["results"]
    assert entry["model_version"] == model.version and 0.0 <= entry["score"] <= 1.0
    if name not in ("rf", "knn"):  # a training text comes back with its own label (not
        # through rf's bootstrap samples, nor knn's vote of 5 neighbours among 6 texts)
        assert entry["result"][0]["value"]["choices"] == ["Negative"]


def test_a_new_committee_strategy_needs_no_server_change(make_client):
    from activelab.learners import Committee
    from activelab.strategies import registry
    from activelab.strategies.base import UtilityStrategy

    class MemberSpread(UtilityStrategy):
        name = "test_member_spread"
        needs = frozenset({"committee_proba"})

        def utility(self, context):
            return context.committee_proba.std(axis=0).sum(axis=1)

    registry.register(MemberSpread)
    try:
        client = make_client(strategy="test_member_spread")
        client.post("/setup", json=recorded("setup_request.json"))
        teach(client)
        model = backend_of(client).model("1")
        assert isinstance(model.estimator, Committee)
        assert len(model.estimator.learner_list) == 5
        texts = ["love great", "okay"]
        [a, b] = client.post("/predict", json=predict_body(texts)).json()["results"]
        X = model.featurizer.transform(texts)
        spread = model.estimator.committee_proba(X).std(axis=0).sum(axis=1)
        # any other utility strategy: score = 1 / (1 + exp(utility))
        assert [a["score"], b["score"]] == pytest.approx(1.0 / (1.0 + np.exp(spread)))
    finally:
        registry._REGISTRY.pop("test_member_spread", None)


@pytest.mark.parametrize("strategy", ["margin", "entropy", "least_confident"])
def test_scores_come_from_the_fused_kernel_and_rank_as_predict_proba_does(make_client,
                                                                          strategy):
    """The backend's probabilities come from activelab.proba's block kernel (logits of
    the logistic regression: the estimator's ``predict_proba`` sees only the few rows
    that check the kernel), and its scores are those of ``predict_proba``."""
    from activelab.server.ls_scoring import strategy_scores
    from activelab.strategies import get_strategy

    client = make_client(strategy=strategy)
    client.post("/setup", json=recorded("setup_request.json"))
    teach(client)
    words = ["terrible", "awful", "broke", "great", "love", "okay", "average", "works"]
    texts = [f"{words[i % 8]} {words[(3 * i) % 8]} {words[(5 * i + 1) % 8]} {i}"
             for i in range(200)]
    model = backend_of(client).model("1")
    own = model.estimator.predict_proba
    asked: list[int] = []
    model.estimator.predict_proba = lambda rows: asked.append(rows.shape[0]) or own(rows)
    results = client.post("/predict", json=predict_body(texts, first_id=500)).json()["results"]
    assert 0 < sum(asked) < len(texts)
    served = np.array([r["score"] for r in results])
    by_hand = strategy_scores(get_strategy(strategy), np.arange(500, 700),
                              own(model.featurizer.transform(texts)))
    np.testing.assert_allclose(served, by_hand, rtol=0, atol=1e-12)
