import cluster from 'node:cluster';
import { ConfigError, createEndpointSource, createLogger, installShutdown, stdoutLogOutput, type Logger } from '../shared/index.js';
import { AccessLog } from './access-log.js';
import { buildBalancer } from './balancer.js';
import { runClusterWorker } from './cluster/cluster-worker.js';
import { startClusterPrimary, type RunningPrimary } from './cluster/start-primary.js';
import { parseBalancerConfig, type BalancerConfig } from './config.js';

/** BALANCER_WORKERS=1: everything in this process, as before cluster mode existed. */
async function runSingle(config: BalancerConfig, logger: Logger, accessLog: AccessLog): Promise<void> {
  const source = createEndpointSource(config.discovery, logger);
  const balancer = buildBalancer(config, { source, logger, accessLog });
  installShutdown({ logger, timeoutMs: config.shutdownTimeoutMs, onSignal: () => balancer.shutdown() });
  await balancer.start();
}

/** BALANCER_WORKERS > 1, primary: discovery and the admin port; workers run the data plane (cluster/). */
async function runPrimary(config: BalancerConfig, logger: Logger): Promise<void> {
  const source = createEndpointSource(config.discovery, logger);
  const started: { primary?: RunningPrimary } = {};
  installShutdown({
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    // A signal before every worker listens: nothing has been served; workers end with the IPC channel.
    onSignal: async (signal) => (started.primary !== undefined ? started.primary.shutdown(signal) : process.exit(0)),
    exit: (code) => {
      started.primary?.killAll();
      process.exit(code);
    },
  });
  started.primary = await startClusterPrimary(config, source, logger);
}

/** The only place that reads process.env and wires signals. */
async function main(): Promise<void> {
  let config;
  try {
    config = parseBalancerConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // One stdout: access lines are batched, every other line is written at once and in order (shared/log-output.ts).
  const output = stdoutLogOutput(config.accessLogFlushMs);
  const logger = createLogger('balancer', config.logLevel, output.immediate);
  if (config.workers === 1) await runSingle(config, logger, new AccessLog('balancer', output.batched));
  else if (cluster.isPrimary) await runPrimary(config, logger.child({ role: 'primary' }));
  else {
    const worker = { role: 'worker', worker: cluster.worker?.id };
    await runClusterWorker(config, logger.child(worker), new AccessLog('balancer', output.batched, worker));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`balancer failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
