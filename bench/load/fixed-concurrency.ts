import { Agent, request } from 'node:http';

export interface RequestRecord {
  /** ms since the load started. */
  readonly start: number;
  readonly end: number;
  readonly status: number;
  /** Socket error code or `status <n>`; undefined for a 200. */
  readonly error?: string;
}

export interface FixedLoadOptions {
  readonly url: string;
  readonly concurrency: number;
  readonly durationMs: number;
  /** Called once, this many ms after the start (the failover kill). */
  readonly atMs?: number;
  readonly at?: () => void;
  readonly timeoutMs?: number;
}

/**
 * A closed-loop load generator with one record per request, for the failover
 * scenario: wrk can count errors but cannot say when they happened relative
 * to the kill. `concurrency` loops each send one GET at a time over a shared
 * keep-alive agent.
 */
export async function runFixedLoad(options: FixedLoadOptions): Promise<{ records: RequestRecord[]; atMs?: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const records: RequestRecord[] = [];
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  let firedAt: number | undefined;
  const timer =
    options.at !== undefined && options.atMs !== undefined
      ? setTimeout(() => {
          firedAt = now();
          options.at?.();
        }, options.atMs)
      : undefined;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const start = now();
      const req = request(options.url, { agent, timeout: options.timeoutMs ?? 5_000 }, (res) => {
        const status = res.statusCode ?? 0;
        // Keep failed bodies: the balancer's error code (LB_ERR_*) says which path failed.
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          if (status !== 200) chunks.push(chunk);
        });
        res.on('end', () => {
          records.push({ start, end: now(), status, ...(status === 200 ? {} : { error: errorLabel(status, Buffer.concat(chunks)) }) });
          resolve();
        });
        res.on('error', (err: NodeJS.ErrnoException) => {
          records.push({ start, end: now(), status: res.statusCode ?? 0, error: err.code ?? err.message });
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => {
        records.push({ start, end: now(), status: 0, error: err.code ?? err.message });
        resolve();
      });
      req.end();
    });
  const loop = async (): Promise<void> => {
    while (now() < options.durationMs) await one();
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, loop));
  } finally {
    if (timer) clearTimeout(timer);
    agent.destroy();
  }
  return { records, ...(firedAt !== undefined ? { atMs: firedAt } : {}) };
}

/** `status 502 LB_ERR_…` when the body is our JSON error shape, else `status 502`. */
export function errorLabel(status: number, body: Buffer): string {
  try {
    const code = (JSON.parse(body.toString('utf8')) as { error?: { code?: unknown } }).error?.code;
    if (typeof code === 'string') return `status ${status} ${code}`;
  } catch {
    // not JSON: nginx and HAProxy answer with HTML
  }
  return `status ${status}`;
}
