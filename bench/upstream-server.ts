import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A bench upstream, run as its own process so that it does not share an event
 * loop with the runner or its siblings. Paths pick the payload:
 *   GET /small  → a ~100-byte JSON body
 *   GET /64k    → 64 KiB
 *   POST /echo  → the request body back (the POST scenario sends 4 KiB)
 *   GET /healthz → 200, never delayed (HAProxy's checks)
 * DELAY_MS delays every other response, to make one upstream slower than the rest.
 * LISTEN (comma list of host:port) makes one process many endpoints: the
 * growth group's 1 000 endpoints are real sockets on 127.1.x.y (all of
 * 127.0.0.0/8 is loopback) without 1 000 Node processes.
 * Env: PORT (0 = any), DELAY_MS, NAME, LISTEN.
 */
const delayMs = Number(process.env.DELAY_MS ?? '0');
const name = process.env.NAME ?? 'upstream';
const small = Buffer.from(JSON.stringify({ ok: true, upstream: name, padding: 'x'.repeat(64) }));
const large = Buffer.alloc(64 * 1024, 'a');

function send(res: ServerResponse, status: number, body: Buffer, type: string): void {
  const write = (): void => {
    res.writeHead(status, { 'content-type': type, 'content-length': body.length, 'x-upstream': name });
    res.end(body);
  };
  if (delayMs > 0) setTimeout(write, delayMs);
  else write();
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  if (url === '/healthz') {
    res.writeHead(200, { 'content-length': 2 });
    res.end('ok');
    return;
  }
  if (req.method === 'POST' && url === '/echo') {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => send(res, 200, Buffer.concat(chunks), 'application/octet-stream'));
    return;
  }
  // Drain any body so the connection stays usable for keep-alive.
  req.resume();
  if (url === '/64k') send(res, 200, large, 'application/octet-stream');
  else if (url === '/small' || url === '/') send(res, 200, small, 'application/json');
  else send(res, 404, Buffer.from('not found'), 'text/plain');
}

function listen(host: string, port: number): Promise<Server> {
  const server = createServer(handle);
  // Above every proxy's upstream idle timeout, so proxies close idle connections
  // first (the keep-alive race in DESIGN.md) and never see a reset from here.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  server.maxRequestsPerSocket = 0;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

const addresses = (process.env.LISTEN ?? `127.0.0.1:${process.env.PORT ?? '0'}`).split(',').filter(Boolean);
const servers = await Promise.all(
  addresses.map((entry) => {
    const colon = entry.lastIndexOf(':');
    return listen(entry.slice(0, colon), Number(entry.slice(colon + 1)));
  }),
);
const first = servers[0]?.address();
const port = typeof first === 'object' && first !== null ? first.port : 0;
process.stdout.write(`${JSON.stringify({ msg: 'upstream listening', name, port, delayMs, endpoints: servers.length })}\n`);
process.on('SIGTERM', () => {
  void Promise.all(servers.map((s) => new Promise((r) => s.close(r)))).then(() => process.exit(0));
});
