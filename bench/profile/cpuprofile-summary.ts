import type { ProfileEntry } from '../results.js';

/** The parts of V8's .cpuprofile JSON (Chrome DevTools protocol Profiler.Profile) this summary reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  /** Busy time sampled, in ms ("(idle)" excluded). */
  readonly totalMs: number;
  readonly top: readonly ProfileEntry[];
  /** Category → share of busy time, in percent. */
  readonly byCategory: Readonly<Record<string, number>>;
  /**
   * Inclusive time of our own functions and of each library call they make
   * ("→ pipeline"): what a change in the balancer could save, which self
   * time alone hides (the cost of stream/promises' pipeline is spread over
   * a dozen node-internal frames).
   */
  readonly inclusive: readonly ProfileEntry[];
}

const OURS = new Set(['balancer code', 'worker code', 'shared code']);

/** Where a frame's code lives, in the terms the balancer's owner acts on. */
export function categorize(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(program)' || functionName === '(root)') return 'V8/native (program)';
  if (url === '') return 'native / builtins';
  if (url.startsWith('node:')) return 'node core (http, net, streams)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules?.[1] !== undefined) return `npm: ${modules[1]}`;
  if (url.includes('/services/balancer/')) return 'balancer code';
  if (url.includes('/services/shared/')) return 'shared code';
  if (url.includes('/services/worker/')) return 'worker code';
  return 'other';
}

function shortLocation(url: string, line: number): string {
  if (url === '') return '(native)';
  const path = url.replace(/^file:\/\//, '').replace(/^.*?\/(dist|node_modules)\//, '$1/');
  return `${path}:${line + 1}`;
}

/**
 * Self time per function (summed over all call sites), busiest first.
 * Samples in the first skipMs are left out: start-up (module loading,
 * compiling) would otherwise crowd the steady-state hot path out of the top.
 */
export function summarizeCpuProfile(profile: CpuProfile, topN = 25, skipMs = 0): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
  const inclusiveUs = new Map<string, { functionName: string; location: string; us: number }>();
  const selfUs = new Map<string, { functionName: string; location: string; category: string; us: number }>();
  let busyUs = 0;
  let elapsedUs = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id);
    const delta = profile.timeDeltas[i] ?? 0;
    elapsedUs += delta;
    if (elapsedUs < skipMs * 1_000 || frame === undefined || frame.functionName === '(idle)') return;
    busyUs += delta;
    const functionName = frame.functionName || '(anonymous)';
    const location = shortLocation(frame.url, frame.lineNumber);
    const key = `${functionName} ${location}`;
    const entry = selfUs.get(key) ?? { functionName, location, category: categorize(frame.url, frame.functionName), us: 0 };
    entry.us += delta;
    selfUs.set(key, entry);
    addInclusive(id, delta);
  });
  // Walks one sample's stack: our frames, and the outside frames our code called directly, each counted once per sample.
  function addInclusive(leaf: number, delta: number): void {
    const seen = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parentOf.get(id)) {
      const frame = byId.get(id);
      if (frame === undefined) continue;
      const ours = OURS.has(categorize(frame.url, frame.functionName));
      const parentId = parentOf.get(id);
      const parent = parentId === undefined ? undefined : byId.get(parentId);
      const calledByUs = !ours && parent !== undefined && OURS.has(categorize(parent.url, parent.functionName));
      if (!ours && !calledByUs) continue;
      const functionName = `${calledByUs ? '→ ' : ''}${frame.functionName || '(anonymous)'}`;
      const location = shortLocation(frame.url, frame.lineNumber);
      const key = `${functionName} ${location}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = inclusiveUs.get(key) ?? { functionName, location, us: 0 };
      entry.us += delta;
      inclusiveUs.set(key, entry);
    }
  }
  const percent = (us: number): number => (busyUs > 0 ? (100 * us) / busyUs : 0);
  const byCategory: Record<string, number> = {};
  for (const e of selfUs.values()) byCategory[e.category] = (byCategory[e.category] ?? 0) + e.us;
  const sortedCategories = Object.entries(byCategory).sort((a, b) => b[1] - a[1]);
  return {
    totalMs: busyUs / 1_000,
    top: [...selfUs.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((e) => ({ functionName: e.functionName, location: e.location, selfMs: e.us / 1_000, selfPercent: percent(e.us) })),
    byCategory: Object.fromEntries(sortedCategories.map(([k, us]) => [k, percent(us)])),
    inclusive: [...inclusiveUs.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((e) => ({ functionName: e.functionName, location: e.location, selfMs: e.us / 1_000, selfPercent: percent(e.us) })),
  };
}
