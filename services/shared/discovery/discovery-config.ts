import { readFileSync } from 'node:fs';
import type { EnvReader } from '../env-reader.js';
import type { Logger } from '../logger.js';
import { DnsEndpointSource } from './dns-source.js';
import type { EndpointSource } from './endpoint.js';
import { KubernetesEndpointSource } from './kubernetes-source.js';
import { parseStaticEndpoint, StaticEndpointSource } from './static-source.js';

export const DISCOVERY_KINDS = ['static', 'kubernetes', 'dns'] as const;

export type DiscoveryConfig =
  | { readonly kind: 'static'; readonly entries: readonly string[] }
  | {
      readonly kind: 'kubernetes';
      readonly namespace: string;
      readonly service: string;
      readonly portName?: string;
      readonly adminPortName?: string;
    }
  | { readonly kind: 'dns'; readonly hostname: string; readonly port: number; readonly adminPort?: number; readonly intervalMs: number };

const NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/**
 * Reads the discovery settings shared by the balancer (workers) and the
 * worker (peers). `staticVariable` names the list used by the static source
 * (UPSTREAMS for the balancer, PEERS for the worker).
 */
export function readDiscoveryConfig(r: EnvReader, staticVariable: string): DiscoveryConfig {
  const kind = r.oneOf('DISCOVERY', DISCOVERY_KINDS, 'static');
  if (kind === 'static') {
    const entries = r.list(staticVariable);
    for (const entry of entries) {
      try {
        parseStaticEndpoint(entry);
      } catch (err) {
        r.problem(`${staticVariable}: ${(err as Error).message}`);
      }
    }
    return { kind, entries };
  }
  if (kind === 'kubernetes') {
    const service = r.optionalString('DISCOVERY_SERVICE');
    if (service === undefined) r.problem('DISCOVERY_SERVICE: required when DISCOVERY=kubernetes (the worker Service name)');
    const portName = r.optionalString('DISCOVERY_PORT_NAME');
    const adminPortName = r.optionalString('DISCOVERY_ADMIN_PORT_NAME');
    return {
      kind,
      namespace: r.string('DISCOVERY_NAMESPACE', r.string('POD_NAMESPACE', inClusterNamespace() ?? 'default')),
      service: service ?? '',
      ...(portName !== undefined ? { portName } : {}),
      ...(adminPortName !== undefined ? { adminPortName } : {}),
    };
  }
  const hostname = r.optionalString('DISCOVERY_DNS_NAME');
  if (hostname === undefined) r.problem('DISCOVERY_DNS_NAME: required when DISCOVERY=dns (a headless Service name)');
  const adminPort = r.has('DISCOVERY_DNS_ADMIN_PORT') ? r.port('DISCOVERY_DNS_ADMIN_PORT', 9090) : undefined;
  return {
    kind,
    hostname: hostname ?? '',
    port: r.int('DISCOVERY_DNS_PORT', 8080, { min: 1, max: 65535 }),
    ...(adminPort !== undefined ? { adminPort } : {}),
    intervalMs: r.int('DISCOVERY_DNS_INTERVAL_MS', 5_000, { min: 100, max: 600_000 }),
  };
}

function inClusterNamespace(): string | undefined {
  try {
    return readFileSync(NAMESPACE_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function createEndpointSource(config: DiscoveryConfig, logger: Logger): EndpointSource {
  switch (config.kind) {
    case 'static':
      return new StaticEndpointSource(config.entries);
    case 'kubernetes':
      return new KubernetesEndpointSource({ ...config, logger: logger.child({ component: 'discovery' }) });
    case 'dns':
      return new DnsEndpointSource({ ...config, logger: logger.child({ component: 'discovery' }) });
  }
}
