import { categorize, type CpuProfile } from './cpuprofile-summary.js';

/** One frame of the graph: a call path's function, with the busy time spent in it and below it. */
export interface FlameFrame {
  readonly name: string;
  readonly location: string;
  readonly category: string;
  readonly totalUs: number;
  readonly children: readonly FlameFrame[];
}

/** Fill colour per code category, so "ours" stands out from Node, undici and the rest. */
const COLOURS: Readonly<Record<string, string>> = {
  'balancer code': '#e4572e',
  'shared code': '#f28f3b',
  'node core (http, net, streams)': '#f3c969',
  'native / builtins': '#b8b8b8',
  'npm: undici': '#76b041',
  'npm: prom-client': '#4f9dde',
  'npm: pino': '#9c6ade',
  'garbage collector': '#8d6e63',
  'V8/native (program)': '#cfcfcf',
};

const ROW = 17;
const FONT_PX = 11;
const CHAR_PX = 6.4;

/**
 * The call tree of a V8 .cpuprofile with each node's inclusive busy time:
 * samples before `skipMs` (start-up) and "(idle)" are left out. V8 already
 * keeps one node per call path, so this only sums sample time upwards.
 */
export function flameTree(profile: CpuProfile, skipMs = 0): FlameFrame {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let elapsedUs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    elapsedUs += delta;
    if (elapsedUs < skipMs * 1_000 || nodes.get(id)?.callFrame.functionName === '(idle)') return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const childIds = new Set(profile.nodes.flatMap((n) => n.children ?? []));
  const root = profile.nodes.find((n) => !childIds.has(n.id));
  const build = (id: number): FlameFrame | undefined => {
    const node = nodes.get(id);
    if (node === undefined) return undefined;
    const children = (node.children ?? [])
      .map(build)
      .filter((c): c is FlameFrame => c !== undefined && c.totalUs > 0)
      .sort((a, b) => a.name.localeCompare(b.name));
    const totalUs = (selfUs.get(id) ?? 0) + children.reduce((sum, c) => sum + c.totalUs, 0);
    const { functionName, url, lineNumber } = node.callFrame;
    return {
      name: functionName || '(anonymous)',
      location: url === '' ? '(native)' : `${url.replace(/^file:\/\//, '').replace(/^.*?\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}`,
      category: categorize(url, functionName),
      totalUs,
      children,
    };
  };
  const tree = root === undefined ? undefined : build(root.id);
  return tree ?? { name: '(root)', location: '', category: 'other', totalUs: 0, children: [] };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * A flame graph (Brendan Gregg's layout: callers below, callees stacked on
 * top, width = share of busy time) as a standalone SVG. Each frame carries a
 * <title>, so a browser shows name, location and time on hover. Frames
 * narrower than `minPx` are left out: they would be unreadable slivers.
 */
export function flameGraphSvg(tree: FlameFrame, options: { title: string; width?: number; minPx?: number }): string {
  const width = options.width ?? 1200;
  const minPx = options.minPx ?? 0.5;
  const total = tree.totalUs;
  const scale = total > 0 ? (width - 20) / total : 0;
  const placed: { frame: FlameFrame; x: number; depth: number; w: number }[] = [];
  const place = (frame: FlameFrame, x: number, depth: number): void => {
    const w = frame.totalUs * scale;
    if (w < minPx) return;
    placed.push({ frame, x, depth, w });
    let childX = x;
    for (const child of frame.children) {
      place(child, childX, depth + 1);
      childX += child.totalUs * scale;
    }
  };
  place(tree, 10, 0);
  const depthMax = placed.reduce((max, p) => Math.max(max, p.depth), 0);
  const height = (depthMax + 1) * ROW + 90;
  // The root at the bottom, callees stacked above their callers.
  const yOf = (depth: number): number => height - 30 - (depth + 1) * ROW;
  const legend = Object.entries(COLOURS)
    .map(([name, colour], i) => `<rect x="${10 + (i % 5) * 235}" y="${34 + Math.floor(i / 5) * 15}" width="10" height="10" fill="${colour}"/><text x="${24 + (i % 5) * 235}" y="${43 + Math.floor(i / 5) * 15}" font-size="10">${escapeXml(name)}</text>`)
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="${FONT_PX}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="22" font-size="15">${escapeXml(options.title)}</text>`,
    legend,
    ...placed.map((p) => frameSvg(p.frame, p.x, yOf(p.depth), p.w, total)),
    `<text x="10" y="${height - 8}" font-size="10">${(total / 1_000).toFixed(0)} ms busy; width = share of busy time; hover a frame for its location</text>`,
    `</svg>`,
  ].join('\n');
}

function frameSvg(frame: FlameFrame, x: number, y: number, w: number, total: number): string {
  const percent = total > 0 ? (100 * frame.totalUs) / total : 0;
  const tip = `${frame.name} ${frame.location} — ${(frame.totalUs / 1_000).toFixed(1)} ms (${percent.toFixed(1)} %)`;
  const fits = Math.floor((w - 4) / CHAR_PX);
  const label = fits >= 3 ? (frame.name.length <= fits ? frame.name : `${frame.name.slice(0, fits - 2)}..`) : '';
  const colour = COLOURS[frame.category] ?? '#dddddd';
  return (
    `<g><title>${escapeXml(tip)}</title>` +
    `<rect x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${ROW - 1}" fill="${colour}" stroke="#ffffff" stroke-width="0.5"/>` +
    (label === '' ? '' : `<text x="${(x + 2).toFixed(2)}" y="${y + ROW - 5}">${escapeXml(label)}</text>`) +
    `</g>`
  );
}
