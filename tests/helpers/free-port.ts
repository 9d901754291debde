import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Ports for servers that must be told their port before they bind it:
 * Postgres, the local run's workers, and an upstream restarted on its old
 * port (as a pod keeps its IP).
 *
 * Listening on port 0 and closing again gives a port that anything may take
 * the next moment: the kernel hands out the same ephemeral range to every
 * listen(0) and every outgoing connection of every test file running
 * alongside. CI saw both a Postgres and a restarted upstream lose their port
 * that way. So these ports come from below the ephemeral range, where the
 * kernel never picks, and each jest worker draws from a band of its own, so
 * two files running at once never draw the same port. Each port is still
 * checked free before it is handed out (a file of the same worker that ran
 * earlier may not have let go of it).
 */

const LOWEST = 10_000;
/** Band 0 is for processes outside jest (the bench); jest's workers are numbered from 1. */
const BANDS = 8;

function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const value = Number(low);
    if (Number.isInteger(value) && value > 0) return value;
  } catch {
    // not Linux: fall through to the IANA default
  }
  return 49_152;
}

const ephemeralStart = ephemeralRangeStart();
const bandSize = Math.floor((ephemeralStart - LOWEST) / BANDS);
if (bandSize < 100) {
  throw new Error(`free-port: the ephemeral port range starts at ${ephemeralStart}; tests need it to start at ${LOWEST + 100 * BANDS} or above`);
}
const bandStart = LOWEST + (Number(process.env.JEST_WORKER_ID ?? 0) % BANDS) * bandSize;
/** Offset of the next port to try; random so that files run one after another in a worker do not start on the same port. */
let cursor = Math.floor(Math.random() * bandSize);

function nextCandidate(): number {
  const port = bandStart + (cursor % bandSize);
  cursor += 1;
  return port;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => done(true)));
  });
}

/** A free port on 127.0.0.1 that nothing else in the test run will be handed. */
export async function freePort(): Promise<number> {
  return freePortRange(1);
}

/** `count` consecutive such ports (the local run's worker i uses base + i); returns the first. */
export async function freePortRange(count: number): Promise<number> {
  for (let tried = 0; tried < bandSize; tried += 1) {
    const base = nextCandidate();
    if (base + count > bandStart + bandSize) continue;
    let free = true;
    for (let i = 0; i < count && free; i += 1) free = await canListen(base + i);
    if (free) {
      cursor += count - 1;
      return base;
    }
  }
  throw new Error(`free-port: no ${count} consecutive free ports in ${bandStart}-${bandStart + bandSize - 1}`);
}
