import { existsSync } from 'node:fs';
import { TestPki } from '../../tests/helpers/test-pki.js';
import { groupCpuSeconds, loadAverage } from '../load/cpu-time.js';
import { H2LOAD_BIN, h2loadArgs, runH2load } from '../load/h2load.js';
import { runHandshakes } from '../load/tls-handshakes.js';
import type { LoadResult } from '../load/wrk-parse.js';
import { WRK_BIN } from '../load/wrk.js';
import { SMALL_GET, measureRounds, warmUpPeer } from '../measure.js';
import { NGINX_BIN } from '../peers/nginx.js';
import type { Peer } from '../peers/peer.js';
import { startTlsBalancer, startTlsNginx } from '../peers/tls-peers.js';
import type { RunRow } from '../results.js';
import { startUpstreams, stopUpstreams } from '../upstreams.js';
import type { ScenarioContext } from './context.js';

const HANDSHAKE_SCENARIO = 'TLS: new connection per request';
const H2_SCENARIO = 'TLS: HTTP/2 small GET (10 conn × 10 streams)';
const H1_SCENARIO = 'TLS: HTTP/1.1 small GET keep-alive';

/** Tools this group needs besides Node: missing ones skip the group with a note, not a failure. */
function missingTools(): string[] {
  return [NGINX_BIN, WRK_BIN, H2LOAD_BIN].filter((bin) => !existsSync(bin));
}

function row(ctx: ScenarioContext, scenario: string, peer: Peer, result: LoadResult, cpuSeconds: number, load: number): RunRow {
  ctx.log(`${scenario.padEnd(44)} ${peer.label.padEnd(40)} ${result.rps.toFixed(0).padStart(7)} rps  errors ${result.errors.total}  cpu ${cpuSeconds.toFixed(1)}s  ${(result.requests / cpuSeconds).toFixed(0)} req/CPU-s`);
  return { scenario, target: peer.id, label: peer.label, result, cpuSeconds, requestsPerCpuSecond: cpuSeconds > 0 ? result.requests / cpuSeconds : 0, loadAverage: load };
}

/** The proxy's CPU (its process group) around one load run. */
async function measured(ctx: ScenarioContext, scenario: string, peer: Peer, load: () => Promise<LoadResult>): Promise<RunRow> {
  const average = loadAverage();
  const before = groupCpuSeconds(peer.child.pid);
  const result = await load();
  return row(ctx, scenario, peer, result, groupCpuSeconds(peer.child.pid) - before, average);
}

/** Each peer `rounds` times, order reversed every other round; the best round (rps) is kept, as measureRounds does. */
async function rounds(ctx: ScenarioContext, peers: readonly Peer[], scenario: string, load: (peer: Peer) => Promise<LoadResult>): Promise<RunRow[]> {
  const all = new Map<string, RunRow[]>(peers.map((p) => [p.id, []]));
  for (let round = 0; round < ctx.options.rounds; round++) {
    for (const peer of round % 2 === 0 ? peers : [...peers].reverse()) all.get(peer.id)?.push(await measured(ctx, scenario, peer, () => load(peer)));
  }
  return peers.map((peer) => {
    const rows = all.get(peer.id) ?? [];
    const best = rows.reduce((a, b) => (b.result.rps > a.result.rps ? b : a));
    return { ...best, roundsRps: rows.map((r) => Math.round(r.result.rps)) };
  });
}

/**
 * TLS at the proxy (issue 17): the balancer with TLS against nginx with TLS,
 * same certificate (ECDSA P-256, made by openssl through tests/helpers/test-pki.ts),
 * same three upstreams, in one run:
 * - full handshakes: a Node client making one new connection per request
 *   (no session reuse; bench/load/tls-handshakes.ts), 8 at a time;
 * - HTTP/2: h2load, 10 connections × 10 streams, small GET;
 * - HTTP/1.1 over TLS: wrk keep-alive small GET (as the proxy group, https).
 * The figure to read is requests per CPU-second of the proxy's process group.
 */
export async function runTls(ctx: ScenarioContext): Promise<void> {
  const missing = missingTools();
  if (missing.length > 0) {
    const note = `tls group skipped: missing ${missing.join(', ')} (apt-get install -y nginx wrk nghttp2-client)`;
    ctx.log(note);
    ctx.notes.push(note);
    return;
  }
  const pki = TestPki.create('Flotilla Bench CA');
  const upstreams = await startUpstreams(ctx.children, [0, 0, 0]);
  const peers: Peer[] = [];
  try {
    const server = pki.issue('server');
    const tls = { certFile: server.certFile, keyFile: server.keyFile, ca: pki.caCert };
    peers.push(await startTlsNginx(ctx.children, ctx.tmp, upstreams, tls));
    peers.push(await startTlsBalancer(ctx.children, upstreams, tls));
    for (const p of peers) if (p.configFile !== undefined) ctx.configFiles.push(p.configFile);
    // wrk over https: the same keep-alive warm-up every other group gives a peer (the balancer's JIT).
    for (const peer of peers) await warmUpPeer(ctx, peer);

    const handshakes = ctx.options.quick ? 300 : 1_500;
    const handshakeRun = (peer: Peer): Promise<LoadResult> =>
      runHandshakes({ port: Number(new URL(peer.url).port), ca: tls.ca, count: handshakes, concurrency: 8, timeoutMs: 120_000 });
    ctx.commands.push(`node: ${handshakes} × tls.connect (no session, ALPN http/1.1) + GET /small Connection: close, 8 at a time   # ${HANDSHAKE_SCENARIO} (bench/load/tls-handshakes.ts)`);
    for (const peer of peers) await handshakeRun(peer); // warm-up, discarded
    ctx.runs.push(...(await rounds(ctx, peers, HANDSHAKE_SCENARIO, handshakeRun)));

    const h2Requests = ctx.options.quick ? 20_000 : 40_000;
    const h2Run = (peer: Peer): Promise<LoadResult> => runH2load({ url: `${peer.url}/small`, requests: h2Requests, clients: 10, streams: 10 }, 120);
    ctx.commands.push(`h2load ${h2loadArgs({ url: '<peer>/small', requests: h2Requests, clients: 10, streams: 10 }).join(' ')}   # ${H2_SCENARIO}`);
    for (const peer of peers) await h2Run(peer); // warm-up, discarded
    ctx.runs.push(...(await rounds(ctx, peers, H2_SCENARIO, h2Run)));

    ctx.runs.push(...(await measureRounds(ctx, peers, SMALL_GET, H1_SCENARIO)));
  } finally {
    await Promise.all(peers.map((p) => ctx.children.stop(p.child)));
    await stopUpstreams(ctx.children, upstreams);
    pki.remove();
  }
}
