import { categorize, summarizeCpuProfile, type CpuProfile } from '../../../bench/profile/cpuprofile-summary.js';

const frame = (functionName: string, url = '', lineNumber = 0): { functionName: string; url: string; lineNumber: number } => ({ functionName, url, lineNumber });

describe('cpuprofile summary', () => {
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)') },
      { id: 2, callFrame: frame('(idle)') },
      { id: 3, callFrame: frame('proxy', 'file:///repo/dist/services/balancer/proxy/proxy-handler.js', 116) },
      { id: 4, callFrame: frame('observe', 'file:///repo/node_modules/prom-client/lib/histogram.js', 231) },
      { id: 5, callFrame: frame('compileSourceTextModule', 'node:internal/modules/esm/utils', 343) },
    ],
    // The first sample (start-up) is 5 ms; then 3 ms of proxy, 1 ms of metrics, 10 ms idle.
    samples: [5, 3, 3, 3, 4, 2],
    timeDeltas: [5_000, 1_000, 1_000, 1_000, 1_000, 10_000],
  };

  it('when samples are idle, then they count toward no function and no share', () => {
    const summary = summarizeCpuProfile(profile, 10, 6);
    expect(summary.totalMs).toBe(4);
    expect(summary.top[0]).toEqual({ functionName: 'proxy', location: 'dist/services/balancer/proxy/proxy-handler.js:117', selfMs: 3, selfPercent: 75 });
    expect(summary.byCategory).toEqual({ 'balancer code': 75, 'npm: prom-client': 25 });
  });

  it('when skipMs is 0, then start-up samples are counted too', () => {
    expect(summarizeCpuProfile(profile).top[0]?.functionName).toBe('compileSourceTextModule');
  });

  it('when a frame is native or GC, then it gets its own category', () => {
    expect(categorize('', '(garbage collector)')).toBe('garbage collector');
    expect(categorize('', 'writev')).toBe('native / builtins');
    expect(categorize('file:///x/node_modules/@scope/pkg/a.js', 'f')).toBe('npm: @scope/pkg');
  });
});

describe('cpuprofile inclusive time', () => {
  it('when our function calls a library, then both get the inclusive time of the samples under them, once per sample', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2] },
        { id: 2, callFrame: frame('stream', 'file:///r/dist/services/balancer/proxy/proxy-handler.js', 10), children: [3] },
        { id: 3, callFrame: frame('pipeline', 'node:stream/promises', 18), children: [4] },
        { id: 4, callFrame: frame('DOMException', 'node:internal/per_context/domexception', 51) },
      ],
      samples: [4, 4, 2],
      timeDeltas: [1_000, 1_000, 2_000],
    };
    const { inclusive } = summarizeCpuProfile(profile);
    expect(inclusive.map((e) => [e.functionName, e.selfMs])).toEqual([
      ['stream', 4],
      ['→ pipeline', 2],
    ]);
  });
});
