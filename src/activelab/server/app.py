"""The labeling web app: one HTML page and a REST API under ``/api``.

:func:`create_app` builds the FastAPI application for one project of a :class:`Store`.  Every
``/api`` route needs a token (``Authorization: Bearer <token>``); ``/api/admin/...`` routes need
the admin's.  The page itself (``/``) holds no data: it reads its token from the URL fragment.

Run it with ``activelab label`` or, for several worker processes,
``ACTIVELAB_DB=... ACTIVELAB_PROJECT=name uvicorn --factory activelab.server.app:app_from_env``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from ..featurize import resolve_inside
from ..store import Annotator, LeaseLost, Store
from . import stats
from .security import DEFAULT_MAX_BODY_BYTES, BodySizeLimit, SecurityHeaders, token_from_headers

__all__ = ["create_app", "app_from_env", "STATIC_DIR"]

STATIC_DIR = Path(__file__).resolve().parent / "static"

DEFAULTS: dict[str, Any] = {
    "lease_seconds": 600.0,
    "overlap": 1,
    "budget": None,
    "batch": 10,
    "break_after_minutes": 45.0,
    "root": None,
    "strategy": "margin",
}


class LabelIn(BaseModel):
    """A label for one item."""

    item_id: int = Field(ge=0, description="Pool id of the item.")
    label: str = Field(min_length=1, max_length=200, description="One of the project's labels.")
    duration_s: float | None = Field(default=None, ge=0, le=86400,
                                     description="Seconds the annotator spent on the item.")


class SkipIn(BaseModel):
    """An item given back without a label."""

    item_id: int = Field(ge=0)


class AnnotatorIn(BaseModel):
    """A new annotator (or admin)."""

    name: str = Field(min_length=1, max_length=200)
    role: str = Field(default="annotator", pattern="^(annotator|admin)$")


class _TokenCache:
    """Token -> annotator for a few seconds, so polling does not hit the database each time."""

    def __init__(self, store: Store, ttl: float = 5.0) -> None:
        self.store = store
        self.ttl = ttl
        self._data: dict[str, tuple[float, Annotator | None]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def get(self, token: str | None) -> Annotator | None:
        if not token:
            return None
        now = time.monotonic()
        with self._lock:
            hit = self._data.get(token)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        user = self.store.authenticate(token)
        with self._lock:
            if len(self._data) > 10000:
                self._data.clear()
            self._data[token] = (now, user)
        return user


def create_app(
    store: Store,
    project_id: int,
    *,
    scorer: Any = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES // 16,
) -> FastAPI:
    """Build the labeling app for one project.

    Parameters
    ----------
    store : Store
        The project's database.
    project_id : int
    scorer : activelab.server.scorer.Scorer, optional
        Background retraining; started with the app and stopped at shutdown.
    max_body_bytes : int, default=65536
        Larger request bodies get 413.

    Returns
    -------
    FastAPI
    """
    from contextlib import asynccontextmanager

    project = store.project(project_id)
    settings = DEFAULTS | project["settings"]
    labels: list[str] = project["labels"]
    label_set = set(labels)
    root = Path(settings["root"]).resolve() if settings.get("root") else None
    lease = float(settings["lease_seconds"])
    overlap = int(settings["overlap"])
    tokens = _TokenCache(store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        if scorer is not None:
            scorer.start()
        yield
        if scorer is not None:
            scorer.stop()

    app = FastAPI(title="activelab labeling", version="1",
                  description="Label what the model asks for next.", lifespan=lifespan)
    app.state.store = store
    app.state.project_id = project_id
    app.state.scorer = scorer

    def user(request: Request) -> Annotator:
        who = tokens.get(token_from_headers(request.headers))
        if who is None or who.project_id != project_id:
            raise HTTPException(401, "missing or invalid token: send 'Authorization: Bearer "
                                "<token>'", headers={"WWW-Authenticate": "Bearer"})
        return who

    def admin(who: Annotator = Depends(user)) -> Annotator:
        if not who.is_admin:
            raise HTTPException(403, "this route is for the project admin")
        return who

    def current_model() -> tuple[Any, int]:
        if scorer is None or scorer.model_ is None:
            return None, 0
        return scorer.model_, int(scorer.model_version_)

    def payload(asg: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "item_id": int(asg["item_id"]), "key": item.get("key"), "kind": item["kind"],
            "why": {"utility": asg.get("utility"), "rank": asg.get("rank"),
                    "strategy": asg.get("strategy"), "model_version": asg.get("model_version")},
            "guess": asg.get("guess"), "confidence": asg.get("confidence"),
            "guess_model_version": asg.get("model_version"),
        }
        if item["kind"] == "text":
            out["text"] = item["content"]
        elif item["kind"] == "row":
            out["row"] = json.loads(item["content"])
        else:
            out["image_url"] = f"/api/items/{int(asg['item_id'])}/image"
        model, version = current_model()
        if model is not None and version > int(asg.get("model_version") or 0):
            from .scorer import _rows, load_features

            X = load_features(scorer.features_path)
            proba = model.predict_proba(_rows(X, np.asarray([int(asg["item_id"])])))[0]
            best = int(proba.argmax())
            out["guess"] = str(model.classes_[best])
            out["confidence"] = float(proba[best])
            out["guess_model_version"] = version
        return out

    def payloads(asgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items = store.items(project_id, [a["item_id"] for a in asgs])
        return [payload(a, items[int(a["item_id"])]) for a in asgs]

    # ------------------------------------------------------------------ page
    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # ------------------------------------------------------------------ annotators
    @app.get("/api/me", summary="Who the token belongs to")
    def me(who: Annotator = Depends(user)) -> dict[str, Any]:
        return {"id": who.id, "name": who.name, "role": who.role}

    @app.get("/api/project", summary="Labels, shortcuts and settings of the project")
    def project_info(who: Annotator = Depends(user)) -> dict[str, Any]:
        p = store.project(project_id)
        return {"name": p["name"], "labels": labels, "n_items": p["n_items"],
                "shortcuts": {str(i + 1): lab for i, lab in enumerate(labels[:9])},
                "budget": settings.get("budget"), "batch": settings.get("batch"),
                "strategy": settings.get("strategy"), "overlap": overlap,
                "kind": settings.get("kind")}

    @app.get("/api/next", summary="The next items to label (leased to you)")
    def next_items(n: int = Query(3, ge=1, le=20),
                   who: Annotator = Depends(user)) -> dict[str, Any]:
        asgs = store.claim(project_id, who.id, n, lease_seconds=lease, overlap=overlap)
        if scorer is not None and len(asgs) < n:
            scorer.poke()
        return {"items": payloads(asgs), "lease_seconds": lease}

    @app.post("/api/labels", summary="Commit a label (acknowledged only once stored)")
    def post_label(body: LabelIn, who: Annotator = Depends(user)) -> dict[str, Any]:
        if body.label not in label_set:
            raise HTTPException(422, f"label {body.label!r} is not one of the project's "
                                f"labels: {', '.join(labels)}")
        try:
            res = store.commit_label(project_id, who.id, body.item_id, body.label,
                                     body.duration_s)
        except LeaseLost as exc:
            raise HTTPException(409, str(exc)) from None
        if scorer is not None:
            scorer.poke()
        return res | {"n_labels": store.count_labels(project_id)}

    @app.post("/api/skip", summary="Give an item back without a label")
    def post_skip(body: SkipIn, who: Annotator = Depends(user)) -> dict[str, Any]:
        if not store.skip(project_id, who.id, body.item_id):
            raise HTTPException(409, f"item {body.item_id} is not leased to you")
        return {"status": "skipped", "item_id": body.item_id}

    @app.post("/api/undo", summary="Withdraw your latest label; the item comes back to you")
    def post_undo(who: Annotator = Depends(user)) -> dict[str, Any]:
        asg = store.undo_last(project_id, who.id, lease_seconds=lease)
        if asg is None:
            raise HTTPException(409, "nothing to undo")
        return {"status": "undone", "item": payloads([asg])[0],
                "n_labels": store.count_labels(project_id)}

    @app.get("/api/items/{item_id}/image", summary="The image of an item")
    def item_image(item_id: int, who: Annotator = Depends(user)) -> FileResponse:
        item = store.items(project_id, [item_id]).get(item_id)
        if item is None or item["kind"] != "image":
            raise HTTPException(404, "no image item with that id")
        if root is None:
            raise HTTPException(404, "this project has no image folder")
        try:
            path = resolve_inside(root, item["content"])
        except ValueError:
            raise HTTPException(403, "image path is outside the project folder") from None
        if not path.is_file():
            raise HTTPException(404, "image file missing")
        return FileResponse(path)

    @app.get("/api/progress", summary="Labels vs budget, learning curve, stop signal, speed")
    def progress(who: Annotator = Depends(user)) -> dict[str, Any]:
        return _progress(store, project_id, settings, who, scorer)

    # ------------------------------------------------------------------ admin
    @app.post("/api/admin/annotators", summary="Create an annotator and their token")
    def create_annotator(body: AnnotatorIn, _: Annotator = Depends(admin)) -> dict[str, Any]:
        try:
            token = store.create_annotator(project_id, body.name, body.role)
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from None
        return {"name": body.name, "role": body.role, "token": token,
                "url_fragment": f"#token={token}"}

    @app.post("/api/admin/annotators/{annotator_id}/revoke",
              summary="Revoke an annotator's token; their leased items return to the pool")
    def revoke_annotator(annotator_id: int, who: Annotator = Depends(admin)) -> dict[str, Any]:
        if annotator_id == who.id:
            raise HTTPException(409, "you cannot revoke your own token")
        if not store.revoke_annotator(project_id, annotator_id):
            raise HTTPException(404, "no active annotator with that id")
        tokens.clear()
        return {"status": "revoked", "annotator_id": annotator_id}

    @app.get("/api/admin/annotators", summary="Annotators with label counts")
    def list_annotators(_: Annotator = Depends(admin)) -> dict[str, Any]:
        return {"annotators": store.annotators(project_id)}

    @app.get("/api/admin/stats", summary="Agreement and label quality over time")
    def admin_stats(block: int = Query(20, ge=1, le=10000),
                    _: Annotator = Depends(admin)) -> dict[str, Any]:
        rows = store.label_rows(project_id)
        ids = np.asarray([r["item_id"] for r in rows], dtype=np.int64)
        labs = np.asarray([r["label"] for r in rows], dtype=object)
        anns = np.asarray([r["annotator_id"] for r in rows], dtype=np.int64)
        guesses = np.asarray([r["guess"] for r in rows], dtype=object)
        people = {a["id"]: a["name"] for a in store.annotators(project_id)}
        agr = stats.agreement(ids, labs, anns)
        agr["per_annotator"] = {people.get(k, str(k)): v
                                for k, v in agr["per_annotator"].items()}
        quality = stats.quality_over_time(ids, labs, anns, guesses, block=block)
        for q in quality:
            q["annotator"] = people.get(q["annotator_id"], str(q["annotator_id"]))
        err = store.last_event(project_id, "scorer_error")
        model = store.last_event(project_id, "model")
        if err is not None and model is not None and model["id"] > err["id"]:
            err = None  # a model was trained since
        return {"agreement": agr, "quality": quality, "scorer_error": err}

    @app.post("/api/admin/retrain", summary="Ask the background scorer to look now")
    def retrain(_: Annotator = Depends(admin)) -> dict[str, Any]:
        if scorer is None:
            raise HTTPException(409, "no background scorer runs in this process")
        scorer.poke()
        return {"status": "requested"}

    @app.get("/api/admin/export/labels", summary="Labels as CSV, JSONL or Label Studio JSON")
    def export_labels(format: str = Query("csv", pattern="^(csv|jsonl|labelstudio)$"),
                      _: Annotator = Depends(admin)) -> Response:
        rows = store.label_rows(project_id)
        items = store.items(project_id, sorted({r["item_id"] for r in rows}))
        cols = ["item_id", "key", "label", "annotator", "created_at", "duration_s",
                "model_version", "utility", "rank", "guess", "confidence"]
        out = [{**{c: r.get(c) for c in cols}, "key": items[r["item_id"]]["key"]} for r in rows]
        if format == "csv":
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=cols)
            w.writeheader()
            w.writerows(out)
            return Response(buf.getvalue(), media_type="text/csv",
                            headers={"content-disposition": "attachment; filename=labels.csv"})
        if format == "jsonl":
            text = "".join(json.dumps(r) + "\n" for r in out)
            return Response(text, media_type="application/x-ndjson")
        return JSONResponse(_labelstudio_tasks(rows, items))

    @app.get("/api/admin/export/model", summary="The latest model, saved with skops")
    def export_model(_: Annotator = Depends(admin)) -> FileResponse:
        models = [m for m in store.model_rows(project_id) if m["path"]]
        if not models or not os.path.isfile(models[-1]["path"]):
            raise HTTPException(404, "no model has been trained yet: label a few more items")
        m = models[-1]
        return FileResponse(m["path"], media_type="application/octet-stream",
                            filename=f"model-v{m['version']}.skops")

    @app.get("/api/admin/export/events", summary="The full event log as JSONL")
    def export_events(_: Annotator = Depends(admin)) -> StreamingResponse:
        def lines() -> Iterator[str]:
            for ev in store.iter_events(project_id):
                yield json.dumps(ev) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app


def _labelstudio_tasks(rows: list[dict[str, Any]], items: dict[int, dict[str, Any]]
                       ) -> list[dict[str, Any]]:
    """Label Studio task JSON: one task per item, one annotation per label."""
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
            tasks[r["item_id"]] = {"id": int(r["item_id"]) + 1,
                                   "data": data | {"activelab_id": int(r["item_id"])},
                                   "annotations": []}
        tasks[r["item_id"]]["annotations"].append({
            "completed_by": r["annotator"],
            "lead_time": r["duration_s"],
            "result": [{"from_name": "label", "to_name": "text" if item["kind"] == "text"
                        else ("image" if item["kind"] == "image" else "row"),
                        "type": "choices", "value": {"choices": [r["label"]]}}],
        })
    return list(tasks.values())


def _progress(store: Store, project_id: int, settings: dict[str, Any], who: Annotator,
              scorer: Any) -> dict[str, Any]:
    p = store.project(project_id)
    models = store.model_rows(project_id)
    n_labels = store.count_labels(project_id)
    lab_ids, _ = store.consensus(project_id)
    times, durs = store.durations(project_id, who.id)
    now = time.time()
    agreements = [m["stop_agreement"] for m in models]
    from .scorer import could_stop

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
        "session": stats.session(times, now, 60.0 * float(settings["break_after_minutes"])),
        "scorer_running": scorer is not None,
    }


def app_from_env() -> Any:
    """App factory for ``uvicorn --factory`` (several workers share one database).

    Reads ``ACTIVELAB_DB`` (database URL) and ``ACTIVELAB_PROJECT`` (project name).  Each worker
    runs a scorer process; the database lease lets only one of them retrain at a time.
    """
    from .scorer import ScorerProcess

    url = os.environ.get("ACTIVELAB_DB")
    name = os.environ.get("ACTIVELAB_PROJECT")
    if not url or not name:
        raise ValueError("set ACTIVELAB_DB and ACTIVELAB_PROJECT to run the app from a factory")
    store = Store(url)
    pid = store.find_project(name)
    if pid is None:
        raise ValueError(f"no project {name!r} in {url}: create it with `activelab label`")
    settings = DEFAULTS | store.project(pid)["settings"]
    scorer = None
    if settings.get("features_path"):
        scorer = ScorerProcess(url, pid, settings["features_path"],
                               strategy=settings["strategy"], batch=int(settings["batch"]),
                               retrain_every=settings.get("retrain_every"),
                               overlap=int(settings["overlap"]),
                               cold_start=settings.get("cold_start", "kmeans"),
                               model_dir=settings.get("model_dir"),
                               random_state=int(settings.get("random_state", 0)))
    return create_app(store, pid, scorer=scorer)
