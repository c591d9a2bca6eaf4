#!/usr/bin/env bash
# End-to-end check of `activelab ls-backend` against a real Label Studio 1.23.2.
#
# Opt-in (it installs about 1 GB): not part of `make test`.  It
#   1. installs label-studio==1.23.2 into its own venv (.venv-labelstudio, or $LS_VENV),
#   2. starts Label Studio on 127.0.0.1 with a fresh data folder and a known API token,
#   3. starts the activelab backend on 127.0.0.1 (with --push-predictions),
#   4. through Label Studio's REST API: creates a project, imports tasks, connects the
#      backend, annotates some tasks, presses "Start Training",
#   5. checks that the backend trained a new model version and that Label Studio holds
#      predictions of that version (retrieved through its own ML API and pushed by us),
#      and that the project's model_version was set to it.
# Exit code 0 = every check passed.  Logs stay in the printed work folder.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LS_VENV="${LS_VENV:-$ROOT/.venv-labelstudio}"
PY="${PY:-$ROOT/.venv/bin/python}"
LS_PORT="${LS_PORT:-18080}"
BACKEND_PORT="${BACKEND_PORT:-19090}"
WORK="$(mktemp -d -t activelab-ls-XXXXXX)"
TOKEN="$(python3 -c 'import secrets; print(secrets.token_hex(20))')"
LS_PID=""
BACKEND_PID=""

cleanup() {
  [ -n "$BACKEND_PID" ] && kill "$BACKEND_PID" 2>/dev/null || true
  [ -n "$LS_PID" ] && kill "$LS_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "logs: $WORK"
}
trap cleanup EXIT

if [ ! -x "$LS_VENV/bin/label-studio" ]; then
  echo "== installing label-studio==1.23.2 into $LS_VENV"
  python3 -m venv "$LS_VENV"
  "$LS_VENV/bin/pip" install -q --disable-pip-version-check "label-studio==1.23.2"
fi
if [ ! -x "$PY" ]; then
  echo "activelab's venv ($PY) is missing: run 'make install-dev' first" >&2
  exit 2
fi

echo "== starting Label Studio on 127.0.0.1:$LS_PORT (data in $WORK/ls)"
(
  cd "$WORK"
  export ML_BLOCK_LOCAL_IP=false SSRF_PROTECTION_ENABLED=false
  export LABEL_STUDIO_HOST="http://127.0.0.1:$LS_PORT"
  export LABEL_STUDIO_BASE_DATA_DIR="$WORK/ls"
  exec "$LS_VENV/bin/label-studio" start --no-browser --internal-host 127.0.0.1 \
    --port "$LS_PORT" --data-dir "$WORK/ls" --username admin@example.com \
    --password activelab-e2e --user-token "$TOKEN" --enable-legacy-api-token
) >"$WORK/labelstudio.log" 2>&1 &
LS_PID=$!

echo "== starting activelab ls-backend on 127.0.0.1:$BACKEND_PORT"
"$ROOT/.venv/bin/activelab" ls-backend --host 127.0.0.1 --port "$BACKEND_PORT" \
  --strategy entropy --db "sqlite:///$WORK/backend.db" --push-predictions \
  >"$WORK/backend.log" 2>&1 &
BACKEND_PID=$!

LS_URL="http://127.0.0.1:$LS_PORT" BACKEND_URL="http://127.0.0.1:$BACKEND_PORT" \
  LS_TOKEN="$TOKEN" "$PY" - <<'PYEOF'
import os
import sys
import time

import httpx

ls_url, backend_url = os.environ["LS_URL"], os.environ["BACKEND_URL"]
ls = httpx.Client(base_url=ls_url, timeout=120,
                  headers={"Authorization": f"Token {os.environ['LS_TOKEN']}"})
backend = httpx.Client(base_url=backend_url, timeout=30)


def wait_for(what, check, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                print(f"   ok: {what}")
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    sys.exit(f"FAILED: {what} (waited {seconds} s)")


def ok(response):
    if response.status_code >= 400:
        sys.exit(f"FAILED: {response.request.method} {response.request.url} -> "
                 f"{response.status_code}: {response.text[:500]}")
    return response.json() if response.content else None


wait_for("backend /health", lambda: backend.get("/health").json()["status"] == "UP", 60)
wait_for("Label Studio answers its API with the token",
         lambda: ls.get("/api/projects").status_code == 200, 600)

config = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>
  </Choices>
</View>"""
project = ok(ls.post("/api/projects", json={"title": "activelab-e2e", "label_config": config}))
pid = project["id"]
print(f"== project {pid}")
texts = {
    "Positive": ["I love this product", "great quality, works great", "excellent, love it",
                 "really happy with it", "great value, love the design"],
    "Negative": ["terrible, broke after two days", "awful service, never again",
                 "bad quality, it broke", "worst purchase ever", "awful and terrible"],
    "Neutral": ["it is okay", "average product, nothing special", "okay for the price",
                "neither good nor bad", "it is fine, average"],
}
tasks = [{"text": t} for group in texts.values() for t in group]
tasks += [{"text": f"unlabeled review number {i}, {w}"}
          for i, w in enumerate(["love", "awful", "okay", "great", "broke"] * 2)]
ok(ls.post(f"/api/projects/{pid}/import", json=tasks))
task_list = ok(ls.get("/api/tasks", params={"project": pid, "page_size": 100}))
task_list = task_list["tasks"] if isinstance(task_list, dict) else task_list
by_text = {t["data"]["text"]: t["id"] for t in task_list}
print(f"   imported {len(by_text)} tasks")

ml = ok(ls.post("/api/ml", json={"url": backend_url, "project": pid, "title": "activelab"}))
ml_id = ml["id"]
print(f"== backend connected as ML backend {ml_id}")
ok(ls.patch(f"/api/projects/{pid}", json={"sampling": "Uncertainty sampling"}))
first_version = backend.get("/versions", params={"project": pid}).json()["model_version"]
print(f"   backend version before training: {first_version}")

for label, group in texts.items():
    for text in group[:3]:
        ok(ls.post(f"/api/tasks/{by_text[text]}/annotations", json={
            "result": [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                        "value": {"choices": [label]}}],
            "lead_time": 1.0}))
print("== annotated 9 tasks; pressing Start Training")
ok(ls.post(f"/api/ml/{ml_id}/train", json={}))


def trained():
    # every webhook and the training request handled, and a new version made
    if backend.get("/health").json()["busy"]:
        return False
    time.sleep(3)
    health = backend.get("/health").json()
    v = backend.get("/versions", params={"project": pid}).json()
    return not health["busy"] and v["model_version"] != first_version


wait_for("backend trained a new model version and is idle", trained, 240)
error = backend.get("/health").json()["last_error"]
if error:
    sys.exit(f"FAILED: the backend reported: {error}")
version = backend.get("/versions", params={"project": pid}).json()["model_version"]
print(f"   new version: {version}")

wait_for("project model_version set by the push",
         lambda: ok(ls.get(f"/api/projects/{pid}"))["model_version"] == version, 120)

ok(ls.post("/api/dm/actions", params={"id": "retrieve_tasks_predictions", "project": pid},
           json={"selectedItems": {"all": True, "excluded": []}}))


def predictions_of_version():
    preds = ok(ls.get("/api/predictions", params={"project": pid}))
    mine = [p for p in preds if p.get("model_version") == version]
    unlabeled = len(by_text) - 9
    return len({p["task"] for p in mine}) >= unlabeled and all(
        isinstance(p.get("score"), float) for p in mine)


wait_for(f"Label Studio holds predictions of {version} for every unlabeled task",
         predictions_of_version, 180)
preds = [p for p in ok(ls.get("/api/predictions", params={"project": pid}))
         if p.get("model_version") == version]
lowest = min(preds, key=lambda p: p["score"])
nxt = ok(ls.get(f"/api/projects/{pid}/next"))
print(f"   lowest score task {lowest['task']} ({lowest['score']:.3f}); /next serves task "
      f"{nxt.get('id')}")
print("PASSED: Label Studio 1.23.2 trained through activelab and got predictions of", version)
PYEOF
