// The live page of a dev session: devloop's own events arrive over server-sent events
// (/devloop/events, history first), the automatic triggers come from /v2/state, and the
// buttons speak Skaffold's v2 API (/v2/execute, /v2/*/auto_execute) like any other client.
"use strict";

const LOG_LINES = 2000;
const PROBLEMS = 20;
const SYNCS = 15;

let model;
function reset() {
  model = {
    artifacts: new Map(),   // image -> {state, at, took, cache, reasons, reference, error}
    resources: new Map(),   // "Kind/name (namespace ns)" -> {state, detail, at}
    forwards: new Map(),    // local port -> forward
    syncs: [],
    problems: [],
    logs: [],
    pods: new Set(),
    containers: new Set(),
    iteration: null,
    running: false,
  };
}
reset();

const $ = (id) => document.getElementById(id);
const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
const seconds = (ms) => (ms / 1000).toFixed(1) + " s";

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function badge(state) {
  const cls = {
    built: "ok", cached: "ok", healthy: "ok", applied: "ok", Succeeded: "ok",
    building: "running", waiting: "running", InProgress: "running",
    failed: "failed", Failed: "failed",
  }[state] || "idle";
  return el("span", { class: "badge " + cls, text: state });
}

function artifact(name) {
  if (!model.artifacts.has(name)) model.artifacts.set(name, { state: "not built" });
  return model.artifacts.get(name);
}

function problem(at, text, warn) {
  model.problems.push({ at, text, warn });
  if (model.problems.length > PROBLEMS) model.problems.shift();
}

// Which deployed resource a pod belongs to: the longest resource name it starts with.
function resourceOf(pod) {
  let best = null;
  for (const key of model.resources.keys()) {
    const short = key.split(" ")[0];
    const name = short.split("/")[1] || short;
    if ((pod === name || pod.startsWith(name + "-")) && (!best || name.length > best.name.length)) {
      best = { name, short };
    }
  }
  return best ? best.short : "pod/" + pod;
}

function take(e) {
  switch (e.event) {
    case "message":
      if (e.level === "error" || e.level === "warn") problem(e.at, e.text, e.level === "warn");
      break;
    case "build": {
      if (!e.artifact) break;
      const a = artifact(e.artifact);
      if (e.kind === "cache") { a.cache = e.outcome; a.reasons = e.reasons || []; }
      if (e.kind === "started") { a.state = "building"; a.error = null; a.started = e.at; }
      if (e.kind === "completed") {
        a.state = e.built ? "built" : "cached"; a.at = e.at; a.took = e.elapsedMs; a.reference = e.reference;
      }
      if (e.kind === "failed") { a.state = "failed"; a.at = e.at; a.error = e.error; problem(e.at, `${e.artifact}: ${e.error}`); }
      break;
    }
    case "deploy": {
      const gone = ["pruned", "deleted", "uninstalled"].includes(e.action);
      if (gone) model.resources.delete(e.subject);
      else if (!model.resources.has(e.subject) || model.resources.get(e.subject).state !== "waiting") {
        model.resources.set(e.subject, { state: "applied", detail: e.action + (e.detail ? ` (${e.detail})` : ""), at: e.at });
      }
      break;
    }
    case "status":
      if (e.phase === "waiting") {
        for (const p of e.pending) model.resources.set(p.resource, { state: "waiting", detail: p.state, at: e.at });
      } else if (e.phase === "ready") {
        model.resources.set(e.resource, { state: "healthy", detail: `ready in ${e.seconds.toFixed(1)} s`, at: e.at });
      } else if (e.phase === "failed") {
        const where = [e.pod && `pod ${e.pod}`, e.container && `container ${e.container}`].filter(Boolean).join(", ");
        model.resources.set(e.resource, { state: "failed", detail: `${e.reason}: ${e.message}${where ? ` (${where})` : ""}`, at: e.at });
        const logs = (e.logs || []).length ? "\nlast log lines:\n  " + e.logs.join("\n  ") : "";
        problem(e.at, `${e.resource} failed: ${e.reason}: ${e.message}${logs}`);
      }
      break;
    case "portForward":
      model.forwards.set(e.local_port, e);
      break;
    case "log":
      model.logs.push(e);
      if (model.logs.length > LOG_LINES) model.logs.shift();
      model.pods.add(resourceOf(e.pod));
      model.containers.add(e.container);
      break;
    case "dev":
      if (e.kind === "task" && e.task === "DevLoop") {
        model.iteration = e.iteration;
        model.running = e.status === "InProgress";
        if (!model.running) refreshState();
      }
      if (e.kind === "fileSync") {
        model.syncs.push(e);
        if (model.syncs.length > SYNCS) model.syncs.shift();
        if (e.error) problem(e.at, `sync of ${e.image} failed: ${e.error}`);
      }
      break;
  }
}

function renderArtifacts() {
  const body = $("artifacts").tBodies[0];
  body.replaceChildren();
  for (const [name, a] of model.artifacts) {
    const cache = el("td", {}, a.cache || "");
    if (a.reasons && a.reasons.length) cache.append(el("div", { class: "muted", text: a.reasons.join("; ") }));
    body.append(el("tr", { "data-artifact": name, "data-state": a.state, "data-built-at": a.at || "" },
      el("td", { class: "mono", text: name }),
      el("td", {}, badge(a.state), a.error ? el("div", { class: "muted mono", text: a.error }) : ""),
      el("td", { class: "built-at", text: a.at ? clock(a.at) : "" }),
      el("td", { text: a.took != null ? seconds(a.took) : "" }),
      cache,
      el("td", { class: "mono", text: a.reference || "" })));
  }
  if (!model.artifacts.size) body.append(el("tr", {}, el("td", { class: "empty", colspan: 6, text: "no artifacts" })));
}

function renderResources() {
  const body = $("resources").tBodies[0];
  body.replaceChildren();
  for (const [name, r] of model.resources) {
    body.append(el("tr", { "data-resource": name, "data-state": r.state },
      el("td", { class: "mono", text: name }),
      el("td", {}, badge(r.state)),
      el("td", { text: r.detail || "" }),
      el("td", { class: "muted", text: r.at ? clock(r.at) : "" })));
  }
  if (!model.resources.size) body.append(el("tr", {}, el("td", { class: "empty", colspan: 4, text: "nothing deployed yet" })));
}

function renderForwards() {
  const list = $("forwards");
  list.replaceChildren();
  for (const f of model.forwards.values()) {
    const url = `http://${f.address.includes(":") ? `[${f.address}]` : f.address}:${f.local_port}/`;
    list.append(el("li", {}, el("a", { href: url, target: "_blank", rel: "noopener", text: url }),
      el("span", { class: "muted", text: ` → ${f.resource}${f.namespace ? " in " + f.namespace : ""} port ${f.port}` })));
  }
  if (!model.forwards.size) list.append(el("li", { class: "empty", text: "no forwarded ports" }));
}

function renderSyncs() {
  const body = $("syncs").tBodies[0];
  body.replaceChildren();
  for (const s of model.syncs.slice().reverse()) {
    body.append(el("tr", {},
      el("td", { class: "muted", text: clock(s.at) }),
      el("td", { class: "mono", text: s.image }),
      el("td", { text: s.files }),
      el("td", {}, badge(s.status))));
  }
  if (!model.syncs.length) body.append(el("tr", {}, el("td", { class: "empty", colspan: 4, text: "no syncs yet" })));
}

function renderProblems() {
  $("problems").hidden = !model.problems.length;
  const list = $("problem-list");
  list.replaceChildren();
  for (const p of model.problems.slice().reverse()) {
    list.append(el("li", { class: p.warn ? "warn" : "" }, el("time", { text: clock(p.at) }), p.text));
  }
}

function fillSelect(select, values) {
  const chosen = select.value;
  const have = new Set([...select.options].map((o) => o.value));
  for (const v of [...values].sort()) if (!have.has(v)) select.append(el("option", { value: v, text: v }));
  select.value = chosen;
}

function renderLogs() {
  fillSelect($("log-resource"), model.pods);
  fillSelect($("log-container"), model.containers);
  const resource = $("log-resource").value;
  const container = $("log-container").value;
  const text = $("log-text").value.toLowerCase();
  const pre = $("logs");
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.replaceChildren();
  for (const l of model.logs) {
    if (resource && resourceOf(l.pod) !== resource) continue;
    if (container && l.container !== container) continue;
    if (text && !l.line.toLowerCase().includes(text)) continue;
    pre.append(el("span", { class: "src", text: `[${l.pod} ${l.container}] ` }), l.line + "\n");
  }
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

function render() {
  scheduled = false;
  $("iteration").textContent = model.iteration == null ? "" :
    `iteration ${model.iteration}${model.running ? " running…" : ""}`;
  renderProblems();
  renderArtifacts();
  renderResources();
  renderForwards();
  renderSyncs();
  renderLogs();
}

let scheduled = false;
function schedule() {
  if (!scheduled) { scheduled = true; requestAnimationFrame(render); }
}

async function refreshState() {
  try {
    const state = await (await fetch("/v2/state")).json();
    $("auto-build").checked = state.buildState.autoTrigger;
    $("auto-sync").checked = state.fileSyncState.autoTrigger;
    $("auto-deploy").checked = state.deployState.autoTrigger;
    for (const name of Object.keys(state.buildState.artifacts || {})) artifact(name);
    if (state.metadata && state.metadata.runID) $("session").textContent = "run " + state.metadata.runID;
    schedule();
  } catch (err) {
    // The stream's error handler shows the connection state.
  }
}

async function send(method, path, body) {
  const r = await fetch(path, { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!r.ok) {
    const e = await r.json().catch(() => ({ message: r.statusText }));
    problem(Date.now(), `${method} ${path}: ${e.message}`, true);
    schedule();
  }
}

for (const b of document.querySelectorAll("button[data-intent]")) {
  b.addEventListener("click", () => send("POST", "/v2/execute", { [b.dataset.intent]: true }));
}
for (const c of document.querySelectorAll("input[data-phase]")) {
  c.addEventListener("change", async () => {
    await send("PUT", `/v2/${c.dataset.phase}/auto_execute`, { enabled: c.checked });
    refreshState();
  });
}
for (const id of ["log-resource", "log-container", "log-text"]) $(id).addEventListener("input", schedule);

function connect() {
  const source = new EventSource("/devloop/events");
  const status = $("connection");
  source.onopen = () => {
    // The server sends the whole history again on every connection.
    reset();
    status.textContent = "live";
    status.className = "badge ok";
    refreshState();
  };
  source.onmessage = (m) => { take(JSON.parse(m.data)); schedule(); };
  source.onerror = () => {
    status.textContent = "disconnected";
    status.className = "badge failed";
  };
}

connect();
render();
