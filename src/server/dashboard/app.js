// leadroute dashboard: reads GET /api/v1/dashboard and /status on this
// port (src/server/dashboard.h) and draws them. The view (window, filters)
// lives in the URL, so a link shows the same view. Every value is set with
// textContent: names and lead ids come from rules and callers.
"use strict";

const REFRESH_MS = 5000;
const view = { window: "24h", from: "", to: "", team: "", source: "", ruleset: "" };
let token = sessionStorage.getItem("leadroute-token") || "";
let timer = null;
let charts = {};
let last = null;
const sorts = { "open-table": { key: "seconds_left", dir: 1 }, "rep-table": { key: "rep", dir: 1 } };

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

// ---- formatting -----------------------------------------------------------
function duration(s) {
  if (s === null || s === undefined) return "–";
  const neg = s < 0; s = Math.abs(Math.round(s));
  let t;
  if (s < 60) t = s + "s";
  else if (s < 3600) t = Math.floor(s / 60) + "m " + String(s % 60).padStart(2, "0") + "s";
  else if (s < 86400) t = Math.floor(s / 3600) + "h " + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + "m";
  else t = Math.floor(s / 86400) + "d " + String(Math.floor(s % 86400 / 3600)).padStart(2, "0") + "h";
  return neg ? "-" + t : t;
}
function percent(r) { return r === null || r === undefined ? "–" : (r * 100).toFixed(1) + "%"; }
function count(n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"); }
function localTime(iso) { return iso ? new Date(iso).toLocaleString() : "–"; }

// ---- the view in the URL ---------------------------------------------------
function readUrl() {
  const p = new URLSearchParams(location.search);
  for (const k of Object.keys(view)) view[k] = p.get(k) || (k === "window" ? "24h" : "");
  if (view.from && view.to) view.window = "custom";
}
function writeUrl() {
  const p = new URLSearchParams();
  if (view.window === "custom") { p.set("from", view.from); p.set("to", view.to); }
  else if (view.window !== "24h") p.set("window", view.window);
  for (const k of ["team", "source", "ruleset"]) if (view[k]) p.set(k, view[k]);
  const q = p.toString();
  history.replaceState(null, "", q ? "?" + q : location.pathname);
}
function apiQuery() {
  const p = new URLSearchParams();
  if (view.window === "custom") { p.set("from", view.from); p.set("to", view.to); }
  else p.set("window", view.window);
  for (const k of ["team", "source", "ruleset"]) if (view[k]) p.set(k, view[k]);
  try { p.set("tz", Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"); } catch (e) { }
  p.set("limit", "25");  // the open leads nearest their deadline
  return p.toString();
}
function toLocalInput(iso) {
  const d = new Date(iso); d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}
function fromLocalInput(v) { return v ? new Date(v).toISOString().replace(/\.\d+Z$/, "Z") : ""; }

// ---- fetching ---------------------------------------------------------------
async function get(path) {
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const r = await fetch(path, { headers, cache: "no-store" });
  if (r.status === 401 || r.status === 403) {
    const e = new Error(r.status === 401 ? "a token is needed" : "this token may not read");
    e.auth = true; throw e;
  }
  const body = await r.json().catch(() => ({ error: "the answer was not JSON (HTTP " + r.status + ")" }));
  if (!r.ok) throw new Error(body.error || ("HTTP " + r.status));
  return body;
}

async function refresh() {
  clearTimeout(timer);
  const state = $("state");
  try {
    const [d, status] = await Promise.all([get("/api/v1/dashboard?" + apiQuery()), get("/status")]);
    last = d;
    $("login").hidden = true; $("main").hidden = false;
    draw(d, status);
    state.className = "";
    state.textContent = "Leads routed " + localTime(d.window.from) + " – " + localTime(d.window.to);
    $("updated").textContent = "Updated " + new Date().toLocaleTimeString();
  } catch (e) {
    if (e.auth) {
      $("main").hidden = true; $("login").hidden = false;
      $("login-error").textContent = token ? e.message : "";
      state.textContent = "Sign in to see routing.";
      return;
    }
    state.className = "error";
    state.textContent = "Could not refresh: " + e.message;
  }
  schedule();
}
function schedule() {
  clearTimeout(timer);
  if (document.visibilityState === "visible") timer = setTimeout(refresh, REFRESH_MS);
}

// ---- drawing ----------------------------------------------------------------
const TILES = [
  { id: "routed", label: "Leads routed", value: t => t.routed, text: count, higher: null },
  { id: "p50", label: "Median time to first response", value: t => t.p50_first_response_s, text: duration, higher: false },
  { id: "p90", label: "p90 time to first response", value: t => t.p90_first_response_s, text: duration, higher: false },
  { id: "sla", label: "SLA met", value: t => t.sla_met_rate, text: percent, higher: true, points: true },
  { id: "sql", label: "Lead → SQL", value: t => t.lead_to_sql, text: percent, higher: true, points: true },
  { id: "opp", label: "SQL → opportunity", value: t => t.sql_to_opportunity, text: percent, higher: true, points: true },
  { id: "queued", label: "Queued (open in a queue)", value: t => t.queued, text: count, higher: false },
  { id: "unassigned", label: "Unassigned", value: t => t.unassigned, text: count, higher: false },
];

function delta(tile, now, before) {
  if (now === null || before === null || now === undefined || before === undefined) {
    return { text: "no previous value to compare", cls: "" };
  }
  const diff = now - before;
  if (Math.abs(diff) < 1e-9) return { text: "= same as previous window", cls: "" };
  const arrow = diff > 0 ? "▲" : "▼";
  let amount;
  if (tile.points) amount = (Math.abs(diff) * 100).toFixed(1) + " pts";
  else if (tile.text === duration) amount = duration(Math.abs(diff));
  else amount = count(Math.abs(diff)) + (before ? " (" + (Math.abs(diff) / before * 100).toFixed(0) + "%)" : "");
  let cls = "";
  if (tile.higher !== null) cls = (diff > 0) === tile.higher ? "better" : "worse";
  const word = cls === "better" ? " better" : cls === "worse" ? " worse" : "";
  return { text: arrow + " " + amount + word + " vs previous", cls };
}

function drawTiles(d) {
  const box = $("tiles"); box.replaceChildren();
  for (const t of TILES) {
    const v = t.value(d.total), p = t.value(d.previous_total);
    const dl = delta(t, v, p);
    box.append(el("div", { class: "tile", id: "tile-" + t.id, "data-value": v === null ? "" : String(v) },
      el("div", { class: "label" }, t.label),
      el("div", { class: "value" }, t.text(v)),
      el("div", { class: "delta " + dl.cls }, dl.text)));
  }
}

function chart(id, config) {
  if (typeof Chart === "undefined") return;
  if (charts[id]) { charts[id].data = config.data; charts[id].update("none"); return; }
  charts[id] = new Chart($(id), config);
}

function drawSeries(d) {
  const rows = d.series.rows;
  document.querySelectorAll(".bucket").forEach(e => { e.textContent = d.series.bucket; });
  const labels = rows.map(r => d.series.bucket === "hour" ? r.key.slice(5).replace("T", " ") : r.key.slice(5));
  const minutes = s => s === null ? null : +(s / 60).toFixed(2);
  const common = { responsive: true, maintainAspectRatio: false, animation: false,
    interaction: { mode: "index", intersect: false }, plugins: { legend: { position: "bottom" } } };
  chart("speed-chart", { type: "line", data: { labels, datasets: [
    { label: "Median (minutes)", data: rows.map(r => minutes(r.p50_first_response_s)), borderColor: "#2456c7", backgroundColor: "#2456c7", spanGaps: true },
    { label: "p90 (minutes)", data: rows.map(r => minutes(r.p90_first_response_s)), borderColor: "#c77a24", backgroundColor: "#c77a24", borderDash: [6, 4], spanGaps: true },
  ] }, options: { ...common, scales: { y: { beginAtZero: true, title: { display: true, text: "minutes" } } } } });
  chart("sla-chart", { type: "bar", data: { labels, datasets: [
    { label: "SLA met", data: rows.map(r => r.sla_met), backgroundColor: "#1a7f37" },
    { label: "SLA missed", data: rows.map(r => r.sla_missed), backgroundColor: "#b42318" },
  ] }, options: { ...common, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: "leads" } } } } });
}

function sortRows(tableId, rows, value) {
  const s = sorts[tableId];
  const th = document.querySelectorAll("#" + tableId + " th");
  th.forEach(h => h.setAttribute("aria-sort", h.dataset.key === s.key ? (s.dir > 0 ? "ascending" : "descending") : "none"));
  return rows.slice().sort((a, b) => {
    const x = value(a, s.key), y = value(b, s.key);
    if (x === y) return 0;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * s.dir;
  });
}

function drawOpen(d) {
  const o = d.open_sla;
  $("open-count").textContent = "(" + count(o.total) + ", " + count(o.overdue) + " overdue" +
    (o.rows.length < o.total ? "; the " + o.rows.length + " nearest shown" : "") + ")";
  const body = $("open-table").tBodies[0]; body.replaceChildren();
  for (const r of sortRows("open-table", o.rows, (r, k) => r[k])) {
    const late = r.seconds_left <= 0;
    body.append(el("tr", { "data-lead": r.lead_id },
      el("td", { class: late ? "overdue" : "" }, late ? "overdue by " + duration(-r.seconds_left) : duration(r.seconds_left) + " left"),
      el("td", {}, r.lead_id),
      el("td", {}, r.owner || "(unassigned)", r.owner_kind !== "rep" && r.owner ? " (" + r.owner_kind + ")" : ""),
      el("td", {}, r.team),
      el("td", {}, r.priority || "–"),
      el("td", { class: "num" }, r.escalation ? r.escalation + " #" + r.escalation_step : "–"),
      el("td", {}, localTime(r.respond_by))));
  }
  if (!o.rows.length) body.append(el("tr", {}, el("td", { colspan: 7 }, "No open lead waits for first contact.")));
}

function capCell(n, cap) {
  const td = el("td", {}, count(n) + " / " + (cap === null ? "no cap" : count(cap)));
  if (cap) {
    const fill = el("span", {});
    fill.style.width = Math.min(100, Math.round(n / cap * 100)) + "%";  // CSSOM: allowed by the CSP
    td.append(el("span", { class: "bar", "aria-hidden": "true" }, fill));
  }
  return td;
}

function drawReps(d) {
  const value = (r, k) => {
    switch (k) {
      case "rep": return r.rep;
      case "status": return r.live ? r.live.status : "";
      case "routed": return r.kpi.routed;
      case "open": return r.live ? r.live.open : null;
      case "today": return r.live ? r.live.today : null;
      case "p50": return r.kpi.p50_first_response_s;
      case "sla": return r.kpi.sla_met_rate;
    }
  };
  const body = $("rep-table").tBodies[0]; body.replaceChildren();
  for (const r of sortRows("rep-table", d.reps, value)) {
    const live = r.live;
    const label = live ? live.status
      : !d.live_reps ? "unknown: the database could not be read" : "not in the live ruleset";
    body.append(el("tr", { "data-rep": r.rep },
      el("td", {}, r.rep, r.teams && r.teams.length ? el("div", { class: "hint" }, r.teams.join(", ")) : null),
      el("td", {}, el("span", { class: "status " + label.replace(/ /g, "-"), title: live ? live.reason : "" }, label),
        live && live.until ? el("div", { class: "hint" }, "until " + localTime(live.until)) : null),
      el("td", { class: "num" }, count(r.kpi.routed)),
      live ? capCell(live.open, live.capacity) : el("td", {}, "–"),
      live ? capCell(live.today, live.daily_cap) : el("td", {}, "–"),
      el("td", {}, duration(r.kpi.p50_first_response_s)),
      el("td", {}, percent(r.kpi.sla_met_rate))));
  }
  const teams = $("team-table").tBodies[0]; teams.replaceChildren();
  for (const t of d.teams) {
    teams.append(el("tr", {}, el("td", {}, t.key), el("td", { class: "num" }, count(t.routed)),
      el("td", { class: "num" }, count(t.reps)),
      el("td", {}, t.fairness === null ? "–" : t.fairness.toFixed(3)),
      el("td", {}, percent(t.sla_met_rate)), el("td", {}, duration(t.p50_first_response_s))));
  }
}

function drawRules(d) {
  const t = d.total;
  $("rates").textContent = t.routed ? "Of " + count(t.routed) + " leads: " + percent(t.fallback / t.routed) +
    " taken by a fallback (an else choice, the ones before it could not take them), " + percent(t.queued / t.routed) +
    " queued, " + percent(t.unassigned / t.routed) + " unassigned (nobody in the assign chain could take them)." : "No lead in the window.";
  const body = $("rule-table").tBodies[0]; body.replaceChildren();
  for (const r of d.rules.slice().sort((a, b) => b.routed - a.routed)) {
    body.append(el("tr", { "data-rule": r.key }, el("td", {}, r.key), el("td", { class: "num" }, count(r.routed)),
      el("td", {}, percent(r.share)), el("td", { class: "num" }, count(r.fallback)),
      el("td", { class: "num" }, count(r.queued)), el("td", { class: "num" }, count(r.unassigned))));
  }
  const never = $("never"); never.replaceChildren();
  for (const r of d.rules_never_fired) never.append(el("li", {}, r));
  if (!d.rules_never_fired.length) never.append(el("li", {}, "every rule fired"));
}

function drawFunnel(d) {
  const by = $("funnel-by").value;
  $("funnel-key").textContent = by === "rules" ? "Rule" : "Source";
  const body = $("funnel-table").tBodies[0]; body.replaceChildren();
  const step = (n, of) => count(n) + (of ? " (" + percent(n / of) + ")" : "");
  for (const r of d[by].slice().sort((a, b) => b.routed - a.routed)) {
    body.append(el("tr", {}, el("td", {}, r.key), el("td", { class: "num" }, count(r.routed)),
      el("td", {}, step(r.contacted, r.routed)), el("td", {}, step(r.sql, r.routed)),
      el("td", {}, step(r.opportunities, r.routed)), el("td", {}, step(r.won, r.routed))));
  }
}

function drawRulesets(s) {
  const live = s.live;
  $("live-ruleset").textContent = live ? "Live: revision " + live.revision + ", " + live.name + " " + live.version +
    " (" + live.rule_count + " rules), since " + localTime(live.loaded_at) : "No live ruleset: routing is not serving.";
  const body = $("ruleset-table").tBodies[0]; body.replaceChildren();
  for (const r of s.retained.slice().reverse()) {
    body.append(el("tr", {}, el("td", {}, r.revision + (live && r.revision === live.revision ? " (live)" : "")),
      el("td", {}, r.name + " " + r.version), el("td", {}, r.published_by || "–"),
      el("td", {}, r.published_from || r.origin), el("td", {}, localTime(r.loaded_at)), el("td", {}, el("code", {}, r.fingerprint))));
  }
  const box = $("reload-error"); box.replaceChildren();
  const e = s.last_reload_error;
  if (!e) { box.append(el("p", { class: "hint" }, "No reload has failed since start.")); return; }
  box.append(el("h3", { class: "bad" }, "Last failed reload: " + localTime(e.at) + " (" + e.origin + ")"),
    el("p", {}, e.message));
  const list = el("ul", {});
  for (const g of e.diagnostics) {
    list.append(el("li", {}, g.severity + ": " + (g.file ? g.file + ":" + g.line + ":" + g.column + ": " : "") + g.message));
  }
  box.append(list);
}

function fillChoices(id, values, current, all) {
  const sel = $(id);
  const want = [""].concat(values);
  if (current && !want.includes(current)) want.push(current);
  const have = Array.from(sel.options).map(o => o.value);
  if (have.join("\n") !== want.join("\n")) {
    sel.replaceChildren(...want.map(v => el("option", { value: v }, v || all)));
  }
  sel.value = current;
}

function draw(d, status) {
  fillChoices("team", d.choices.teams, view.team, "All teams");
  fillChoices("source", d.choices.sources, view.source, "All sources");
  fillChoices("ruleset", d.choices.rulesets, view.ruleset, "All rulesets");
  $("window").value = view.window;
  $("custom").hidden = view.window !== "custom";
  if (view.window === "custom") { $("from").value = toLocalInput(d.window.from); $("to").value = toLocalInput(d.window.to); }
  drawTiles(d); drawSeries(d); drawOpen(d); drawReps(d); drawRules(d); drawFunnel(d); drawRulesets(status);
}

// ---- wiring -------------------------------------------------------------------
function changed() { writeUrl(); refresh(); }

document.addEventListener("DOMContentLoaded", () => {
  readUrl();
  $("window").addEventListener("change", e => {
    view.window = e.target.value;
    if (view.window === "custom") {
      const to = last ? last.window.to : new Date().toISOString();
      const from = last ? last.window.from : new Date(Date.now() - 86400e3).toISOString();
      view.from = from; view.to = to;
      $("from").value = toLocalInput(from); $("to").value = toLocalInput(to);
    } else { view.from = ""; view.to = ""; }
    changed();
  });
  for (const id of ["from", "to"]) $(id).addEventListener("change", e => {
    const v = fromLocalInput(e.target.value); if (!v) return; view[id] = v; changed();
  });
  for (const id of ["team", "source", "ruleset"]) $(id).addEventListener("change", e => { view[id] = e.target.value; changed(); });
  $("funnel-by").addEventListener("change", () => { if (last) drawFunnel(last); });
  document.querySelectorAll("table.sortable th").forEach(th => th.addEventListener("click", () => {
    const id = th.closest("table").id, s = sorts[id];
    if (s.key === th.dataset.key) s.dir = -s.dir; else { s.key = th.dataset.key; s.dir = 1; }
    if (last) { drawOpen(last); drawReps(last); }
  }));
  $("login-form").addEventListener("submit", e => {
    e.preventDefault(); token = $("token").value.trim();
    sessionStorage.setItem("leadroute-token", token); refresh();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refresh(); else clearTimeout(timer);
  });
  refresh();
});
