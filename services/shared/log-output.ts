import { writeSync } from 'node:fs';

/**
 * Linux writes up to PIPE_BUF (4 096) bytes to a pipe in one piece. A
 * container's stdout is a pipe, shared by every process of the container
 * (the balancer's cluster workers): batches of whole lines up to this size
 * never get split by another process's write.
 */
const PIPE_BUF = 4096;

/** What pino writes a line to (its DestinationStream). */
export interface LineSink {
  write(line: string): void;
}

/**
 * One output (stdout) with two ways in, for pino loggers:
 *
 * - `batched` keeps lines in memory until 4 KiB of them are there or
 *   `flushIntervalMs` has passed, then writes them with one write(2). It is
 *   for the access log, a line per request: a write per line was a fifth of
 *   the balancer's CPU per request (bench/RESULTS.md). nginx's
 *   `access_log … buffer= flush=` makes the same trade.
 * - `immediate` writes its line at once, after the batched lines before it,
 *   so that the output stays in the order the lines were logged. Every other
 *   line (start-up, warnings, errors, shutdown) goes this way.
 *
 * Writes are synchronous, as with pino.destination({ sync: true }): a line
 * is never overtaken. The batch is written when the process exits
 * (process.exit, a signal handled by the shutdown, an uncaught exception), so
 * what a process killed with SIGKILL (or by the OOM killer) loses is at most
 * `flushIntervalMs` of access lines.
 *
 * Why not SonicBoom's own `minLength`: its batches are not bounded by
 * PIPE_BUF, it cannot write one kind of line through and batch another, and
 * its flushSync() also fsyncs, a disk flush per call when stdout is a file.
 */
export class LogOutput {
  readonly batched: LineSink = { write: (line) => this.add(line) };
  readonly immediate: LineSink = {
    write: (line) => {
      this.add(line);
      this.flush();
    },
  };
  private lines: string[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The reader of the pipe went away (EPIPE): there is nobody to log to. */
  private broken = false;

  /**
   * @param fd where lines go (1: stdout)
   * @param flushIntervalMs longest time a batched line waits; 0 writes every line at once
   */
  constructor(
    private readonly fd: number,
    private readonly flushIntervalMs: number,
  ) {}

  /** Writes every batched line now. */
  readonly flush = (): void => {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.lines.length === 0) return;
    const batch = this.lines.length === 1 ? (this.lines[0] as string) : this.lines.join('');
    this.lines = [];
    this.bytes = 0;
    this.writeAll(Buffer.from(batch));
  };

  private add(line: string): void {
    if (this.broken) return;
    const size = Buffer.byteLength(line);
    if (this.bytes + size > PIPE_BUF) this.flush();
    this.lines.push(line);
    this.bytes += size;
    if (this.bytes >= PIPE_BUF || this.flushIntervalMs === 0) this.flush();
    else this.timer ??= setTimeout(this.flush, this.flushIntervalMs).unref();
  }

  private writeAll(data: Buffer): void {
    let offset = 0;
    while (offset < data.length && !this.broken) {
      try {
        offset += writeSync(this.fd, data, offset);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') this.broken = true;
        // A full pipe that someone made non-blocking (stdout is shared):
        // wait a millisecond for its reader and go on, as SonicBoom does.
        else if (code === 'EAGAIN') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        else throw err;
      }
    }
  }
}

/**
 * stdout as a LogOutput, written out when the process exits. One per process:
 * the exit hook is registered here.
 */
export function stdoutLogOutput(flushIntervalMs: number): LogOutput {
  const output = new LogOutput(1, flushIntervalMs);
  process.on('exit', output.flush);
  return output;
}
