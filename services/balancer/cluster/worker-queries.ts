import type { Worker } from 'node:cluster';
import type { QueryKind, ToPrimary, ToWorker } from './ipc-messages.js';

type Reply = Extract<ToPrimary, { type: 'flotilla:reply' }>;

interface Pending {
  readonly workerId: number;
  readonly resolve: (body: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * The primary's questions to its workers (upstream table, traffic, metrics):
 * one id per question, answered by a flotilla:reply with the same id, each
 * with a timeout so that a stuck worker cannot hang an admin request. A
 * worker that exits fails its open questions at once.
 */
export class WorkerQueries {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly timeoutMs: number) {}

  ask(worker: Worker, what: QueryKind): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(id, new Error(`worker ${worker.process.pid ?? worker.id} did not answer "${what}" within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.pending.set(id, { workerId: worker.id, resolve, reject, timer });
      const message: ToWorker = { type: 'flotilla:query', id, what };
      try {
        worker.send(message, (err) => {
          if (err) this.fail(id, err);
        });
      } catch (err) {
        this.fail(id, err as Error);
      }
    });
  }

  /** Asks every worker at once; answers come back in the workers' order, failures are collected apart. */
  async askAll(workers: readonly Worker[], what: QueryKind): Promise<{ answers: unknown[]; failures: string[] }> {
    const settled = await Promise.allSettled(workers.map((w) => this.ask(w, what)));
    const answers: unknown[] = [];
    const failures: string[] = [];
    for (const result of settled) {
      if (result.status === 'fulfilled') answers.push(result.value);
      else failures.push(result.reason instanceof Error ? result.reason.message : String(result.reason));
    }
    return { answers, failures };
  }

  onReply(reply: Reply): void {
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return; // timed out already
    this.pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (reply.ok) pending.resolve(reply.body);
    else pending.reject(new Error(reply.error));
  }

  workerExited(workerId: number): void {
    for (const [id, pending] of this.pending) if (pending.workerId === workerId) this.fail(id, new Error(`worker ${workerId} exited`));
  }

  private fail(id: number, err: Error): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    pending.reject(err);
  }
}
