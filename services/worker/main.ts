#!/usr/bin/env node
import { ConfigError, createLogger, installShutdown } from '../shared/index.js';
import { parseWorkerConfig, type WorkerConfig } from './config.js';
import { migrateWhenReachable } from './db/migrate.js';
import { WorkerService } from './worker.js';

/**
 * Entry point: `worker` serves; `worker migrate` applies migrations and exits
 * (for a Kubernetes initContainer). The only place that reads process.env.
 */
async function main(): Promise<void> {
  const command = process.argv[2] ?? 'serve';
  if (command !== 'serve' && command !== 'migrate') {
    process.stderr.write(`worker: unknown command "${command}" (allowed: serve, migrate)\n`);
    process.exit(2);
  }
  let config: WorkerConfig;
  try {
    config = parseWorkerConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`worker: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger('worker', config.logLevel);

  if (command === 'migrate') {
    const applied = await migrateWhenReachable(config.database, logger, config.migrateWaitMs);
    logger.info({ applied }, applied.length > 0 ? 'migrations applied' : 'database is up to date');
    return;
  }

  const worker = new WorkerService(config, logger);
  installShutdown({ logger, timeoutMs: config.shutdownTimeoutMs, onSignal: () => worker.stop() });
  await worker.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`worker: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
