// activelab labeling page: the answer widgets of multi-label and regression projects.
// Multi-label: one toggle button per label (its key toggles it, the selection stays
// visible), Enter saves the set.  Regression: a number box checked before sending
// (empty, not a number, NaN/Infinity, out of range are refused here and by the API).
// Classification keeps the page's one-key-one-label buttons (app.js).
"use strict";
window.activelabTasks = (function () {
  const $ = (id) => document.getElementById(id);
  const w = { task: "classification", labels: [], keys: {}, chosen: new Set(), min: null,
              max: null, hooks: null, buttons: {} };
  const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

  function keepFocus(el) { el.addEventListener("mousedown", (ev) => ev.preventDefault()); }

  function box() {
    let el = $("answer");
    if (!el) {
      el = document.createElement("div");
      el.id = "answer";
      $("buttons").before(el);
    }
    el.textContent = "";
    return el;
  }

  // ---- multi-label: toggles and a save button
  function toggle(label) {
    if (w.chosen.has(label)) w.chosen.delete(label); else w.chosen.add(label);
    paint();
  }

  function paint() {
    for (const [label, b] of Object.entries(w.buttons)) {
      const on = w.chosen.has(label);
      b.classList.toggle("on", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.querySelector(".mark").textContent = on ? "✓ " : "";
    }
    const names = w.labels.filter((x) => w.chosen.has(x));
    $("selection").textContent = names.length ? "Selected: " + names.join(", ")
      : "Selected: none (Enter saves “none of these”)";
    $("save-set").textContent = "save " + (names.length ? names.length + " label" +
      (names.length > 1 ? "s" : "") : "none") + " (Enter)";
  }

  function setupLabels(proj) {
    const buttons = $("buttons");
    buttons.textContent = "";
    w.buttons = {};
    proj.labels.forEach((lab, i) => {
      const key = proj.hotkeys[i];
      if (key) w.keys[key] = lab;
      const b = document.createElement("button");
      b.className = "toggle";
      b.dataset.label = lab;
      const mark = document.createElement("span"); mark.className = "mark";
      b.append(mark, document.createTextNode((key ? key + " · " : "") + lab));
      if (key) b.title = "key " + key + " toggles";
      keepFocus(b);
      b.addEventListener("click", () => toggle(lab));
      buttons.append(b);
      w.buttons[lab] = b;
    });
    const save = document.createElement("button");
    save.id = "save-set"; save.className = "save";
    keepFocus(save);
    save.addEventListener("click", submitSet);
    buttons.append(save);
    const sel = document.createElement("div");
    sel.id = "selection"; sel.className = "muted";
    box().append(sel);
    paint();
  }

  function submitSet() {
    w.hooks.send({ labels: w.labels.filter((x) => w.chosen.has(x)) });
  }

  // ---- regression: a number box
  function parseValue(text) {
    const t = text.trim();
    if (!t) return { error: "Type a number first." };
    if (!NUMBER.test(t)) return { error: "“" + t + "” is not a number: type digits, e.g. 3.5 or -2e3." };
    const x = Number(t);
    if (!Number.isFinite(x)) return { error: "The number must be finite." };
    if (w.min !== null && x < w.min) return { error: "The number must be at least " + w.min + "." };
    if (w.max !== null && x > w.max) return { error: "The number must be at most " + w.max + "." };
    return { value: x };
  }

  function submitValue() {
    const got = parseValue($("value-input").value);
    $("value-error").textContent = got.error || "";
    $("value-input").setAttribute("aria-invalid", got.error ? "true" : "false");
    if (!got.error) w.hooks.send({ value: got.value });
  }

  function rangeText() {
    if (w.min === null && w.max === null) return "any number";
    if (w.min === null) return "a number up to " + w.max;
    if (w.max === null) return "a number from " + w.min;
    return "a number from " + w.min + " to " + w.max;
  }

  function setupNumber() {
    $("buttons").textContent = "";
    const el = box();
    const input = document.createElement("input");
    input.id = "value-input"; input.type = "text"; input.inputMode = "decimal";
    input.autocomplete = "off"; input.setAttribute("aria-label", rangeText());
    input.placeholder = rangeText();
    const save = document.createElement("button");
    save.id = "save-value"; save.className = "save"; save.textContent = "save (Enter)";
    keepFocus(save);
    save.addEventListener("click", submitValue);
    const hint = document.createElement("div");
    hint.className = "muted";
    hint.textContent = "Type " + rangeText() + " · Enter saves · s skips · u undoes";
    const err = document.createElement("div");
    err.id = "value-error"; err.setAttribute("role", "alert");
    input.addEventListener("keydown", (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (ev.key === "Enter") { ev.preventDefault(); submitValue(); }
      else if (ev.key === "s") { ev.preventDefault(); w.hooks.skip(); }
      else if (ev.key === "u") { ev.preventDefault(); w.hooks.undo(); }
    });
    input.addEventListener("input", () => { $("value-error").textContent = ""; });
    el.append(input, save, hint, err);
  }

  // ---- what app.js calls
  function setup(proj, hooks) {
    w.task = proj.task || "classification";
    if (w.task === "classification") return false;
    w.hooks = hooks; w.labels = proj.labels; w.keys = {};
    w.min = proj.min === undefined ? null : proj.min;
    w.max = proj.max === undefined ? null : proj.max;
    if (w.task === "multilabel") setupLabels(proj); else setupNumber();
    return true;
  }

  function onKey(ev) {
    if (w.task !== "multilabel") return false;
    const tag = ev.target && ev.target.tagName;
    if (tag === "BUTTON" && (ev.key === "Enter" || ev.key === " ")) return false;
    if (ev.key === "Enter") { ev.preventDefault(); submitSet(); return true; }
    if (Object.prototype.hasOwnProperty.call(w.keys, ev.key)) {
      ev.preventDefault(); toggle(w.keys[ev.key]); return true;
    }
    return false;
  }

  function show(it) {
    if (w.task === "multilabel") { w.chosen = new Set(); paint(); }
    else if (w.task === "regression") {
      const input = $("value-input");
      input.value = ""; $("value-error").textContent = "";
      input.disabled = !it;
      if (it) input.focus({ preventScroll: true });
    }
  }

  function guessText(it) {
    if (w.task === "classification" || it.guess === null || it.guess === undefined) return null;
    const v = " (model v" + it.guess_model_version + ")";
    if (w.task === "regression") return "Model guess: " + Number(it.guess).toPrecision(4) + v;
    const set = it.guess.length ? it.guess.join(" + ") : "none of the labels";
    const parts = [];
    if (it.confidence !== null && it.confidence !== undefined) {
      parts.push((100 * it.confidence).toFixed(0) + "% sure of this exact set");
    }
    parts.push("model v" + it.guess_model_version);
    return "Model guess: " + set + " (" + parts.join(", ") + ")";
  }

  return { setup, onKey, show, guessText, parseValue };
})();
