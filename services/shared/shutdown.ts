import type { Logger } from './logger.js';

export interface ShutdownOptions {
  readonly logger: Logger;
  /** Runs once, on the first SIGTERM or SIGINT. */
  readonly onSignal: (signal: NodeJS.Signals) => Promise<void>;
  /** Hard limit for the whole shutdown; past it the process exits 1. */
  readonly timeoutMs: number;
  readonly exit?: (code: number) => void;
  /**
   * Log a signal that arrives while already shutting down at debug, not warn:
   * a balancer cluster worker hears Ctrl-C and its primary's drain message,
   * in either order, and the second is expected.
   */
  readonly quietRepeats?: boolean;
}

/**
 * Wires SIGTERM and SIGINT to one graceful shutdown. A second signal while
 * shutting down is logged and ignored (Kubernetes sends SIGKILL after
 * terminationGracePeriodSeconds anyway); a shutdown that overruns its limit
 * exits 1 so a stuck drain cannot hold the pod forever.
 *
 * Returns a function that starts the same shutdown from elsewhere (a balancer
 * cluster worker told to drain by its primary); it returns false, quietly,
 * when the shutdown has already started.
 */
export function installShutdown(options: ShutdownOptions): (signal: NodeJS.Signals) => boolean {
  const { logger, onSignal, timeoutMs } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let started = false;
  const begin = (signal: NodeJS.Signals): boolean => {
    if (started) return false;
    started = true;
    logger.info({ signal }, 'shutdown started');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown took too long; exiting');
      exit(1);
    }, timeoutMs);
    timer.unref();
    onSignal(signal).then(
      () => {
        logger.info('shutdown complete');
        exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        exit(1);
      },
    );
    return true;
  };
  const handler = (signal: NodeJS.Signals): void => {
    if (begin(signal)) return;
    if (options.quietRepeats === true) logger.debug({ signal }, 'signal received while already shutting down; ignored');
    else logger.warn({ signal }, 'signal received while already shutting down; ignored');
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return begin;
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
