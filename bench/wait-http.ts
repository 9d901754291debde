import { request } from 'node:http';
import type { Child } from './child-processes.js';

/** One GET; resolves with the status and body, or rejects on a socket error. */
export function httpGet(url: string, timeoutMs = 2_000): Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Polls url until it answers 200; a peer is only measured once it proxies for real. */
export async function waitFor200(url: string, timeoutMs = 15_000): Promise<void> {
  const last = await pollFor200(url, timeoutMs, () => false);
  if (last !== undefined) throw new Error(`${url} not answering 200 after ${timeoutMs} ms (${last})`);
}

/** waitFor200 for a process we started: fails fast if it exits, and says what it printed. */
export async function waitForChild(child: Child, url: string, timeoutMs = 15_000): Promise<void> {
  const last = await pollFor200(url, timeoutMs, () => child.exited());
  if (last === undefined) return;
  const why = child.exited() ? 'exited' : `not answering 200 after ${timeoutMs} ms (${last})`;
  throw new Error(`${child.name} ${why} at ${url}:\n${child.lines.slice(-20).join('\n')}`);
}

/** Undefined once url answers 200; otherwise, at the deadline or when giveUp() says so, the last thing seen. */
async function pollFor200(url: string, timeoutMs: number, giveUp: () => boolean): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline && !giveUp()) {
    try {
      const { status } = await httpGet(url, 1_000);
      if (status === 200) return undefined;
      last = `status ${status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return last;
}
