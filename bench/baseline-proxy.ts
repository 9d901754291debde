import { createServer } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { listenAsPeer } from './peer-listen.js';

/**
 * The least a Node proxy can do: node:http in, one undici Pool per upstream,
 * round-robin, no retries, no metrics, no logs, no timeouts beyond undici's.
 * It is not a product; it is the floor for "Node + undici on this machine",
 * so the balancer's distance to nginx splits into what Node costs and what
 * the balancer's own features cost.
 * Env: UPSTREAMS (comma list of http://127.0.0.1:PORT), PORT.
 */
const pools = (process.env.UPSTREAMS ?? '').split(',').filter(Boolean).map((url) => new Pool(url, { connections: 64, pipelining: 1 }));
let next = 0;

const server = createServer((req, res) => {
  const pool = pools[next++ % pools.length];
  if (pool === undefined) {
    res.writeHead(503).end();
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && name !== 'connection' && name !== 'keep-alive') headers[name] = value;
  }
  const body = req.method === 'GET' || req.method === 'HEAD' ? null : req;
  pool.request({ method: (req.method ?? 'GET') as Dispatcher.HttpMethod, path: req.url ?? '/', headers, body }).then(
    (upstream) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(upstream.headers)) {
        if (value !== undefined && name !== 'connection' && name !== 'keep-alive' && name !== 'transfer-encoding') out[name] = value;
      }
      res.writeHead(upstream.statusCode, out);
      upstream.body.pipe(res);
      upstream.body.on('error', () => res.destroy());
    },
    () => {
      if (!res.headersSent) res.writeHead(502, { 'content-length': 0 }).end();
      else res.destroy();
    },
  );
});
listenAsPeer(server, 'baseline proxy listening');
