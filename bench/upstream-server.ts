import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/**
 * A bench upstream, run as its own process so that it does not share an event
 * loop with the runner or its siblings. Paths pick the payload:
 *   GET /small  → a ~100-byte JSON body
 *   GET /64k    → 64 KiB
 *   POST /echo  → the request body back (the POST scenario sends 4 KiB)
 *   GET /healthz → 200, never delayed (HAProxy's checks)
 * DELAY_MS delays every other response, to make one upstream slower than the rest.
 * Env: PORT (0 = any), DELAY_MS, NAME.
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

const server = createServer(handle);
// Above every proxy's upstream idle timeout, so proxies close idle connections
// first (the keep-alive race in DESIGN.md) and never see a reset from here.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.maxRequestsPerSocket = 0;
server.listen(Number(process.env.PORT ?? '0'), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ msg: 'upstream listening', name, port, delayMs })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
