// activelab labeling page: plain JavaScript, no build step.
// Every item field is written with textContent (never parsed as HTML), so item text cannot inject markup.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const tasks = window.activelabTasks || null;  // multi-label and number widgets (tasks.js)
  const state = { token: null, labels: [], keys: {}, queue: [], current: null, shownAt: 0,
                  busy: false, fetching: null, progress: null, done: new Set() };

  function readToken() {
    const m = /(?:^|[#&])token=([^&]+)/.exec(window.location.hash);
    if (m) {
      sessionStorage.setItem("activelab-token", decodeURIComponent(m[1]));
      history.replaceState(null, "", window.location.pathname);
    }
    return sessionStorage.getItem("activelab-token");
  }

  async function api(method, path, body) {
    const opts = { method, headers: { Authorization: "Bearer " + state.token } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    if (res.status === 401) { showLogin(); throw new Error("token refused"); }
    const data = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
    if (!res.ok) {
      const err = new Error((data && data.detail) ? String(data.detail) : res.statusText);
      err.status = res.status;
      throw err;
    }
    return data;
  }

  function notice(msg) { $("notice").textContent = msg || ""; }

  function showLogin() { $("login").hidden = false; $("work").hidden = true; }

  async function refill() {
    // keep a few items leased and ready, so the next one shows at once
    if (state.fetching) return state.fetching;
    state.fetching = (async () => {
      try {
        const data = await api("GET", "api/next?n=4");
        state.nextStatus = data.status;
        const have = new Set(state.queue.map((it) => it.item_id));
        if (state.current) have.add(state.current.item_id);
        // an answer to a request sent before the latest label may still list that item
        for (const it of data.items) {
          if (!have.has(it.item_id) && !state.done.has(it.item_id)) state.queue.push(it);
        }
        for (const it of state.queue) prefetchImage(it);
      } catch (e) { notice(e.message); }
      finally { state.fetching = null; }
    })();
    return state.fetching;
  }

  async function prefetchImage(it) {
    if (it.kind !== "image" || it.blobUrl) return;
    try {
      const res = await fetch(it.image_url, { headers: { Authorization: "Bearer " + state.token } });
      if (res.ok) it.blobUrl = URL.createObjectURL(await res.blob());
    } catch (e) { /* shown as missing image */ }
  }

  function fmt(x, digits) { return (x === null || x === undefined) ? "–" : Number(x).toFixed(digits); }

  // an email's header block (lines "Name: value" up to the first blank line) is folded away
  const HEADER_LINE = /^[A-Za-z][A-Za-z0-9-]*:[ \t]/;
  function splitHeaders(t) {
    const end = t.search(/\r?\n\r?\n/);
    if (end < 0) return null;
    const lines = t.slice(0, end).split(/\r?\n/);
    if (lines.length < 2) return null;
    // a raw mailbox message may start with its "From sender date" line
    const first = /^From \S/.test(lines[0]) ? 1 : 0;
    if (!HEADER_LINE.test(lines[first] || "")) return null;
    if (!lines.slice(first).every((ln) => HEADER_LINE.test(ln) || /^[ \t]+\S/.test(ln))) return null;
    return { headers: lines, body: t.slice(end).replace(/^\s+/, "") };
  }

  function showText(box, t) {
    const parts = splitHeaders(t);
    if (!parts) { box.textContent = t; return; }
    const details = document.createElement("details");
    details.className = "headers";
    const summary = document.createElement("summary");
    summary.textContent = "headers (" + parts.headers.length + " lines)";
    const pre = document.createElement("pre");
    pre.textContent = parts.headers.join("\n");
    details.append(summary, pre);
    const body = document.createElement("div");
    body.textContent = parts.body;
    box.append(details, body);
  }

  // --show-columns: the chosen columns, in order, each under its name
  function showFields(box, fields) {
    for (const f of fields) {
      const wrap = document.createElement("div");
      wrap.className = "field";
      wrap.dataset.column = f.name;
      const name = document.createElement("div");
      name.className = "field-name"; name.textContent = f.name;
      const value = document.createElement("div");
      value.className = "field-value";
      showText(value, f.value);
      wrap.append(name, value);
      box.append(wrap);
    }
  }

  function render() {
    const it = state.current;
    if (tasks) tasks.show(it);
    const text = $("item-text"), img = $("item-image"), row = $("item-row");
    text.textContent = ""; img.hidden = true; row.hidden = true;
    $("item").dataset.itemId = it ? String(it.item_id) : "";
    if (!it) {
      text.textContent = state.nextStatus === "done"
        ? "Everything is labeled: nothing is left for you. Thank you!"
        : "Nothing to label right now: the remaining items are with other annotators or " +
          "being ranked. New ones appear here by themselves.";
      $("why").textContent = ""; $("guess").textContent = "";
      return;
    }
    if (it.fields) showFields(text, it.fields);
    if (it.kind === "text") {
      if (!it.fields) showText(text, it.text);
    } else if (it.kind === "image") {
      img.hidden = false;
      if (it.blobUrl) img.src = it.blobUrl;
      else prefetchImage(it).then(() => { if (state.current === it && it.blobUrl) img.src = it.blobUrl; });
    } else if (!it.fields) {
      row.hidden = false;
      const body = row.querySelector("tbody");
      body.textContent = "";
      for (const [k, v] of Object.entries(it.row || {})) {
        const tr = document.createElement("tr");
        const th = document.createElement("th"); th.textContent = k;
        const td = document.createElement("td"); td.textContent = String(v);
        tr.append(th, td); body.append(tr);
      }
    }
    $("why").textContent = "Why this item: " + ((it.why && it.why.text) || "–");
    const taskGuess = tasks ? tasks.guessText(it) : null;
    if (taskGuess !== null) $("guess").textContent = taskGuess;
    else $("guess").textContent = it.guess ? ("Model guess: " + it.guess + " (" + fmt(100 * it.confidence, 0) +
      "% sure, model v" + it.guess_model_version + ")")
      : (state.guess === "off" ? "" : "Model guess: shown once the model beats chance in cross-validation");
    state.shownAt = performance.now();
  }

  // a mouse click must not leave the focus on a button: Space or Enter would click it
  // again, on the next item
  function keepFocus(button) {
    button.addEventListener("mousedown", (ev) => ev.preventDefault());
  }

  function focusItem() {
    const a = document.activeElement;
    if (!a || a === document.body || a.closest("#buttons, .controls")) {
      $("item").focus({ preventScroll: true });
    }
  }

  // the review views (static/review.js): own labels, comments, disagreements
  const review = () => window.activelabReview;

  async function advance() {
    if (state.queue.length === 0) await refill();
    state.current = state.queue.shift() || null;
    if (review()) review().onItem(state.current);
    render();
    $("item").scrollTop = 0;
    focusItem();
    if (state.queue.length < 2) refill();
    if (!state.current) setTimeout(() => { if (!state.current) advance(); }, 1500);
  }

  function sendLabel(label) { return sendAnswer({ label }); }

  // fields: { label } for classification, { labels } (multi-label) or { value } (regression)
  async function sendAnswer(fields) {
    const it = state.current;
    if (!it || state.busy) return;
    state.busy = true;
    const duration = (performance.now() - state.shownAt) / 1000;
    try {
      if (review()) await review().beforeLabel(it);
      const res = await api("POST", "api/labels",
                            Object.assign({ item_id: it.item_id, duration_s: duration }, fields));
      state.done.add(it.item_id);
      notice("");
      showCount(res.n_labels);
      await advance();
    } catch (e) {
      notice(e.message);
      if (e.status === 409) { state.done.add(it.item_id); await advance(); }
    } finally { state.busy = false; }
  }

  async function skip() {
    const it = state.current;
    if (!it || state.busy) return;
    state.busy = true;
    try {
      await api("POST", "api/skip", { item_id: it.item_id });
      state.done.add(it.item_id);
      await advance();
    }
    catch (e) { notice(e.message); }
    finally { state.busy = false; }
  }

  async function undo() {
    if (state.busy) return;
    state.busy = true;
    try {
      const res = await api("POST", "api/undo");
      state.done.delete(res.item.item_id);
      if (state.current) state.queue.unshift(state.current);
      state.queue = state.queue.filter((x) => x.item_id !== res.item.item_id);
      state.current = res.item;
      if (review()) review().onItem(state.current);
      showCount(res.n_labels);
      render();
      $("item").scrollTop = 0; focusItem();
    } catch (e) { notice(e.message); }
    finally { state.busy = false; }
  }

  function showCount(n) {
    const budget = state.progress ? state.progress.budget : 0;
    $("progress").dataset.n = String(n);
    $("progress").textContent = n + (budget ? " / " + budget : "") + " labels";
    if (budget) $("progress-fill").style.width = Math.min(100, 100 * n / budget).toFixed(1) + "%";
  }

  async function pollProgress() {
    try {
      const p = await api("GET", "api/progress");
      state.progress = p;
      showCount(p.n_labels);
      $("model-version").textContent = "v" + p.model_version;
      $("stop-signal").hidden = !p.stop.could_stop;
      $("stop-signal").textContent = p.stop.message || "";
      $("break-reminder").hidden = !p.session.take_a_break;
      $("speed").textContent = "Your speed: " + fmt(p.speed.seconds_per_label, 1) +
        " s per label · " + p.mine + " labels by you · session " + p.session.minutes + " min";
      const r2 = state.metric === "R²";
      const last = p.curve.slice(-5).map((c) => "v" + c.version + ": " + c.n_labels + " labels, " +
        (c.cv_accuracy === null ? "–" : r2 ? c.cv_accuracy.toFixed(2)
          : (100 * c.cv_accuracy).toFixed(0) + "%")).join("; ");
      $("curve").textContent = last ? "Cross-validated " + (state.metric || "accuracy") + " — " + last
        : "No model yet.";
    } catch (e) { /* shown on the next action */ }
  }

  // ---- the live verdict of the random checks, in plain sentences (numbers from the API)
  const signed = (x) => (x < 0 ? "\u2212" : "+") + Math.abs(x).toFixed(2);
  const pct = (x) => (100 * x).toFixed(0) + "%";
  const checks = (n) => n + " random check" + (n === 1 ? "" : "s");

  function verdictText(st) {
    const v = st.live_verdict, head = "Active learning vs random on this data: ";
    if (!v.available) return head + v.reason + ".";
    if (!v.n) {
      if (st.random_share === 0) return head + "random checks are off (--random-share 0).";
      if (!v.checks_labeled) return head + "no random checks yet.";
      return head + "can't tell yet (" + checks(v.checks_labeled) + " labeled, none compared yet).";
    }
    const est = signed(v.mean) + " accuracy [" + signed(v.low) + ", " + signed(v.high) + "]";
    const at = v.labels_from === v.labels_to ? String(v.labels_from)
      : v.labels_from + "\u2013" + v.labels_to;
    const from = checks(v.n) + ", compared at " + at + " labels";
    if (v.words === "can't tell yet") return head + "can't tell yet, " + est + " (" + from + ").";
    return head + v.words + ", " + est + ", from " + from + ".";
  }

  function accuracyText(a) {
    const head = "Model's estimated accuracy on unlabeled items: ";
    if (!a) return "";
    if (!a.n) return head + "none yet (it needs labeled random checks).";
    return head + pct(a.mean) + " [" + pct(a.low) + ", " + pct(a.high) + "], from the guesses the " +
      "model of the moment made on the last " + checks(a.n) + ", before their labels.";
  }

  function showVerdict(st) {
    $("verdict").textContent = verdictText(st);
    $("live-accuracy").textContent = accuracyText(st.live_accuracy);
    $("verdict-cost").textContent = st.random_share > 0 && st.live_verdict.available
      ? "The checks cost " + pct(st.random_share) + " of the labels once a model ranks the queue." : "";
  }

  // ---- admin panel: people, agreement, label quality over time, exports
  // a regression project's figures are median differences between numbers (server/stats.py)
  const num = (x) => Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);
  const share = (x) => (100 * x).toFixed(0) + "%";

  function peopleHeader(regression) {
    $("col-agree").textContent = regression ? "vs others" : "agrees";
    $("col-agree").title = regression
      ? "median |label − the other people's median label|, on items labeled by several people"
      : "agreement with the other people's most common label, on items labeled by several people";
    $("col-model").title = regression
      ? "median |label − model guess| over the latest block of labels (the guess at the time)"
      : "agreement of the latest block of labels with the model";
  }

  function personCells(p, st, q) {
    const name = p.name + (p.role === "admin" ? " (admin)" : "");
    if (st.task === "regression") {
      const off = st.agreement.per_annotator_difference[p.name];
      return [name, String(p.n_labels), off === undefined ? "–" : "±" + num(off),
              q && q.model_error !== null ? "±" + num(q.model_error) : "–"];
    }
    const agree = st.agreement.per_annotator[p.name];
    return [name, String(p.n_labels), agree === undefined ? "–" : share(agree),
            q && q.agree_model !== null ? share(q.agree_model) : "–"];
  }

  function agreementText(st) {
    const a = st.agreement;
    if (!a.items_multi) return "No item labeled by several people yet.";
    if (st.task === "regression") return "Items labeled by several people: " + a.items_multi +
      "; the numbers two people gave the same item differ by a median of " +
      num(a.median_difference) + ".";
    return "Items labeled by several people: " + a.items_multi + ", all agree on " +
      share(a.all_agree) + ", pairwise agreement " + share(a.pairwise);
  }

  async function refreshAdmin() {
    try {
      const [people, st] = await Promise.all([api("GET", "api/admin/annotators"),
                                              api("GET", "api/admin/stats")]);
      const body = $("people").querySelector("tbody");
      body.textContent = "";
      peopleHeader(st.task === "regression");
      const latest = {};
      for (const q of st.quality) latest[q.annotator] = q;
      for (const p of people.annotators) {
        const tr = document.createElement("tr");
        for (const v of personCells(p, st, latest[p.name])) {
          const td = document.createElement("td"); td.textContent = v; tr.append(td);
        }
        body.append(tr);
      }
      $("agreement").textContent = agreementText(st);
      showVerdict(st);
    } catch (e) { /* shown on the next action */ }
  }

  async function addAnnotator() {
    const name = $("new-name").value.trim();
    if (!name) return;
    try {
      const res = await api("POST", "api/admin/annotators", { name });
      $("new-link").textContent = "Send " + res.name + " this link: " + res.url;
      $("new-name").value = "";
      refreshAdmin();
    } catch (e) { $("new-link").textContent = e.message; }
  }

  async function download(ev) {
    const b = ev.currentTarget;
    try {
      const res = await fetch(b.dataset.export, { headers: { Authorization: "Bearer " + state.token } });
      if (!res.ok) { notice((await res.json()).detail || res.statusText); return; }
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement("a");
      a.href = url; a.download = b.dataset.file; document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) { notice(e.message); }
  }

  // keys that read a long item: they scroll the item box wherever the focus is
  function scrollItem(ev) {
    const box = $("item"), page = Math.max(40, box.clientHeight * 0.9);
    const by = { ArrowDown: 40, ArrowUp: -40, PageDown: page, PageUp: -page,
                 " ": ev.shiftKey ? -page : page }[ev.key];
    if (by !== undefined) box.scrollBy(0, by);
    else if (ev.key === "Home") box.scrollTop = 0;
    else if (ev.key === "End") box.scrollTop = box.scrollHeight;
    else return false;
    return true;
  }

  function onKey(ev) {
    if (!state.token || $("work").hidden) return;
    const tag = ev.target && ev.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA") return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (review() && review().onKey(ev)) return;  // a key on a row of a review list
    // a button reached with Tab keeps its Space and Enter; elsewhere Space reads on
    if (tag !== "BUTTON" && scrollItem(ev)) { ev.preventDefault(); return; }
    if (tasks && tasks.onKey(ev)) return;
    const k = ev.key;
    if (Object.prototype.hasOwnProperty.call(state.keys, k)) {
      ev.preventDefault(); sendLabel(state.keys[k]);
    } else if (k === "s") { ev.preventDefault(); skip(); }
    else if (k === "u" || k === "Backspace") { ev.preventDefault(); undo(); }
  }

  async function start() {
    state.token = readToken();
    if (!state.token) { showLogin(); return; }
    try {
      const [me, proj] = await Promise.all([api("GET", "api/me"), api("GET", "api/project")]);
      $("login").hidden = true; $("work").hidden = false;
      $("who").textContent = me.name + (me.role === "admin" ? " (admin)" : "");
      $("project-name").textContent = proj.name;
      state.labels = proj.labels;
      state.guess = proj.guess;
      state.metric = proj.metric;
      state.keys = {};
      const box = $("buttons"); box.textContent = "";
      const own = tasks && tasks.setup(proj, { send: sendAnswer, skip, undo });
      if (!own) proj.labels.forEach((lab, i) => {
        const key = proj.hotkeys[i];
        if (key) state.keys[key] = lab;
        const b = document.createElement("button");
        b.textContent = (key ? key + " · " : "") + lab;
        if (key) b.title = "key " + key;
        b.dataset.label = lab;
        keepFocus(b);
        b.addEventListener("click", () => sendLabel(lab));
        box.append(b);
      });
      if (review()) review().start(me, proj);
      await pollProgress();
      await advance();
      setInterval(pollProgress, 2000);
      if (me.role === "admin") {
        $("admin").hidden = false;
        refreshAdmin();
        setInterval(refreshAdmin, 10000);
      }
    } catch (e) { notice(e.message); }
  }

  // what static/review.js uses of this page
  window.activelabPage = { api, notice, state, focusItem, showCount };

  document.addEventListener("keydown", onKey);
  document.addEventListener("DOMContentLoaded", () => {
    $("token-save").addEventListener("click", () => {
      sessionStorage.setItem("activelab-token", $("token-input").value.trim());
      start();
    });
    $("skip").addEventListener("click", skip);
    $("undo").addEventListener("click", undo);
    keepFocus($("skip")); keepFocus($("undo"));
    $("new-annotator").addEventListener("click", addAnnotator);
    for (const b of document.querySelectorAll("[data-export]")) b.addEventListener("click", download);
    start();
  });
})();
