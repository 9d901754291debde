import { Counter, Gauge, type Registry } from 'prom-client';

/** The cluster primary's own metrics, next to the workers' aggregated ones on /metrics. */
export class ClusterMetrics {
  readonly restarts: Counter;
  readonly workers: Gauge;
  /** Set by the primary: how many workers listen right now (read on every scrape). */
  countListening: () => number = () => 0;

  constructor(registry: Registry) {
    const count = (): number => this.countListening();
    this.restarts = new Counter({
      name: 'balancer_worker_restarts_total',
      help: 'Balancer worker processes forked again after one exited unexpectedly (BALANCER_WORKERS > 1)',
      registers: [registry],
    });
    this.workers = new Gauge({
      name: 'balancer_workers',
      help: 'Balancer worker processes listening on the data port (BALANCER_WORKERS > 1)',
      registers: [registry],
      collect() {
        this.set(count());
      },
    });
  }
}
