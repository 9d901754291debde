import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Service } from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { find, kustomize, REPO_ROOT, workloads, type K8sObject } from './render.js';

interface Artifact {
  readonly image: string;
  readonly docker?: { readonly dockerfile?: string };
  readonly custom?: { readonly buildCommand?: string; readonly dependencies?: { readonly paths?: readonly string[] } };
}
interface PortForward {
  readonly resourceType: string;
  readonly resourceName: string;
  readonly namespace?: string;
  readonly port: number;
  readonly localPort?: number;
}
interface Pipeline {
  readonly build?: { readonly artifacts?: readonly Artifact[]; readonly local?: { readonly push?: boolean } };
  readonly manifests?: { readonly kustomize?: { readonly paths?: readonly string[] } };
  readonly deploy?: { readonly kubectl?: object };
  readonly portForward?: readonly PortForward[];
}
interface SkaffoldConfig extends Pipeline {
  readonly apiVersion: string;
  readonly kind: string;
  readonly profiles?: readonly (Pipeline & { readonly name: string })[];
}

const config = load(readFileSync(join(REPO_ROOT, 'skaffold.yaml'), 'utf8')) as SkaffoldConfig;

describe('when skaffold.yaml is read', () => {
  test('then it uses the current v4beta schema', () => {
    expect(config.apiVersion).toMatch(/^skaffold\/v4beta\d+$/);
    expect(Number(config.apiVersion.replace('skaffold/v4beta', ''))).toBeGreaterThanOrEqual(11);
    expect(config.kind).toBe('Config');
  });

  test('then it builds both images from their Dockerfiles, under the names the manifests use', () => {
    const artifacts = config.build?.artifacts ?? [];
    expect(artifacts.map((a) => [a.image, a.docker?.dockerfile])).toEqual([
      ['flotilla-balancer', 'Dockerfile.balancer'],
      ['flotilla-worker', 'Dockerfile.worker'],
    ]);
    for (const a of artifacts) expect(existsSync(join(REPO_ROOT, a.docker?.dockerfile ?? ''))).toBe(true);
  });

  test('then it renders with kustomize and deploys with kubectl', () => {
    expect(config.manifests?.kustomize?.paths).toEqual(['k8s/overlays/dev']);
    expect(config.deploy?.kubectl).toBeDefined();
  });

  test.each([
    { profile: 'dev', overlay: 'k8s/overlays/dev' },
    { profile: 'prod', overlay: 'k8s/overlays/prod' },
  ])('then the $profile profile deploys $overlay and port-forwards the balancer Service that overlay creates', ({ profile, overlay }) => {
    const p = config.profiles?.find((x) => x.name === profile);
    expect(p?.manifests?.kustomize?.paths).toEqual([overlay]);
    const objects = kustomize(join(REPO_ROOT, overlay));
    // Every image skaffold builds replaces one the pods run.
    const images = workloads(objects).flatMap((w) => (w.template.spec?.containers ?? []).map((c) => (c.image ?? '').split(':')[0]));
    for (const a of p?.build?.artifacts ?? config.build?.artifacts ?? []) expect(images).toContain(a.image);

    const forwards = p?.portForward ?? config.portForward ?? [];
    const balancer = forwards.find((f) => f.resourceName === 'balancer');
    expect(balancer?.resourceType).toBe('service');
    for (const f of forwards) {
      const service = find<V1Service & K8sObject>(objects, 'Service', f.resourceName);
      expect(f.namespace).toBe(service.metadata.namespace);
      expect(service.spec?.ports?.map((port) => port.port)).toContain(f.port);
    }
  });

  test('then the local-cluster profile builds both Dockerfiles with the buildah builder, pushes them and deploys the local-cluster overlay', () => {
    const p = config.profiles?.find((x) => x.name === 'local-cluster');
    expect(p?.manifests?.kustomize?.paths).toEqual(['k8s/overlays/local-cluster']);
    expect(p?.build?.local?.push).toBe(true);
    const artifacts = p?.build?.artifacts ?? [];
    expect(artifacts.map((a) => [a.image, a.custom?.buildCommand])).toEqual([
      ['flotilla-balancer', 'node dist/scripts/cluster/skaffold-build.js Dockerfile.balancer'],
      ['flotilla-worker', 'node dist/scripts/cluster/skaffold-build.js Dockerfile.worker'],
    ]);
    // A rebuild follows every file the image build copies: the .dockerignore allow-list.
    const allowed = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1).replace(/\/$/, '/**'));
    for (const a of artifacts) {
      const dockerfile = a.custom?.buildCommand?.split(' ').at(-1) ?? '';
      expect([...(a.custom?.dependencies?.paths ?? [])].sort()).toEqual([dockerfile, ...allowed].sort());
    }
    expect(existsSync(join(REPO_ROOT, 'scripts/cluster/skaffold-build.ts'))).toBe(true);
  });
});
