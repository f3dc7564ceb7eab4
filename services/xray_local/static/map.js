// The service map: GetServiceGraph's nodes and edges, laid out in layers by dagre (vendored,
// see dagre.LICENSE.txt) so that no node, label or edge lands on another.
//
// Every node and label is drawn first and measured, then dagre places them left to right by
// call depth, edge labels included (as it places nodes), and routes each edge between the
// layers. The graph API has a client node per entry service (X-Ray names each after the
// service it calls); they are drawn as one Client, with an edge to each entry service.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const RADIUS = 30;
const RING = RADIUS + 4; // the outcome ring, 6 wide
const NODE_PADDING = 8;
const LABEL_PADDING = 6;
const CLIENT = "client";

function svgEl(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// The graph to draw: one client node for every client of the API's graph.
function mapModel(services) {
  const byReference = new Map(services.map((s) => [s.ReferenceId, s]));
  const clients = services.filter((s) => s.Type === CLIENT);
  const nodes = services
    .filter((s) => s.Type !== CLIENT)
    .map((s) => ({ id: `n${s.ReferenceId}`, service: s }));
  if (clients.length) nodes.unshift({ id: CLIENT, service: null, calls: clients.map((c) => c.Name) });
  const edges = [];
  for (const source of services) {
    for (const edge of source.Edges || []) {
      const target = byReference.get(edge.ReferenceId);
      if (!target) continue;
      edges.push({
        from: source.Type === CLIENT ? CLIENT : `n${source.ReferenceId}`,
        to: target.Type === CLIENT ? CLIENT : `n${target.ReferenceId}`,
        source, target, statistics: edge.SummaryStatistics,
      });
    }
  }
  return { nodes, edges };
}

function drawServiceMap(container, services, describe, onSelect) {
  container.replaceChildren();
  if (!services.length) return null;
  const { nodes, edges } = mapModel(services);
  const svg = svgEl("svg", { "data-nodes": nodes.length });
  svg.append(svgEl("defs", {},
    svgEl("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5",
      markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" },
    svgEl("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a98a6" }))));
  const edgeLayer = svgEl("g", { class: "edges" });
  const nodeLayer = svgEl("g", { class: "nodes" });
  svg.append(edgeLayer, nodeLayer);
  container.append(svg); // attached, so that text can be measured
  for (const node of nodes) {
    node.element = node.service ? serviceNode(node.service, describe, onSelect) : clientNode(node.calls);
    nodeLayer.append(node.element);
  }
  for (const edge of edges) {
    edge.element = edgeGroup(edge, describe);
    edgeLayer.append(edge.element);
  }
  const size = layOut(nodes, edges);
  svg.setAttribute("viewBox", `0 0 ${size.width} ${size.height}`);
  svg.setAttribute("width", size.width);
  svg.setAttribute("height", size.height);
  return svg;
}

function layOut(nodes, edges) {
  const graph = new dagre.graphlib.Graph({ multigraph: true });
  graph.setGraph({ rankdir: "LR", nodesep: 28, ranksep: 56, edgesep: 14, marginx: 12, marginy: 12 });
  const halves = new Map();
  for (const node of nodes) {
    // Centred on the disc, so that edges meet it where dagre aims them: the node's centre.
    const box = node.element.getBBox();
    const half = {
      x: Math.max(-box.x, box.x + box.width) + NODE_PADDING,
      y: Math.max(-box.y, box.y + box.height) + NODE_PADDING,
    };
    halves.set(node.id, half);
    graph.setNode(node.id, { width: 2 * half.x, height: 2 * half.y });
  }
  edges.forEach((edge, index) => {
    const box = edge.label.getBBox();
    edge.box = box;
    graph.setEdge(edge.from, edge.to, {
      width: box.width + 2 * LABEL_PADDING, height: box.height + 2 * LABEL_PADDING,
      labelpos: "l", labeloffset: 2, minlen: 1,
    }, `e${index}`);
  });
  dagre.layout(graph);
  const placed = new Map(nodes.map((node) => [node.id, graph.node(node.id)]));
  const columns = columnHalfWidths(nodes, placed, halves);
  for (const node of nodes) {
    const at = placed.get(node.id);
    node.element.setAttribute("transform", `translate(${at.x} ${at.y})`);
  }
  edges.forEach((edge, index) => {
    const laid = graph.edge(edge.from, edge.to, `e${index}`);
    const inner = underLabel(laid.points.slice(1, -1), laid);
    const route = routeOf(inner, placed.get(edge.from), placed.get(edge.to), columns);
    edge.element.querySelector("path").setAttribute("d", pathOf(route));
    const box = edge.box;
    edge.label.setAttribute("transform",
      `translate(${laid.x - (box.x + box.width / 2)} ${laid.y - (box.y + box.height / 2)})`);
  });
  const size = graph.graph();
  return { width: Math.ceil(size.width), height: Math.ceil(size.height) };
}

// Nodes of one layer share an x; the widest sets where the layer ends on either side.
function columnHalfWidths(nodes, placed, halves) {
  const columns = new Map();
  for (const node of nodes) {
    const x = Math.round(placed.get(node.id).x);
    columns.set(x, Math.max(columns.get(x) || 0, halves.get(node.id).x));
  }
  return columns;
}

// dagre puts the label above the route's point in the label's layer; the route runs level
// under the whole label there, so that it never reaches the label from above.
function underLabel(inner, laid) {
  if (!inner.length || !laid.width) return inner;
  let nearest = 0;
  inner.forEach((point, index) => {
    if (Math.abs(point.x - laid.x) < Math.abs(inner[nearest].x - laid.x)) nearest = index;
  });
  const y = inner[nearest].y;
  const half = laid.width / 2;
  return [
    ...inner.slice(0, nearest),
    { x: laid.x - half, y }, { x: laid.x + half, y },
    ...inner.slice(nearest + 1),
  ];
}

// Leave the source and reach the target level with their discs, out to the edge of their
// layer, and follow dagre's route (which keeps clear of other nodes and labels) in between.
function routeOf(inner, from, to, columns) {
  if (!inner.length) inner.push({ x: (from.x + to.x) / 2, y: (from.y + to.y) / 2 });
  const first = inner[0];
  const last = inner[inner.length - 1];
  const fromEdge = columns.get(Math.round(from.x)) || RING;
  const toEdge = columns.get(Math.round(to.x)) || RING;
  const start = first.x >= from.x + fromEdge
    ? [{ x: from.x + RING, y: from.y }, { x: from.x + fromEdge, y: from.y }]
    : [onDisc(from, first)];
  const end = last.x <= to.x - toEdge
    ? [{ x: to.x - toEdge, y: to.y }, { x: to.x - RING - 2, y: to.y }]
    : [onDisc(to, last, 2)];
  return [...start, ...inner, ...end];
}

function onDisc(centre, toward, gap = 0) {
  const dx = toward.x - centre.x;
  const dy = toward.y - centre.y;
  const length = Math.hypot(dx, dy) || 1;
  return { x: centre.x + (dx / length) * (RING + gap), y: centre.y + (dy / length) * (RING + gap) };
}

function pathOf(route) {
  return route.map((p, i) => `${i ? "L" : "M"} ${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(" ");
}

function edgeGroup(edge, describe) {
  const f = describe(edge.statistics);
  const failing = f && f.faults + f.errors > 0;
  const group = svgEl("g", {
    class: failing ? "edge failing" : "edge",
    "data-source": edge.source.Type === CLIENT ? "Client" : edge.source.Name,
    "data-source-type": edge.source.Type,
    "data-target": edge.target.Name, "data-target-type": edge.target.Type,
    "data-count": f ? f.total : 0,
  });
  group.append(svgEl("path", { "marker-end": "url(#arrow)" }));
  const label = svgEl("g", { class: "label" });
  if (f) {
    label.append(svgEl("text", { x: 0, y: 0 }, `${f.total} req · ${f.averageText}`));
    if (failing) {
      const bad = [f.errors && `${f.errors} err`, f.faults && `${f.faults} fault`].filter(Boolean).join(" · ");
      label.append(svgEl("text", { x: 0, y: 13, class: "bad" }, bad));
    }
  }
  group.append(label);
  edge.label = label;
  return group;
}

function serviceNode(service, describe, onSelect) {
  const f = describe(service.SummaryStatistics);
  const group = svgEl("g", {
    class: "node", "data-name": service.Name, "data-type": service.Type,
    "data-requests": f ? f.total : 0, tabindex: "0",
  });
  group.append(svgEl("title", {}, `${service.Name} (${service.Type})`));
  group.append(svgEl("circle", { class: "disc", r: RADIUS }));
  if (f) group.append(...ring(f));
  group.append(svgEl("text", { class: "centre", y: 4 }, f ? f.averageText : "–"));
  group.append(svgEl("text", { class: "name", y: RADIUS + 20 }, service.Name));
  group.append(svgEl("text", { class: "type", y: RADIUS + 34 }, service.Type));
  if (f) {
    group.append(svgEl("text", { class: "figures", y: RADIUS + 49 },
      `${f.perMinute.toFixed(1)} req/min · ${f.errorShare} err · ${f.faultShare} fault`));
  }
  group.addEventListener("click", () => onSelect(service));
  return group;
}

function clientNode(calls) {
  const group = svgEl("g", {
    class: "node client", "data-name": "Client", "data-type": CLIENT,
    "data-calls": calls.join(", "), "data-requests": 0,
  });
  group.append(svgEl("title", {}, `Clients calling ${calls.join(", ")}`));
  group.append(svgEl("circle", { class: "disc", r: RADIUS }));
  group.append(svgEl("text", { class: "centre", y: 4 }, "Client"));
  return group;
}

function ring(f) {
  // A donut of outcome shares around the node, as the X-Ray console draws it.
  const circumference = 2 * Math.PI * RING;
  const parts = [
    ["ok", f.total - f.errors - f.faults], ["error", f.errors - f.throttles],
    ["throttle", f.throttles], ["fault", f.faults],
  ];
  let offset = 0;
  const arcs = [];
  for (const [kind, count] of parts) {
    if (count <= 0) continue;
    const length = (count / f.total) * circumference;
    arcs.push(svgEl("circle", {
      r: RING, fill: "none", "stroke-width": 6, stroke: `var(--${kind})`,
      "stroke-dasharray": `${length} ${circumference - length}`,
      "stroke-dashoffset": -offset, transform: "rotate(-90)",
    }));
    offset += length;
  }
  return arcs;
}
