import { findAll, labelsMatch, portNumber, type K8sObject, type Workload } from './render.js';

/** The raw YAML shape (client-node's model renames `from` to `_from`). */
interface NetworkPolicy extends K8sObject {
  readonly spec: {
    readonly podSelector: { readonly matchLabels?: Record<string, string> };
    readonly policyTypes?: string[];
    readonly ingress?: {
      readonly from?: { readonly podSelector?: { readonly matchLabels?: Record<string, string> }; readonly namespaceSelector?: unknown; readonly ipBlock?: unknown }[];
      readonly ports?: { readonly port?: number | string; readonly protocol?: string }[];
    }[];
  };
}

/** A pod that sends traffic: its labels (empty for a pod outside Flotilla, e.g. Prometheus). */
export interface Peer {
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Decides, as a NetworkPolicy implementation would for ingress within one
 * namespace, whether `from` may open a connection to `to` on a container port.
 * A pod no policy selects accepts everything; a selected pod accepts only what
 * one of its policies' rules allows (rules are a union).
 * https://kubernetes.io/docs/concepts/services-networking/network-policies/
 * Only the parts these manifests use are modelled: podSelector matchLabels,
 * rules with or without `from`, ports by name or number.
 */
export function ingressAllowed(objects: readonly K8sObject[], from: Peer, to: Workload, port: number): boolean {
  const podLabels = to.template.metadata?.labels ?? {};
  const policies = findAll<NetworkPolicy>(objects, 'NetworkPolicy').filter(
    (p) => (p.spec.policyTypes ?? ['Ingress']).includes('Ingress') && labelsMatch(p.spec.podSelector.matchLabels, podLabels),
  );
  if (policies.length === 0) return true;
  const containers = to.template.spec?.containers ?? [];
  return policies.some((policy) =>
    (policy.spec.ingress ?? []).some((rule) => {
      const fromOk =
        rule.from === undefined ||
        rule.from.length === 0 ||
        rule.from.some((peer) => {
          if (peer.ipBlock !== undefined || peer.namespaceSelector !== undefined) {
            throw new Error(`${policy.metadata.name}: ipBlock/namespaceSelector peers are not modelled by this test`);
          }
          return labelsMatch(peer.podSelector?.matchLabels, from.labels);
        });
      const portOk =
        rule.ports === undefined ||
        rule.ports.length === 0 ||
        rule.ports.some((p) => containers.some((c) => portNumber(c, p.port) === port));
      return fromOk && portOk;
    }),
  );
}
