import { createServer } from 'node:net';
import { LocalError } from './errors.js';

function isFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Fails fast with every taken port named, instead of letting one service
 * crash-loop on EADDRINUSE behind the restart backoff.
 */
export async function assertPortsFree(ports: ReadonlyMap<number, string>, host = '127.0.0.1'): Promise<void> {
  const taken: string[] = [];
  for (const [port, owner] of ports) {
    if (!(await isFree(port, host))) taken.push(`${port} (${owner})`);
  }
  if (taken.length > 0) {
    throw new LocalError(
      'LOCAL_ERR_PORT_IN_USE',
      `ports already in use: ${taken.join(', ')}. Stop whatever holds them or choose other ports (see --help).`,
    );
  }
}
