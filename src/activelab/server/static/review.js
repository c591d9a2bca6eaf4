// activelab labeling page, review views: a comment per item, "my labels" (change any earlier
// label of yours) and, for the admin, the disagreements with their resolution.
// Plain JavaScript, no build step; every value is written with textContent.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const page = () => window.activelabPage;
  const local = { labels: [], hotkeys: [], saved: "", item: null, oldest: null,
                  open: 0, resolved: 0 };

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.append(td);
    return td;
  }

  function when(ts) { return ts ? new Date(1000 * ts).toLocaleString() : ""; }

  // small label buttons of a row: a click acts on that row; focus stays where it was
  function labelButtons(td, act) {
    local.labels.forEach((lab, i) => {
      const b = document.createElement("button");
      const key = local.hotkeys[i];
      b.textContent = (key ? key + " · " : "") + lab;
      b.dataset.label = lab;
      b.addEventListener("mousedown", (ev) => ev.preventDefault());
      b.addEventListener("click", (ev) => { ev.stopPropagation(); act(lab); });
      td.append(b);
    });
  }

  // ---- a comment per item, saved on Enter or with the label
  async function saveComment() {
    const it = local.item, text = $("comment").value.trim();
    if (!it || text === local.saved) return;
    await page().api("PUT", "api/items/" + it.item_id + "/comment", { text });
    local.saved = text;
    $("comment-state").textContent = text ? "comment saved" : "comment removed";
  }

  function onItem(it) {
    local.item = it; local.saved = "";
    $("comment").value = ""; $("comment-state").textContent = "";
    // typed a comment, then clicked a label: the keys go back to labeling
    if (document.activeElement === $("comment")) $("item").focus({ preventScroll: true });
  }

  async function onCommentKey(ev) {
    if (ev.key === "Enter") {
      ev.preventDefault();
      try { await saveComment(); } catch (e) { page().notice(e.message); }
      $("item").focus({ preventScroll: true });
    } else if (ev.key === "Escape") {
      ev.preventDefault(); $("item").focus({ preventScroll: true });
    }
  }

  // ---- my labels: every earlier label of yours, any of them changeable
  function historyRow(r) {
    const tr = document.createElement("tr");
    tr.dataset.row = "history"; tr.dataset.itemId = String(r.item_id); tr.tabIndex = 0;
    cell(tr, (r.key ? r.key + ": " : "") + r.preview, "preview");
    cell(tr, r.label, "label");
    const t = cell(tr, when(r.created_at), "when");
    if (r.changed_at) {
      const c = document.createElement("div");
      c.className = "changed"; c.textContent = "changed " + when(r.changed_at);
      t.append(c);
    }
    cell(tr, r.comment || "", "note");
    labelButtons(cell(tr, ""), (lab) => relabel(tr, lab));
    return tr;
  }

  async function loadHistory(older) {
    const q = "api/my/labels?limit=50" + (older && local.oldest !== null ? "&before=" + local.oldest : "");
    try {
      const data = await page().api("GET", q);
      const body = $("history-table").querySelector("tbody");
      if (!older) body.textContent = "";
      for (const r of data.labels) body.append(historyRow(r));
      if (data.labels.length) local.oldest = data.labels[data.labels.length - 1].label_id;
      $("history-more").hidden = !data.more;
    } catch (e) { page().notice(e.message); }
  }

  async function relabel(tr, label) {
    const item = tr.dataset.itemId;
    try {
      const res = await page().api("PUT", "api/labels/" + item, { label });
      tr.querySelector("td.label").textContent = res.label;
      let c = tr.querySelector(".changed");
      if (!c) { c = document.createElement("div"); c.className = "changed"; tr.querySelector("td.when").append(c); }
      c.textContent = "changed " + when(Date.now() / 1000) + " (was " + res.previous + ")";
      page().notice("item " + item + " is now labeled " + res.label);
    } catch (e) { page().notice(e.message); }
  }

  function toggleHistory() {
    const box = $("history"), open = box.hidden;
    box.hidden = !open;
    $("history-toggle").setAttribute("aria-expanded", String(open));
    $("history-toggle").textContent = open ? "hide my labels" : "my labels";
    if (open) loadHistory(false);
  }

  // ---- the admin's disagreements and their resolution
  function disputeRow(d) {
    const tr = document.createElement("tr");
    tr.dataset.row = "dispute"; tr.dataset.itemId = String(d.item_id); tr.tabIndex = 0;
    cell(tr, (d.key ? d.key + ": " : "") + d.preview, "preview");
    cell(tr, d.votes.map((v) => v.annotator + ": " + v.label).join(" · "), "votes");
    cell(tr, d.comments.map((c) => c.annotator + ": " + c.text).join(" · "), "note");
    showResolution(cell(tr, "", "resolution"), d.resolution);
    labelButtons(cell(tr, ""), (lab) => resolve(tr, lab));
    return tr;
  }

  function showResolution(td, r) {
    td.textContent = r ? (r.label + " (by " + r.resolver + ", " + when(r.resolved_at) + ")") : "open";
    td.classList.toggle("resolved", Boolean(r));
  }

  async function loadDisputes() {
    try {
      const data = await page().api("GET", "api/admin/disagreements?resolved=true");
      const body = $("disputes").querySelector("tbody");
      body.textContent = "";
      for (const d of data.items) body.append(disputeRow(d));
      local.open = data.n_open; local.resolved = data.n_resolved;
      showDisputeCounts(data.items.length > 0);
    } catch (e) { page().notice(e.message); }
    loadComments();
  }

  async function loadComments() {
    try {
      const data = await page().api("GET", "api/admin/comments");
      const list = $("comments-list");
      list.textContent = "";
      for (const c of data.comments.slice(-200).reverse()) {
        const li = document.createElement("li");
        li.dataset.itemId = String(c.item_id);
        li.textContent = "item " + c.item_id + " · " + c.annotator + " (" + when(c.updated_at) + "): " + c.text;
        list.append(li);
      }
      if (!data.comments.length) list.textContent = "No comments yet.";
    } catch (e) { page().notice(e.message); }
  }

  function showDisputeCounts(any) {
    $("disputes-summary").textContent = any
      ? local.open + " open, " + local.resolved + " resolved"
      : "No disagreements yet (they appear when several people label an item: --overlap 2).";
  }

  async function resolve(tr, label) {
    try {
      const res = await page().api("POST", "api/admin/resolutions",
                                   { item_id: Number(tr.dataset.itemId), label });
      const td = tr.querySelector("td.resolution");
      if (!td.classList.contains("resolved")) { local.open -= 1; local.resolved += 1; }
      showResolution(td, res);
      showDisputeCounts(true);
      page().notice("item " + res.item_id + " resolved as " + res.label);
    } catch (e) { page().notice(e.message); }
  }

  // a label's key on a focused row acts on that row; Esc goes back to the item
  function onKey(ev) {
    const tr = ev.target && ev.target.closest && ev.target.closest("tr[data-row]");
    if (!tr) return false;
    if (ev.key === "Escape") { ev.preventDefault(); $("item").focus({ preventScroll: true }); return true; }
    const i = local.hotkeys.indexOf(ev.key);
    if (i < 0) return ev.key.length === 1;  // other letters do nothing here (no skip, no undo)
    ev.preventDefault();
    if (tr.dataset.row === "history") relabel(tr, local.labels[i]);
    else resolve(tr, local.labels[i]);
    return true;
  }

  function start(me, proj) {
    local.labels = proj.labels; local.hotkeys = proj.hotkeys;
    if (me.role === "admin") { $("disputes-panel").hidden = false; loadDisputes(); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("comment").addEventListener("keydown", onCommentKey);
    $("history-toggle").addEventListener("click", toggleHistory);
    $("history-toggle").addEventListener("mousedown", (ev) => ev.preventDefault());
    $("history-more").addEventListener("click", () => loadHistory(true));
    $("disputes-refresh").addEventListener("click", loadDisputes);
  });

  window.activelabReview = { onKey, onItem, beforeLabel: saveComment, start };
})();
