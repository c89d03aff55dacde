// chart.js - horizontal bar charts drawn as SVG by hand: legible in print (black text, no
// colour needed to read a value), no library, no inline style (the console's CSP forbids it).

const NS = "http://www.w3.org/2000/svg";

function el(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// rows: [{label, value}] with value a decimal string or number; fmt(value) the text shown.
export function barChart(rows, fmt) {
  const bar = 22, gap = 6, labelW = 150, valueW = 110, width = 560;
  const height = Math.max(1, rows.length) * (bar + gap) + gap;
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", class: "chart" });
  const max = Math.max(0, ...rows.map((r) => Number(r.value)));
  rows.forEach((r, i) => {
    const y = gap + i * (bar + gap);
    const w = max > 0 ? Math.max(1, ((width - labelW - valueW) * Number(r.value)) / max) : 1;
    svg.append(el("text", { x: labelW - 6, y: y + bar * 0.7, "text-anchor": "end", class: "label" }, r.label));
    svg.append(el("rect", { x: labelW, y, width: w, height: bar, class: "bar" }));
    svg.append(el("text", { x: labelW + w + 6, y: y + bar * 0.7, class: "value" }, fmt(r.value)));
  });
  if (!rows.length) svg.append(el("text", { x: 10, y: 20, class: "label" }, "—"));
  return svg;
}
