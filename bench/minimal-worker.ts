import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import pg from 'pg';
import { KvRepository } from '../services/worker/db/kv-repository.js';
import { listenAsPeer } from './peer-listen.js';

/**
 * The least a Node worker can do for the data group's two requests:
 * node:http in, the worker's own prepared statements (its KvRepository) on
 * a pg pool of the worker's default size, JSON out. No fastify, validation,
 * request ids, metrics, logs, timeouts, retries or health checks. It is not
 * a product; it is the floor for "an HTTP hop in front of Postgres, in Node,
 * on this machine", so the worker's distance to the raw pg rows splits into
 * what the hop costs and what the worker's own features cost (as
 * baseline-proxy.ts does for the balancer).
 * Env: DATABASE_URL, PORT.
 */
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const kv = new KvRepository();
const NONE = { kind: 'none' } as const;
const PREFIX = '/v1/kv/';

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '';
  if (!url.startsWith(PREFIX)) return send(res, 404, { error: 'not found' });
  const key = decodeURIComponent(url.slice(PREFIX.length));
  const client = await pool.connect();
  try {
    if (req.method === 'GET') {
      const item = await kv.get(client, key);
      return item === undefined ? send(res, 404, { error: 'not found' }) : send(res, 200, item);
    }
    if (req.method === 'PUT') {
      const { value } = JSON.parse(await readBody(req)) as { value: unknown };
      const outcome = await kv.put(client, key, JSON.stringify(value), NONE);
      if (outcome.kind === 'precondition-failed') return send(res, 412, { error: 'precondition failed' });
      return send(res, outcome.kind === 'created' ? 201 : 200, { key, value, version: outcome.version, updatedAt: outcome.updatedAt });
    }
    return send(res, 405, { error: 'method not allowed' });
  } finally {
    client.release();
  }
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => {
    if (!res.headersSent) send(res, 500, { error: 'internal' });
    else res.destroy();
  });
});
listenAsPeer(server, 'minimal worker listening');
