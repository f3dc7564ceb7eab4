// Read in headless Chromium by test_page.py: what the service map really rendered, in page
// coordinates. Boxes are [left, top, right, bottom]; each edge is sampled every 2 pixels.
(async () => {
  const deadline = Date.now() + 30000;
  while (!(document.body.dataset.mapState === "ready" && document.querySelector("#map svg"))) {
    if (Date.now() > deadline) throw new Error("the map was never drawn");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const box = (element) => {
    const r = element.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
  };
  const nodes = [...document.querySelectorAll("#map g.node")].map((g) => ({
    name: g.dataset.name, type: g.dataset.type, calls: g.dataset.calls || null, box: box(g),
  }));
  const edges = [...document.querySelectorAll("#map g.edge")].map((g) => {
    const path = g.querySelector("path");
    const matrix = path.getScreenCTM();
    const length = path.getTotalLength();
    const points = [];
    for (let at = 0; at <= length; at += 2) {
      const point = path.getPointAtLength(at).matrixTransform(matrix);
      points.push([point.x, point.y]);
    }
    const label = g.querySelector("g.label");
    return {
      source: [g.dataset.source, g.dataset.sourceType],
      target: [g.dataset.target, g.dataset.targetType],
      label: label && label.childElementCount ? box(label) : null,
      points,
    };
  });
  return { nodes, edges };
})()
