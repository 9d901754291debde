import { lookup } from 'node:dns/promises';
import type { Logger } from '../logger.js';
import { endpointId, type Endpoint, type EndpointListener, type EndpointSource } from './endpoint.js';
import { sameEndpoints } from './endpoint-slices.js';
import { EndpointListeners } from './listeners.js';

export interface DnsSourceOptions {
  /** A headless Service name, e.g. worker.flotilla.svc.cluster.local. */
  readonly hostname: string;
  readonly port: number;
  readonly adminPort?: number;
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Replaceable for tests; defaults to the system resolver. */
  readonly resolve?: (hostname: string) => Promise<string[]>;
}

/**
 * Resolves a headless Service periodically: every address is a ready pod
 * (DNS publishes only ready endpoints). For clusters where the balancer may
 * not read the Kubernetes API. A failed lookup keeps the last known set.
 */
export class DnsEndpointSource implements EndpointSource {
  readonly description: string;
  private readonly listeners = new EndpointListeners();
  private endpoints: readonly Endpoint[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(private readonly options: DnsSourceOptions) {
    this.description = `dns(${options.hostname}:${options.port})`;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.refresh();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  current(): readonly Endpoint[] {
    return this.endpoints;
  }

  subscribe(listener: EndpointListener): () => void {
    return this.listeners.add(listener);
  }

  private async refresh(): Promise<void> {
    try {
      const resolve = this.options.resolve ?? defaultResolve;
      const addresses = [...new Set(await resolve(this.options.hostname))].sort();
      const next: Endpoint[] = addresses.map((host) => ({
        id: endpointId(host, this.options.port),
        host,
        port: this.options.port,
        ...(this.options.adminPort !== undefined ? { adminPort: this.options.adminPort } : {}),
        ready: true,
        serving: true,
        terminating: false,
      }));
      if (!sameEndpoints(next, this.endpoints)) {
        this.endpoints = Object.freeze(next);
        this.listeners.notify(this.endpoints);
      }
    } catch (err) {
      this.options.logger.warn({ source: this.description, error: (err as Error).message }, 'DNS lookup failed; keeping the last known endpoints');
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.refresh(), this.options.intervalMs);
      this.timer.unref();
    }
  }
}

async function defaultResolve(hostname: string): Promise<string[]> {
  const results = await lookup(hostname, { all: true });
  return results.map((r) => r.address);
}
