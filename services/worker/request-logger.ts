import type { FastifyBaseLogger, LogLevel } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

/**
 * The logger fastify hands each request (`request.log`), bound to its id.
 *
 * fastify's default makes a pino child per request, and pino serialises
 * and redacts a child's bindings when it is made: a few µs on every
 * request, though with request logging off almost no request writes a line.
 * This one holds the bindings and makes the pino child on its first log
 * call, so the lines that are written are the same and a request that
 * logs nothing does not pay for it. (A call below the level still makes
 * the child: the app checks the level first on its per-request line.)
 */
class RequestLogger implements FastifyBaseLogger {
  private bound: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private logger(): FastifyBaseLogger {
    return (this.bound ??= this.parent.child(this.bindings, this.options));
  }

  get level(): LogLevel {
    return (this.bound ?? this.parent).level as LogLevel;
  }

  set level(level: LogLevel) {
    this.logger().level = level;
  }

  // Methods, not arrow fields: one RequestLogger is made per request, and
  // fields would add seven closures to each. pino's log functions are
  // overloaded (object or message first); each passes its arguments on as
  // they came.
  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(...args: unknown[]): void {
    this.write('silent', args);
  }

  private write(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent', args: unknown[]): void {
    const logger = this.logger();
    (logger[level] as (...line: unknown[]) => void).apply(logger, args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger().child(bindings, options);
  }
}

/** fastify's `childLoggerFactory`: a RequestLogger instead of a pino child made at once. */
export function requestLoggerFactory(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new RequestLogger(parent, bindings, options);
}
