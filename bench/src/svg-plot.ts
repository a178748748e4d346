/** A minimal SVG line chart for benchmark reports (x against one or more y series). */
export interface PlotSeries {
  readonly label: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd'];

export function linePlot(
  title: string,
  xLabel: string,
  yLabel: string,
  series: readonly PlotSeries[],
  logX = false,
): string {
  const width = 640;
  const height = 360;
  const margin = { left: 70, right: 20, top: 40, bottom: 50 };
  const all = series.flatMap((s) => s.points);
  const xs = all.map(([x]) => (logX ? Math.log10(x) : x));
  const ys = all.map(([, y]) => y);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const yMax = Math.max(...ys, 0) * 1.1 || 1;
  const sx = (x: number) =>
    margin.left + (((logX ? Math.log10(x) : x) - xMin) / (xMax - xMin || 1)) * (width - margin.left - margin.right);
  const sy = (y: number) => height - margin.bottom - (y / yMax) * (height - margin.top - margin.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  const xTicks = [...new Set(all.map(([x]) => x))].sort((a, b) => a - b);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
    ...ticks.map(
      (t) =>
        `<line x1="${margin.left}" x2="${width - margin.right}" y1="${sy(t)}" y2="${sy(t)}" stroke="#ddd"/><text x="${margin.left - 6}" y="${sy(t) + 4}" text-anchor="end">${format(t)}</text>`,
    ),
    ...xTicks.map(
      (x) => `<text x="${sx(x)}" y="${height - margin.bottom + 16}" text-anchor="middle">${format(x)}</text>`,
    ),
    `<text x="${width / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text x="16" y="${height / 2}" text-anchor="middle" transform="rotate(-90 16 ${height / 2})">${escapeXml(yLabel)}</text>`,
  ];
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const points = [...s.points].sort((a, b) => a[0] - b[0]);
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
      ...points.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${color}"/>`),
      `<text x="${margin.left + 10}" y="${margin.top + 14 * (i + 1)}" fill="${color}">${escapeXml(s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function format(value: number): string {
  if (Math.abs(value) >= 1000) return `${(value / 1000).toFixed(value % 1000 === 0 ? 0 : 1)}k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}
