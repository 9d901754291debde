import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { createLogger, StaticEndpointSource } from '../../../services/shared/index.js';
import { buildWorkerApp } from '../../../services/worker/app.js';
import { parseWorkerConfig } from '../../../services/worker/config.js';
import { Database } from '../../../services/worker/db/database.js';
import { createWorkerMetrics } from '../../../services/worker/metrics.js';

/**
 * The worker's per-request hooks, on the data app alone, listening on port 0,
 * with the phase set from the test: the shutdown phases they answer for are
 * hard to hit from outside at the right instant (a request on a kept-alive
 * connection just as the listener closes).
 */
async function appIn(phase: { draining: boolean; closing: boolean }, registry = new Registry()) {
  const config = parseWorkerConfig({});
  const logger = createLogger('worker', 'silent');
  // Never connected: 127.0.0.1:9 is the discard port, and no test here gets as far as a query.
  const pool = new pg.Pool({ host: '127.0.0.1', port: 9, connectionTimeoutMillis: 200 });
  const db = new Database({ pool, logger, healthIntervalMs: 1_000, connectTimeoutMs: 200 });
  const app = buildWorkerApp(config, {
    logger,
    db,
    metrics: createWorkerMetrics(registry, pool),
    peers: new StaticEndpointSource([]),
    identity: { id: 'hooks-test', startedAt: new Date(0).toISOString() },
    isDraining: () => phase.draining,
    isClosing: () => phase.closing,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { app, pool, url };
}

async function send(url: string, options: { method?: 'GET' | 'PUT'; body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await request(url, {
    method: options.method ?? 'GET',
    headers: { ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
  });
  return { statusCode: res.statusCode, headers: res.headers, body: (await res.body.json()) as unknown };
}

describe("the worker's per-request hooks", () => {
  test('when a request arrives after the listener closed, then it is refused unprocessed, with the header that lets the balancer send it elsewhere', async () => {
    const { app, pool, url } = await appIn({ draining: true, closing: true });
    try {
      const res = await send(`${url}/v1/kv/late`, { method: 'PUT', body: { value: 1 }, headers: { 'x-request-id': 'late-1' } });
      expect(res.statusCode).toBe(503);
      expect(res.body).toMatchObject({ error: { code: 'WRK_ERR_DRAINING' } });
      expect(res.headers['x-flotilla-not-processed']).toBe('1');
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers['x-request-id']).toBe('late-1');
      expect(res.headers['connection']).toBe('close');
      // The route never ran: nothing asked the pool for a connection.
      expect(pool.totalCount).toBe(0);
    } finally {
      await app.close();
      await pool.end();
    }
  });

  test('when the worker drains but still serves, then the request reaches its route and the answer closes the connection', async () => {
    const { app, pool, url } = await appIn({ draining: true, closing: false });
    try {
      // The database was never checked, so the route answers its own 503: proof that it ran.
      const res = await send(`${url}/v1/kv/any`);
      expect(res.statusCode).toBe(503);
      expect(res.body).toMatchObject({ error: { code: 'WRK_ERR_DB_UNAVAILABLE' } });
      expect(res.headers['x-flotilla-not-processed']).toBeUndefined();
      expect(res.headers['connection']).toBe('close');
      expect(res.headers['x-request-id']).toEqual(expect.any(String));
    } finally {
      await app.close();
      await pool.end();
    }
  });

  test('when the worker serves, then answers keep their connection and every request is counted once in the duration histogram', async () => {
    const registry = new Registry();
    const { app, pool, url } = await appIn({ draining: false, closing: false }, registry);
    try {
      for (let i = 0; i < 3; i++) {
        const res = await send(`${url}/v1/kv/k${i}`);
        expect(res.headers['connection']).toBe('keep-alive');
      }
      const text = await registry.metrics();
      expect(text).toContain('http_request_duration_seconds_count{method="GET",route="/v1/kv/:key",status_code="503"} 3');
    } finally {
      await app.close();
      await pool.end();
    }
  });
});
