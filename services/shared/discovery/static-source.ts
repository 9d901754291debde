import { FlotillaError } from '../errors.js';
import { endpointId, type Endpoint, type EndpointListener, type EndpointSource } from './endpoint.js';
import { EndpointListeners } from './listeners.js';

/**
 * Parses a static upstream entry: `http://host:port` or `host:port`, with an
 * optional admin port for active health checks as `?admin=PORT`, e.g.
 * `http://127.0.0.1:8081?admin=9091`.
 */
export function parseStaticEndpoint(entry: string): Endpoint {
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry);
  const withScheme = hasScheme ? entry : `http://${entry}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (cause) {
    throw new FlotillaError('FLT_ERR_ENDPOINT', `"${entry}" is not a valid host:port or http:// URL`, { cause });
  }
  if (url.protocol !== 'http:') {
    throw new FlotillaError('FLT_ERR_ENDPOINT', `"${entry}": only http:// upstreams are supported`);
  }
  // new URL() drops the default port 80, so "http://host" means port 80; a
  // bare "host" without a port is more likely a mistake than a wish for 80.
  if (url.port === '' && !hasScheme) throw new FlotillaError('FLT_ERR_ENDPOINT', `"${entry}": a port is required`);
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new FlotillaError('FLT_ERR_ENDPOINT', `"${entry}": a path is not allowed`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? 80 : Number(url.port);
  const adminParam = url.searchParams.get('admin');
  let adminPort: number | undefined;
  if (adminParam !== null) {
    adminPort = Number(adminParam);
    if (!Number.isInteger(adminPort) || adminPort < 1 || adminPort > 65535) {
      throw new FlotillaError('FLT_ERR_ENDPOINT', `"${entry}": admin port must be 1..65535`);
    }
  }
  return {
    id: endpointId(host, port),
    host,
    port,
    ...(adminPort !== undefined ? { adminPort } : {}),
    ready: true,
    serving: true,
    terminating: false,
  };
}

/** A fixed list of endpoints, always ready: local runs and tests. */
export class StaticEndpointSource implements EndpointSource {
  readonly description: string;
  private readonly endpoints: readonly Endpoint[];
  private readonly listeners = new EndpointListeners();

  constructor(entries: readonly string[]) {
    const byId = new Map<string, Endpoint>();
    for (const endpoint of entries.map(parseStaticEndpoint)) byId.set(endpoint.id, endpoint);
    this.endpoints = Object.freeze([...byId.values()]);
    this.description = `static(${this.endpoints.length})`;
  }

  async start(): Promise<void> {
    this.listeners.notify(this.endpoints);
  }

  async stop(): Promise<void> {}

  current(): readonly Endpoint[] {
    return this.endpoints;
  }

  subscribe(listener: EndpointListener): () => void {
    return this.listeners.add(listener);
  }
}
