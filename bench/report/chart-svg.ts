import type { RunRow } from '../results.js';
import { fmt } from './markdown.js';

const COLORS: Readonly<Record<string, string>> = {
  direct: '#9e9e9e',
  nginx: '#2e7d32',
  'nginx-least_conn': '#66bb6a',
  haproxy: '#1565c0',
  'haproxy-leastconn': '#64b5f6',
  balancer: '#e65100',
  'balancer-round-robin': '#ffb74d',
  'node-baseline': '#8d6e63',
};

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A plain SVG bar chart, two panels side by side: requests per second and p99
 * latency, one block of bars per scenario. Bars are scaled per scenario,
 * because 64 KiB and small GET differ by an order of magnitude and a shared
 * axis would flatten one of them; each bar carries its value.
 */
export function chartSvg(runs: readonly RunRow[], title: string): string {
  const scenarios = [...new Set(runs.map((r) => r.scenario))];
  const labelWidth = 250;
  const panelWidth = 420;
  const gap = 40;
  const rowHeight = 18;
  const headerHeight = 24;
  const top = 60;
  const width = labelWidth + 2 * panelWidth + gap + 100;
  const out: string[] = [];
  let y = top;
  const bar = (x0: number, value: number, max: number, color: string, text: string): void => {
    const w = max > 0 ? Math.max(1, (value / max) * (panelWidth - 80)) : 1;
    out.push(`<rect x="${x0}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowHeight - 5}" fill="${color}"/>`);
    out.push(`<text x="${(x0 + w + 4).toFixed(1)}" y="${y + rowHeight - 5}" font-size="11">${escapeXml(text)}</text>`);
  };
  for (const scenario of scenarios) {
    const rows = runs.filter((r) => r.scenario === scenario);
    const maxRps = Math.max(...rows.map((r) => r.result.rps));
    const maxP99 = Math.max(...rows.map((r) => r.result.latencyMs.p99));
    out.push(`<text x="10" y="${y + 16}" font-size="13" font-weight="bold">${escapeXml(scenario)}</text>`);
    y += headerHeight;
    for (const row of rows) {
      const color = COLORS[row.target] ?? '#6d4c41';
      out.push(`<text x="20" y="${y + rowHeight - 5}" font-size="11">${escapeXml(row.label)}</text>`);
      bar(labelWidth, row.result.rps, maxRps, color, `${fmt(row.result.rps, 0)} rps`);
      bar(labelWidth + panelWidth + gap, row.result.latencyMs.p99, maxP99, color, `${fmt(row.result.latencyMs.p99)} ms`);
      y += rowHeight;
    }
    y += 8;
  }
  const height = y + 20;
  const head = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${labelWidth}" y="50" font-size="12" font-weight="bold">requests / s (higher is better)</text>`,
    `<text x="${labelWidth + panelWidth + gap}" y="50" font-size="12" font-weight="bold">p99 latency (lower is better)</text>`,
  ];
  return [...head, ...out, '</svg>', ''].join('\n');
}
