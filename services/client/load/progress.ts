import type { LatencyRecorder } from './latency.js';
import type { LoadStats } from './stats.js';

/**
 * A one-line live status on a terminal's stderr, redrawn in place once a
 * second: requests, rate over the last second, errors, p50/p99 so far.
 */
export class ProgressLine {
  private timer: NodeJS.Timeout | undefined;
  private lastRequests = 0;
  private lastAt: number;

  constructor(
    private readonly write: (text: string) => void,
    private readonly stats: LoadStats,
    private readonly latency: LatencyRecorder,
    private readonly now: () => number,
    private readonly startedAt: number,
    private readonly suffix: () => string = () => '',
  ) {
    this.lastAt = startedAt;
  }

  start(): void {
    this.timer = setInterval(() => this.draw(), 1_000);
  }

  stop(): void {
    clearInterval(this.timer);
    this.write('\r\u001b[2K');
  }

  private draw(): void {
    const now = this.now();
    const rate = ((this.stats.requests - this.lastRequests) * 1_000) / Math.max(1, now - this.lastAt);
    this.lastRequests = this.stats.requests;
    this.lastAt = now;
    const { p50Ms, p99Ms } = this.latency.summary();
    const elapsed = ((now - this.startedAt) / 1_000).toFixed(0);
    this.write(
      `\r\u001b[2K${elapsed.padStart(4)}s  ${this.stats.requests} reqs  ${rate.toFixed(0)}/s  ${this.stats.errors} errors  p50 ${p50Ms.toFixed(1)}ms  p99 ${p99Ms.toFixed(1)}ms${this.suffix()}`,
    );
  }
}
