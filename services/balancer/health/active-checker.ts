import { Agent, request } from 'undici';
import { endpointId, type Logger } from '../../shared/index.js';
import type { UpstreamTable } from '../upstream/upstream-table.js';

export interface ActiveCheckOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
}

interface Streak {
  ok: number;
  failed: number;
}

/**
 * Optional active checks: GET /readyz on each endpoint's admin port (never
 * the data port, so checks do not compete with traffic or show up in the
 * worker's request metrics). `unhealthyThreshold` failures in a row mark an
 * endpoint unhealthy, `healthyThreshold` successes bring it back (with a new
 * slow start). Endpoints without a known admin port are not checked.
 */
export class ActiveHealthChecker {
  private readonly agent: Agent;
  private readonly streaks = new Map<string, Streak>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly table: UpstreamTable,
    private readonly options: ActiveCheckOptions,
    private readonly logger: Logger,
  ) {
    this.agent = new Agent({ connections: 1, keepAliveTimeout: Math.max(1_000, options.intervalMs * 2), connect: { timeout: options.timeoutMs } });
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.checkAll(), this.options.intervalMs);
    this.timer.unref();
    void this.checkAll();
  }

  async checkAll(): Promise<void> {
    // One round at a time: a slow round must not pile up concurrent checks.
    if (this.running) return;
    this.running = true;
    try {
      const live = new Set<string>();
      await Promise.all(
        this.table.all().map(async (upstream) => {
          live.add(upstream.id);
          const adminPort = upstream.endpoint.adminPort;
          if (adminPort === undefined) return;
          const ok = await this.probe(`http://${endpointId(upstream.endpoint.host, adminPort)}/readyz`);
          const streak = this.streaks.get(upstream.id) ?? { ok: 0, failed: 0 };
          this.streaks.set(upstream.id, streak);
          if (ok) {
            streak.ok += 1;
            streak.failed = 0;
          } else {
            streak.failed += 1;
            streak.ok = 0;
          }
          const was = upstream.activeHealthy;
          if (ok && streak.ok >= this.options.healthyThreshold && was !== true) {
            upstream.activeHealthy = true;
            if (was === false) {
              upstream.judgeAfresh(Date.now());
              this.logger.info({ upstream: upstream.id }, 'endpoint passes active checks again');
            }
          } else if (!ok && streak.failed >= this.options.unhealthyThreshold && was !== false) {
            upstream.activeHealthy = false;
            upstream.recordError('active check failed');
            this.logger.warn({ upstream: upstream.id }, 'endpoint fails active checks');
          }
        }),
      );
      for (const id of this.streaks.keys()) if (!live.has(id)) this.streaks.delete(id);
      this.table.refreshStateMetrics();
    } finally {
      this.running = false;
    }
  }

  private async probe(url: string): Promise<boolean> {
    try {
      const res = await request(url, { dispatcher: this.agent, signal: AbortSignal.timeout(this.options.timeoutMs) });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 300;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.agent.close();
  }
}
