"""Item keys are the source's ids, byte for byte; a source with repeated ids is refused."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx
import pandas as pd
import pytest

from _live import exported_labels, live_server, next_item, run_cli
from activelab.server.sources import load_project_data

pytestmark = pytest.mark.slow

IDS = ["00993", "0042", "7", "NA", "1e3", "-0", "+5"]


def _write_csv(path: Path, ids: list[str]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        for i, key in enumerate(ids):
            w.writerow([key, f"{'spam offer' if i % 2 else 'meeting notes'} number {i}"])


def test_ids_survive_import_and_export_byte_for_byte(tmp_path: Path) -> None:
    _write_csv(tmp_path / "mail.csv", IDS)
    args = [str(tmp_path / "mail.csv"), "--labels", "spam,ham",
            "--db", f"sqlite:///{tmp_path / 'ids.db'}", "--project-dir", str(tmp_path / "p")]
    with live_server(args, tmp_path) as (base, token, _):
        h = {"Authorization": f"Bearer {token}"}
        keys = {}
        for _ in IDS:
            it = next_item(base, token)
            keys[it["item_id"]] = it["key"]
            r = httpx.post(f"{base}/api/labels", headers=h,
                           json={"item_id": it["item_id"], "label": "ham"})
            assert r.status_code == 200, r.text
        # pool id i is row i of the file, and its key is that row's id as written
        assert keys == {i: key for i, key in enumerate(IDS)}
        assert sorted(r["key"] for r in exported_labels(base, token)) == sorted(IDS)
        text = httpx.get(f"{base}/api/admin/export/labels?format=csv", headers=h).text
        rows = list(csv.DictReader(io.StringIO(text)))
        assert sorted(r["key"] for r in rows) == sorted(IDS)
        ls = httpx.get(f"{base}/api/admin/export/labels?format=labelstudio", headers=h).json()
        assert sorted(t["data"]["activelab_key"] for t in ls) == sorted(IDS)


def test_jsonl_and_parquet_ids_are_kept(tmp_path: Path) -> None:
    with open(tmp_path / "d.jsonl", "w") as fh:
        for i, key in enumerate(["007", "8", "0009"]):
            fh.write(json.dumps({"id": key, "text": f"text {i}"}) + "\n")
        fh.write(json.dumps({"id": 12, "text": "a number id"}) + "\n")
    data = load_project_data(tmp_path / "d.jsonl")
    assert [k for k, _, _ in data.items] == ["007", "8", "0009", "12"]
    pd.DataFrame({"id": ["001", "002"], "text": ["a b", "c d"]}).to_parquet(tmp_path / "d.pq")
    assert [k for k, _, _ in load_project_data(tmp_path / "d.pq").items] == ["001", "002"]


def test_repeated_ids_are_refused_with_their_rows(tmp_path: Path) -> None:
    _write_csv(tmp_path / "dup.csv", ["a", "b", "a", "c", "b", "a"])
    result = run_cli(["label", "dup.csv", "--labels", "x,y"], tmp_path)
    assert result.returncode == 2, result.output
    out = " ".join(result.output.split())
    # data rows count from 1 (the header is not a row)
    assert "repeated ids" in out and "'a' on rows 1, 3, 6" in out and "'b' on rows 2, 5" in out
    assert "Traceback" not in result.output
    assert not (tmp_path / "activelab.db").exists()
    assert not (tmp_path / "activelab-projects").exists()


def test_empty_ids_are_refused(tmp_path: Path) -> None:
    _write_csv(tmp_path / "gap.csv", ["a", "", "c"])
    with pytest.raises(ValueError, match=r"empty id on row 2"):
        load_project_data(tmp_path / "gap.csv")


def test_id_column_names_the_column_of_ids(tmp_path: Path) -> None:
    with open(tmp_path / "mail.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["message_id", "id", "text"])  # "id" is data here, not the key
        for i, key in enumerate(["00993", "0042", "7"]):
            w.writerow([key, i * 10, f"message number {i}"])
    data = load_project_data(tmp_path / "mail.csv", id_column="message_id")
    assert [k for k, _, _ in data.items] == ["00993", "0042", "7"]
    assert [k for k, _, _ in load_project_data(tmp_path / "mail.csv").items] == [
        "0", "10", "20"]  # without it the "id" column is taken
    args = [str(tmp_path / "mail.csv"), "--labels", "spam,ham", "--id-column", "message_id",
            "--db", f"sqlite:///{tmp_path / 'ids.db'}", "--project-dir", str(tmp_path / "p")]
    with live_server(args, tmp_path) as (base, token, _):
        seen = {next_item(base, token)["key"]}
        assert seen <= {"00993", "0042", "7"}


@pytest.mark.parametrize("args, message", [
    (["mail.csv", "--labels", "x,y", "--id-column", "msgid"],
     "--id-column 'msgid' is not a column of DATA; columns are: message_id, text"),
    (["notes.txt", "--labels", "x,y", "--id-column", "message_id"],
     "--id-column needs a table (CSV, Parquet or JSONL)"),
    (["dup.csv", "--labels", "x,y", "--id-column", "message_id"],
     "repeated ids in column 'message_id'"),
])
def test_a_bad_id_column_is_one_line_and_leaves_nothing(tmp_path: Path, args, message) -> None:
    pd.DataFrame({"message_id": ["a", "b"], "text": ["one", "two"]}).to_csv(
        tmp_path / "mail.csv", index=False)
    pd.DataFrame({"message_id": ["a", "a"], "text": ["one", "two"]}).to_csv(
        tmp_path / "dup.csv", index=False)
    (tmp_path / "notes.txt").write_text("one\ntwo\n")
    result = run_cli(["label", *args], tmp_path)
    assert result.returncode == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln and not ln.startswith("imported:")]
    assert len(lines) == 1 and message in lines[0], result.output
    assert not (tmp_path / "activelab.db").exists()
    assert not (tmp_path / "activelab-projects").exists()
