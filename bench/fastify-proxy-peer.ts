import fastifyHttpProxy from '@fastify/http-proxy';
import Fastify from 'fastify';

/**
 * @fastify/http-proxy (on @fastify/reply-from, which proxies through undici)
 * in front of the upstreams, round-robin by `getUpstream`, 64 keep-alive
 * connections per upstream (reply-from's undici Agent keeps one pool per
 * origin), Fastify's logger off as the other peers' access logs are.
 * A bench peer, not a product. Env: UPSTREAMS, PORT.
 */
const targets = (process.env.UPSTREAMS ?? '').split(',').filter(Boolean);
let next = 0;

const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
await app.register(fastifyHttpProxy, {
  // A placeholder origin: getUpstream below chooses the real one per request.
  upstream: targets[0] ?? 'http://127.0.0.1:1',
  undici: { connections: 64, pipelining: 1 },
  replyOptions: { getUpstream: () => targets[next++ % targets.length] ?? '' },
});
const address = await app.listen({ port: Number(process.env.PORT ?? '0'), host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ msg: '@fastify/http-proxy peer listening', address })}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
