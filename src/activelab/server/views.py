"""The JSON the labeling app answers with: items to label, progress, statistics, exports."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import numpy as np

from ..store import Annotator
from ..store.probes import PROBE_STRATEGY
from . import stats
from .state import LabelingState

__all__ = ["item_payloads", "why_text", "progress", "admin_stats", "label_export_rows",
           "labelstudio_tasks", "EXPORT_COLUMNS"]

#: Columns of the label export, in order.
EXPORT_COLUMNS = ["item_id", "key", "label", "annotator", "created_at", "duration_s",
                  "model_version", "utility", "rank", "guess", "confidence", "comment",
                  "resolved_label", "resolved_by"]


def _fresh_guess(state: LabelingState, asg: dict[str, Any]) -> dict[str, Any]:
    """The guess of the in-process model when it is newer than the one that queued the item."""
    model, version = state.current_model()
    if model is None or version <= int(asg.get("model_version") or 0):
        return {}
    from .scorer import _rows, load_features

    X = load_features(state.scorer.features_path)
    row = _rows(X, np.asarray([int(asg["item_id"])]))
    if state.task != "classification":
        from .answers import decode_answer
        from .task_scoring import task_guesses

        [guess], sure = task_guesses(model, row, state.task, state.labels)
        return {"guess": decode_answer(state.settings, guess),
                "confidence": None if sure is None else float(sure[0]),
                "guess_model_version": version}
    proba = model.predict_proba(row)[0]
    best = int(proba.argmax())
    return {"guess": str(model.classes_[best]), "confidence": float(proba[best]),
            "guess_model_version": version}


def _fmt(x: Any, digits: int = 3) -> str:
    return "–" if x is None else f"{float(x):.{digits}f}"


def why_text(why: dict[str, Any]) -> str:
    """Why an item was asked for, in words that hold for its strategy's score.

    Parameters
    ----------
    why : dict
        ``strategy``, ``utility``, ``rank`` and ``model_version`` of the item's queue row.
    """
    strategy = str(why.get("strategy") or "")
    u, rank, mv = why.get("utility"), why.get("rank"), why.get("model_version") or 0
    where = f"rank {rank} of the items model v{mv} chose"
    if strategy.startswith("cold_start:"):
        return (f"no model yet, so {strategy.split(':', 1)[1]} cold start picked it to cover "
                f"the data (pick {rank})")
    if strategy == PROBE_STRATEGY:
        return ("a random check: drawn at random from the unlabeled items, to measure "
                "whether the labels the model asks for beat as many random ones (no guess "
                "is shown for it, so that none can sway the answer)")
    if strategy == "random" or u is None:
        return ("picked at random: the model cannot rank items yet (too few labels, or one "
                "label only)")
    if strategy == "margin":
        return (f"the model is torn between its two likeliest labels (their probabilities "
                f"differ by {_fmt(-float(u))}; smaller = more torn): {where}")
    if strategy == "auto":
        return (f"the model is torn between its two likeliest labels (their probabilities "
                f"differ by {_fmt(-float(u))}; smaller = more torn), and of the items it is "
                f"most torn about this one stands for a group of similar ones (auto spreads "
                f"the queue along the model's boundary): {where}")
    if strategy == "least_confident":
        return (f"the model is only {100 * (1 - float(u)):.0f}% sure of its best guess: "
                f"{where}")
    if strategy == "entropy":
        return f"the model is unsure (entropy {_fmt(u)}; higher = less sure): {where}"
    return f"{strategy} ranked it (score {_fmt(u)}; a higher score ranks first): {where}"


def _item_payload(state: LabelingState, asg: dict[str, Any], item: dict[str, Any],
                  fields: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    from .answers import decode_answer
    from .why_tasks import task_why_text

    why = {"utility": asg.get("utility"), "rank": asg.get("rank"),
           "strategy": asg.get("strategy"), "model_version": asg.get("model_version")}
    show = state.show_guess and why["strategy"] != PROBE_STRATEGY
    text = why_text(why) if state.task == "classification" else task_why_text(why, state.task)
    out: dict[str, Any] = {
        "item_id": int(asg["item_id"]), "key": item.get("key"), "kind": item["kind"],
        "why": why | {"text": text},
        "guess": decode_answer(state.settings, asg.get("guess")) if show else None,
        "confidence": asg.get("confidence") if show else None,
        "guess_model_version": asg.get("model_version"),
    }
    if item["kind"] == "text":
        out["text"] = item["content"]
    elif item["kind"] == "row":
        out["row"] = json.loads(item["content"])
    else:
        # relative to the page, which may sit under a reverse proxy's path
        out["image_url"] = f"api/items/{int(asg['item_id'])}/image"
    if fields is not None:  # --show-columns: the page shows these instead of text or row
        out["fields"] = fields
    return out | (_fresh_guess(state, asg) if show else {})


def item_payloads(state: LabelingState, asgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the page shows of each leased item: content, why it was chosen, the model's guess."""
    ids = [a["item_id"] for a in asgs]
    # a new lease carries its item already; items held from before are read
    items = state.store.items(state.project_id, [a["item_id"] for a in asgs
                                                 if "content" not in a])
    items.update({int(a["item_id"]): a for a in asgs if "content" in a})
    fields = state.store.item_fields(state.project_id, ids) if state.settings.get(
        "show_columns") else {}
    return [_item_payload(state, a, items[int(a["item_id"])], fields.get(int(a["item_id"])))
            for a in asgs]


def progress(state: LabelingState, who: Annotator) -> dict[str, Any]:
    """Labels vs budget, the learning curve, the stop signal, speed and break reminders."""
    from .scorer import could_stop

    store, pid, settings = state.store, state.project_id, state.settings
    p = store.project(pid)
    models = store.model_rows(pid)
    n_labels = store.count_labels(pid)
    lab_ids, _ = store.consensus(pid)
    times, durs = store.durations(pid, who.id)
    agreements = [m["stop_agreement"] for m in models]
    stop = could_stop(agreements)
    budget = settings.get("budget") or int(p["n_items"]) * int(settings.get("overlap", 1))
    sec = stats.speed(durs)
    return {
        "n_labels": n_labels,
        "n_items_labeled": int(lab_ids.size),
        "n_items": int(p["n_items"]),
        "budget": int(budget),
        "fraction": min(1.0, n_labels / budget) if budget else 0.0,
        "mine": int(times.size),
        "model_version": int(p["model_version"]),
        "curve": [{"version": m["version"], "n_labels": m["n_labels"],
                   "cv_accuracy": m["cv_accuracy"]} for m in models],
        "stop": {"could_stop": stop, "agreements": agreements[-5:],
                 "message": "Predictions have stopped changing: you could stop now."
                 if stop else None},
        "speed": {"seconds_per_label": sec,
                  "labels_per_hour": None if not sec else round(3600.0 / sec, 1)},
        "session": stats.session(times, time.time(),
                                 60.0 * float(settings["break_after_minutes"])),
        "scorer_running": state.scorer is not None,
    }


def admin_stats(state: LabelingState, block: int) -> dict[str, Any]:
    """Agreement between annotators, label quality per block of labels (for a regression
    project, differences between numbers: :func:`activelab.server.stats.value_agreement`),
    the project's task, the scorer's error, and the live verdict of the random checks
    (:func:`activelab.server.verdict.live_stats`)."""
    from .verdict import live_stats

    store, pid = state.store, state.project_id
    rows = store.label_rows(pid)
    ids = np.asarray([r["item_id"] for r in rows], dtype=np.int64)
    labs = np.asarray([r["label"] for r in rows], dtype=object)
    anns = np.asarray([r["annotator_id"] for r in rows], dtype=np.int64)
    guesses = np.asarray([r["guess"] for r in rows], dtype=object)
    people = {a["id"]: a["name"] for a in store.annotators(pid)}
    agr = stats.agreement(ids, labs, anns, task=state.task)
    for key in ("per_annotator", "per_annotator_difference"):
        if key in agr:
            agr[key] = {people.get(k, str(k)): v for k, v in agr[key].items()}
    quality = stats.quality_over_time(ids, labs, anns, guesses, block=block, task=state.task)
    for q in quality:
        q["annotator"] = people.get(q["annotator_id"], str(q["annotator_id"]))
    err = store.last_event(pid, "scorer_error")
    model = store.last_event(pid, "model")
    if err is not None and model is not None and model["id"] > err["id"]:
        err = None  # a model was trained since
    return {"task": state.task, "agreement": agr, "quality": quality, "scorer_error": err,
            **live_stats(store, pid, state.task, state.random_share)}


def label_export_rows(rows: list[dict[str, Any]], items: dict[int, dict[str, Any]],
                      comments: list[dict[str, Any]] | None = None,
                      resolutions: dict[int, dict[str, Any]] | None = None
                      ) -> list[dict[str, Any]]:
    """One row of :data:`EXPORT_COLUMNS` per committed label: with the annotator's comment
    on the item, and the admin's resolution of the item (label and who chose it)."""
    notes = {(c["item_id"], c["annotator_id"]): c["text"] for c in comments or []}
    resolved = resolutions or {}
    out = []
    for r in rows:
        res = resolved.get(r["item_id"], {})
        out.append({**{c: r.get(c) for c in EXPORT_COLUMNS}, "key": items[r["item_id"]]["key"],
                    "comment": notes.get((r["item_id"], r["annotator_id"])),
                    "resolved_label": res.get("label"), "resolved_by": res.get("resolver")})
    return out


def _task_comments(comments: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Label Studio's comment fields of a task, by item: the count, the authors, the time of
    the last one, and the comments themselves in the task's ``meta`` (Label Studio keeps
    ``meta`` on import; its own export carries only the counts)."""
    out: dict[int, dict[str, Any]] = {}
    for c in comments:  # oldest first
        t = out.setdefault(int(c["item_id"]), {"meta": {"activelab_comments": []},
                                               "comment_count": 0, "comment_authors": []})
        t["meta"]["activelab_comments"].append({"author": c["annotator"], "text": c["text"],
                                                "updated_at": _iso(c["updated_at"])})
        t["comment_count"] += 1
        if c["annotator"] not in t["comment_authors"]:
            t["comment_authors"].append(c["annotator"])
        t["last_comment_updated_at"] = _iso(c["updated_at"])
    return out


def _iso(t: Any) -> Any:
    """A time as ISO 8601 text (stored times are seconds since the epoch or datetimes)."""
    if isinstance(t, (int, float)):
        return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat()
    return t.isoformat() if hasattr(t, "isoformat") else t


def labelstudio_tasks(rows: list[dict[str, Any]], items: dict[int, dict[str, Any]],
                      settings: dict[str, Any] | None = None,
                      comments: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Label Studio task JSON: one task per item, one annotation per label (the chosen
    labels of a multi-label project, the number of a regression one), and the item's
    comments (:func:`_task_comments`)."""
    from .answers import decode_answer, task_name

    notes = _task_comments(comments or [])

    settings = settings or {}
    task = task_name(settings)
    tasks: dict[int, dict[str, Any]] = {}
    for r in rows:
        item = items[r["item_id"]]
        if r["item_id"] not in tasks:
            if item["kind"] == "text":
                data: dict[str, Any] = {"text": item["content"]}
            elif item["kind"] == "image":
                data = {"image": item["content"]}
            else:
                data = json.loads(item["content"])
            no_notes = {"meta": {}, "comment_count": 0, "comment_authors": [],
                        "last_comment_updated_at": None}
            tasks[r["item_id"]] = {"id": int(r["item_id"]) + 1,
                                   "data": data | {"activelab_id": int(r["item_id"]),
                                                   "activelab_key": item["key"]},
                                   "annotations": [],
                                   **(no_notes | notes.get(int(r["item_id"]), {}))}
        answer = decode_answer(settings, r["label"])
        region = {"type": "number", "value": {"number": answer}} if task == "regression" \
            else {"type": "choices", "value": {"choices": answer if task == "multilabel"
                                              else [answer]}}
        tasks[r["item_id"]]["annotations"].append({
            "completed_by": r["annotator"],
            "lead_time": r["duration_s"],
            "result": [{"from_name": "value" if task == "regression" else "label",
                        "to_name": "text" if item["kind"] == "text"
                        else ("image" if item["kind"] == "image" else "row")} | region],
        })
    return list(tasks.values())
