import { fileURLToPath } from 'node:url';
import type { Child, ChildProcesses } from './child-processes.js';

export interface Upstream {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly child: Child;
}

const SCRIPT = fileURLToPath(new URL('./upstream-server.js', import.meta.url));

/** Starts one upstream per entry of delaysMs (0 = no delay), each its own process on a port the OS picks. */
export async function startUpstreams(children: ChildProcesses, delaysMs: readonly number[], prefix = 'u'): Promise<Upstream[]> {
  return Promise.all(
    delaysMs.map(async (delayMs, index) => {
      const name = `${prefix}${index + 1}`;
      const child = children.start(`upstream ${name}`, process.execPath, [SCRIPT], {
        env: { PATH: process.env.PATH ?? '', PORT: '0', DELAY_MS: String(delayMs), NAME: name },
      });
      const line = await children.waitForLine(child, (l) => l.includes('"upstream listening"'));
      const port = Number((JSON.parse(line) as { port: unknown }).port);
      return { name, port, url: `http://127.0.0.1:${port}`, child };
    }),
  );
}

export async function stopUpstreams(children: ChildProcesses, upstreams: readonly Upstream[]): Promise<void> {
  await Promise.all(upstreams.map((u) => children.stop(u.child)));
}

/** The address of endpoint `index` (0-based) of the growth group: 127.1.0.1, 127.1.0.2, … 250 per /24. */
export function endpointAddress(index: number): string {
  return `127.1.${Math.floor(index / 250)}.${(index % 250) + 1}`;
}

export interface EndpointUpstreams {
  /** The processes, each serving a share of the endpoints. */
  readonly processes: Upstream[];
  /** One http://127.1.x.y:PORT per endpoint, every one a listening socket. */
  readonly urls: string[];
  readonly port: number;
}

/**
 * `count` endpoints on one port at `count` loopback addresses, spread over
 * `processes` upstream processes (LISTEN in bench/upstream-server.ts). One
 * port for every address is what DNS discovery needs (an A record has no port).
 */
export async function startEndpointUpstreams(children: ChildProcesses, count: number, port: number, processes = 3, prefix = 'e'): Promise<EndpointUpstreams> {
  return startAddressUpstreams(children, Array.from({ length: count }, (_, i) => endpointAddress(i)), port, processes, prefix);
}

/**
 * One endpoint per address, all on `port`, spread over `processes` upstream
 * processes: startEndpointUpstreams on addresses of the caller's choosing
 * (the EndpointSlice churn needs 198.18.0.x, which EndpointSlice validation
 * accepts where it refuses loopback addresses).
 */
export async function startAddressUpstreams(children: ChildProcesses, addresses: readonly string[], port: number, processes = 3, prefix = 'e'): Promise<EndpointUpstreams> {
  const shares = Array.from({ length: Math.min(processes, addresses.length) }, (_, p) => addresses.filter((_, i) => i % processes === p));
  const started = await Promise.all(
    shares.map(async (share, index) => {
      const name = `${prefix}${index + 1}`;
      const child = children.start(`upstream ${name} (${share.length} endpoints)`, process.execPath, [SCRIPT], {
        env: { PATH: process.env.PATH ?? '', DELAY_MS: '0', NAME: name, LISTEN: share.map((a) => `${a}:${port}`).join(',') },
      });
      await children.waitForLine(child, (l) => l.includes('"upstream listening"'));
      return { name, port, url: `http://${share[0] ?? '127.1.0.1'}:${port}`, child };
    }),
  );
  return { processes: started, urls: addresses.map((a) => `http://${a}:${port}`), port };
}
