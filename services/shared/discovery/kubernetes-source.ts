import { DiscoveryV1Api, KubeConfig, Watch, type V1EndpointSlice } from '@kubernetes/client-node';
import type { Logger } from '../logger.js';
import type { Endpoint, EndpointListener, EndpointSource } from './endpoint.js';
import { endpointsFromSlices, sameEndpoints, type SlicePorts } from './endpoint-slices.js';
import { EndpointListeners } from './listeners.js';

export interface KubernetesSourceOptions extends SlicePorts {
  readonly namespace: string;
  readonly service: string;
  readonly logger: Logger;
  /** A kubeconfig to use; default: in-cluster, else $KUBECONFIG / ~/.kube/config. */
  readonly kubeConfig?: KubeConfig;
  /** Limit for one list call and for the first view at start(). */
  readonly requestTimeoutMs?: number;
  /** First and largest pause between watch restarts. */
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
}

type WatchPhase = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/**
 * list+watch of the discovery.k8s.io/v1 EndpointSlices labelled
 * kubernetes.io/service-name=<service>, written out by hand rather than with
 * client-node's informer: the informer stops for good on errors other than
 * 410 and, after a restart, reports only new objects. Here:
 * - list, remember resourceVersion, watch from it (bookmarks on, server-side
 *   timeout of 4–6 minutes so a quiet watch is renewed cleanly);
 * - a watch that ends is resumed from the last resourceVersion; 410 Gone (or
 *   an ERROR event) leads to a full relist that replaces the whole set;
 * - errors back off exponentially with jitter, and the last known good set
 *   is kept meanwhile (never emptied because the API server is away).
 */
export class KubernetesEndpointSource implements EndpointSource {
  readonly description: string;
  private readonly listeners = new EndpointListeners();
  private readonly slices = new Map<string, V1EndpointSlice>();
  private endpoints: readonly Endpoint[] = [];
  private readonly kubeConfig: KubeConfig;
  private readonly api: DiscoveryV1Api;
  private resourceVersion: string | undefined;
  private stopped = false;
  private activeWatch: AbortController | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private firstView: Promise<void>;
  private resolveFirstView: () => void = () => undefined;

  constructor(private readonly options: KubernetesSourceOptions) {
    this.description = `kubernetes(${options.namespace}/${options.service})`;
    this.kubeConfig = options.kubeConfig ?? loadKubeConfig();
    this.api = this.kubeConfig.makeApiClient(DiscoveryV1Api);
    this.firstView = new Promise((resolve) => (this.resolveFirstView = resolve));
  }

  private get labelSelector(): string {
    return `kubernetes.io/service-name=${this.options.service}`;
  }

  async start(): Promise<void> {
    this.stopped = false;
    void this.relistAndWatch();
    // Start-up waits for the first list, but not forever: the caller's readiness reflects an empty set.
    const limit = this.options.requestTimeoutMs ?? 10_000;
    await Promise.race([this.firstView, new Promise((resolve) => setTimeout(resolve, limit).unref())]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.activeWatch?.abort();
    this.activeWatch = undefined;
  }

  current(): readonly Endpoint[] {
    return this.endpoints;
  }

  subscribe(listener: EndpointListener): () => void {
    return this.listeners.add(listener);
  }

  private async relistAndWatch(): Promise<void> {
    if (this.stopped) return;
    try {
      const list = await withTimeout(
        this.api.listNamespacedEndpointSlice({ namespace: this.options.namespace, labelSelector: this.labelSelector }),
        this.options.requestTimeoutMs ?? 10_000,
      );
      // A relist replaces everything: slices deleted while we were not watching disappear too.
      this.slices.clear();
      for (const slice of list.items) {
        const name = slice.metadata?.name;
        if (name !== undefined) this.slices.set(name, slice);
      }
      this.resourceVersion = list.metadata?.resourceVersion;
      this.publish();
      this.resolveFirstView();
      this.failures = 0;
      await this.watch();
    } catch (err) {
      this.scheduleRetry('list failed', err, () => this.relistAndWatch());
    }
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const timeoutSeconds = 240 + Math.floor(Math.random() * 120);
    const watch = new Watch(this.kubeConfig);
    let needsRelist = false;
    const path = `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(this.options.namespace)}/endpointslices`;
    const query = {
      labelSelector: this.labelSelector,
      allowWatchBookmarks: true,
      timeoutSeconds,
      ...(this.resourceVersion !== undefined ? { resourceVersion: this.resourceVersion } : {}),
    };
    const onEvent = (phase: string, object: V1EndpointSlice & { code?: number }): void => {
      const type = phase as WatchPhase;
      if (type === 'ERROR') {
        // Typically 410 Gone: our resourceVersion is too old to resume from.
        needsRelist = true;
        return;
      }
      const version = object.metadata?.resourceVersion;
      if (version !== undefined) this.resourceVersion = version;
      if (type === 'BOOKMARK') return;
      const name = object.metadata?.name;
      if (name === undefined) return;
      if (type === 'DELETED') this.slices.delete(name);
      else this.slices.set(name, object);
      this.failures = 0;
      this.publish();
    };
    const onDone = (err: unknown): void => {
      this.activeWatch = undefined;
      if (this.stopped) return;
      const status = (err as { statusCode?: number } | null)?.statusCode;
      if (needsRelist || status === 410) {
        this.options.logger.info({ source: this.description }, 'watch expired (410); relisting');
        void this.relistAndWatch();
      } else if (err) {
        this.scheduleRetry('watch failed', err, () => this.watch());
      } else {
        // The server closed a healthy watch (timeoutSeconds): resume at once.
        void this.watch();
      }
    };
    try {
      this.activeWatch = await watch.watch(path, query, onEvent, onDone);
    } catch (err) {
      onDone(err);
    }
  }

  private scheduleRetry(what: string, err: unknown, retry: () => Promise<void>): void {
    if (this.stopped) return;
    this.failures++;
    const min = this.options.backoffMinMs ?? 250;
    const max = this.options.backoffMaxMs ?? 10_000;
    const ceiling = Math.min(max, min * 2 ** Math.min(this.failures - 1, 10));
    const wait = ceiling / 2 + Math.random() * (ceiling / 2);
    this.options.logger.warn(
      { source: this.description, error: err instanceof Error ? err.message : String(err), failures: this.failures, retryInMs: Math.round(wait) },
      `${what}; keeping the last known endpoints`,
    );
    this.retryTimer = setTimeout(() => void retry(), wait);
    this.retryTimer.unref();
  }

  private publish(): void {
    const next = endpointsFromSlices(this.slices.values(), this.options);
    if (sameEndpoints(next, this.endpoints)) return;
    this.endpoints = Object.freeze(next);
    this.listeners.notify(this.endpoints);
  }
}

function loadKubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromDefault();
  return config;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Kubernetes API did not answer in ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
