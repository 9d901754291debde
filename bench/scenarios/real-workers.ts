import { fileURLToPath } from 'node:url';
import { TestPostgres } from '../../tests/helpers/postgres.js';
import { freePort } from '../../tests/helpers/free-port.js';
import type { ChildProcesses } from '../child-processes.js';
import { measureRounds, warmUpPeer, type Scenario } from '../measure.js';
import { directPeer, startBalancer } from '../peers/balancer.js';
import { startHaproxy } from '../peers/haproxy.js';
import { startNginx } from '../peers/nginx.js';
import type { Peer } from '../peers/peer.js';
import type { Upstream } from '../upstreams.js';
import { waitFor200 } from '../wait-http.js';
import type { ScenarioContext } from './context.js';

const WORKER_MAIN = fileURLToPath(new URL('../../services/worker/main.js', import.meta.url));
const KEY = 'bench-key';
const KV_GET: Scenario = { name: 'real workers: GET /v1/kv/:key', shape: { method: 'GET', path: `/v1/kv/${KEY}` } };

/** A real worker for the bench, in its own process group (its CPU is measured by group). */
export async function startBenchWorker(children: ChildProcesses, databaseUrl: string, name: string): Promise<Upstream> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = children.start(`worker ${name}`, process.execPath, [WORKER_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      // warn: the proxies run without access logs too. The "listening" line is info, so poll /readyz instead.
      LOG_LEVEL: 'warn',
      DRAIN_DELAY_MS: '0',
      WORKER_ID: name,
    },
  });
  await waitFor200(`http://127.0.0.1:${adminPort}/readyz`, 30_000);
  return { name, port, url: `http://127.0.0.1:${port}`, child };
}

/**
 * Three real workers on an embedded Postgres, reading one pre-written key:
 * the proxies' share of a request that does real work. The first worker runs
 * the migrations alone before the other two start.
 */
export async function runRealWorkers(ctx: ScenarioContext): Promise<void> {
  const postgres = await TestPostgres.start();
  const workers: Upstream[] = [];
  const peers: Peer[] = [];
  try {
    const databaseUrl = await postgres.createDatabase('flotilla_bench');
    workers.push(await startBenchWorker(ctx.children, databaseUrl, 'w1'));
    workers.push(...(await Promise.all([startBenchWorker(ctx.children, databaseUrl, 'w2'), startBenchWorker(ctx.children, databaseUrl, 'w3')])));
    const first = workers[0];
    if (first === undefined) throw new Error('no worker started');
    const put = await fetch(`${first.url}/v1/kv/${KEY}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: { greeting: 'hello', n: 42, tags: ['bench', 'kv'] } }),
    });
    if (put.status !== 201 && put.status !== 200) throw new Error(`PUT /v1/kv/${KEY} answered ${put.status}: ${await put.text()}`);
    await waitFor200(`${first.url}/v1/kv/${KEY}`);
    const readyPath = `/v1/kv/${KEY}`;
    peers.push(directPeer(first));
    peers.push(await startNginx(ctx.children, ctx.tmp, workers, 'round-robin', readyPath));
    peers.push(await startHaproxy(ctx.children, ctx.tmp, workers, 'roundrobin', readyPath));
    peers.push(await startBalancer(ctx.children, workers, { readyPath }));
    for (const peer of peers) await warmUpPeer(ctx, peer, KV_GET);
    ctx.runs.push(...(await measureRounds(ctx, peers, KV_GET)));
  } finally {
    await Promise.all(peers.filter((p) => p.id !== 'direct').map((p) => ctx.children.stop(p.child)));
    await Promise.all(workers.map((w) => ctx.children.stop(w.child, 10_000)));
    await postgres.destroy();
  }
}
