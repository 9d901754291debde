import type { LocalRunState } from '../../local/index.js';
import { isProcessAlive } from '../../local/index.js';

export const CHAOS_MODES = ['kill', 'term', 'stop'] as const;
export type ChaosMode = (typeof CHAOS_MODES)[number];

const SIGNALS: Record<ChaosMode, NodeJS.Signals> = { kill: 'SIGKILL', term: 'SIGTERM', stop: 'SIGSTOP' };

export interface ChaosEvent {
  readonly atMs: number;
  readonly worker: string;
  readonly pid: number;
  readonly signal: NodeJS.Signals;
}

export interface ChaosOptions {
  readonly mode: ChaosMode;
  readonly intervalMs: number;
  /** For stop: how long a worker stays paused before SIGCONT. */
  readonly pauseMs: number;
  /** Re-read on every round: restarted workers have new PIDs. */
  readonly readState: () => LocalRunState | undefined;
  readonly random: () => number;
  readonly now: () => number;
  readonly onEvent?: (event: ChaosEvent) => void;
}

/**
 * Signals one random live worker of the local run every interval: SIGKILL (a
 * crash), SIGTERM (a rolling restart's graceful stop) or SIGSTOP then
 * SIGCONT (a hung process). The supervisor restarts the dead ones.
 */
export class ChaosMonkey {
  readonly events: ChaosEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly paused = new Map<number, NodeJS.Timeout>();
  private running = false;

  constructor(private readonly options: ChaosOptions) {}

  start(): void {
    this.running = true;
    this.schedule();
  }

  /** Stops the rounds and continues every worker it paused, so the read-back sees a whole system. */
  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    for (const [pid, timer] of this.paused) {
      clearTimeout(timer);
      this.resume(pid);
    }
    this.paused.clear();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      if (!this.running) return;
      this.strike();
      this.schedule();
    }, this.options.intervalMs);
  }

  private strike(): void {
    const state = this.options.readState();
    if (state === undefined) return;
    const candidates = state.workers.filter(
      (worker): worker is typeof worker & { pid: number } => worker.pid !== undefined && isProcessAlive(worker.pid) && !this.paused.has(worker.pid),
    );
    const target = candidates[Math.floor(this.options.random() * candidates.length)];
    if (target === undefined) return;
    const signal = SIGNALS[this.options.mode];
    try {
      process.kill(target.pid, signal);
    } catch {
      return;
    }
    const event = { atMs: Math.round(this.options.now()), worker: target.name, pid: target.pid, signal };
    this.events.push(event);
    this.options.onEvent?.(event);
    if (this.options.mode === 'stop') {
      this.paused.set(
        target.pid,
        setTimeout(() => {
          this.paused.delete(target.pid);
          this.resume(target.pid);
        }, this.options.pauseMs),
      );
    }
  }

  private resume(pid: number): void {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // Gone: nothing to continue.
    }
  }
}
