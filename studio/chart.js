// A line chart as SVG: series of {label, points:[[x,y]], color}, drawn with axes; accessible by its title.
const NS = 'http://www.w3.org/2000/svg';
const el = (name, attrs = {}) => {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
};

export function lineChart(title, series, { width = 320, height = 160, yMax } = {}) {
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart' });
  const t = el('title');
  t.textContent = title;
  svg.append(t);
  const points = series.flatMap(s => s.points);
  const pad = { l: 36, r: 8, t: 18, b: 20 };
  const xs = points.map(p => p[0]), ys = points.map(p => p[1]);
  const x0 = Math.min(0, ...xs), x1 = Math.max(1, ...xs);
  const y0 = 0, y1 = yMax ?? Math.max(1e-6, ...ys) * 1.1;
  const X = x => pad.l + (x - x0) / (x1 - x0 || 1) * (width - pad.l - pad.r);
  const Y = y => height - pad.b - (y - y0) / (y1 - y0 || 1) * (height - pad.t - pad.b);
  const caption = el('text', { x: pad.l, y: 12, class: 'chart-title' });
  caption.textContent = title;
  svg.append(caption);
  svg.append(el('line', { x1: pad.l, y1: Y(y0), x2: width - pad.r, y2: Y(y0), class: 'axis' }));
  svg.append(el('line', { x1: pad.l, y1: Y(y0), x2: pad.l, y2: Y(y1), class: 'axis' }));
  for (const v of [y0, (y0 + y1) / 2, y1]) {
    const label = el('text', { x: pad.l - 4, y: Y(v) + 4, 'text-anchor': 'end', class: 'tick' });
    label.textContent = v >= 10 ? v.toFixed(0) : v.toFixed(2);
    svg.append(label);
  }
  const xl = el('text', { x: width - pad.r, y: height - 4, 'text-anchor': 'end', class: 'tick' });
  xl.textContent = `epoch ${x1}`;
  svg.append(xl);
  let legendX = pad.l + 120;
  for (const s of series) {
    if (s.points.length === 0) continue;
    const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ');
    svg.append(el('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2 }));
    for (const p of s.points) svg.append(el('circle', { cx: X(p[0]), cy: Y(p[1]), r: 2.5, fill: s.color }));
    const legend = el('text', { x: legendX, y: 12, fill: s.color, class: 'legend' });
    legend.textContent = s.label;
    svg.append(legend);
    legendX += 90;
  }
  return svg;
}
