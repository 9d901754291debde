import { fileURLToPath } from 'node:url';
import { SMALL_GET, measureRounds } from '../measure.js';
import { metricValue, probeLatency, rssMiB } from '../load/probe.js';
import type { Peer } from '../peers/peer.js';
import type { GrowthRow } from '../results.js';
import { httpGet } from '../wait-http.js';
import type { ScenarioContext } from './context.js';

const HOLDER = fileURLToPath(new URL('../load/idle-connections.js', import.meta.url));

/** Lag p99 over the last interval: prom-client resets its event-loop histogram at every scrape, so scrape once to reset, wait, scrape again. */
async function lagP99Ms(peer: Peer, windowMs = 2_000): Promise<number> {
  if (peer.adminUrl === undefined) return Number.NaN;
  await httpGet(`${peer.adminUrl}/metrics`, 5_000);
  await new Promise((r) => setTimeout(r, windowMs));
  const { body } = await httpGet(`${peer.adminUrl}/metrics`, 5_000);
  return metricValue(body.toString('utf8'), 'nodejs_eventloop_lag_p99_seconds') * 1_000;
}

async function sample(peer: Peer): Promise<Pick<GrowthRow, 'rssMiB' | 'eventLoopLagP99Ms' | 'probe'>> {
  const lag = await lagP99Ms(peer);
  const probe = await probeLatency(`${peer.url}/small`);
  return { rssMiB: rssMiB(peer.child.pid), eventLoopLagP99Ms: lag, probe };
}

/**
 * RSS and event-loop lag of an otherwise idle balancer, then the same with
 * `options.idleConnections` keep-alive client connections held open on it
 * (each after one answered GET), then a wrk run with them still held. The
 * holder is its own process, bounded by HOLD_MS and stopped in a finally; the
 * 20 000 nofile limit of this machine covers 10 000 sockets on each side, so
 * no limit is raised (the option refuses more than 15 000).
 */
export async function runIdleConnections(ctx: ScenarioContext, peer: Peer): Promise<void> {
  const count = ctx.options.idleConnections;
  const before = await sample(peer);
  ctx.growth.push({ case: 'idle balancer, no client connections', ...before, detail: '3 endpoints' });
  const address = new URL(peer.url);
  const holdMs = 150_000;
  const holder = ctx.children.start('idle connections', process.execPath, [HOLDER], {
    env: { PATH: process.env.PATH ?? '', HOST: address.hostname, PORT: address.port, COUNT: String(count), BATCH: '200', HOLD_MS: String(holdMs) },
  });
  ctx.commands.push(`HOST=127.0.0.1 PORT=<balancer> COUNT=${count} BATCH=200 HOLD_MS=${holdMs} node dist/bench/load/idle-connections.js   # growth: idle keep-alive connections`);
  try {
    const line = await ctx.children.waitForLine(holder, (l) => l.includes('"idle connections open"'), 120_000);
    const opened = JSON.parse(line) as { open: number; failed: number; ms: number };
    ctx.log(`growth: ${opened.open} idle connections open (${opened.failed} failed) in ${opened.ms} ms`);
    const held = await sample(peer);
    const detail = `${opened.open} of ${count} opened in ${(opened.ms / 1_000).toFixed(0)} s (${opened.failed} failed)`;
    ctx.growth.push({ case: `${count} idle keep-alive client connections held`, ...held, detail });
    const [run] = await measureRounds(ctx, [peer], SMALL_GET, `growth: small GET, 3 endpoints, ${count} idle connections held`);
    if (run !== undefined) {
      ctx.runs.push(run);
      ctx.growth.push({ case: `small GET (wrk, 50 connections) with the ${count} idle ones held`, run, rssMiB: rssMiB(peer.child.pid), detail });
    }
  } finally {
    await ctx.children.stop(holder);
  }
}
