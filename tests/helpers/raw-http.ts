import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { closeServer, listen } from '../../services/shared/index.js';

export interface RawAnswer {
  /** Every byte the server sent, as latin1. */
  readonly data: string;
  /** True when the server closed the connection before the wait ran out. */
  readonly closed: boolean;
  readonly ms: number;
}

/** The status of the first response in `data`, or undefined when nothing parseable came back. */
export function firstStatus(data: string): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3}) [^\r\n]*\r\n/.exec(data);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * Sends raw bytes (no client-side HTTP library, so nothing gets fixed up on
 * the way) and resolves with what came back once the server closes or
 * `waitMs` passes. With `halfCloseAfterMs`, our side is ended once an answer
 * starts or after that long without one, so a request the server is still
 * waiting on fails then (Node answers an unfinished request 400 on EOF)
 * instead of at the request timeout. Not at once: Node treats a client's
 * half-close as an abort, which would drop the answer to a valid request.
 */
export function sendRaw(port: number, payload: string | Buffer, options: { waitMs?: number; halfCloseAfterMs?: number } = {}): Promise<RawAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    let quiet: NodeJS.Timeout | undefined;
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(payload);
      if (options.halfCloseAfterMs !== undefined) quiet = setTimeout(() => socket.end(), options.halfCloseAfterMs);
    });
    let data = '';
    socket.once('data', () => {
      // An answer came: end our side so a kept-alive connection closes at once.
      if (quiet !== undefined) {
        clearTimeout(quiet);
        socket.end();
      }
    });
    const finish = (closed: boolean): void => {
      clearTimeout(quiet);
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, closed, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish(false), options.waitMs ?? 3_000);
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
  });
}

/**
 * Writes `head` at once, then `drip` one byte every `intervalMs` (slowloris)
 * until the server closes the connection, the bytes run out or `maxMs` passes.
 */
export function trickleRaw(port: number, head: string, drip: string, intervalMs: number, maxMs: number): Promise<RawAnswer> {
  const started = performance.now();
  const payload = drip;
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1', () => socket.write(head));
    let data = '';
    let sent = 0;
    // Bounded by the length of `drip` and by maxMs.
    const dripping = setInterval(() => {
      if (sent < payload.length && socket.writable) socket.write(payload.charAt(sent++));
    }, intervalMs);
    const finish = (closed: boolean): void => {
      clearInterval(dripping);
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, closed, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish(false), maxMs);
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
  });
}

/** A loopback HTTP server that answers 200 to everything and records each request it receives. */
export class CountingServer {
  readonly received: Array<{ readonly method: string; readonly url: string }> = [];
  connections = 0;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<CountingServer> {
    const server = createServer();
    const port = await listen(server, 0, '127.0.0.1');
    const counting = new CountingServer(server, port);
    server.on('connection', () => (counting.connections += 1));
    server.on('request', (req: IncomingMessage, res) => {
      counting.received.push({ method: req.method ?? '', url: req.url ?? '' });
      req.resume();
      req.on('end', () => res.end('counted'));
    });
    return counting;
  }

  get count(): number {
    return this.received.length;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await closeServer(this.server);
  }
}
