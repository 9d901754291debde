import { connect } from 'node:net';
import { request } from 'undici';
import { startBalancer, type BalancerHandle } from '../../helpers/balancer-process.js';
import { TestPostgres } from '../../helpers/postgres.js';
import { ProcessGroup } from '../../helpers/service-process.js';
import { startWorker, type WorkerHandle } from '../../helpers/worker-process.js';

// A body over the limit is the client's mistake: it must come back as a 413,
// every time and at once, never as a 502, a hang or an ejected worker. The
// worker's limit is VALUE_MAX_BYTES (1 MiB) plus a little; the balancer's
// MAX_BODY_BYTES is 10 MiB. Node's fetch sends the whole body before it
// reads an answer (no Expect: 100-continue), which is where it went wrong.

const processes = new ProcessGroup();
let postgres: TestPostgres;
let worker: WorkerHandle;
let balancer: BalancerHandle;

const MiB = 1_048_576;
const SIZES = [MiB + 8_192, 2 * MiB, 8 * MiB, 12 * MiB, 16 * MiB];

beforeAll(async () => {
  postgres = await TestPostgres.start();
  worker = await startWorker(await postgres.createDatabase('early_answers'));
  processes.add(worker.process);
  balancer = await startBalancer([worker.entry]);
  processes.add(balancer.process);
}, 120_000);

afterAll(async () => {
  await processes.stopAll();
  await postgres?.destroy();
});

function bodyOf(bytes: number): string {
  const wrapper = '{"value":""}';
  return `{"value":"${'x'.repeat(bytes - wrapper.length)}"}`;
}

async function metricLines(prefix: string): Promise<string[]> {
  const text = await (await request(`${balancer.adminUrl}/metrics`)).body.text();
  return text.split('\n').filter((l) => l.startsWith(prefix));
}

async function metric(name: string): Promise<number> {
  return (await metricLines(name)).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/** Sends head and body on a raw socket in 64 KiB writes, as fast as the socket takes them; resolves with what came back. */
function rawPut(port: number, bytes: number): Promise<string> {
  return new Promise((resolve) => {
    const body = Buffer.from(bodyOf(bytes));
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      // The whole answer (head and JSON body) is in: done, whatever the upload.
      if (/\r\n\r\n\{.*\}$/s.test(answer)) socket.destroy();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', () => undefined);
    socket.on('connect', async () => {
      socket.write(`PUT /v1/kv/raw-big HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
      for (let at = 0; at < body.length && !socket.destroyed; at += 65_536) {
        if (!socket.write(body.subarray(at, at + 65_536))) await new Promise((r) => socket.once('drain', r).once('close', r));
      }
    });
  });
}

describe.each([
  ['straight to the worker', () => worker.url],
  ['through the balancer', () => balancer.url],
])('when bodies over the limit are PUT with fetch, several in a row (%s)', (via, base) => {
  test('then each gets a 413 at once, with the code of whoever refused it, and the next request is served', async () => {
    const ejectionsBefore = await metric('balancer_ejections_total');
    const seen: string[] = [];
    for (const size of SIZES) {
      for (let round = 0; round < 3; round++) {
        const res = await fetch(`${base()}/v1/kv/big`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: bodyOf(size),
          signal: AbortSignal.timeout(10_000),
        });
        const answer = (await res.json()) as { error: { code: string } };
        seen.push(`${size}: ${res.status} ${answer.error.code}`);
      }
      const after = await fetch(`${base()}/v1/kv/big`, { signal: AbortSignal.timeout(10_000) });
      await after.text();
      seen.push(`${size}: then GET ${after.status}`);
    }
    const expected = SIZES.flatMap((size) => {
      const code = via.startsWith('through') && size > 10 * MiB ? 'LB_ERR_BODY_TOO_LARGE' : 'WRK_ERR_VALUE_TOO_LARGE';
      return [...Array.from({ length: 3 }, () => `${size}: 413 ${code}`), `${size}: then GET 404`];
    });
    expect(seen).toEqual(expected);
    // A client's mistake is no upstream failure, and no 5xx.
    expect(await metric('balancer_ejections_total')).toBe(ejectionsBefore);
    if (via.startsWith('through')) {
      const answered = await metricLines('balancer_requests_total{');
      expect(answered.filter((l) => l.includes('status_class="4xx"') && !l.endsWith(' 0')).length).toBeGreaterThan(0);
      expect(answered.filter((l) => l.includes('status_class="5xx"') && !l.endsWith(' 0'))).toEqual([]);
    }
  }, 120_000);

  test('then a raw client writing the whole body gets the 413 every time', async () => {
    const port = Number(new URL(base()).port);
    for (const size of [MiB + 8_192, 4 * MiB, 16 * MiB]) {
      for (let round = 0; round < 3; round++) {
        const answer = await rawPut(port, size);
        expect({ size, round, status: answer.split('\r\n', 1)[0] }).toEqual({ size, round, status: 'HTTP/1.1 413 Payload Too Large' });
      }
    }
  }, 120_000);
});
