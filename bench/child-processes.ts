import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** stdout and stderr lines, kept for error messages and ready lines. */
  readonly lines: string[];
  /** performance.now() when each line arrived (same index as lines). */
  readonly lineTimes: number[];
  exited(): boolean;
}

/**
 * Every process the bench starts, each in its own process group (detached),
 * so that one kill(-pid) also reaches nginx's worker or anything a child
 * forks. stopAll() runs in a finally and from signal handlers: a failed run
 * must not leave an nginx or HAProxy listening behind it.
 */
export class ChildProcesses {
  private readonly children = new Set<Child>();
  private readonly onExit = (): void => this.killAllNow();

  constructor() {
    // Last resort when the runner dies without reaching its finally block.
    process.on('exit', this.onExit);
  }

  start(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): Child {
    const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
    const lines: string[] = [];
    const lineTimes: number[] = [];
    let done = false;
    child.once('exit', () => {
      done = true;
    });
    // An unhandled 'error' (ENOENT for a missing binary) would crash the runner before cleanup.
    child.on('error', (err) => lines.push(`spawn error: ${err.message}`));
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        // Bounded: a chatty child must not grow the runner's memory without limit.
        if (lines.length >= 10_000) return;
        lines.push(line);
        lineTimes.push(performance.now());
      });
    }
    const handle: Child = { name, process: child, pid: child.pid, lines, lineTimes, exited: () => done };
    this.children.add(handle);
    return handle;
  }

  /** Resolves with the first line that matches, rejecting on exit or timeout. */
  async waitForLine(child: Child, match: (line: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = child.lines.find(match);
      if (found !== undefined) return found;
      if (child.exited()) throw new Error(`${child.name} exited before it was ready:\n${child.lines.slice(-20).join('\n')}`);
      if (Date.now() > deadline) throw new Error(`${child.name} not ready after ${timeoutMs} ms:\n${child.lines.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGKILL of the process alone (not its group): a crash, as in the failover scenario. */
  crash(child: Child): void {
    if (!child.exited()) process.kill(child.pid, 'SIGKILL');
  }

  /** SIGTERM to the group, SIGKILL after graceMs. */
  async stop(child: Child, graceMs = 3_000): Promise<void> {
    if (!child.exited()) {
      const exit = once(child.process, 'exit');
      signalGroup(child.pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    }
    // The leader may be gone while something it forked is still in the group.
    signalGroup(child.pid, 'SIGKILL');
    this.children.delete(child);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children].map((child) => this.stop(child)));
  }

  /** Synchronous, for process 'exit': no time to wait for graceful exits. */
  killAllNow(): void {
    for (const child of this.children) signalGroup(child.pid, 'SIGKILL');
    this.children.clear();
  }

  dispose(): void {
    process.off('exit', this.onExit);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}
