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
