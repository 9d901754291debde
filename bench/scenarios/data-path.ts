import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool } from 'undici';
import { KvRepository } from '../../services/worker/db/kv-repository.js';
import { freePort } from '../../tests/helpers/free-port.js';
import { LocalRun } from '../../tests/helpers/local-run.js';
import type { Child } from '../child-processes.js';
import { treeCpuSeconds } from '../load/cpu-time.js';
import type { ScenarioContext } from './context.js';

const KEYS = 1_000;
const CONCURRENCY = 32;
const VALUE = { greeting: 'hello', n: 42, tags: ['bench', 'kv'] };
const BODY = JSON.stringify({ value: VALUE });
const NONE = { kind: 'none' } as const;
const MINIMAL_WORKER = fileURLToPath(new URL('../minimal-worker.js', import.meta.url));
const MINIMAL_PROXY = fileURLToPath(new URL('../baseline-proxy.js', import.meta.url));
const STRAIGHT = 'one worker, straight (no balancer)';
const MINIMAL = 'minimal Node worker (node:http + the same statements, bench/minimal-worker.ts), straight';
const SYSTEM = '`npm start` (balancer + 3 workers)';
const MINIMAL_SYSTEM = 'minimal Node proxy (bench/baseline-proxy.ts) + 3 minimal workers';

/** One operation of a row: true when it got the answer it should. */
type Operation = (i: number) => Promise<boolean>;

/** Whose CPU a row reports, by name: a process tree, or the bench itself (the client). */
type CpuMeter = readonly [name: string, seconds: () => number];

interface DataRow {
  readonly label: string;
  readonly kind: 'PUT' | 'GET';
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** CPU µs per operation, by process. */
  readonly cpuUs: ReadonlyArray<readonly [string, number]>;
}

/** `CONCURRENCY` loops, each one operation at a time, for `seconds`. */
async function closedLoop(label: string, kind: DataRow['kind'], op: Operation, seconds: number, meters: readonly CpuMeter[]): Promise<DataRow> {
  const latencies: number[] = [];
  let errors = 0;
  const before = meters.map(([, read]) => read());
  const started = performance.now();
  const until = started + seconds * 1_000;
  const loop = async (lane: number): Promise<void> => {
    for (let i = lane; performance.now() < until; i += CONCURRENCY) {
      const t0 = performance.now();
      const ok = await op(i).catch(() => false);
      if (!ok) errors++;
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, lane) => loop(lane)));
  const elapsedS = (performance.now() - started) / 1_000;
  const cpuUs = meters.map(([name, read], m) => [name, ((read() - (before[m] ?? 0)) / latencies.length) * 1e6] as const);
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { label, kind, perSecond: latencies.length / elapsedS, p50: at(0.5), p99: at(0.99), errors, cpuUs };
}

/**
 * A client that sends every statement unnamed, as the worker did before it
 * prepared them: Postgres parses and plans each call. KvRepository calls
 * only query(config), so that is all this stand-in has.
 */
function unnamed(client: pg.PoolClient): pg.ClientBase {
  const query = (config: pg.QueryConfig): Promise<pg.QueryResult> => client.query({ text: config.text, values: config.values ?? [] });
  return { query } as unknown as pg.ClientBase;
}

/** The worker's own statements (KvRepository) from a pg pool: prepared or unnamed, with or without BEGIN/COMMIT around each. */
function rawOperations(pool: pg.Pool, kv: KvRepository, transactional: boolean, prepared = true): { put: Operation; get: Operation } {
  const run = async <T>(fn: (client: pg.ClientBase) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      if (transactional) await client.query('BEGIN');
      const result = await fn(prepared ? client : unnamed(client));
      if (transactional) await client.query('COMMIT');
      return result;
    } finally {
      client.release();
    }
  };
  return {
    put: async (i) => (await run((c) => kv.put(c, `bench-data-${i % KEYS}`, JSON.stringify(VALUE), NONE))).kind !== 'precondition-failed',
    get: async (i) => (await run((c) => kv.get(c, `bench-data-${i % KEYS}`))) !== undefined,
  };
}

/** PUT and GET over HTTP, keep-alive, one connection per loop. */
function httpOperations(http: Pool): { put: Operation; get: Operation } {
  const call = async (method: 'PUT' | 'GET', i: number): Promise<boolean> => {
    const res = await http.request({
      method,
      path: `/v1/kv/bench-data-${i % KEYS}`,
      ...(method === 'PUT' ? { headers: { 'content-type': 'application/json' }, body: BODY } : {}),
    });
    await res.body.dump();
    return res.statusCode === 200 || res.statusCode === 201;
  };
  return { put: (i) => call('PUT', i), get: (i) => call('GET', i) };
}

/** The URL a bench script prints when it listens (`{"msg": …, "port": N}`). */
async function listeningUrl(ctx: ScenarioContext, child: Child, message: string): Promise<string> {
  const line = await ctx.children.waitForLine(child, (l) => l.includes(message), 15_000);
  return `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
}

function ms(value: number): string {
  return value.toFixed(1);
}

/**
 * The worker's data path against raw Postgres, in one run on one `npm start`
 * (embedded Postgres, 3 workers, the balancer, their default settings): the
 * worker's own statements from a Node pg pool with no HTTP (prepared and
 * autocommit — the reference; unnamed; inside BEGIN/COMMIT), then PUT and
 * GET straight to one worker, then through the balancer; each of the two
 * HTTP paths beside its floor, the same hops with nothing else on them (a
 * minimal Node worker; a minimal proxy in front of three). 32 at a time
 * over 1 000 keys everywhere. CPU per request by process says where the
 * time goes on a shared machine.
 */
export async function runDataPath(ctx: ScenarioContext): Promise<void> {
  const run = await LocalRun.start(3);
  // Pools and the floor peers' processes, closed together at the end.
  const closeAtEnd: { close(): Promise<unknown> }[] = [];
  try {
    const state = run.state();
    const postgresPid = state?.postgres.pid;
    const balancerPid = state?.balancer.pid;
    const workerPids = (state?.workers ?? []).flatMap((w) => (w.pid === undefined ? [] : [w.pid]));
    const firstWorker = state?.workers[0];
    const firstPid = firstWorker?.pid;
    if (postgresPid === undefined || balancerPid === undefined || firstWorker === undefined || firstPid === undefined || workerPids.length !== 3) {
      throw new Error('the local run published no PIDs');
    }
    const password = readFileSync(join(run.dataDir, 'postgres-password'), 'utf8').trim();
    const databaseUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${run.ports.postgres}/flotilla`;
    const database = new pg.Pool({ connectionString: databaseUrl, max: CONCURRENCY });
    closeAtEnd.push({ close: () => database.end() });
    // The floors: what an HTTP hop in Node costs with nothing else, for one
    // worker and for the whole local run's shape (a proxy, three workers).
    // On the Node the bench runs on, as the local run's processes are.
    const minimalWorkers: Child[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const child = ctx.children.start(`minimal-worker-${i}`, process.execPath, [MINIMAL_WORKER], {
        env: { PATH: process.env.PATH ?? '', PORT: String(port), DATABASE_URL: databaseUrl },
      });
      closeAtEnd.push({ close: () => ctx.children.stop(child, 5_000) });
      minimalWorkers.push(child);
    }
    const minimalUrls = await Promise.all(minimalWorkers.map(async (child) => listeningUrl(ctx, child, 'minimal worker listening')));
    const minimalProxyChild = ctx.children.start('minimal-proxy', process.execPath, [MINIMAL_PROXY], {
      env: { PATH: process.env.PATH ?? '', PORT: String(await freePort()), UPSTREAMS: minimalUrls.join(',') },
    });
    closeAtEnd.push({ close: () => ctx.children.stop(minimalProxyChild, 5_000) });
    const minimalProxyUrl = await listeningUrl(ctx, minimalProxyChild, 'baseline proxy listening');
    const firstMinimal = minimalWorkers[0] as Child;
    const straight = new Pool(firstWorker.url, { connections: CONCURRENCY, headersTimeout: 10_000, bodyTimeout: 10_000 });
    const minimalStraight = new Pool(minimalUrls[0] as string, { connections: CONCURRENCY, headersTimeout: 10_000, bodyTimeout: 10_000 });
    const system = new Pool(run.url, { connections: CONCURRENCY, headersTimeout: 10_000, bodyTimeout: 10_000 });
    const minimalSystem = new Pool(minimalProxyUrl, { connections: CONCURRENCY, headersTimeout: 10_000, bodyTimeout: 10_000 });
    closeAtEnd.push(straight, minimalStraight, system, minimalSystem);

    const client: CpuMeter = ['client', () => {
      const used = process.cpuUsage();
      return (used.user + used.system) / 1e6;
    }];
    const postgres: CpuMeter = ['postgres', () => treeCpuSeconds(postgresPid)];
    const worker: CpuMeter = ['worker', () => treeCpuSeconds(firstPid)];
    const minimal: CpuMeter = ['minimal worker', () => treeCpuSeconds(firstMinimal.pid)];
    const minimals: CpuMeter = ['minimal workers', () => minimalWorkers.reduce((sum, child) => sum + treeCpuSeconds(child.pid), 0)];
    const minimalProxy: CpuMeter = ['minimal proxy', () => treeCpuSeconds(minimalProxyChild.pid)];
    const workers: CpuMeter = ['workers', () => workerPids.reduce((sum, pid) => sum + treeCpuSeconds(pid), 0)];
    const balancer: CpuMeter = ['balancer', () => treeCpuSeconds(balancerPid)];
    const kv = new KvRepository();
    const autocommit = rawOperations(database, kv, false);
    const inTransaction = rawOperations(database, kv, true);
    const unprepared = rawOperations(database, kv, false, false);
    const direct = httpOperations(straight);
    const floor = httpOperations(minimalStraight);
    const floorSystem = httpOperations(minimalSystem);
    const through = httpOperations(system);
    const rows: [string, DataRow['kind'], Operation, CpuMeter[]][] = [
      ['raw pg, one statement, autocommit', 'PUT', autocommit.put, [client, postgres]],
      ['raw pg, one statement, autocommit', 'GET', autocommit.get, [client, postgres]],
      ['raw pg, the same statement unnamed (parsed and planned per call)', 'PUT', unprepared.put, [client, postgres]],
      ['raw pg, the same statement unnamed (parsed and planned per call)', 'GET', unprepared.get, [client, postgres]],
      ['raw pg, the same statement inside BEGIN/COMMIT', 'PUT', inTransaction.put, [client, postgres]],
      ['raw pg, the same statement inside BEGIN/COMMIT', 'GET', inTransaction.get, [client, postgres]],
      [STRAIGHT, 'PUT', direct.put, [client, worker, postgres]],
      [STRAIGHT, 'GET', direct.get, [client, worker, postgres]],
      [MINIMAL, 'PUT', floor.put, [client, minimal, postgres]],
      [MINIMAL, 'GET', floor.get, [client, minimal, postgres]],
      [SYSTEM, 'PUT', through.put, [client, balancer, workers, postgres]],
      [SYSTEM, 'GET', through.get, [client, balancer, workers, postgres]],
      [MINIMAL_SYSTEM, 'PUT', floorSystem.put, [client, minimalProxy, minimals, postgres]],
      [MINIMAL_SYSTEM, 'GET', floorSystem.get, [client, minimalProxy, minimals, postgres]],
    ];
    // Every key exists before the GETs, and every path is warm (JIT, pools, Postgres caches).
    for (const [label, kind, op, meters] of rows) await closedLoop(label, kind, op, Math.max(1, ctx.options.warmupS), meters);
    const measured: DataRow[] = [];
    for (let round = 0; round < ctx.options.rounds; round++) {
      for (const [label, kind, op, meters] of rows) measured.push(await closedLoop(label, kind, op, ctx.options.durationS, meters));
    }
    // Best of the rounds per row, as the proxy groups quote; the ratio is against the best raw autocommit row.
    const best = new Map<string, DataRow>();
    for (const row of measured) {
      const id = `${row.label}|${row.kind}`;
      if ((best.get(id)?.perSecond ?? 0) < row.perSecond) best.set(id, row);
    }
    const rate = (label: string, kind: DataRow['kind']): number => best.get(`${label}|${kind}`)?.perSecond ?? Number.NaN;
    const raw = (kind: DataRow['kind']): number => rate('raw pg, one statement, autocommit', kind);
    ctx.notes.push(
      `Data path (${CONCURRENCY} at a time over ${KEYS} keys, best of ${ctx.options.rounds} × ${ctx.options.durationS} s, one \`npm start\`: ` +
        'embedded Postgres, 3 workers, the balancer, default settings; raw rows run the worker\'s own statements from a pg pool of 32; ratios against the prepared autocommit row):',
    );
    for (const row of best.values()) {
      const cpu = row.cpuUs.map(([name, us]) => `${name} ${Math.round(us)}`).join(', ');
      const line =
        `${row.label}, ${row.kind}: ${Math.round(row.perSecond)}/s (${(row.perSecond / raw(row.kind)).toFixed(2)}× raw autocommit), ` +
        `p50 ${ms(row.p50)} ms, p99 ${ms(row.p99)} ms, CPU µs/request: ${cpu}; ${row.errors} errors`;
      ctx.log(`data: ${line}`);
      ctx.notes.push(line);
    }
    // What the HTTP hop costs by itself, and what the worker's features cost on top of it.
    const ratio = (a: number, b: number): string => (a / b).toFixed(2);
    const floorLine =
      `The minimal worker, straight: PUT ${ratio(rate(MINIMAL, 'PUT'), raw('PUT'))}×, GET ${ratio(rate(MINIMAL, 'GET'), raw('GET'))}× raw; ` +
      `the worker, straight, against it: PUT ${ratio(rate(STRAIGHT, 'PUT'), rate(MINIMAL, 'PUT'))}×, GET ${ratio(rate(STRAIGHT, 'GET'), rate(MINIMAL, 'GET'))}×. ` +
      `The minimal proxy + 3 minimal workers: PUT ${ratio(rate(MINIMAL_SYSTEM, 'PUT'), raw('PUT'))}×, GET ${ratio(rate(MINIMAL_SYSTEM, 'GET'), raw('GET'))}× raw; ` +
      `\`npm start\` against it: PUT ${ratio(rate(SYSTEM, 'PUT'), rate(MINIMAL_SYSTEM, 'PUT'))}×, GET ${ratio(rate(SYSTEM, 'GET'), rate(MINIMAL_SYSTEM, 'GET'))}×`;
    ctx.log(`data: ${floorLine}`);
    ctx.notes.push(floorLine);
  } finally {
    await Promise.all(closeAtEnd.map((p) => p.close().catch(() => undefined)));
    await run.destroy();
  }
}
