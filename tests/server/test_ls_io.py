"""Label Studio configs and exports in, Label Studio task JSON out."""

from __future__ import annotations

import json

import numpy as np
import pytest

from _ls_fixtures import FIXTURES, needs_fixtures
from activelab.labelstudio_io import (
    choices_from_result,
    latest_annotation_choices,
    parse_label_config,
    read_labelstudio,
    to_labelstudio,
    write_labelstudio,
)

TEXT_CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="sentiment" toName="text" choice="single">'
    '<Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>'
    "</Choices></View>"
)
MULTI_CONFIG = (
    '<View><Text name="body" value="$body"/>'
    '<Choices name="topics" toName="body" choice="multiple">'
    '<Choice value="sport"/><Choice value="money"/><Choice value="tech"/>'
    "</Choices></View>"
)
IMAGE_CONFIG = (
    '<View><Image name="img" value="$image"/>'
    '<Choices name="kind" toName="img"><Choice value="cat"/><Choice value="dog"/></Choices>'
    "</View>"
)


def test_parse_text_single_choice():
    config = parse_label_config(TEXT_CONFIG)
    assert config.from_name == "sentiment"
    assert config.to_name == "text"
    assert config.object_type == "Text"
    assert config.value_key == "text"
    assert config.labels == ("Positive", "Negative", "Neutral")
    assert config.multiple is False
    assert config.is_text


def test_parse_multiple_choice_and_image():
    multi = parse_label_config(MULTI_CONFIG)
    assert multi.multiple is True
    assert multi.value_key == "body"
    image = parse_label_config(IMAGE_CONFIG)
    assert image.object_type == "Image"
    assert not image.is_text
    assert image.value_key == "image"
    assert image.labels == ("cat", "dog")


@needs_fixtures
def test_parse_recorded_setup_schema():
    body = json.loads((FIXTURES / "setup_request.json").read_text())["body"]
    config = parse_label_config(body["schema"])
    assert (config.from_name, config.to_name, config.value_key) == ("sentiment", "text", "text")
    assert config.labels == ("Positive", "Negative", "Neutral")


@pytest.mark.parametrize(
    "xml, fragment",
    [
        ("<View><Text", "not valid XML"),
        ('<View><Text name="t" value="$t"/></View>', "no <Choices>"),
        ('<View><Text name="t" value="$t"/><Choices name="c" toName="t"/></View>', "no <Choice"),
        ('<View><Text name="t" value="t"/><Choices name="c" toName="t">'
         '<Choice value="a"/></Choices></View>', "field reference"),
        ('<View><Text name="t" value="$t"/><Choices name="c" toName="t">'
         '<Choice value="a"/><Choice value="a"/></Choices></View>', "twice"),
    ],
)
def test_parse_rejects_unusable_configs(xml, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_label_config(xml)


def test_parse_rejects_non_string():
    with pytest.raises(TypeError, match="XML string"):
        parse_label_config(None)


def test_choices_from_result_picks_the_control():
    result = [
        {"from_name": "other", "type": "choices", "value": {"choices": ["x"]}},
        {"from_name": "sentiment", "type": "choices", "value": {"choices": ["Negative"]}},
    ]
    assert choices_from_result(result, "sentiment") == ["Negative"]
    assert choices_from_result(result, "missing") is None
    assert choices_from_result([], "sentiment") is None


def test_latest_annotation_wins_and_cancelled_is_ignored():
    def ann(id_, label, updated, cancelled=False):
        return {"id": id_, "was_cancelled": cancelled, "updated_at": updated,
                "result": [{"from_name": "s", "value": {"choices": [label]}}]}

    task = {"annotations": [ann(1, "A", "2026-01-01"), ann(2, "B", "2026-01-03"),
                            ann(3, "C", "2026-01-05", cancelled=True)]}
    assert latest_annotation_choices(task, "s") == ["B"]


@needs_fixtures
@pytest.mark.parametrize("name", ["export_JSON.json", "export_JSON_MIN.json", "export_CSV.csv"])
def test_read_recorded_exports(name):
    data = read_labelstudio(FIXTURES / name, label_config=TEXT_CONFIG)
    assert data.task_ids.tolist() == [1]
    assert data.items == ["I love this product, it works great"]
    assert data.labels == ["Positive"]
    assert data.from_name == "sentiment"
    assert data.value_key == "text"
    assert data.labeled_mask.tolist() == [True]


@needs_fixtures
@pytest.mark.parametrize("name", ["export_JSON.json", "export_JSON_MIN.json", "export_CSV.csv"])
def test_read_recorded_exports_without_config(name):
    data = read_labelstudio(FIXTURES / name)
    assert data.labels == ["Positive"]
    assert data.items == ["I love this product, it works great"]


def test_read_full_json_with_unlabeled_tasks(tmp_path):
    tasks = [
        {"id": 7, "data": {"text": "a"}, "annotations": [
            {"id": 1, "result": [{"from_name": "sentiment", "type": "choices",
                                  "value": {"choices": ["Neutral"]}}]}]},
        {"id": 8, "data": {"text": "b"}, "annotations": []},
    ]
    path = tmp_path / "full.json"
    path.write_text(json.dumps(tasks))
    data = read_labelstudio(path, label_config=TEXT_CONFIG)
    assert data.task_ids.tolist() == [7, 8]
    assert data.labels == ["Neutral", None]
    assert data.labeled_mask.tolist() == [True, False]


def test_read_json_min_multiple_choice_and_merges_annotators(tmp_path):
    rows = [
        {"body": "goal and cash", "id": 3, "topics": {"choices": ["sport", "money"]},
         "annotator": 1, "annotation_id": 5},
        {"body": "phone", "id": 4, "topics": "tech", "annotator": 1, "annotation_id": 6},
        {"body": "phone", "id": 4, "topics": {"choices": ["money"]}, "annotator": 2,
         "annotation_id": 7},
    ]
    path = tmp_path / "min.json"
    path.write_text(json.dumps(rows))
    data = read_labelstudio(path, label_config=MULTI_CONFIG)
    assert data.task_ids.tolist() == [3, 4]
    assert data.labels == [["sport", "money"], ["money"]]
    assert data.items == ["goal and cash", "phone"]


def test_read_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_labelstudio(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("[{]")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_labelstudio(bad)
    with pytest.raises(TypeError, match="path to a Label Studio export"):
        read_labelstudio(3)
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    with pytest.raises(ValueError, match="holds no tasks"):
        read_labelstudio(empty)
    with pytest.raises(ValueError, match="no data field 'missing'"):
        read_labelstudio([{"id": 1, "data": {"text": "x"}}], value_key="missing")


def test_write_annotations_round_trip(tmp_path):
    config = parse_label_config(TEXT_CONFIG)
    tasks = to_labelstudio(["good", "bad", "meh"], ["Positive", "Negative", None], config)
    assert tasks[0] == {
        "data": {"text": "good"},
        "annotations": [{"result": [{"from_name": "sentiment", "to_name": "text",
                                     "type": "choices", "value": {"choices": ["Positive"]}}]}],
    }
    assert "annotations" not in tasks[2]
    path = write_labelstudio(tmp_path / "out.json", tasks)
    back = read_labelstudio(path, label_config=config)
    assert back.items == ["good", "bad", "meh"]
    assert back.labels == ["Positive", "Negative", None]
    assert not (tmp_path / "out.json.tmp").exists()


def test_write_predictions_with_scores_and_ids():
    tasks = to_labelstudio(
        ["x", "y"], [["sport"], ["money", "tech"]], MULTI_CONFIG, kind="predictions",
        scores=np.array([0.25, 0.75]), model_version="m-3", task_ids=[11, 12],
    )
    assert [t["id"] for t in tasks] == [11, 12]
    second = tasks[1]["predictions"][0]
    assert second["score"] == 0.75
    assert second["model_version"] == "m-3"
    assert second["result"][0]["value"] == {"choices": ["money", "tech"]}


def test_write_rejects_bad_input():
    config = parse_label_config(TEXT_CONFIG)
    with pytest.raises(ValueError, match="not a choice"):
        to_labelstudio(["a"], ["Happy"], config)
    with pytest.raises(ValueError, match="labels has 1 entries but items has 2"):
        to_labelstudio(["a", "b"], ["Positive"], config)
    with pytest.raises(ValueError, match="kind must be"):
        to_labelstudio(["a"], ["Positive"], config, kind="labels")
    with pytest.raises(ValueError, match="belong to predictions"):
        to_labelstudio(["a"], ["Positive"], config, scores=[0.5])
