// The page talks to the X-Ray API on this same address, exactly as boto3 does.
// Everything shown is built with textContent, never innerHTML: names come from senders.
"use strict";

const REFRESH_MS = 5000;
const SVG = "http://www.w3.org/2000/svg";
const COLUMN_WIDTH = 300;
const ROW_HEIGHT = 150;
const RADIUS = 30;
const MARGIN = 70;

const $ = (id) => document.getElementById(id);
const state = { filter: "", trace: null, timer: null };

// --- helpers ---------------------------------------------------------------------------

async function api(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(data.message || `${path} answered ${response.status}`);
  }
  return data;
}

function el(tag, attributes = {}, ...children) {
  const node = tag.startsWith("svg:")
    ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
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
    drawMap(graph.Services);
    $("map-error").hidden = true;
  } catch (error) {
    $("map-error").textContent = `Cannot load the service map: ${error.message}`;
    $("map-error").hidden = false;
  }
  document.body.dataset.mapState = "ready";
}

function layout(services) {
  // Columns by call depth: clients first, then whatever each node calls, left to right.
  const byId = new Map(services.map((s) => [s.ReferenceId, s]));
  const depth = new Map(services.filter((s) => s.Type === "client").map((s) => [s.ReferenceId, 0]));
  for (let pass = 0; pass < services.length; pass++) {
    let changed = false;
    for (const service of services) {
      if (!depth.has(service.ReferenceId)) continue;
      for (const edge of service.Edges || []) {
        const next = depth.get(service.ReferenceId) + 1;
        if (!depth.has(edge.ReferenceId) || depth.get(edge.ReferenceId) < next) {
          if (next < services.length) { depth.set(edge.ReferenceId, next); changed = true; }
        }
      }
    }
    if (!changed) break;
  }
  for (const service of services) if (!depth.has(service.ReferenceId)) depth.set(service.ReferenceId, 1);
  const columns = [];
  for (const service of services) {
    const column = depth.get(service.ReferenceId);
    (columns[column] = columns[column] || []).push(service);
  }
  const position = new Map();
  const rows = Math.max(1, ...columns.map((c) => (c ? c.length : 0)));
  columns.forEach((column, index) => {
    if (!column) return;
    // Order by where callers sit, so that edges cross less.
    const callerRow = (s) => {
      const callers = services.filter((c) => (c.Edges || []).some((e) => e.ReferenceId === s.ReferenceId));
      const ys = callers.map((c) => position.get(c.ReferenceId)).filter(Boolean).map((p) => p.y);
      return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : 0;
    };
    column.sort((a, b) => callerRow(a) - callerRow(b) || a.Name.localeCompare(b.Name));
    const offset = ((rows - column.length) * ROW_HEIGHT) / 2;
    column.forEach((service, row) => {
      position.set(service.ReferenceId, {
        x: MARGIN + 60 + index * COLUMN_WIDTH,
        y: MARGIN + offset + row * ROW_HEIGHT,
      });
    });
  });
  const width = MARGIN * 2 + 120 + (columns.length - 1) * COLUMN_WIDTH;
  const height = MARGIN * 2 + (rows - 1) * ROW_HEIGHT + 40;
  return { byId, position, width: Math.max(width, 600), height };
}

function drawMap(services) {
  const container = $("map");
  container.replaceChildren();
  $("map-empty").hidden = services.length > 0;
  if (!services.length) return;
  const { byId, position, width, height } = layout(services);
  const svg = el("svg:svg", {
    viewBox: `0 0 ${width} ${height}`, width, height, "data-nodes": services.length,
  });
  svg.append(
    el("svg:defs", {},
      el("svg:marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5",
        markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" },
        el("svg:path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a98a6" })))
  );
  for (const service of services) {
    for (const edge of service.Edges || []) {
      const target = byId.get(edge.ReferenceId);
      if (target) svg.append(drawEdge(service, target, edge, position));
    }
  }
  for (const service of services) svg.append(drawNode(service, position.get(service.ReferenceId)));
  container.append(svg);
}

function drawEdge(source, target, edge, position) {
  const from = position.get(source.ReferenceId);
  const to = position.get(target.ReferenceId);
  const f = figures(edge.SummaryStatistics);
  const x1 = from.x + RADIUS, y1 = from.y, x2 = to.x - RADIUS - 2, y2 = to.y;
  const bend = Math.max(40, (x2 - x1) / 2);
  const failing = f && f.faults + f.errors > 0;
  const group = el("svg:g", {
    class: failing ? "edge failing" : "edge",
    "data-source": source.Name, "data-source-type": source.Type,
    "data-target": target.Name, "data-target-type": target.Type,
    "data-count": f ? f.total : 0,
  });
  group.append(el("svg:path", {
    d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`,
    "marker-end": "url(#arrow)",
  }));
  if (f) {
    // Both label lines sit above the arrow, so that it never crosses the text.
    const mx = (x1 + x2) / 2, my = (y1 + y2) / 2 - (failing ? 19 : 6);
    group.append(el("svg:text", { x: mx, y: my }, `${f.total} req · ${ms(f.average)}`));
    if (failing) {
      const bad = [f.errors && `${f.errors} err`, f.faults && `${f.faults} fault`].filter(Boolean).join(" · ");
      group.append(el("svg:text", { x: mx, y: my + 13, class: "bad" }, bad));
    }
  }
  return group;
}

function drawNode(service, at) {
  const client = service.Type === "client";
  const f = figures(service.SummaryStatistics);
  const group = el("svg:g", {
    class: client ? "node client" : "node",
    transform: `translate(${at.x} ${at.y})`,
    "data-name": service.Name, "data-type": service.Type,
    "data-requests": f ? f.total : 0,
    tabindex: "0",
  });
  group.append(el("svg:title", {}, client ? `Clients calling ${service.Name}` : `${service.Name} (${service.Type})`));
  group.append(el("svg:circle", { class: "disc", r: RADIUS }));
  if (f) group.append(...ring(f));
  group.append(el("svg:text", { class: "centre", y: 4 }, client ? "Client" : ms(f && f.average)));
  if (client) return group;
  group.append(el("svg:text", { class: "name", y: RADIUS + 18 }, service.Name));
  group.append(el("svg:text", { class: "type", y: RADIUS + 32 }, service.Type));
  if (f) {
    group.append(el("svg:text", { class: "figures", y: RADIUS + 47 },
      `${f.perMinute.toFixed(1)} req/min · ${f.errorShare} err · ${f.faultShare} fault`));
  }
  group.addEventListener("click", () => {
    setFilter(`service("${service.Name.replace(/(["\\])/g, "\\$1")}")`);
  });
  return group;
}

function ring(f) {
  // A donut of outcome shares around the node, as the X-Ray console draws it.
  const circumference = 2 * Math.PI * (RADIUS + 4);
  const parts = [
    ["ok", f.total - f.errors - f.faults], ["error", f.errors - f.throttles],
    ["throttle", f.throttles], ["fault", f.faults],
  ];
  let offset = 0;
  const arcs = [];
  for (const [kind, count] of parts) {
    if (count <= 0) continue;
    const length = (count / f.total) * circumference;
    arcs.push(el("svg:circle", {
      r: RADIUS + 4, fill: "none", "stroke-width": 6, stroke: `var(--${kind})`,
      "stroke-dasharray": `${length} ${circumference - length}`,
      "stroke-dashoffset": -offset, transform: "rotate(-90)",
    }));
    offset += length;
  }
  return arcs;
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
    const stats = await (await fetch("/stats")).json();
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
