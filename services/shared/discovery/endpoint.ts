/**
 * One upstream address as discovery reports it. The conditions follow
 * discovery.k8s.io/v1 EndpointConditions
 * (https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/#conditions):
 * `ready` is never true while terminating; `serving` ignores termination.
 */
export interface Endpoint {
  /** Stable identity, "host:port" (IPv6 hosts in brackets). */
  readonly id: string;
  readonly host: string;
  /** The data port that requests go to. */
  readonly port: number;
  /** The admin port for active /readyz checks, when known. */
  readonly adminPort?: number;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  /** A pod name or other human label, when the source knows one. */
  readonly name?: string;
  readonly zone?: string;
}

export type EndpointListener = (endpoints: readonly Endpoint[]) => void;

/**
 * A source of endpoints: static list, Kubernetes EndpointSlices or DNS. The
 * balancer and the workers depend only on this interface, so a new source
 * plugs in without changes to either.
 */
export interface EndpointSource {
  /** A short description for logs, such as "static(3)" or "kubernetes(ns/svc)". */
  readonly description: string;
  /** Starts watching; resolves after the first complete view (or a bounded wait for it). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The last known good set. Never emptied because the source is briefly unreachable. */
  current(): readonly Endpoint[];
  /** Called with the full set on every change; returns an unsubscribe function. */
  subscribe(listener: EndpointListener): () => void;
}

export function endpointId(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Formats an endpoint's data origin, e.g. "http://10.0.0.7:8080". */
export function endpointOrigin(endpoint: Pick<Endpoint, 'host' | 'port'>): string {
  return `http://${endpointId(endpoint.host, endpoint.port)}`;
}
