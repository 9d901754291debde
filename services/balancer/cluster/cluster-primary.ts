import cluster, { type Worker } from 'node:cluster';
import { CrashBackoff, type EndpointSource, type Logger, type Readiness } from '../../shared/index.js';
import type { BalancerConfig } from '../config.js';
import type { ClusterMetrics } from './cluster-metrics.js';
import { parseToPrimary, type ToWorker } from './ipc-messages.js';
import type { WorkerQueries } from './worker-queries.js';

/** Restart delays for a crashing worker: 100 ms doubling to 5 s; a worker up for 30 s counts as healthy again. */
const RESTART_BACKOFF = { baseMs: 100, maxMs: 5_000, stableAfterMs: 30_000 } as const;

interface Slot {
  readonly index: number;
  readonly backoff: CrashBackoff;
  worker: Worker | undefined;
  pid: number | undefined;
  startedAt: number;
  listening: boolean;
  state: Readiness;
  restarts: number;
  restartTimer: NodeJS.Timeout | undefined;
}

export interface WorkerInfo {
  readonly slot: number;
  readonly id: number | null;
  readonly pid: number | null;
  readonly listening: boolean;
  readonly ready: boolean;
  readonly reason: string | null;
  readonly restarts: number;
  readonly upForMs: number | null;
}

export interface ClusterPrimaryDeps {
  readonly source: EndpointSource;
  readonly logger: Logger;
  readonly queries: WorkerQueries;
  readonly metrics: ClusterMetrics;
}

/**
 * The workers' life cycle in the primary: fork BALANCER_WORKERS workers,
 * push the endpoint set to each, track who listens and who is ready, fork a
 * crashed worker again after a growing delay, and at shutdown tell every
 * worker to drain and wait for them all to exit. The primary never touches
 * a request: node:cluster hands connections on the shared data port to the
 * workers.
 */
export class ClusterPrimary {
  private readonly slots: Slot[];
  private readonly bySlotWorker = new Map<number, Slot>();
  private stopping = false;
  private drainSignal: NodeJS.Signals | undefined;
  private dataPort: number | undefined;
  /** The redirect listener's port (BALANCER_HTTP_REDIRECT_PORT), as the first worker to listen reported it. */
  redirectPort: number | undefined;
  private exitCodes: (number | null)[] = [];
  private allExited: (() => void) | undefined;
  private startWaiter: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly config: BalancerConfig,
    private readonly deps: ClusterPrimaryDeps,
  ) {
    this.slots = Array.from({ length: config.workers }, (_, index) => ({
      index,
      backoff: new CrashBackoff(RESTART_BACKOFF.baseMs, RESTART_BACKOFF.maxMs, RESTART_BACKOFF.stableAfterMs),
      worker: undefined,
      pid: undefined,
      startedAt: 0,
      listening: false,
      state: { ready: false, reason: 'starting' },
      restarts: 0,
      restartTimer: undefined,
    }));
  }

  get draining(): boolean {
    return this.stopping;
  }

  /** The data port the workers share, once one listens. */
  get port(): number | undefined {
    return this.dataPort;
  }

  /** Workers bound to the data port: the ones that get connections and answer admin questions. */
  listeningWorkers(): Worker[] {
    return this.slots.filter((s) => s.listening && s.worker?.isConnected() === true).map((s) => s.worker as Worker);
  }

  readiness(): Readiness {
    if (this.stopping) return { ready: false, reason: 'draining' };
    const listening = this.slots.filter((s) => s.listening);
    if (listening.length === 0) return { ready: false, reason: 'starting' };
    const notReady = listening.find((s) => !s.state.ready);
    if (notReady !== undefined) return { ready: false, reason: `worker ${notReady.pid}: ${notReady.state.reason ?? 'not ready'}` };
    return { ready: true };
  }

  workers(): WorkerInfo[] {
    const now = Date.now();
    return this.slots.map((s) => ({
      slot: s.index,
      id: s.worker?.id ?? null,
      pid: s.pid ?? null,
      listening: s.listening,
      ready: s.listening && s.state.ready,
      reason: s.state.reason ?? null,
      restarts: s.restarts,
      upForMs: s.worker !== undefined ? now - s.startedAt : null,
    }));
  }

  /** Forks every worker and resolves once all of them listen; rejects if one exits first. */
  async start(): Promise<void> {
    cluster.on('message', this.onMessage);
    cluster.on('exit', this.onExit);
    this.unsubscribe = this.deps.source.subscribe(() => this.broadcastEndpoints());
    const allListening = new Promise<void>((resolve, reject) => (this.startWaiter = { resolve, reject }));
    for (const slot of this.slots) this.fork(slot);
    await allListening;
  }

  /** Readiness off at once, every worker drains (its own drain delay, in-flight requests), resolves when all have exited. */
  async shutdown(signal: NodeJS.Signals): Promise<void> {
    this.stopping = true;
    this.drainSignal = signal;
    this.unsubscribe?.();
    const live = this.slots.filter((s) => s.worker !== undefined);
    this.deps.logger.info({ workers: live.length, drainDelayMs: this.config.drainDelayMs }, 'draining: readiness off, workers drain');
    const exited = new Promise<void>((resolve) => (this.allExited = resolve));
    for (const slot of this.slots) {
      clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
    }
    const drain: ToWorker = { type: 'flotilla:drain', signal };
    for (const slot of live) this.send(slot, drain);
    if (live.length > 0) await exited;
    cluster.off('message', this.onMessage);
    const failed = this.exitCodes.filter((code) => code !== 0);
    if (failed.length > 0) throw new Error(`${failed.length} worker(s) did not exit cleanly (exit codes ${failed.join(', ')})`);
  }

  /** Past the shutdown limit, or when start-up failed: no worker may outlive the primary. */
  killAll(): void {
    this.stopping = true;
    for (const slot of this.slots) {
      clearTimeout(slot.restartTimer);
      if (slot.worker !== undefined && slot.pid !== undefined) {
        try {
          process.kill(slot.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }

  private fork(slot: Slot): void {
    slot.restartTimer = undefined;
    const worker = cluster.fork();
    slot.worker = worker;
    slot.pid = worker.process.pid;
    slot.startedAt = Date.now();
    slot.listening = false;
    slot.state = { ready: false, reason: 'starting' };
    this.bySlotWorker.set(worker.id, slot);
    this.deps.logger.debug({ slot: slot.index, workerId: worker.id, workerPid: slot.pid }, 'balancer worker forked');
  }

  private send(slot: Slot, message: ToWorker): void {
    const worker = slot.worker;
    if (worker === undefined || !worker.isConnected()) return;
    try {
      worker.send(message, (err) => {
        if (err) this.deps.logger.warn({ err, workerPid: slot.pid, type: message.type }, 'could not send to a worker');
      });
    } catch (err) {
      this.deps.logger.warn({ err, workerPid: slot.pid, type: message.type }, 'could not send to a worker');
    }
  }

  private endpointsMessage(): ToWorker {
    return { type: 'flotilla:endpoints', description: this.deps.source.description, endpoints: this.deps.source.current() };
  }

  private broadcastEndpoints(): void {
    const message = this.endpointsMessage();
    for (const slot of this.slots) this.send(slot, message);
  }

  private readonly onMessage = (worker: Worker, raw: unknown): void => {
    const slot = this.bySlotWorker.get(worker.id);
    if (slot === undefined || slot.worker !== worker) return;
    const message = parseToPrimary(raw);
    if (message === undefined) {
      if (typeof raw === 'object' && raw !== null && String((raw as { type?: unknown }).type).startsWith('flotilla:')) {
        this.deps.logger.warn({ workerPid: slot.pid, message: raw }, 'malformed message from a worker; dropped');
      }
      return;
    }
    switch (message.type) {
      case 'flotilla:hello':
        this.send(slot, this.endpointsMessage());
        // A drain sent before the worker listened for messages is lost: say it again.
        if (this.stopping && this.drainSignal !== undefined) this.send(slot, { type: 'flotilla:drain', signal: this.drainSignal });
        return;
      case 'flotilla:listening':
        this.onListening(slot, message.port);
        this.redirectPort ??= message.redirectPort;
        return;
      case 'flotilla:state':
        slot.state = message.reason !== undefined ? { ready: message.ready, reason: message.reason } : { ready: message.ready };
        return;
      case 'flotilla:reply':
        this.deps.queries.onReply(message);
        return;
    }
  };

  private onListening(slot: Slot, port: number): void {
    slot.listening = true;
    if (this.dataPort === undefined) this.dataPort = port;
    else if (port !== this.dataPort) this.deps.logger.error({ workerPid: slot.pid, port, expected: this.dataPort }, 'a worker listens on another data port');
    if (slot.restarts > 0) this.deps.logger.info({ slot: slot.index, workerPid: slot.pid, restarts: slot.restarts }, 'balancer worker back');
    if (this.startWaiter !== undefined && this.slots.every((s) => s.listening)) {
      this.startWaiter.resolve();
      this.startWaiter = undefined;
    }
  }

  private readonly onExit = (worker: Worker, code: number | null, signal: string | null): void => {
    const slot = this.bySlotWorker.get(worker.id);
    this.bySlotWorker.delete(worker.id);
    this.deps.queries.workerExited(worker.id);
    if (slot === undefined || slot.worker !== worker) return;
    const ranForMs = Date.now() - slot.startedAt;
    const wasListening = slot.listening;
    slot.worker = undefined;
    slot.listening = false;
    slot.state = { ready: false, reason: 'not running' };
    const fields = { slot: slot.index, workerPid: slot.pid, code, signal, ranForMs };
    if (this.stopping) {
      this.exitCodes.push(signal !== null ? null : code);
      this.deps.logger.info(fields, 'balancer worker exited');
      if (this.slots.every((s) => s.worker === undefined)) this.allExited?.();
      return;
    }
    if (this.startWaiter !== undefined && !wasListening) {
      // A worker that cannot start (port taken, bad config) would fail again: give up.
      this.startWaiter.reject(new Error(`balancer worker ${slot.pid} exited during start-up (code ${code}, signal ${signal})`));
      this.startWaiter = undefined;
      return;
    }
    const delayMs = slot.backoff.next(ranForMs);
    slot.restarts += 1;
    this.deps.metrics.restarts.inc();
    this.deps.logger.error({ ...fields, restartInMs: delayMs, restarts: slot.restarts }, 'balancer worker exited unexpectedly; forking it again');
    slot.restartTimer = setTimeout(() => this.fork(slot), delayMs);
  };
}
