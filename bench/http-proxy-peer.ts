import { Agent, createServer } from 'node:http';
import httpProxy from 'http-proxy';
import { listenAsPeer } from './peer-listen.js';

/**
 * node-http-proxy (the `http-proxy` package) as people deploy it: one
 * keep-alive agent (64 sockets per upstream, as the other peers' pools), the
 * upstreams in round-robin, nothing else. A bench peer, not a product.
 * Env: UPSTREAMS (comma list of http://127.0.0.1:PORT), PORT.
 */
const targets = (process.env.UPSTREAMS ?? '').split(',').filter(Boolean);
// Without an agent http-proxy sends `Connection: close` upstream: one TCP connection per request.
const agent = new Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 64 });
const proxy = httpProxy.createProxyServer({ agent, xfwd: false });
proxy.on('error', (_err, _req, res) => {
  // On a proxy-server 'error' the third argument is the client's response (a socket only for upgrades).
  if ('writeHead' in res && !res.headersSent) res.writeHead(502, { 'content-length': 0 }).end();
  else res.destroy();
});
let next = 0;

const server = createServer((req, res) => {
  const target = targets[next++ % targets.length];
  if (target === undefined) {
    res.writeHead(503).end();
    return;
  }
  proxy.web(req, res, { target });
});
listenAsPeer(server, 'http-proxy peer listening');
