import type { CrashBackoff } from '../shared/index.js';
import { describeExit, ManagedChild, type ChildSpec, type ExitInfo } from './managed-child.js';
import { LocalError } from './errors.js';
import type { ProcessState } from './state-file.js';

export interface ReplicaOptions {
  readonly name: string;
  readonly url: string;
  readonly adminUrl: string;
  readonly spec: ChildSpec;
  /** Resolves true once the process takes traffic (its readiness probe). */
  readonly probe: () => Promise<boolean>;
  readonly backoff: CrashBackoff;
  readonly startTimeoutMs: number;
  readonly stopSignal: NodeJS.Signals;
  readonly stopTimeoutMs: number;
  /** Called whenever the PID changes, so the state file stays current. */
  readonly onChange: () => void;
  readonly log: (message: string) => void;
}

/**
 * Keeps one process running, as a ReplicaSet keeps a pod: when it dies
 * without being asked to, it is started again with the same command and the
 * same ports (the balancer's static upstream list names them) after a
 * growing backoff.
 */
export class Replica {
  private child: ManagedChild | undefined;
  private stopping = false;
  private supervising = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartCount = 0;

  constructor(private readonly options: ReplicaOptions) {}

  get name(): string {
    return this.options.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  state(): ProcessState {
    return { name: this.options.name, pid: this.pid, url: this.options.url, adminUrl: this.options.adminUrl, restarts: this.restartCount };
  }

  /** Starts the process and waits until it is ready; only then are crashes answered with restarts. */
  async start(): Promise<void> {
    const child = this.spawn();
    await this.waitReady(child);
    this.supervising = true;
  }

  async stop(): Promise<ExitInfo | undefined> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === undefined) return undefined;
    return child.stop(this.options.stopSignal, this.options.stopTimeoutMs);
  }

  private spawn(): ManagedChild {
    const child = ManagedChild.spawn(this.options.spec);
    this.child = child;
    this.options.onChange();
    void child.exited.then((exit) => this.onExit(child, exit));
    return child;
  }

  private async waitReady(child: ManagedChild): Promise<void> {
    const deadline = Date.now() + this.options.startTimeoutMs;
    while (Date.now() < deadline) {
      if (!child.running) {
        throw new LocalError('LOCAL_ERR_START_TIMEOUT', `${this.options.name} exited before it became ready (see ${this.options.spec.logFile})`);
      }
      if (this.stopping) return;
      if (await this.options.probe()) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new LocalError(
      'LOCAL_ERR_START_TIMEOUT',
      `${this.options.name} was not ready within ${this.options.startTimeoutMs} ms (see ${this.options.spec.logFile})`,
    );
  }

  private onExit(child: ManagedChild, exit: ExitInfo): void {
    if (child !== this.child) return;
    this.child = undefined;
    this.options.onChange();
    if (this.stopping || !this.supervising) return;
    const delay = this.options.backoff.next(Date.now() - child.startedAt);
    this.options.log(`${this.options.name} died (${describeExit(exit)}); restarting in ${delay} ms`);
    this.restartTimer = setTimeout(() => this.restart(), delay);
  }

  private restart(): void {
    if (this.stopping) return;
    this.restartCount += 1;
    const child = this.spawn();
    this.waitReady(child).then(
      () => {
        if (!this.stopping && child.running) this.options.log(`${this.options.name} is back (pid ${child.pid ?? '?'}, restart ${this.restartCount})`);
      },
      (err: unknown) => this.options.log(`${this.options.name} restart did not become ready: ${(err as Error).message}`),
    );
  }
}
