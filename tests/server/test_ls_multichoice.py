"""Multiple-choice (multi-label) and ``<Number>`` (regression) configs in the Label Studio backend.

The recorded Label Studio 1.23.2 requests are single-choice (``choice="single"`` over
Positive / Negative / Neutral).  The multiple-choice variants here are those recordings with
``choice="single"`` changed to ``choice="multiple"`` in the labeling config (``schema`` of
``/setup``, ``label_config`` of ``/predict`` and of the webhook's project) and with several
choices in the annotation's ``result`` (a review can be Positive and Negative at once).  The
numeric variants replace the ``<Choices>`` block by ``<Number name="rating" toName="text"
min="0" max="10"/>`` and the result by Label Studio's number result,
``{"type": "number", "value": {"number": x}}``.  Everything else is as recorded.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from fastapi.testclient import TestClient
from test_ls_backend import annotation_event, backend_of, predict_body, recorded

from _ls_fixtures import needs_fixtures
from activelab.engine.tasks import Task
from activelab.outputs import label_marginals, predict_values
from activelab.server.labelstudio import LSBackendConfig, create_app
from activelab.strategies import registry
from activelab.strategies.base import Needs, UtilityStrategy

pytestmark = needs_fixtures

CLASSES = ("Positive", "Negative", "Neutral")


@pytest.fixture
def make_client(tmp_path):
    """A backend on a fresh SQLite file, with the given settings."""
    clients = []

    def make(**settings) -> TestClient:
        client = TestClient(create_app(LSBackendConfig(db=f"sqlite:///{tmp_path / 'ls.db'}",
                                                       **settings)))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def multiple(xml: str) -> str:
    """The recorded config with several choices allowed."""
    assert 'choice="single"' in xml
    return xml.replace('choice="single"', 'choice="multiple"')


def numeric(xml: str) -> str:
    """The recorded config with a 0-10 ``<Number>`` instead of the ``<Choices>``."""
    out = re.sub(r"<Choices .*?</Choices>", '<Number name="rating" toName="text" min="0" '
                 'max="10"/>', xml, flags=re.S)
    assert "<Number" in out and "<Choices" not in out
    return out


def config_of(kind) -> str:
    return kind(recorded("setup_request.json")["schema"])


def event(kind, task_id: int, text: str, result: list, action: str = "ANNOTATION_CREATED",
          annotation_id: int | None = None) -> dict:
    body = annotation_event(task_id, text, "Positive", annotation_id=annotation_id, action=action)
    body["project"]["label_config"] = kind(body["project"]["label_config"])
    body["annotation"]["result"] = result
    return body


def choices(*labels: str) -> list:
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices",
             "value": {"choices": list(labels)}}]


def number(x: float) -> list:
    return [{"from_name": "rating", "to_name": "text", "type": "number", "value": {"number": x}}]


class _TestLabelMargin(UtilityStrategy):
    """A multi-label strategy registered by this test: minus the mean margin |2p - 1|."""

    name = "test_label_margin"
    tasks = frozenset({Task.MULTILABEL})
    needs = frozenset({Needs.LABEL_PROBA})

    def utility(self, context):
        return -np.abs(2.0 * context.label_proba - 1.0).mean(axis=1)


class _TestSpread(UtilityStrategy):
    """A regression strategy registered by this test: |prediction - mean labeled value|."""

    name = "test_spread"
    tasks = frozenset({Task.REGRESSION})
    needs = frozenset({Needs.PREDICTIONS, Needs.LABELED})

    def utility(self, context):
        return np.abs(context.predictions - np.mean(context.y_labeled))


@pytest.fixture
def label_margin(monkeypatch):
    monkeypatch.setitem(registry._REGISTRY, _TestLabelMargin.name, _TestLabelMargin)
    return _TestLabelMargin.name


@pytest.fixture
def spread(monkeypatch):
    monkeypatch.setitem(registry._REGISTRY, _TestSpread.name, _TestSpread)
    return _TestSpread.name


MIXED = [  # (text, choices): Positive and Negative co-occur on mixed reviews
    ("great product love it", ["Positive"]), ("love it works great", ["Positive"]),
    ("terrible awful broke", ["Negative"]), ("awful service terrible", ["Negative"]),
    ("great screen but awful battery", ["Positive", "Negative"]),
    ("love the look terrible sound", ["Positive", "Negative"]),
    ("it is okay average", ["Neutral"]), ("average okay nothing special", ["Neutral"]),
]


def teach_multiple(client, pairs=MIXED) -> None:
    for i, (text, labels) in enumerate(pairs):
        r = client.post("/webhook", json=event(multiple, i + 1, text, choices(*labels)))
        assert r.status_code == 201, r.text
    assert backend_of(client).wait_idle(60)


def test_multiple_choice_setup_names_the_multilabel_strategy(make_client, label_margin):
    client = make_client(multilabel_strategy=label_margin)
    body = recorded("setup_request.json")
    body["schema"] = multiple(body["schema"])
    r = client.post("/setup", json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {"model_version": f"activelab-{label_margin}-v0"}


def test_several_choices_become_one_row_and_edits_replace_it(make_client, label_margin):
    client = make_client(multilabel_strategy=label_margin)
    teach_multiple(client)
    backend = backend_of(client)
    model = backend.model("1")
    assert model.version.startswith(f"activelab-{label_margin}-v") and model.n_labels == 8
    expected = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [1, 1, 0], [1, 1, 0],
                         [0, 0, 1], [0, 0, 1]], dtype=np.int8)
    np.testing.assert_array_equal(model.estimator.y_training_, expected)
    assert model.estimator.task_ is Task.MULTILABEL
    # the annotator edits task 7 (Neutral) to Positive + Neutral: the same row changes
    r = client.post("/webhook", json=event(multiple, 7, "it is okay average",
                                           choices("Neutral", "Positive"),
                                           action="ANNOTATION_UPDATED", annotation_id=7))
    assert r.status_code == 201 and r.json()["stored"] == 1
    assert backend.wait_idle(60)
    before, model = model.version, backend.model("1")
    assert model.version != before  # retrained on the edited row
    expected[6] = [1, 0, 1]
    np.testing.assert_array_equal(model.estimator.y_training_, expected)
    # deleting task 8's annotation removes its row
    r = client.post("/webhook", json={"action": "ANNOTATIONS_DELETED", "project": {"id": 1},
                                      "annotations": [{"id": 8}]})
    assert r.status_code == 201 and r.json()["removed"] == 1
    assert backend.wait_idle(60)
    np.testing.assert_array_equal(backend.model("1").estimator.y_training_, expected[:7])


def test_multiple_choice_prediction_lists_labels_above_half(make_client, label_margin):
    client = make_client(multilabel_strategy=label_margin)
    teach_multiple(client)
    texts = ["love it great", "awful terrible", "great but awful", "okay average"]
    body = predict_body(texts)
    body["label_config"] = multiple(body["label_config"])
    results = client.post("/predict", json=body).json()["results"]
    assert len(results) == len(texts)
    model = backend_of(client).model("1")
    X = model.featurizer.transform(texts)
    p = label_marginals(model.estimator.estimator_, X)
    for entry, row in zip(results, p, strict=True):
        want = [c for c, pj in zip(CLASSES, row, strict=True) if pj > 0.5] \
            or [CLASSES[int(row.argmax())]]
        assert entry["result"] == [{"from_name": "sentiment", "to_name": "text",
                                    "type": "choices", "value": {"choices": want}}]
        assert entry["model_version"] == model.version
    assert results[0]["result"][0]["value"]["choices"] == ["Positive"]
    assert results[1]["result"][0]["value"]["choices"] == ["Negative"]
    # score: 1 / (1 + exp(utility)) of the strategy's utility, minus the mean margin
    utility = -np.abs(2 * p - 1).mean(axis=1)
    np.testing.assert_allclose([e["score"] for e in results], 1 / (1 + np.exp(utility)))
    scores = np.array([e["score"] for e in results])
    assert np.argsort(scores)[0] == int(np.argmin(np.abs(2 * p - 1).mean(axis=1)))


def test_a_classification_strategy_is_refused_for_multiple_choice(make_client, tmp_path):
    with pytest.raises(ValueError, match="--multilabel-strategy.*'margin' is for classification"):
        LSBackendConfig(db=f"sqlite:///{tmp_path / 'x.db'}",
                        multilabel_strategy="margin").validate()


def test_committee_backend_serves_multiple_choice_with_its_own_strategy(make_client,
                                                                        label_margin):
    client = make_client(strategy="vote_entropy", multilabel_strategy=label_margin)
    body = recorded("setup_request.json")
    body["schema"] = multiple(body["schema"])
    assert client.post("/setup", json=body).status_code == 200
    teach_multiple(client)
    assert backend_of(client).model("1").version.startswith(f"activelab-{label_margin}-v")


RATED = [("great product love it", 9.0), ("love it works great", 8.5),
         ("terrible awful broke", 1.0), ("awful service terrible", 2.0),
         ("it is okay average", 5.0), ("average okay nothing special", 5.5)]


def teach_numbers(client) -> None:
    for i, (text, x) in enumerate(RATED):
        r = client.post("/webhook", json=event(numeric, i + 1, text, number(x)))
        assert r.status_code == 201, r.text
    assert backend_of(client).wait_idle(60)


def test_number_config_learns_floats_and_predicts_numbers(make_client, spread):
    client = make_client(regression_strategy=spread)
    teach_numbers(client)
    backend = backend_of(client)
    [first, *_] = backend.state.labeled_tasks("1")
    assert first.choices == ["9.0"]
    model = backend.model("1")
    assert model.version.startswith(f"activelab-{spread}-v") and model.n_labels == 6
    np.testing.assert_array_equal(model.estimator.y_training_, [x for _, x in RATED])
    assert model.estimator.task_ is Task.REGRESSION
    texts = ["love great", "awful terrible broke", "okay"]
    body = predict_body(texts)
    body["label_config"] = numeric(body["label_config"])
    results = client.post("/predict", json=body).json()["results"]
    X = model.featurizer.transform(texts)
    want = np.clip(predict_values(model.estimator.estimator_, X), 0, 10)
    got = [e["result"][0]["value"]["number"] for e in results]
    np.testing.assert_allclose(got, want)
    assert [e["result"][0]["type"] for e in results] == ["number"] * 3
    assert got[0] > 5 > got[1]
    # score: 1 / (1 + exp(utility)), the utility being |prediction - mean rating|
    utility = np.abs(predict_values(model.estimator.estimator_, X) - np.mean([x for _, x in RATED]))
    np.testing.assert_allclose([e["score"] for e in results], 1 / (1 + np.exp(utility)))


def test_number_results_that_are_not_finite_teach_nothing(make_client, spread):
    client = make_client(regression_strategy=spread)
    teach_numbers(client)
    for task_id, value in ((40, "Infinity"), (41, "NaN"), (42, "ten"), (43, True)):
        assert client.post("/webhook", json=event(numeric, task_id, "odd one",
                                                  number(value))).status_code == 201
    backend = backend_of(client)
    assert backend.wait_idle(60)
    assert {t.task_id for t in backend.state.labeled_tasks("1")} == set(range(1, 7))


def test_number_config_is_parsed_with_its_bounds():
    from activelab.labelstudio_io import parse_label_config

    config = parse_label_config(config_of(numeric))
    assert (config.kind, config.from_name, config.to_name, config.value_key) == \
        ("number", "rating", "text", "text")
    assert (config.min_value, config.max_value, config.labels) == (0.0, 10.0, ())
    assert config.result([7.5]) == number(7.5)
    xml = config_of(numeric)
    with pytest.raises(ValueError, match="min=10.0 above max=0.0"):
        parse_label_config(xml.replace('min="0" max="10"', 'min="10" max="0"'))
    with pytest.raises(ValueError, match="max='lots'.*not a number"):
        parse_label_config(xml.replace('max="10"', 'max="lots"'))
    # a config with both keeps preferring the choices
    both = config_of(multiple).replace("</View>", '<Number name="rating" toName="text"/></View>')
    assert parse_label_config(both).kind == "choices"
    assert parse_label_config(both, from_name="rating").kind == "number"


def test_number_config_is_queried_with_greedy_io_by_default(make_client):
    """The regression default: score 1 / (1 + u), u = min_m ||x - x_m|| * |f(x) - y_m|."""
    client = make_client()
    teach_numbers(client)
    backend = backend_of(client)
    model = backend.model("1")
    assert model.version.startswith("activelab-greedy_io-v")
    texts = ["love great", "awful terrible broke", "okay"]
    body = predict_body(texts)
    body["label_config"] = numeric(body["label_config"])
    results = client.post("/predict", json=body).json()["results"]
    X = model.featurizer.transform(texts).toarray()
    XL = model.estimator.X_training_.toarray()
    f = predict_values(model.estimator.estimator_, X)
    yL = np.array([x for _, x in RATED])
    dx = np.sqrt(((X[:, None, :] - XL[None, :, :]) ** 2).sum(axis=2))
    u = (dx * np.abs(f[:, None] - yL[None, :])).min(axis=1)
    np.testing.assert_allclose([e["score"] for e in results], 1 / (1 + u), rtol=1e-6)
    assert client.get("/health").json()["regression_strategy"] == "task default"


def test_multiple_choice_is_queried_with_multilabel_margin_by_default(make_client):
    """The multi-label default: utility mean(1 - |2p - 1|) in [0, 1], score 1 - utility."""
    client = make_client()
    teach_multiple(client)
    model = backend_of(client).model("1")
    assert model.version.startswith("activelab-multilabel_margin-v")
    texts = ["love it great", "great but awful", "okay average"]
    body = predict_body(texts)
    body["label_config"] = multiple(body["label_config"])
    results = client.post("/predict", json=body).json()["results"]
    p = label_marginals(model.estimator.estimator_, model.featurizer.transform(texts))
    np.testing.assert_allclose([e["score"] for e in results], np.abs(2 * p - 1).mean(axis=1))
