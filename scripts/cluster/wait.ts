import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls until `check` holds, or fails after timeoutMs with what was waited
 * for and, when given, the last lines of the log that should say why.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; logFile?: string; stillRunning?: () => boolean },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    if (options.stillRunning !== undefined && !options.stillRunning()) break;
    await sleep(options.intervalMs ?? 250);
  }
  const logTail =
    options.logFile !== undefined && existsSync(options.logFile)
      ? `; last lines of ${options.logFile}:\n${readFileSync(options.logFile, 'utf8').trimEnd().split('\n').slice(-20).join('\n')}`
      : '';
  const why = options.stillRunning !== undefined && !options.stillRunning() ? 'its process exited' : `not within ${options.timeoutMs / 1000} s`;
  throw new Error(`${what}: ${why}${logTail}`);
}
