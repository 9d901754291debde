import { readFileSync } from 'node:fs';
import { describeExit, ManagedChild } from './managed-child.js';
import { LocalError } from './errors.js';

/**
 * Applies the worker migrations once, before any worker starts, with the
 * worker's own `migrate` command (the same one the Kubernetes initContainer
 * runs), so workers can start with MIGRATE_ON_START=false and not race.
 */
export async function runMigrations(options: {
  readonly node: string;
  readonly workerScript: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logFile: string;
  readonly timeoutMs: number;
}): Promise<void> {
  const child = ManagedChild.spawn({ command: options.node, args: [options.workerScript, 'migrate'], env: options.env, logFile: options.logFile });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
  });
  const outcome = await Promise.race([child.exited, timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    await child.stop('SIGKILL', 1_000);
    throw new LocalError('LOCAL_ERR_MIGRATE', `migrations did not finish within ${options.timeoutMs} ms (see ${options.logFile})`);
  }
  if (outcome.code !== 0) {
    const tail = readFileSync(options.logFile, 'utf8').trim().split('\n').slice(-5).join('\n    ');
    throw new LocalError('LOCAL_ERR_MIGRATE', `migrations failed (${describeExit(outcome)}):\n    ${tail}`);
  }
}
