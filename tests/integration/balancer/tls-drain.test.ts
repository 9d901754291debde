import { Agent, request as httpsRequest } from 'node:https';
import type { ClientHttp2Session } from 'node:http2';
import { connect as tcpConnect } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { request } from 'undici';
import type { BalancerHandle } from '../../helpers/balancer-process.js';
import { closeSession, h2Request, openSession, type H2Answer } from '../../helpers/http2-client.js';
import { ProcessGroup } from '../../helpers/service-process.js';
import type { TestPki } from '../../helpers/test-pki.js';
import { startTlsBalancer } from '../../helpers/tls-balancer.js';

// The drain (SIGTERM) over TLS, issue 17: HTTP/2 sessions with streams in
// flight and an HTTP/1.1-over-TLS keep-alive connection with a request in
// flight. The upstream answers are slow enough (SLOW_MS) to outlast the
// drain delay by seconds, so the listener closes while they are in
// progress; nothing below waits on a fixed sleep except that upstream delay.
const SLOW_MS = 6_000;
const DRAIN_DELAY_MS = 500;
const SHUTDOWN_TIMEOUT_MS = 20_000;
const STREAMS_PER_SESSION = 3;

const processes = new ProcessGroup();
let pki: TestPki;
let balancer: BalancerHandle;
const sessions: ClientHttp2Session[] = [];
// ALPN offers http/1.1 only, as an HTTP/1.1 client does (no ALPN would fall back to it too).
const agent = new Agent({ keepAlive: true, maxSockets: 1, ALPNProtocols: ['http/1.1'] });

beforeAll(async () => {
  ({ pki, balancer } = await startTlsBalancer(processes, {
    upstreams: 2,
    upstreamEnv: { LOG_REQUESTS: '0' },
    env: {
      DRAIN_DELAY_MS: String(DRAIN_DELAY_MS),
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      ACCESS_LOG: 'false',
      // The slow answers must not meet a per-try timeout (5 s by default).
      PER_TRY_TIMEOUT_MS: '15000',
      TOTAL_TIMEOUT_MS: '15000',
    },
  }));
}, 60_000);

afterAll(async () => {
  await Promise.all(sessions.map((s) => closeSession(s)));
  agent.destroy();
  await processes.stopAll();
  pki?.remove();
});

interface H1Answer {
  readonly status: number;
  readonly connection: string | undefined;
  readonly body: string;
  readonly socket: TLSSocket;
}

/** One GET over HTTP/1.1 on TLS through the keep-alive agent (one socket, reused). */
function h1Get(path: string, timeoutMs = 20_000): Promise<H1Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: balancer.port, path, agent, ca: pki.caCert, servername: 'localhost', timeout: timeoutMs }, (res) => {
      // Taken now: at 'end' the agent has the socket back and res.socket is null.
      const socket = res.socket as TLSSocket;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: Buffer.concat(chunks).toString('utf8'), socket }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Resolves with the error code of a TCP connect to the data port (undefined if it connected). */
function connectOutcome(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.setTimeout(5_000, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
  });
}

async function balancerInFlight(): Promise<number> {
  const res = await request(`${balancer.adminUrl}/admin/upstreams`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
  return ((await res.body.json()) as { inFlight: number }).inFlight;
}

/** Polls until the balancer counts `count` requests in progress (all have reached it), bounded. */
async function waitForInFlight(count: number, timeoutMs = 15_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  let seen = -1;
  while (performance.now() < until) {
    seen = await balancerInFlight();
    if (seen >= count) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`expected ${count} requests in flight, saw ${seen}`);
}

interface Goaway {
  readonly code: number;
  readonly lastStreamId: number;
  readonly at: number;
}

describe('when the TLS balancer gets SIGTERM with HTTP/2 streams and an HTTP/1.1 request in flight', () => {
  test('then every in-flight answer arrives whole, HTTP/2 sessions get a graceful GOAWAY covering their streams, the HTTP/1.1 answer says Connection: close, new connections are refused and the process exits 0', async () => {
    // The keep-alive connection is in use before the drain: its first answer keeps it open.
    const warm = await h1Get('/warm');
    expect(warm.status).toBe(200);
    expect(warm.connection).toBe('keep-alive');
    expect(warm.socket.alpnProtocol).toBe('http/1.1');
    const h1Socket = warm.socket;
    const h1Closed = new Promise<boolean>((resolve) => h1Socket.once('close', (hadError: boolean) => resolve(hadError)));

    const goaways: Goaway[][] = [];
    for (let s = 0; s < 2; s++) {
      const session = await openSession(balancer.port, { ca: pki.caCert });
      sessions.push(session);
      const seen: Goaway[] = [];
      goaways.push(seen);
      session.on('goaway', (code: number, lastStreamId: number) => seen.push({ code, lastStreamId, at: performance.now() }));
    }
    const answeredAt: number[] = [];
    const h2InFlight: Promise<H2Answer>[] = sessions.flatMap((session, s) =>
      Array.from({ length: STREAMS_PER_SESSION }, (_, i) =>
        h2Request(session, { path: `/h2-${s}-${i}?delay=${SLOW_MS}` }, 30_000).then((a) => {
          answeredAt.push(performance.now());
          return a;
        }),
      ),
    );
    const h1InFlight = h1Get(`/h1-slow?delay=${SLOW_MS}`, 30_000);
    // Failures surface in the assertions below, not as unhandled rejections meanwhile.
    const h2Settled = Promise.allSettled(h2InFlight);
    const h1Settled = Promise.allSettled([h1InFlight]);
    await waitForInFlight(sessions.length * STREAMS_PER_SESSION + 1);

    const signalledAt = performance.now();
    balancer.process.signal('SIGTERM');
    await balancer.process.waitForLog((e) => e.msg === 'listener closed; waiting for in-flight requests', 10_000);
    // The answers are still seconds away: the process is up, the listener is not.
    expect(await connectOutcome(balancer.port)).toBe('ECONNREFUSED');

    const h2Results = await h2Settled;
    for (const r of h2Results) expect(r).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
    const h2Answers = h2Results.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
    for (let s = 0; s < sessions.length; s++) {
      for (let i = 0; i < STREAMS_PER_SESSION; i++) {
        // The whole JSON body from the upstream, for the path that was asked.
        expect(JSON.parse(h2Answers[s * STREAMS_PER_SESSION + i]?.body ?? '')).toMatchObject({ path: `/h2-${s}-${i}` });
      }
      const seen = goaways[s] ?? [];
      expect(seen.length).toBeGreaterThanOrEqual(1);
      for (const g of seen) expect(g.code).toBe(0); // NO_ERROR: graceful (RFC 9113 §6.8)
      // Client streams are odd-numbered from 1 (RFC 9113 §5.1.1): 1, 3, 5.
      const last = seen[seen.length - 1];
      expect(last?.lastStreamId).toBeGreaterThanOrEqual(2 * STREAMS_PER_SESSION - 1);
      // The GOAWAY came while the streams were still in progress, and they finished anyway.
      expect(last?.at).toBeLessThan(Math.min(...answeredAt));
    }

    const [h1Result] = await h1Settled;
    expect(h1Result).toMatchObject({ status: 'fulfilled', value: { status: 200, connection: 'close' } });
    if (h1Result?.status === 'fulfilled') {
      expect(h1Result.value.socket).toBe(h1Socket);
      expect(JSON.parse(h1Result.value.body)).toMatchObject({ path: '/h1-slow' });
    }
    // The keep-alive connection then ends cleanly (no reset under it).
    expect(await h1Closed).toBe(false);

    const exit = await balancer.process.waitForExit(SHUTDOWN_TIMEOUT_MS + 5_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(performance.now() - signalledAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
  }, 60_000);
});
