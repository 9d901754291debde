import { connect, type TLSSocket } from 'node:tls';

/** Frame types and flags of RFC 9113 §6. */
export const FRAME = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
/** Error codes of RFC 9113 §7. */
export const H2_ERROR = { NO_ERROR: 0, PROTOCOL_ERROR: 1, SETTINGS_TIMEOUT: 4, REFUSED_STREAM: 7, CANCEL: 8, ENHANCE_YOUR_CALM: 11 } as const;

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** One frame: 9-octet header (length, type, flags, stream id) and payload (RFC 9113 §4.1). */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1). */
function hpackInt(value: number, prefixBits: number, firstByte: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByte | value]);
  const bytes = [firstByte | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function hpackString(text: string): Buffer {
  const raw = Buffer.from(text, 'latin1');
  return Buffer.concat([hpackInt(raw.length, 7, 0x00), raw]);
}

/** A header block of literal fields without indexing, new names, no Huffman (RFC 7541 §6.2.2): every encoder must be decodable this way. */
export function headerBlock(fields: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(fields.flatMap(([name, value]) => [Buffer.from([0x00]), hpackString(name), hpackString(value)]));
}

export function requestFields(port: number, path = '/echo', method = 'GET'): [string, string][] {
  return [
    [':method', method],
    [':scheme', 'https'],
    [':path', path],
    [':authority', `localhost:${port}`],
  ];
}

export function rstStream(streamId: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(FRAME.RST_STREAM, 0, streamId, payload);
}

/** The error code of a GOAWAY or RST_STREAM frame. */
export function errorCodeOf(f: Frame): number {
  return f.type === FRAME.GOAWAY ? f.payload.readUInt32BE(4) : f.payload.readUInt32BE(0);
}

/**
 * An HTTP/2 connection over TLS with nothing between the test and the wire:
 * frames go out exactly as written (no client library fixes them up) and
 * every frame that comes back is parsed and kept.
 */
export class RawH2Connection {
  readonly frames: Frame[] = [];
  private pending = Buffer.alloc(0);
  private ended = false;
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  /** Connects with ALPN h2, sends the preface and an empty SETTINGS, and (unless told not to) ACKs the server's SETTINGS. */
  static open(port: number, ca: Buffer, options: { ackSettings?: boolean } = {}): Promise<RawH2Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', servername: 'localhost', ca, ALPNProtocols: ['h2'] }, () => {
        if (socket.alpnProtocol !== 'h2') {
          socket.destroy();
          reject(new Error(`ALPN gave ${String(socket.alpnProtocol)}, not h2`));
          return;
        }
        const conn = new RawH2Connection(socket);
        conn.send(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
        if (options.ackSettings !== false) {
          conn.waitFor((f) => f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) === 0, 5_000).then(
            () => {
              conn.send(frame(FRAME.SETTINGS, FLAG.ACK, 0));
              resolve(conn);
            },
            reject,
          );
        } else {
          resolve(conn);
        }
      });
      socket.setTimeout(10_000, () => socket.destroy(new Error('raw HTTP/2 socket idle for 10 s')));
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.ended;
  }

  send(data: Buffer): void {
    if (!this.ended && this.socket.writable) this.socket.write(data);
  }

  /** Resolves with the first frame (already received or coming) that matches; undefined if the connection closes first or time runs out. */
  async waitFor(match: (f: Frame) => boolean, timeoutMs: number): Promise<Frame | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found !== undefined) return found;
      if (this.ended || Date.now() >= deadline) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(1, deadline - Date.now()));
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  /** Resolves once the server has closed the connection, or after timeoutMs; true when it closed. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    await this.waitFor(() => false, timeoutMs);
    return this.ended;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 9) {
      const length = this.pending.readUIntBE(0, 3);
      if (this.pending.length < 9 + length) break;
      this.frames.push({
        type: this.pending.readUInt8(3),
        flags: this.pending.readUInt8(4),
        streamId: this.pending.readUInt32BE(5) & 0x7fffffff,
        payload: this.pending.subarray(9, 9 + length),
      });
      this.pending = this.pending.subarray(9 + length);
    }
    this.wake();
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }
}
