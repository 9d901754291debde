import { connect, type Socket } from 'node:net';

/**
 * Holds COUNT keep-alive client connections open on HOST:PORT, each after one
 * GET /small has been answered on it (so the server holds a parsed, idle
 * keep-alive connection, not a half-open socket), then idles until HOLD_MS
 * has passed or SIGTERM. Its own process: the runner's file-descriptor limit
 * and event loop stay out of it. Opens BATCH connections at a time (a
 * listen backlog of 511 would drop the SYNs of 10 000 at once).
 * Prints one JSON line when every connection is open or has failed.
 * Env: HOST, PORT, COUNT, BATCH, HOLD_MS.
 */
const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT);
const count = Number(process.env.COUNT ?? '10000');
const batch = Number(process.env.BATCH ?? '200');
const holdMs = Number(process.env.HOLD_MS ?? '90000');
const sockets: Socket[] = [];
let failed = 0;

function openOne(): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let answered = false;
    const done = (ok: boolean): void => {
      if (answered) return;
      answered = true;
      if (ok) sockets.push(socket);
      else {
        failed++;
        socket.destroy();
      }
      resolve();
    };
    socket.setTimeout(10_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('GET /small HTTP/1.1\r\nHost: bench\r\n\r\n'));
    // The small response arrives in one chunk; later data (none expected) is ignored.
    socket.on('data', () => {
      socket.setTimeout(0);
      done(true);
    });
  });
}

const started = performance.now();
for (let opened = 0; opened < count; opened += batch) {
  await Promise.all(Array.from({ length: Math.min(batch, count - opened) }, openOne));
}
const closedByServer = (): number => sockets.filter((s) => s.destroyed || s.readableEnded).length;
for (const socket of sockets) socket.on('error', () => undefined);
process.stdout.write(`${JSON.stringify({ msg: 'idle connections open', open: sockets.length, failed, ms: Math.round(performance.now() - started) })}\n`);
const stop = (): void => {
  process.stdout.write(`${JSON.stringify({ msg: 'idle connections closing', closedByServer: closedByServer() })}\n`);
  for (const socket of sockets) socket.destroy();
  process.exit(0);
};
setTimeout(stop, holdMs).unref();
process.on('SIGTERM', stop);
// Keeps the process alive while the sockets idle (each socket already does; this is for COUNT=0).
setInterval(() => undefined, 1_000);
