import fc from 'fast-check';
import { request } from 'undici';
import type { BalancerHandle } from '../../helpers/balancer-process.js';
import { metricValue } from '../../helpers/curl.js';
import { closeSession, h2Request, openSession } from '../../helpers/http2-client.js';
import { FLAG, FRAME, H2_ERROR, RawH2Connection, errorCodeOf, frame, headerBlock, requestFields, rstStream } from '../../helpers/http2-frames.js';
import { ProcessGroup } from '../../helpers/service-process.js';
import type { TestPki } from '../../helpers/test-pki.js';
import { startTlsBalancer } from '../../helpers/tls-balancer.js';

// HTTP/2 abuse over raw frames on a TLS socket (issue 17, item 4): rapid
// reset (CVE-2023-44487), CONTINUATION flood (CVE-2024-27983), too many
// streams, an oversized header list, a client that never ACKs SETTINGS, and
// a bounded random-frame fuzz. After each, the balancer still serves.
const processes = new ProcessGroup();
let pki: TestPki;
let balancer: BalancerHandle;

const MAX_STREAMS = 10;

beforeAll(async () => {
  ({ pki, balancer } = await startTlsBalancer(processes, {
    upstreams: 1,
    env: {
      BALANCER_H2_MAX_CONCURRENT_STREAMS: String(MAX_STREAMS),
      BALANCER_H2_MAX_RESETS_PER_10S: '50',
      BALANCER_H2_SETTINGS_TIMEOUT_MS: '1000',
      // The fuzz below opens many connections; none of them must trip the start-up checks.
      LOG_LEVEL: 'info',
    },
  }));
}, 60_000);

afterAll(async () => {
  await processes.stopAll();
  pki?.remove();
});

const metrics = async (): Promise<string> => (await request(`${balancer.adminUrl}/metrics`, { headersTimeout: 5_000, bodyTimeout: 5_000 })).body.text();

/** A normal client still gets a normal answer, on a new connection. */
async function stillServes(): Promise<void> {
  expect(balancer.process.running).toBe(true);
  const session = await openSession(balancer.port, { ca: pki.caCert });
  try {
    expect((await h2Request(session, { path: '/echo' })).status).toBe(200);
  } finally {
    await closeSession(session);
  }
}

function getRequest(streamId: number, path = '/echo'): Buffer {
  return frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, streamId, headerBlock(requestFields(balancer.port, path)));
}

describe('when an HTTP/2 client misbehaves on the wire', () => {
  test('then a normal request over raw frames is answered (the encoder is right)', async () => {
    const conn = await RawH2Connection.open(balancer.port, pki.caCert);
    conn.send(getRequest(1));
    const headers = await conn.waitFor((f) => f.type === FRAME.HEADERS && f.streamId === 1, 5_000);
    expect(headers).toBeDefined();
    conn.destroy();
  });

  test('then a rapid reset (open and cancel streams at once) gets GOAWAY(ENHANCE_YOUR_CALM) and a closed connection', async () => {
    const conn = await RawH2Connection.open(balancer.port, pki.caCert);
    // Five at a time, as fast as the loop goes: never more streams open
    // than allowed, so it is the reset rate that must be caught (one write
    // of 400 pairs is refused by Node itself on some releases).
    for (let i = 0; i < 80 && !conn.closed; i++) {
      const batch: Buffer[] = [];
      for (let j = 0; j < 5; j++) {
        const id = 1 + 2 * (i * 5 + j);
        batch.push(getRequest(id, '/echo?delay=200'), rstStream(id, H2_ERROR.CANCEL));
      }
      conn.send(Buffer.concat(batch));
      await new Promise((r) => setTimeout(r, 2));
    }
    const goaway = await conn.waitFor((f) => f.type === FRAME.GOAWAY, 5_000);
    expect(goaway && errorCodeOf(goaway)).toBe(H2_ERROR.ENHANCE_YOUR_CALM);
    expect(await conn.waitClosed(5_000)).toBe(true);
    expect(metricValue(await metrics(), 'balancer_http2_goaway_total{reason="reset_flood"}')).toBeGreaterThanOrEqual(1);
    await stillServes();
  });

  test('then a CONTINUATION flood (a header block that never ends) is cut off with the connection', async () => {
    const conn = await RawH2Connection.open(balancer.port, pki.caCert);
    conn.send(frame(FRAME.HEADERS, 0, 1, headerBlock(requestFields(balancer.port))));
    const filler = frame(FRAME.CONTINUATION, 0, 1, headerBlock([['x-flood', 'a'.repeat(100)]]));
    // Up to 20 000 frames (~2.5 MB), in chunks, until the server gives up on us.
    for (let i = 0; i < 200 && !conn.closed; i++) {
      conn.send(Buffer.concat(Array.from({ length: 100 }, () => filler)));
      await new Promise((r) => setImmediate(r));
    }
    expect(await conn.waitClosed(5_000)).toBe(true);
    expect(conn.frames.some((f) => f.type === FRAME.HEADERS && f.streamId === 1)).toBe(false);
    await stillServes();
  });

  test('then streams past SETTINGS_MAX_CONCURRENT_STREAMS are refused: never more than the limit answered, and the balancer serves on', async () => {
    const conn = await RawH2Connection.open(balancer.port, pki.caCert);
    const settings = conn.frames.find((f) => f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) === 0);
    // SETTINGS_MAX_CONCURRENT_STREAMS (0x3) as the server announced it.
    const announced: Record<number, number> = {};
    for (let off = 0; settings !== undefined && off + 6 <= settings.payload.length; off += 6) announced[settings.payload.readUInt16BE(off)] = settings.payload.readUInt32BE(off + 2);
    expect(announced[0x3]).toBe(MAX_STREAMS);
    await conn.waitFor((f) => f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) !== 0, 2_000);
    const ids = Array.from({ length: MAX_STREAMS + 10 }, (_, i) => 1 + 2 * i);
    conn.send(Buffer.concat(ids.map((id) => getRequest(id, '/echo?delay=500'))));
    // Node refuses the excess with RST_STREAM; Node 20 then resets the
    // first stream with INTERNAL_ERROR and answers nothing more on that
    // connection (our idle timer closes it), so only bounds are asserted.
    await conn.waitFor((f) => f.type === FRAME.RST_STREAM || f.type === FRAME.GOAWAY, 5_000);
    await conn.waitFor(() => false, 1_500);
    const answered = ids.filter((id) => conn.frames.some((f) => f.type === FRAME.HEADERS && f.streamId === id));
    const refused = ids.filter((id) => conn.frames.some((f) => f.type === FRAME.RST_STREAM && f.streamId === id));
    expect(answered.length).toBeLessThanOrEqual(MAX_STREAMS);
    expect(refused.length > 0 || conn.closed).toBe(true);
    conn.destroy();
    await stillServes();
  });

  test('then a header list over MAX_HEADER_BYTES is refused on its stream, and the connection goes on', async () => {
    const conn = await RawH2Connection.open(balancer.port, pki.caCert);
    const block = headerBlock([...requestFields(balancer.port), ['x-big', 'b'.repeat(20_000)]]);
    // Over the default SETTINGS_MAX_FRAME_SIZE (16 384): split over HEADERS and CONTINUATION.
    conn.send(Buffer.concat([frame(FRAME.HEADERS, FLAG.END_STREAM, 1, block.subarray(0, 16_000)), frame(FRAME.CONTINUATION, FLAG.END_HEADERS, 1, block.subarray(16_000))]));
    const answer = await conn.waitFor((f) => f.streamId === 1 && (f.type === FRAME.RST_STREAM || f.type === FRAME.HEADERS) || f.type === FRAME.GOAWAY, 5_000);
    expect(answer).toBeDefined();
    // Never a response from the upstream: a reset of the stream (or a 431).
    if (answer?.type === FRAME.HEADERS) expect(answer.payload.length).toBeGreaterThan(0);
    else expect(answer?.type).toBe(FRAME.RST_STREAM);
    if (!conn.closed) {
      conn.send(getRequest(3));
      expect(await conn.waitFor((f) => f.type === FRAME.HEADERS && f.streamId === 3, 5_000)).toBeDefined();
    }
    conn.destroy();
    await stillServes();
  });

  test('then a client that never acknowledges our SETTINGS gets GOAWAY(SETTINGS_TIMEOUT)', async () => {
    const conn = await RawH2Connection.open(balancer.port, pki.caCert, { ackSettings: false });
    const goaway = await conn.waitFor((f) => f.type === FRAME.GOAWAY, 5_000);
    expect(goaway && errorCodeOf(goaway)).toBe(H2_ERROR.SETTINGS_TIMEOUT);
    expect(await conn.waitClosed(3_000)).toBe(true);
    await stillServes();
  });

  test('then random frames (bounded fast-check fuzz, fixed seed) never take the balancer down', async () => {
    const frameArb = fc.record({
      type: fc.integer({ min: 0, max: 12 }),
      flags: fc.integer({ min: 0, max: 255 }),
      streamId: fc.constantFrom(0, 1, 2, 3, 5, 0x7fffffff),
      payload: fc.uint8Array({ maxLength: 48 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { minLength: 1, maxLength: 8 }), async (frames) => {
        const conn = await RawH2Connection.open(balancer.port, pki.caCert);
        conn.send(Buffer.concat(frames.map((f) => frame(f.type, f.flags, f.streamId, Buffer.from(f.payload)))));
        await conn.waitClosed(150);
        conn.destroy();
        return balancer.process.running;
      }),
      { seed: 17, numRuns: 40, endOnFailure: true },
    );
    await stillServes();
  }, 60_000);
});
