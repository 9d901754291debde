import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * JSON logs to stdout (one line per event, written synchronously) with the
 * service name on every line. Secrets never reach a log line: the paths below
 * are censored even if a caller logs a whole config or request.
 */
export function createLogger(service: string, level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'password',
        '*.password',
        'databaseUrl',
        '*.databaseUrl',
        'connectionString',
        '*.connectionString',
        'req.headers.authorization',
        'req.headers.cookie',
      ],
      censor: '[redacted]',
    },
  };
  // Synchronous writes to stdout. pino's default destination writes
  // asynchronously and, at exit, flushes what is still buffered with a
  // synchronous write that can overtake the asynchronous one in flight: the
  // last lines of a shutdown came out of order on Node 24 ("balancer worker
  // exited" after "shutdown complete"). Still one write per line, in order.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}
