import type { V1EndpointSlice } from '@kubernetes/client-node';
import { endpointId, type Endpoint } from './endpoint.js';

export interface SlicePorts {
  /** Name of the data port in the Service (EndpointSlice port name); undefined = the only port. */
  readonly portName?: string;
  /** Name of the admin port, used for active readiness checks. */
  readonly adminPortName?: string;
}

/**
 * Turns all EndpointSlices of one Service into one endpoint list.
 * - Conditions per https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/#conditions:
 *   a missing `ready` means true, a missing `serving` means `ready`, a missing `terminating` false.
 * - An endpoint may sit in two slices while the controller moves it; it is
 *   merged conservatively: ready/serving only if every copy says so,
 *   terminating if any copy says so (never send new work to a pod that may be leaving).
 * - FQDN address types are skipped: the balancer dials IPs.
 */
export function endpointsFromSlices(slices: Iterable<V1EndpointSlice>, ports: SlicePorts): Endpoint[] {
  const byId = new Map<string, Endpoint>();
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue;
    const dataPort = pickPort(slice, ports.portName);
    if (dataPort === undefined) continue;
    const adminPort = ports.adminPortName !== undefined ? pickPort(slice, ports.adminPortName) : undefined;
    for (const entry of slice.endpoints ?? []) {
      const ready = entry.conditions?.ready ?? true;
      const terminating = entry.conditions?.terminating ?? false;
      const serving = entry.conditions?.serving ?? ready;
      const name = entry.targetRef?.name;
      for (const host of entry.addresses) {
        const id = endpointId(host, dataPort);
        const endpoint: Endpoint = {
          id,
          host,
          port: dataPort,
          ...(adminPort !== undefined ? { adminPort } : {}),
          ready: ready && !terminating,
          serving,
          terminating,
          ...(name !== undefined ? { name } : {}),
          ...(entry.zone !== undefined ? { zone: entry.zone } : {}),
        };
        const seen = byId.get(id);
        byId.set(
          id,
          seen
            ? { ...seen, ready: seen.ready && endpoint.ready, serving: seen.serving && endpoint.serving, terminating: seen.terminating || endpoint.terminating }
            : endpoint,
        );
      }
    }
  }
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}

function pickPort(slice: V1EndpointSlice, name: string | undefined): number | undefined {
  const ports = slice.ports ?? [];
  const match = name === undefined ? (ports.length === 1 ? ports[0] : undefined) : ports.find((p) => (p.name ?? '') === name);
  return match?.port ?? undefined;
}

/** True when two endpoint lists say the same thing (to skip no-op notifications). */
export function sameEndpoints(a: readonly Endpoint[], b: readonly Endpoint[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i];
    return (
      y !== undefined &&
      x.id === y.id &&
      x.ready === y.ready &&
      x.serving === y.serving &&
      x.terminating === y.terminating &&
      x.adminPort === y.adminPort &&
      x.name === y.name
    );
  });
}
