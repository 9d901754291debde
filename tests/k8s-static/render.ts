import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type {
  V1ConfigMap,
  V1Container,
  V1Deployment,
  V1ObjectMeta,
  V1PodTemplateSpec,
  V1Secret,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { REPO_ROOT } from '../helpers/service-process.js';

// The repository root also from the compiled copy under dist/ (the bench imports tests/k8s).
export { REPO_ROOT };
export const K8S_DIR = join(REPO_ROOT, 'k8s');

/** kubectl from PATH, or the one named by KUBECTL (e.g. one built by scripts/k8s-binaries.sh). */
export const KUBECTL = process.env.KUBECTL ?? 'kubectl';

export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: V1ObjectMeta & { readonly name: string };
  readonly [field: string]: unknown;
}

/** Runs `kubectl kustomize` on a directory and parses every rendered document. */
export function kustomize(dir: string): K8sObject[] {
  const yaml = execFileSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return loadAll(yaml).filter((doc): doc is K8sObject => typeof doc === 'object' && doc !== null);
}

export function renderOverlay(name: string): K8sObject[] {
  return kustomize(join(K8S_DIR, 'overlays', name));
}

/**
 * Renders an overlay with extra components the way a user adds them: a
 * kustomization beside it (in a temporary folder; kustomize only takes
 * relative paths) that lists the overlay and the components.
 */
export function renderWithComponents(overlay: string, namespace: string, components: readonly string[]): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-kustomize-'));
  try {
    const rel = (path: string): string => relative(dir, join(K8S_DIR, path));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        `namespace: ${namespace}`,
        'resources:',
        `  - ${rel(`overlays/${overlay}`)}`,
        'components:',
        ...components.map((c) => `  - ${rel(`components/${c}`)}`),
        '',
      ].join('\n'),
    );
    return kustomize(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function findAll<T = K8sObject>(objects: readonly K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as unknown as T[];
}

export function find<T = K8sObject>(objects: readonly K8sObject[], kind: string, name: string): T {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return found as unknown as T;
}

/** Generated ConfigMaps and Secrets carry a hash suffix: find them by their base name. */
export function findGenerated<T = K8sObject>(objects: readonly K8sObject[], kind: string, baseName: string): T {
  const found = objects.find((o) => o.kind === kind && new RegExp(`^${baseName}-[a-z0-9]{10}$`).test(o.metadata.name));
  if (found === undefined) throw new Error(`no generated ${kind} ${baseName}-<hash> in the rendered manifests`);
  return found as unknown as T;
}

export interface Workload {
  readonly kind: string;
  readonly name: string;
  readonly template: V1PodTemplateSpec;
}

export function workloads(objects: readonly K8sObject[]): Workload[] {
  const result: Workload[] = [];
  for (const d of findAll<V1Deployment & K8sObject>(objects, 'Deployment')) {
    if (d.spec) result.push({ kind: 'Deployment', name: d.metadata.name, template: d.spec.template });
  }
  for (const s of findAll<V1StatefulSet & K8sObject>(objects, 'StatefulSet')) {
    if (s.spec) result.push({ kind: 'StatefulSet', name: s.metadata.name, template: s.spec.template });
  }
  return result;
}

export function workload(objects: readonly K8sObject[], name: string): Workload {
  const found = workloads(objects).find((w) => w.name === name);
  if (found === undefined) throw new Error(`no workload ${name}`);
  return found;
}

export function container(w: Workload, name: string): V1Container {
  const found = [...(w.template.spec?.containers ?? []), ...(w.template.spec?.initContainers ?? [])].find(
    (c) => c.name === name,
  );
  if (found === undefined) throw new Error(`no container ${name} in ${w.name}`);
  return found;
}

export function allContainers(w: Workload): V1Container[] {
  return [...(w.template.spec?.initContainers ?? []), ...(w.template.spec?.containers ?? [])];
}

export interface EnvSubstitutes {
  /** Values for downward-API fields, by fieldPath. */
  readonly fields?: Readonly<Record<string, string>>;
  /** Values for secretKeyRef entries, by "secret/key"; dev's generated Secret is used when present. */
  readonly secrets?: Readonly<Record<string, string>>;
}

/**
 * The environment a container would see: its envFrom ConfigMaps, then its env
 * entries, with downward-API and Secret references filled in from `subst` (or
 * a generated Secret in the manifests). An unresolvable reference throws.
 */
export function containerEnv(objects: readonly K8sObject[], c: V1Container, subst: EnvSubstitutes = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of c.envFrom ?? []) {
    const name = source.configMapRef?.name;
    if (name === undefined) throw new Error(`${c.name}: only configMapRef envFrom is expected`);
    Object.assign(env, find<V1ConfigMap & K8sObject>(objects, 'ConfigMap', name).data ?? {});
  }
  for (const entry of c.env ?? []) {
    if (entry.value !== undefined) {
      env[entry.name] = entry.value;
      continue;
    }
    const field = entry.valueFrom?.fieldRef?.fieldPath;
    const secretRef = entry.valueFrom?.secretKeyRef;
    if (field !== undefined) {
      const value = subst.fields?.[field];
      if (value === undefined) throw new Error(`${c.name}: ${entry.name} needs a value for fieldRef ${field}`);
      env[entry.name] = value;
    } else if (secretRef !== undefined) {
      const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === secretRef.name) as (V1Secret & K8sObject) | undefined;
      const encoded = secret?.data?.[secretRef.key];
      const value = encoded !== undefined ? Buffer.from(encoded, 'base64').toString('utf8') : subst.secrets?.[`${secretRef.name}/${secretRef.key}`];
      if (value === undefined) throw new Error(`${c.name}: ${entry.name} refers to ${secretRef.name}/${secretRef.key}, which is unknown`);
      env[entry.name] = value;
    } else {
      throw new Error(`${c.name}: ${entry.name} has a value source this test does not know`);
    }
  }
  return env;
}

/** The container port number of a probe or Service target given by name or number. */
export function portNumber(c: V1Container, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  if (port !== undefined && /^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

export function labelsMatch(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}
