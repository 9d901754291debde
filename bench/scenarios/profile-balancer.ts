import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure, SMALL_GET, warmUpPeer } from '../measure.js';
import { startBalancer } from '../peers/balancer.js';
import { summarizeCpuProfile, type CpuProfile, type ProfileSummary } from '../profile/cpuprofile-summary.js';
import { flameGraphSvg, flameTree } from '../profile/flame-graph.js';
import { svgToPng } from '../report/png.js';
import { freePort } from '../../tests/helpers/free-port.js';
import { startEndpointUpstreams, startUpstreams, stopUpstreams } from '../upstreams.js';
import type { ScenarioContext } from './context.js';

/**
 * The balancer once more under small-GET load, with V8's sampling profiler
 * on. The profile is written when the process exits normally, so the
 * balancer is stopped with SIGTERM and given time to drain. The .cpuprofile
 * stays in bench/out/profile/ for Chrome DevTools or speedscope.
 */
export async function runProfile(ctx: ScenarioContext): Promise<ProfileSummary | undefined> {
  const dir = join(ctx.options.outDir, 'profile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const count = ctx.options.profileEndpoints;
  // Three upstream processes either way; past 3 endpoints each listens on a share of 127.1.x.y (as the growth group does).
  const spread = count === 3 ? undefined : await startEndpointUpstreams(ctx.children, count, await freePort(), 3, 'p');
  const upstreams = spread === undefined ? await startUpstreams(ctx.children, [0, 0, 0], 'p') : spread.processes;
  // Samples before the load starts are start-up, not the hot path.
  const spawnedAt = Date.now();
  let loadStartMs = 0;
  try {
    const peer = await startBalancer(ctx.children, spread === undefined ? upstreams : [], {
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-name=balancer.cpuprofile'],
      id: 'balancer-profiled',
      ...(spread === undefined ? {} : { upstreamUrls: spread.urls }),
    });
    await warmUpPeer(ctx, peer);
    loadStartMs = Date.now() - spawnedAt;
    try {
      const profiled = { ...ctx, options: { ...ctx.options, durationS: ctx.options.profileS } };
      // Not added to the table: the profiler itself costs throughput.
      await measure(profiled, peer, SMALL_GET, `small GET (profiled, ${count} endpoints)`);
    } finally {
      await ctx.children.stop(peer.child, 15_000);
    }
  } finally {
    await stopUpstreams(ctx.children, upstreams);
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) {
    ctx.notes.push('The profiling run wrote no .cpuprofile (the balancer did not exit normally).');
    return undefined;
  }
  ctx.commands.push(`node --cpu-prof --cpu-prof-dir=${dir} dist/services/balancer/main.js   # under small-GET wrk load, ${ctx.options.profileS}s, ${count} endpoints`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const svg = join(dir, 'flame.svg');
  writeFileSync(svg, flameGraphSvg(flameTree(profile, loadStartMs), { title: `balancer under small-GET load (${ctx.options.profileS} s, ${count} endpoints, --cpu-prof)` }));
  const png = (await svgToPng(svg, join(dir, 'flame.png'))) ? ' and flame.png' : '';
  ctx.notes.push(`Flame graph of the profiled run: ${svg}${png}.`);
  return summarizeCpuProfile(profile, 30, loadStartMs);
}
