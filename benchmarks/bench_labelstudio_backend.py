"""Label Studio backend: webhook ack latency, retrain time, /predict time (SpamAssassin)."""

import gzip
import json
import random
import statistics
import tempfile
import time

from fastapi.testclient import TestClient
from threadpoolctl import threadpool_limits

from activelab.datasets.real import default_data_dir
from activelab.server.labelstudio import LSBackendConfig, create_app

CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="label" toName="text">'
    '<Choice value="ham"/><Choice value="spam"/></Choices></View>'
)
SPAM = default_data_dir() / "spamassassin/spamassassin.jsonl.gz"
rows = [json.loads(line) for line in gzip.open(SPAM, "rt", encoding="utf-8")]

random.Random(0).shuffle(rows)
rows = rows[:2500]  # a seeded shuffle: both classes, every group


def event(i, r):
    return {
        "action": "ANNOTATION_CREATED",
        "project": {"id": 1},
        "annotation": {
            "id": i,
            "task": i,
            "was_cancelled": False,
            "result": [
                {
                    "from_name": "label",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": [r["label"]]},
                }
            ],
        },
        "task": {"id": i, "data": {"text": r["text"]}},
    }


with threadpool_limits(1), tempfile.TemporaryDirectory() as tmp:
    for strategy in ("entropy", "vote_entropy"):
        app = create_app(LSBackendConfig(strategy=strategy, db=f"sqlite:///{tmp}/{strategy}.db"))
        backend = app.state.backend
        with TestClient(app) as client:
            client.post("/setup", json={"project": "1.1", "schema": CONFIG})
            n_lab = 500
            lat = []
            t0 = time.perf_counter()
            for i, r in enumerate(rows[:n_lab]):
                s = time.perf_counter()
                assert client.post("/webhook", json=event(i, r)).status_code == 201
                lat.append(time.perf_counter() - s)
            backend.wait_idle(600)
            flood = time.perf_counter() - t0
            n_versions = len(backend.state.versions("1"))
            t = time.perf_counter()
            backend.retrain("1")
            retrain = time.perf_counter() - t
            tasks = [
                {"id": 10_000 + i, "data": {"text": r["text"]}} for i, r in enumerate(rows[n_lab:])
            ]
            res = {}
            for n in (100, 1000):
                body = {"project": "1.1", "label_config": CONFIG, "tasks": tasks[:n]}
                times = []
                for _ in range(3):
                    s = time.perf_counter()
                    out = client.post("/predict", json=body).json()["results"]
                    times.append(time.perf_counter() - s)
                    assert len(out) == n and out[0]["result"]
                res[n] = min(times)
            lat.sort()
            print(
                f"{strategy}: {n_lab} webhooks in {flood:.1f}s incl. training, ack median "
                f"{statistics.median(lat) * 1e3:.1f} ms p95 {lat[int(0.95 * len(lat))] * 1e3:.1f} ms max "
                f"{lat[-1] * 1e3:.1f} ms; {n_versions} retrains; one retrain on {n_lab} labels "
                f"{retrain:.2f}s; /predict 100 tasks {res[100] * 1e3:.0f} ms, 1000 tasks "
                f"{res[1000] * 1e3:.0f} ms ({res[1000] / res[100]:.1f}x)"
            )
