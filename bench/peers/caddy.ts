import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcesses } from '../child-processes.js';
import { freePort } from '../../tests/helpers/free-port.js';
import type { Upstream } from '../upstreams.js';
import { waitForChild } from '../wait-http.js';
import type { Peer } from './peer.js';

/** Debian's caddy package; the peer is left out, with a note, when it is not installed. */
export const CADDY_BIN = '/usr/bin/caddy';

export function caddyInstalled(): boolean {
  return existsSync(CADDY_BIN);
}

/**
 * Caddy's JSON config (the native format; a Caddyfile is translated into
 * it): one plain-HTTP server on loopback, reverse_proxy round-robin over the
 * upstreams with up to 64 idle keep-alive connections per upstream, as the
 * other peers' pools. No TLS (automatic HTTPS off), no admin endpoint (it
 * would take port 2019), no access log (Caddy logs requests only when a
 * server has `logs` set), error log at WARN. `try_duration` 1 s retries a
 * failed dial on the next upstream, as HAProxy's redispatch does here.
 */
export function caddyConfig(port: number, upstreams: readonly Upstream[]): string {
  const config = {
    admin: { disabled: true },
    logging: { logs: { default: { level: 'WARN' } } },
    apps: {
      http: {
        servers: {
          bench: {
            listen: [`127.0.0.1:${port}`],
            automatic_https: { disable: true },
            routes: [
              {
                handle: [
                  {
                    handler: 'reverse_proxy',
                    upstreams: upstreams.map((u) => ({ dial: `127.0.0.1:${u.port}` })),
                    load_balancing: { selection_policy: { policy: 'round_robin' }, try_duration: '1s' },
                    transport: { protocol: 'http', keep_alive: { enabled: true, max_idle_conns_per_host: 64, idle_timeout: '60s' } },
                  },
                ],
              },
            ],
          },
        },
      },
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * Caddy with GOMAXPROCS=1: one OS thread running Go code, the counterpart of
 * one nginx worker and one HAProxy thread (Go would otherwise use every core).
 * XDG folders point into the temp folder, so that Caddy's storage (certificates,
 * autosave) stays out of the home directory.
 */
export async function startCaddy(children: ChildProcesses, tmp: string, upstreams: readonly Upstream[], readyPath = '/small'): Promise<Peer> {
  const dir = join(tmp, `caddy-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const configFile = join(dir, 'caddy.json');
  writeFileSync(configFile, caddyConfig(port, upstreams));
  const child = children.start('caddy', CADDY_BIN, ['run', '--config', configFile], {
    env: { PATH: process.env.PATH ?? '', HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config'), GOMAXPROCS: '1' },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForChild(child, `${url}${readyPath}`);
  return { id: 'caddy', label: 'Caddy, GOMAXPROCS=1, round_robin', url, child, configFile };
}
