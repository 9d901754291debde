import type { Logger } from '../../shared/index.js';
import { installShutdown } from '../../shared/index.js';
import type { AccessLog } from '../access-log.js';
import { buildBalancer, type Balancer } from '../balancer.js';
import type { BalancerConfig } from '../config.js';
import { IpcEndpointSource } from './ipc-endpoint-source.js';
import { parseToWorker, type QueryKind, type ToPrimary } from './ipc-messages.js';

function send(message: ToPrimary): void {
  // The channel closes when the primary is gone (node:cluster then ends the worker itself).
  if (process.send !== undefined && process.connected) process.send(message, undefined, undefined, () => undefined);
}

async function answer(balancer: Balancer, what: QueryKind): Promise<unknown> {
  switch (what) {
    case 'upstreams':
      return balancer.upstreams();
    case 'traffic':
      return balancer.traffic.seconds();
    case 'metrics':
      return balancer.registry.getMetricsAsJSON();
  }
}

/**
 * One cluster worker (BALANCER_WORKERS > 1): the whole data plane of
 * buildBalancer on the data port that node:cluster shares between workers,
 * without an admin port. Endpoints come from the primary over IPC; the
 * primary's admin port asks for the upstream table, traffic and metrics.
 * The graceful shutdown is the balancer's own, started once by whichever
 * comes first: the primary's drain message or a signal to this process
 * (Ctrl-C reaches the whole process group).
 */
export async function runClusterWorker(config: BalancerConfig, logger: Logger, accessLog: AccessLog): Promise<void> {
  const source = new IpcEndpointSource({ askPrimary: () => send({ type: 'flotilla:hello' }) });
  const balancer = buildBalancer(config, { source, logger, accessLog, adminServer: false });
  let started = false;
  const sendState = (): void => {
    const state = balancer.readiness();
    send({ type: 'flotilla:state', ready: state.ready, ...(state.reason !== undefined ? { reason: state.reason } : {}) });
  };
  const beginShutdown = installShutdown({ logger, timeoutMs: config.shutdownTimeoutMs, onSignal: () => balancer.shutdown(), quietRepeats: true });
  process.on('message', (raw: unknown) => {
    const message = parseToWorker(raw);
    if (message === undefined) {
      if (typeof raw === 'object' && raw !== null && String((raw as { type?: unknown }).type).startsWith('flotilla:')) logger.warn({ message: raw }, 'malformed message from the primary; dropped');
      return;
    }
    switch (message.type) {
      case 'flotilla:endpoints':
        source.receive(message.description, message.endpoints);
        if (started) sendState();
        return;
      case 'flotilla:query':
        answer(balancer, message.what).then(
          (body) => send({ type: 'flotilla:reply', id: message.id, ok: true, body }),
          (err: unknown) => send({ type: 'flotilla:reply', id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
        );
        return;
      case 'flotilla:drain':
        // Not listening yet: nothing to drain.
        if (!started) process.exit(0);
        beginShutdown(message.signal);
        return;
    }
  });
  const { port, redirectPort } = await balancer.start();
  started = true;
  send({ type: 'flotilla:listening', port, ...(redirectPort !== undefined ? { redirectPort } : {}) });
  sendState();
}
