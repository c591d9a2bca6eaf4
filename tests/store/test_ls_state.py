"""The Label Studio backend's state on the one database layer (real SQLite file, PostgreSQL)."""

from __future__ import annotations

import pytest

from activelab.store.ls_state import LSState, label_digest


def test_labels_and_versions_survive_a_reopen(db_url: str) -> None:
    state = LSState(db_url)
    state.record_annotations("1", [
        (10, {"text": "good"}, ["Pos"], 100),
        (11, {"text": "bad"}, ["Neg"], 101),
        (12, {"text": "meh"}, ["Neg"], None),
    ])
    state.record_annotation("1", 10, {"text": "good"}, ["Neg"], annotation_id=100)  # update
    state.record_annotation("1", 11, {"text": "bad"}, None, annotation_id=101)  # cancelled
    state.record_annotation("2", 10, {"text": "other project"}, ["Pos"], annotation_id=100)
    state.add_version("1", "activelab-entropy-v1", 2, "d1", ["Neg", "Pos"])
    state.save_project("1", hostname="http://ls:8080", access_token="tok")
    state.close()

    again = LSState(db_url)  # a restart: everything comes back from the database
    tasks = again.labeled_tasks("1")
    assert [(t.task_id, t.choices) for t in tasks] == [(10, ["Neg"]), (12, ["Neg"])]
    assert again.n_annotations("1") == 2 and again.n_annotations("2") == 1
    assert again.latest_version("1")["version"] == "activelab-entropy-v1"
    assert again.project("1")["hostname"] == "http://ls:8080"
    assert again.projects() == ["1", "2"]
    # a full sync replaces the label set; deleting a task removes its labels
    again.replace_annotations("1", [(20, {"text": "new"}, ["Pos"], None),
                                    (21, {"text": "two"}, ["Neg"], 7)])
    assert [t.task_id for t in again.labeled_tasks("1")] == [20, 21]
    assert again.delete_annotations("1", task_ids=[20]) == 1
    assert again.delete_annotations("1", annotation_ids=[7]) == 1
    assert again.labeled_tasks("1") == [] and again.n_annotations("2") == 1
    again.close()


def test_last_written_annotation_of_a_task_counts() -> None:
    state = LSState("sqlite://")  # in memory: one shared connection
    state.record_annotations("1", [(5, {}, ["A"], 1), (5, {}, ["B"], 2)])
    [task] = state.labeled_tasks("1")
    assert task.choices == ["B"]
    state.record_annotation("1", 5, {}, ["A"], annotation_id=1)  # annotation 1 written again
    assert state.labeled_tasks("1")[0].choices == ["A"]
    assert label_digest(state.labeled_tasks("1")) == label_digest(
        [type(task)(5, {"x": 1}, ["A"])])  # the digest reads ids and choices only
    state.close()


def test_bad_urls_are_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="sqlite:///file.db"):
        LSState("mysql://user@host/db")
    with pytest.raises(TypeError, match="database URL"):
        LSState(None)  # type: ignore[arg-type]
