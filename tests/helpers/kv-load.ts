import { Pool } from 'undici';

export interface LoadFailure {
  readonly method: string;
  readonly path: string;
  readonly status?: number;
  readonly error?: string;
  readonly body?: string;
}

export interface LoadResult {
  readonly total: number;
  readonly ok: number;
  readonly failures: readonly LoadFailure[];
  readonly latenciesMs: readonly number[];
  /** Date.now() of each successful answer: shows the load really spanned a fault. */
  readonly okAt: readonly number[];
}

export interface LoadOptions {
  readonly concurrency: number;
  /** Hard cap on requests, whatever happens. */
  readonly maxRequests: number;
  /** Hard cap on time. */
  readonly maxDurationMs: number;
  /** Stops the load early (the scenario is over). */
  readonly stop?: AbortSignal;
  readonly keys?: number;
  readonly prefix?: string;
}

/**
 * A bounded mixed load of idempotent requests (PUT /v1/kv/:key with
 * {"value": n}, GET /v1/kv/:key) through the balancer; every answer that is
 * not 2xx (404 allowed for GET) or any network error is a client-visible
 * failure. The client does not retry anything itself.
 */
export async function runKvLoad(baseUrl: string, options: LoadOptions): Promise<LoadResult> {
  const client = new Pool(baseUrl, { connections: options.concurrency, keepAliveTimeout: 30_000 });
  const failures: LoadFailure[] = [];
  const latenciesMs: number[] = [];
  const okAt: number[] = [];
  const keys = options.keys ?? 20;
  const prefix = options.prefix ?? 'load';
  const deadline = Date.now() + options.maxDurationMs;
  let issued = 0;
  let ok = 0;
  const worker = async (): Promise<void> => {
    while (issued < options.maxRequests && Date.now() < deadline && options.stop?.aborted !== true) {
      const n = issued++;
      const key = `${prefix}-${n % keys}`;
      const method = n % 2 === 0 ? 'PUT' : 'GET';
      const path = `/v1/kv/${key}`;
      const started = performance.now();
      try {
        const res = await client.request({
          method,
          path,
          headers: method === 'PUT' ? { 'content-type': 'application/json' } : {},
          body: method === 'PUT' ? JSON.stringify({ value: n }) : null,
          headersTimeout: 20_000,
          bodyTimeout: 20_000,
        });
        const body = await res.body.text();
        latenciesMs.push(performance.now() - started);
        const good = method === 'PUT' ? res.statusCode === 200 || res.statusCode === 201 : res.statusCode === 200 || res.statusCode === 404;
        if (good) {
          ok += 1;
          okAt.push(Date.now());
        }
        else failures.push({ method, path, status: res.statusCode, body: body.slice(0, 300) });
      } catch (err) {
        failures.push({ method, path, error: `${(err as Error).name}: ${(err as Error).message}` });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    await client.close();
  }
  return { total: ok + failures.length, ok, failures, latenciesMs, okAt };
}

/** The p-th percentile (0..100) of a list of numbers. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}
