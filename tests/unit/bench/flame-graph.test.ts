import type { CpuProfile } from '../../../bench/profile/cpuprofile-summary.js';
import { flameGraphSvg, flameTree } from '../../../bench/profile/flame-graph.js';

const frame = (functionName: string, url = '', lineNumber = 0): { functionName: string; url: string; lineNumber: number } => ({ functionName, url, lineNumber });

describe('flame graph', () => {
  // root → handle → (proxy → observe), root → (idle), root → startUp
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 5, 6] },
      { id: 2, callFrame: frame('handle', 'file:///repo/dist/services/balancer/proxy/proxy-handler.js', 10), children: [3] },
      { id: 3, callFrame: frame('proxy', 'file:///repo/dist/services/balancer/proxy/proxy-handler.js', 116), children: [4] },
      { id: 4, callFrame: frame('observe', 'file:///repo/node_modules/prom-client/lib/histogram.js', 231) },
      { id: 5, callFrame: frame('(idle)') },
      { id: 6, callFrame: frame('startUp', 'node:internal/modules/run_main', 1) },
    ],
    // 5 ms of start-up, then 2 ms in handle, 3 ms in proxy, 1 ms in observe, 10 ms idle.
    samples: [6, 2, 2, 3, 3, 3, 4, 5],
    timeDeltas: [5_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 10_000],
  };

  it('when built, then each frame holds its own time plus its callees, idle and skipped start-up left out', () => {
    const tree = flameTree(profile, 6);
    expect(tree.totalUs).toBe(6_000);
    expect(tree.children.map((c) => [c.name, c.totalUs])).toEqual([['handle', 6_000]]);
    const proxy = tree.children[0]?.children[0];
    expect(proxy).toMatchObject({ name: 'proxy', totalUs: 4_000, category: 'balancer code', location: 'dist/services/balancer/proxy/proxy-handler.js:117' });
    expect(proxy?.children[0]).toMatchObject({ name: 'observe', totalUs: 1_000, category: 'npm: prom-client' });
  });

  it('when drawn, then frame widths are proportional to time and callees sit above their callers', () => {
    const svg = flameGraphSvg(flameTree(profile, 6), { title: 'a <test>', width: 620 });
    const rect = (name: string): { x: number; y: number; width: number } => {
      const match = new RegExp(`<title>${name} [^<]*</title><rect x="([\\d.]+)" y="([\\d.]+)" width="([\\d.]+)"`).exec(svg);
      if (match === null) throw new Error(`no frame ${name}`);
      return { x: Number(match[1]), y: Number(match[2]), width: Number(match[3]) };
    };
    // 600 px for 6 ms of busy time.
    expect(rect('handle').width).toBeCloseTo(600, 1);
    expect(rect('proxy').width).toBeCloseTo(400, 1);
    expect(rect('observe').width).toBeCloseTo(100, 1);
    expect(rect('proxy').y).toBeLessThan(rect('handle').y);
    expect(rect('observe').y).toBeLessThan(rect('proxy').y);
    expect(svg).toContain('a &lt;test&gt;');
    expect(svg).not.toContain('startUp');
  });
});
