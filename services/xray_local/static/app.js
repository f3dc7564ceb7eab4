// The page talks to the X-Ray API on this same address, exactly as boto3 does.
// Everything shown is built with textContent, never innerHTML: names come from senders.
"use strict";

const REFRESH_MS = 5000;
const TOKEN_KEY = "xray-local-api-token";

const $ = (id) => document.getElementById(id);
const state = { filter: "", trace: null, timer: null };

// --- helpers ---------------------------------------------------------------------------

// With an API token (docs/xray-local.md), the page is opened once as /#token=...; the token
// is kept for this tab only and sent as a Bearer header.
function authorization() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function api(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authorization() },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(data.message || `${path} answered ${response.status}`);
  }
  return data;
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function windowRange() {
  const end = Date.now() / 1000;
  return { StartTime: end - Number($("window").value) * 60, EndTime: end };
}

function ms(seconds) {
  if (seconds === undefined || seconds === null) return "–";
  const value = seconds * 1000;
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

function percent(part, whole) {
  return whole ? `${Math.round((100 * part) / whole)}%` : "0%";
}

function figures(statistics) {
  const total = statistics ? statistics.TotalCount : 0;
  if (!total) return null;
  const errors = statistics.ErrorStatistics.TotalCount;
  const faults = statistics.FaultStatistics.TotalCount;
  return {
    total,
    perMinute: total / Number($("window").value),
    average: statistics.TotalResponseTime / total,
    averageText: ms(statistics.TotalResponseTime / total),
    errors,
    faults,
    throttles: statistics.ErrorStatistics.ThrottleCount,
    errorShare: percent(errors, total),
    faultShare: percent(faults, total),
  };
}

function outcomeOf(entity) {
  if (entity.fault) return "fault";
  if (entity.throttle) return "throttle";
  if (entity.error) return "error";
  return "ok";
}

// --- service map -----------------------------------------------------------------------

async function refreshMap() {
  try {
    const graph = await api("/ServiceGraph", windowRange());
    $("map-empty").hidden = graph.Services.length > 0;
    drawServiceMap($("map"), graph.Services, figures, (service) => {
      setFilter(`service("${service.Name.replace(/(["\\])/g, "\\$1")}")`);
    });
    $("map-error").hidden = true;
  } catch (error) {
    $("map-error").textContent = `Cannot load the service map: ${error.message}`;
    $("map-error").hidden = false;
  }
  document.body.dataset.mapState = "ready";
}

// --- trace list ------------------------------------------------------------------------

function setFilter(text) {
  $("filter").value = text;
  state.filter = text;
  refreshTraces();
}

async function refreshTraces() {
  const body = { ...windowRange(), FilterExpression: state.filter };
  const tbody = $("traces").tBodies[0];
  try {
    const result = await api("/TraceSummaries", body);
    $("filter-error").hidden = true;
    tbody.replaceChildren(...result.TraceSummaries.map(traceRow));
    const shown = result.TraceSummaries.length;
    $("traces-count").textContent =
      `${shown}${result.NextToken ? "+" : ""} matching of ${result.TracesProcessedCount} traces in range`;
  } catch (error) {
    $("filter-error").textContent = error.message;
    $("filter-error").hidden = false;
  }
}

function traceRow(summary) {
  const http = summary.Http || {};
  const kind = summary.HasFault ? "fault" : summary.HasThrottle ? "throttle" : summary.HasError ? "error" : "ok";
  const names = (summary.ServiceIds || []).map((s) => s.Name).join(", ");
  const row = el("tr", { "data-trace-id": summary.Id, class: kind },
    el("td", { class: "when" }, new Date(summary.StartTime * 1000).toLocaleTimeString()),
    el("td", { class: "mono" }, summary.Id),
    el("td", {}, http.HttpMethod || ""),
    el("td", { class: "url" }, http.HttpURL || ""),
    el("td", { class: "status" }, http.HttpStatus === undefined ? "" : String(http.HttpStatus)),
    el("td", { class: "num" }, ms(summary.ResponseTime)),
    el("td", {}, names));
  if (state.trace === summary.Id) row.classList.add("selected");
  row.addEventListener("click", () => { location.hash = `trace=${summary.Id}`; });
  return row;
}

// --- one trace -------------------------------------------------------------------------

async function showTrace(traceId) {
  state.trace = traceId;
  $("trace-section").hidden = false;
  $("trace-id").textContent = traceId;
  $("entity").hidden = true;
  const timeline = $("timeline");
  try {
    const result = await api("/Traces", { TraceIds: [traceId] });
    if (!result.Traces.length) throw new Error("this trace is not stored (evicted, or not received)");
    drawTimeline(result.Traces[0]);
    $("trace-section").scrollIntoView({ block: "start" });
  } catch (error) {
    timeline.replaceChildren(el("p", { class: "problem" }, `Cannot show trace ${traceId}: ${error.message}`));
  }
  for (const row of $("traces").tBodies[0].rows) {
    row.classList.toggle("selected", row.dataset.traceId === traceId);
  }
}

function entitiesOf(trace) {
  // Every segment and subsegment under its parent: nested subsegments under their holder,
  // and a called (or inferred) segment under the subsegment that called it, as the X-Ray
  // console's timeline shows them.
  const documents = trace.Segments.map((segment) => JSON.parse(segment.Document));
  const byId = new Map();
  const children = new Map();
  const adopt = (parentId, child) => {
    if (!children.has(parentId)) children.set(parentId, []);
    children.get(parentId).push(child);
  };
  const index = (entity, isSegment) => {
    entity._segment = isSegment && !entity.inferred;
    byId.set(entity.id, entity);
    for (const child of entity.subsegments || []) {
      adopt(entity.id, child);
      index(child, false);
    }
  };
  for (const document of documents) index(document, document.type !== "subsegment");
  const roots = [];
  for (const document of documents) {
    if (document.parent_id && byId.has(document.parent_id)) adopt(document.parent_id, document);
    else roots.push(document);
  }
  const rows = [];
  const seen = new Set();
  const nest = (entity, depth) => {
    if (seen.has(entity)) return;  // a sender's id loop must not hang the page
    seen.add(entity);
    rows.push({ entity, depth });
    const kids = [...(children.get(entity.id) || [])].sort((a, b) => a.start_time - b.start_time);
    for (const kid of kids) nest(kid, depth + 1);
  };
  roots.sort((a, b) => a.start_time - b.start_time).forEach((root) => nest(root, 0));
  return rows;
}

function drawTimeline(trace) {
  const rows = entitiesOf(trace);
  const start = Math.min(...rows.map((r) => r.entity.start_time));
  const end = Math.max(...rows.map((r) => r.entity.end_time || r.entity.start_time));
  const span = Math.max(end - start, 1e-6);
  $("trace-summary").textContent =
    `${rows.length} segments and subsegments · ${ms(trace.Duration)} · started ${new Date(start * 1000).toLocaleString()}`;
  const timeline = $("timeline");
  timeline.replaceChildren(...rows.map(({ entity, depth }) => {
    const open = entity.in_progress || entity.end_time === undefined;
    const took = open ? undefined : entity.end_time - entity.start_time;
    const label = el("div", { class: "label", style: `padding-left:${depth * 1.1}rem` }, entity.name);
    if (entity.inferred) label.append(el("span", { class: "tag" }, "inferred"));
    else if (entity.sql) label.append(el("span", { class: "tag" }, "SQL"));
    else if (entity.namespace) label.append(el("span", { class: "tag" }, entity.namespace));
    const bar = el("div", {
      class: `bar ${open ? "open" : outcomeOf(entity)}${entity.inferred ? " inferred" : ""}`,
      style: `left:${(100 * (entity.start_time - start)) / span}%;` +
        `width:${(100 * ((open ? end : entity.end_time) - entity.start_time)) / span}%`,
    });
    const row = el("div", {
      class: entity._segment ? "row segment" : "row", "data-name": entity.name, "data-id": entity.id,
    }, label, el("div", { class: "track" }, bar), el("div", { class: "took" }, open ? "in progress" : ms(took)));
    row.addEventListener("click", () => {
      for (const other of timeline.children) other.classList.remove("selected");
      row.classList.add("selected");
      showEntity(entity);
    });
    return row;
  }));
}

function showEntity(entity) {
  $("entity").hidden = false;
  const kind = entity.inferred ? "inferred segment" : entity._segment ? "segment" : "subsegment";
  $("entity-title").textContent = `${entity.name} (${kind})`;
  const fields = [
    ["id", entity.id], ["parent", entity.parent_id], ["origin", entity.origin],
    ["namespace", entity.namespace],
    ["start", entity.start_time && new Date(entity.start_time * 1000).toISOString()],
    ["duration", entity.end_time ? ms(entity.end_time - entity.start_time) : "in progress"],
    ["outcome", outcomeOf(entity)],
  ];
  const http = entity.http || {};
  if (http.request) fields.push(["request", `${http.request.method || ""} ${http.request.url || ""}`]);
  if (http.response) fields.push(["response", `${http.response.status ?? ""}`]);
  if (entity.sql) fields.push(["SQL", entity.sql.sanitized_query || entity.sql.url || ""], ["database", entity.sql.database_type || ""]);
  for (const [key, value] of Object.entries(entity.annotations || {})) fields.push([`annotation ${key}`, String(value)]);
  for (const exception of (entity.cause && entity.cause.exceptions) || []) {
    fields.push(["exception", `${exception.type || ""}: ${exception.message || ""}`]);
  }
  $("entity-fields").replaceChildren(...fields.filter(([, v]) => v).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  const { subsegments, _segment, ...rest } = entity;
  $("entity-json").textContent = JSON.stringify(rest, null, 2);
}

// --- counters, routing, refresh ----------------------------------------------------------

async function refreshStats() {
  try {
    const response = await fetch("/stats", { headers: authorization() });
    const stats = await response.json();
    if (!response.ok) throw new Error(stats.message || `/stats answered ${response.status}`);
    const rejected = Object.entries(stats.intake.rejected);
    const rejectedCount = rejected.reduce((sum, [, n]) => sum + n, 0);
    const apiErrors = Object.values(stats.api.errors).reduce((sum, n) => sum + n, 0);
    let text = `${stats.store.traces} traces, ${stats.store.documents} documents stored · ` +
      `${stats.intake.datagrams} datagrams, ${stats.otlp.spans} OTLP spans received · ` +
      `${rejectedCount} rejected`;
    if (rejectedCount) text += ` (${rejected.map(([k, n]) => `${k} ${n}`).join(", ")})`;
    text += ` · ${apiErrors} API errors · ${stats.store.traces_evicted} traces evicted`;
    if (stats.upstream) text += ` · relayed ${stats.upstream.relayed} to ${stats.upstream.address}`;
    $("stats").textContent = text;
  } catch (error) {
    $("stats").textContent = `Cannot load the counters: ${error.message}`;
  }
}

async function refreshAll() {
  await Promise.all([refreshMap(), refreshTraces(), refreshStats()]);
  $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

function route() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.has("token")) {
    sessionStorage.setItem(TOKEN_KEY, params.get("token"));
    params.delete("token"); // out of the address bar, the history and any screenshot
    history.replaceState(null, "", `${location.pathname}${params.toString() ? `#${params}` : ""}`);
  }
  if (params.has("filter")) {
    $("filter").value = params.get("filter");
    state.filter = params.get("filter");
  }
  if (params.has("trace")) {
    showTrace(params.get("trace"));
  } else {
    state.trace = null;
    $("trace-section").hidden = true;
  }
}

function schedule() {
  clearInterval(state.timer);
  if ($("auto").checked) state.timer = setInterval(refreshAll, REFRESH_MS);
}

$("filter-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setFilter($("filter").value.trim());
});
$("clear-filter").addEventListener("click", () => setFilter(""));
$("close-trace").addEventListener("click", () => { location.hash = ""; });
$("window").addEventListener("change", refreshAll);
$("auto").addEventListener("change", schedule);
window.addEventListener("hashchange", route);

route();
refreshAll();
schedule();
