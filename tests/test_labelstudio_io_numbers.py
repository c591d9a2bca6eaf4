"""Label Studio exports of ``<Number>`` (regression) and multiple-choice projects.

The exports are written by hand in the formats Label Studio 1.23.2 produces (see the
recorded ``shared/fixtures/labelstudio-1.23.2`` exports, whose classification project they
copy): a full JSON export holds ``{"type": "number", "value": {"number": x}}`` results;
JSON-MIN has one flat object per annotation with the number under the control's name,
and CSV the same as a column of text.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from sklearn.linear_model import Ridge

import activelab as al
from activelab.engine.models import make_model
from activelab.engine.tasks import Task
from activelab.labelstudio_io import (
    latest_annotation_choices,
    parse_label_config,
    read_labelstudio,
    to_labelstudio,
    write_labelstudio,
)

NUMBER_CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Number name="rating" toName="text" min="0" max="10"/></View>'
)
MULTI_CONFIG = (
    '<View><Text name="body" value="$body"/>'
    '<Choices name="topics" toName="body" choice="multiple">'
    '<Choice value="sport"/><Choice value="money"/><Choice value="tech"/>'
    "</Choices></View>"
)


def number_result(x):
    return [{"from_name": "rating", "to_name": "text", "type": "number", "value": {"number": x}}]


def annotation(id_, result, updated, cancelled=False):
    return {"id": id_, "completed_by": 1, "result": result, "was_cancelled": cancelled,
            "ground_truth": False, "created_at": updated, "updated_at": updated,
            "lead_time": 2.5, "task": 0, "project": 1}


def full_task(id_, text, *annotations):
    return {"id": id_, "annotations": list(annotations), "drafts": [], "predictions": [],
            "data": {"text": text}, "meta": {}, "project": 1, "inner_id": id_}


def min_row(id_, text, value, annotation_id, annotator=1):
    return {"text": text, "id": id_, "rating": value, "annotator": annotator,
            "annotation_id": annotation_id, "created_at": "2026-11-25T18:46:40.704325Z",
            "updated_at": "2026-11-25T18:46:40.704341Z", "lead_time": 2.5}


FULL = [
    full_task(1, "fine", annotation(1, number_result(3.5), "2026-11-25T18:46:40Z")),
    full_task(2, "great", annotation(2, number_result(10), "2026-11-25T18:47:00Z")),
    full_task(3, "meh"),
    full_task(4, "awful", annotation(3, number_result(0.125), "2026-11-25T18:48:00Z")),
]


def write_csv(path, rows):
    columns = sorted(rows[0])  # Label Studio writes the columns in alphabetical order
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, quoting=csv.QUOTE_MINIMAL)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("config", [NUMBER_CONFIG, None])
def test_full_json_numbers_are_floats_and_the_task_is_regression(tmp_path, config):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(FULL))
    data = read_labelstudio(path, label_config=config)
    assert data.task is Task.REGRESSION
    assert data.from_name == "rating" and data.value_key == "text"
    assert data.task_ids.tolist() == [1, 2, 3, 4]
    assert data.items == ["fine", "great", "meh", "awful"]
    assert data.labels == [3.5, 10.0, None, 0.125]
    assert all(type(label) is float for label in data.labels if label is not None)
    assert data.labeled_mask.tolist() == [True, True, False, True]
    y = data.targets()
    assert y.dtype == np.float64 and y.tolist() == [3.5, 10.0, 0.125]
    assert data.classes == ()


def test_json_min_numbers(tmp_path):
    rows = [min_row(1, "fine", 3.5, 1), min_row(2, "great", 10, 2), min_row(4, "awful", -0.25, 3)]
    path = tmp_path / "export_min.json"
    path.write_text(json.dumps(rows))
    for config in (NUMBER_CONFIG, None):
        data = read_labelstudio(path, label_config=config)
        assert data.task is Task.REGRESSION
        assert data.task_ids.tolist() == [1, 2, 4]
        assert data.labels == [3.5, 10.0, -0.25]
        assert data.targets().tolist() == [3.5, 10.0, -0.25]
        assert data.data[0] == {"text": "fine"}


def test_csv_numbers(tmp_path):
    rows = [min_row(1, "fine", 3.5, 1), min_row(2, "great, really", 10, 2),
            min_row(4, "awful", "", 3)]
    path = write_csv(tmp_path / "export.csv", rows)
    assert "rating" in path.read_text().splitlines()[0]
    data = read_labelstudio(path, label_config=NUMBER_CONFIG)
    assert data.task is Task.REGRESSION
    assert data.task_ids.tolist() == [1, 2, 4]
    assert data.items == ["fine", "great, really", "awful"]
    assert data.labels == [3.5, 10.0, None]
    assert data.targets().tolist() == [3.5, 10.0]
    # without the config, a column of numbers with a fraction among them reads as numbers
    assert read_labelstudio(path).labels == [3.5, 10.0, None]


def test_csv_of_whole_numbers_needs_the_config_to_read_as_numbers(tmp_path):
    path = write_csv(tmp_path / "export.csv", [min_row(1, "a", 3, 1), min_row(2, "b", 4, 2)])
    guessed = read_labelstudio(path)  # "3" and "4" may as well be the choices of a rating
    assert guessed.task is Task.CLASSIFICATION and guessed.labels == ["3", "4"]
    numbers = read_labelstudio(path, label_config=NUMBER_CONFIG)
    assert numbers.task is Task.REGRESSION and numbers.labels == [3.0, 4.0]


def test_several_annotators_the_last_one_wins():
    task = full_task(
        9, "disputed",
        annotation(11, number_result(2.0), "2026-11-25T18:46:40Z"),
        annotation(12, number_result(7.5), "2026-11-25T18:50:00Z"),
        annotation(13, number_result(9.0), "2026-11-25T18:49:00Z"),  # older edit time
        annotation(14, [], "2026-11-25T18:55:00Z", cancelled=True),  # skipped
    )
    data = read_labelstudio([task], label_config=NUMBER_CONFIG)
    assert data.labels == [7.5]
    rows = [min_row(9, "disputed", 2.0, 11), min_row(5, "other", 1.0, 15),
            min_row(9, "disputed", 7.5, 12, annotator=2)]
    merged = read_labelstudio(rows, label_config=NUMBER_CONFIG)
    assert merged.task_ids.tolist() == [9, 5]
    assert merged.labels == [7.5, 1.0]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "lots", None, True])
def test_a_number_that_is_not_finite_names_the_task(bad):
    tasks = [FULL[0], full_task(42, "x", annotation(5, number_result(bad), "2026-01-01"))]
    with pytest.raises(ValueError, match=r"task 42: <Number name='rating'> holds .*not a finite "
                                         r"number; correct"):
        read_labelstudio(tasks, label_config=NUMBER_CONFIG)


@pytest.mark.parametrize("bad", [float("nan"), "-inf", "lots", {"choices": ["3"]}, ["3"]])
def test_a_bad_json_min_or_csv_cell_names_the_task(bad):
    rows = [min_row(1, "fine", 3.5, 1), min_row(43, "x", bad, 2)]
    with pytest.raises(ValueError, match=r"task 43: <Number name='rating'> holds .*not a finite "
                                         r"number; correct"):
        read_labelstudio(rows, label_config=NUMBER_CONFIG)


def test_a_result_of_another_type_for_the_number_control_names_the_task():
    choices = [{"from_name": "rating", "to_name": "text", "type": "choices",
                "value": {"choices": ["high"]}}]
    tasks = [FULL[0], full_task(44, "x", annotation(5, choices, "2026-01-01"))]
    with pytest.raises(ValueError, match=r"task 44: the result of <Number name='rating'> is of "
                                         r"type 'choices'.*not a number"):
        read_labelstudio(tasks, label_config=NUMBER_CONFIG)
    with pytest.raises(ValueError, match="task 44"):  # guessed from the first task's result
        read_labelstudio(tasks)


def test_the_server_reading_of_annotations_is_unchanged():
    # the backend skips a non-finite number (it teaches nothing); the reader refuses it
    task = full_task(1, "x", annotation(1, number_result(4.0), "2026-01-01"),
                     annotation(2, number_result(float("nan")), "2026-01-02"))
    assert latest_annotation_choices(task, "rating") == ["4.0"]


def test_numbers_round_trip_through_task_json(tmp_path):
    config = parse_label_config(NUMBER_CONFIG)
    tasks = to_labelstudio(["a", "b", "c"], [1.5, None, np.float64(8)], config)
    assert tasks[0]["annotations"][0]["result"] == number_result(1.5)
    assert "annotations" not in tasks[1]
    back = read_labelstudio(write_labelstudio(tmp_path / "in.json", tasks))
    assert back.task is Task.REGRESSION and back.labels == [1.5, None, 8.0]
    with pytest.raises(ValueError, match="label 'high' of item 0 is not a finite number"):
        to_labelstudio(["a"], ["high"], config)


def test_multiple_choice_exports_give_the_indicator_table(tmp_path):
    rows = [
        {"body": "goal and cash", "id": 3, "topics": {"choices": ["sport", "money"]},
         "annotator": 1, "annotation_id": 5},
        {"body": "cash", "id": 4, "topics": "money", "annotator": 1, "annotation_id": 6},
        {"body": "blank", "id": 6, "topics": "", "annotator": 1, "annotation_id": 8},
    ]
    data = read_labelstudio(rows, label_config=MULTI_CONFIG)
    assert data.task is Task.MULTILABEL
    assert data.classes == ("sport", "money", "tech")
    y = data.targets()
    assert y.dtype == np.int8
    assert y.tolist() == [[1, 1, 0], [0, 1, 0]]
    guessed = read_labelstudio(rows)  # no config: the labels met, sorted
    assert guessed.task is Task.MULTILABEL and guessed.classes == ("money", "sport")
    assert guessed.labels == [["sport", "money"], ["money"], None]
    assert guessed.targets().tolist() == [[1, 1], [1, 0]]


def test_single_choice_exports_stay_classification():
    tasks = [{"id": 1, "data": {"text": "a"}, "annotations": [annotation(
        1, [{"from_name": "s", "type": "choices", "value": {"choices": ["B"]}}], "2026")]},
        {"id": 2, "data": {"text": "b"}, "annotations": []}]
    data = read_labelstudio(tasks)
    assert data.task is Task.CLASSIFICATION
    assert data.labels == ["B", None]
    assert data.targets().tolist() == ["B"]


def test_the_targets_give_a_learner_the_export_task():
    numbers = read_labelstudio(FULL, label_config=NUMBER_CONFIG)
    X = np.array([[1.0], [2.0], [4.0]])  # one feature row per labeled task
    learner = al.ActiveLearner(Ridge(), X_training=X, y_training=numbers.targets())
    assert learner.task_ is numbers.task is Task.REGRESSION
    assert learner.strategy_.name == "greedy_io"
    rows = [{"body": "a", "id": 1, "topics": {"choices": ["sport", "money"]}},
            {"body": "b", "id": 2, "topics": "tech"}, {"body": "c", "id": 3, "topics": "money"}]
    topics = read_labelstudio(rows, label_config=MULTI_CONFIG)
    learner = al.ActiveLearner(make_model("logreg", 0, task="multilabel"), X_training=X,
                               y_training=topics.targets())
    assert learner.task_ is topics.task is Task.MULTILABEL
    assert learner.strategy_.name == "multilabel_margin"
