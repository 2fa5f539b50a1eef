/** Small SVG chart builders for the self-contained report: pure string functions, no external assets. */

export interface Series {
  name: string;
  color: string;
  points: { x: number; y: number }[];
  dashed?: boolean;
  markers?: boolean;
}

const WIDTH = 360;
const HEIGHT = 300;
const MARGIN = { left: 48, right: 12, top: 12, bottom: 42 };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmt = (v: number) => (Math.round(v * 100) / 100).toString();

/** A unit-square line chart (ROC, PR, calibration): both axes run 0..1. */
export type LegendCorner = 'top-left' | 'bottom-right';

export function unitLineChart(
  title: string,
  xLabel: string,
  yLabel: string,
  series: readonly Series[],
  legendAt: LegendCorner = 'top-left',
): string {
  const w = WIDTH - MARGIN.left - MARGIN.right;
  const h = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (x: number) => MARGIN.left + x * w;
  const sy = (y: number) => MARGIN.top + (1 - y) * h;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const grid = ticks
    .map(
      (t) =>
        `<line x1="${sx(t)}" y1="${sy(0)}" x2="${sx(t)}" y2="${sy(1)}" class="grid"/><line x1="${sx(0)}" y1="${sy(t)}" x2="${sx(1)}" y2="${sy(t)}" class="grid"/>` +
        `<text x="${sx(t)}" y="${sy(0) + 14}" text-anchor="middle">${t}</text><text x="${sx(0) - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`,
    )
    .join('');
  const lines = series
    .map((s) => {
      const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join('');
      const dots = s.markers
        ? s.points.map((p) => `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${s.color}"/>`).join('')
        : '';
      return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 4"' : ''}/>${dots}`;
    })
    .join('');
  // Legends go where the curves are not: top-left for rising curves, bottom-right for ROC/PR/calibration.
  const legendX = legendAt === 'top-left' ? MARGIN.left + 8 : MARGIN.left + w * 0.4;
  const legendY = (i: number) => (legendAt === 'top-left' ? MARGIN.top + 14 + i * 16 : MARGIN.top + h - 8 - (series.length - 1 - i) * 16);
  const legend = series
    .map(
      (s, i) =>
        `<g transform="translate(${legendX},${legendY(i)})"><rect width="10" height="10" y="-9" fill="${s.color}"/><text x="14">${escapeXml(s.name)}</text></g>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeXml(title)}"><title>${escapeXml(title)}</title>${grid}${lines}${legend}
<text x="${MARGIN.left + w / 2}" y="${HEIGHT - 6}" text-anchor="middle" class="axis">${escapeXml(xLabel)}</text>
<text transform="translate(12,${MARGIN.top + h / 2}) rotate(-90)" text-anchor="middle" class="axis">${escapeXml(yLabel)}</text></svg>`;
}

/** Horizontal bars, values in 0..max (feature importance). */
export function barChart(title: string, bars: readonly { label: string; value: number }[], color: string): string {
  const rowHeight = 20;
  const labelWidth = 90;
  const w = WIDTH - labelWidth - 50;
  const max = Math.max(...bars.map((b) => b.value), 1e-12);
  const height = bars.length * rowHeight + 10;
  const rows = bars
    .map((b, i) => {
      const y = 5 + i * rowHeight;
      const len = (b.value / max) * w;
      return `<text x="${labelWidth - 6}" y="${y + 14}" text-anchor="end">${escapeXml(b.label)}</text><rect x="${labelWidth}" y="${y + 3}" width="${len.toFixed(1)}" height="${rowHeight - 6}" fill="${color}"/><text x="${labelWidth + len + 4}" y="${y + 14}">${fmt(b.value * 100)}%</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escapeXml(title)}"><title>${escapeXml(title)}</title>${rows}</svg>`;
}

/** 2×2 confusion matrix as shaded cells. */
export function confusionMatrixChart(title: string, m: { tn: number; fp: number; fn: number; tp: number }): string {
  const cell = 90;
  const x0 = 110;
  const y0 = 40;
  const max = Math.max(m.tn, m.fp, m.fn, m.tp, 1);
  const cells = [
    [m.tn, 0, 0],
    [m.fp, 1, 0],
    [m.fn, 0, 1],
    [m.tp, 1, 1],
  ]
    .map(([v, c, r]) => {
      const shade = 0.15 + 0.75 * (v! / max);
      return `<rect x="${x0 + c! * cell}" y="${y0 + r! * cell}" width="${cell}" height="${cell}" fill="rgba(37,99,235,${shade.toFixed(2)})" stroke="#fff"/><text x="${x0 + c! * cell + cell / 2}" y="${y0 + r! * cell + cell / 2 + 6}" text-anchor="middle" class="big">${v}</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${x0 + 2 * cell + 10} ${y0 + 2 * cell + 10}" role="img" aria-label="${escapeXml(title)}"><title>${escapeXml(title)}</title>
<text x="${x0 + cell}" y="14" text-anchor="middle" class="axis">predicted</text>
<text x="${x0 + cell / 2}" y="32" text-anchor="middle">no disease</text><text x="${x0 + 1.5 * cell}" y="32" text-anchor="middle">disease</text>
<text x="${x0 - 8}" y="${y0 + cell / 2 + 4}" text-anchor="end">actual: none</text><text x="${x0 - 8}" y="${y0 + 1.5 * cell + 4}" text-anchor="end">actual: disease</text>${cells}</svg>`;
}
