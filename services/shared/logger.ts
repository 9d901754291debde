import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const REDACTED_PATHS = [
  'password',
  '*.password',
  'databaseUrl',
  '*.databaseUrl',
  'connectionString',
  '*.connectionString',
  'req.headers.authorization',
  'req.headers.cookie',
];

/**
 * JSON logs to stdout (one line per event, written synchronously) with the
 * service name on every line. Secrets never reach a log line: the paths above
 * are censored even if a caller logs a whole config or request.
 */
export function createLogger(service: string, level: LogLevel, destination?: DestinationStream): Logger {
  const options: LoggerOptions = { ...lineFormat(service, level), redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  // Synchronous writes to stdout. pino's default destination writes
  // asynchronously and, at exit, flushes what is still buffered with a
  // synchronous write that can overtake the asynchronous one in flight: the
  // last lines of a shutdown came out of order on Node 24 ("balancer worker
  // exited" after "shutdown complete"). Still one write per line, in order;
  // the balancer writes through a LogOutput instead (log-output.ts).
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}

function lineFormat(service: string, level: LogLevel): LoggerOptions {
  return { level, base: { service, pid: process.pid }, timestamp: isoTimeCachedPerMs };
}

let cachedMs = -1;
let cachedTime = '';

/**
 * pino's isoTime (`,"time":"<ISO 8601>"`), built once per millisecond: a busy
 * balancer logs several lines in the same millisecond, and a Date plus
 * toISOString() per line was ~4 µs of its CPU per request. The balancer's
 * access log (balancer/access-log.ts) stamps its lines with it too.
 */
export function isoTimeCachedPerMs(): string {
  const now = Date.now();
  if (now !== cachedMs) {
    cachedMs = now;
    cachedTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return cachedTime;
}
