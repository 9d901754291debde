import { ConfigError, createEndpointSource, createLogger, installShutdown } from '../shared/index.js';
import { buildBalancer } from './balancer.js';
import { parseBalancerConfig } from './config.js';

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
  const logger = createLogger('balancer', config.logLevel);
  const source = createEndpointSource(config.discovery, logger);
  const balancer = buildBalancer(config, { source, logger });
  installShutdown({ logger, timeoutMs: config.shutdownTimeoutMs, onSignal: () => balancer.shutdown() });
  await balancer.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`balancer failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
