import { join } from 'node:path';
import type { ClusterContext } from '../context.js';
import { waitFor } from '../wait.js';
import { kubeconfigPath } from './pki.js';
import type { Step } from './step.js';

/**
 * etcd, kube-apiserver, kube-controller-manager and kube-scheduler as
 * processes in the cluster's namespaces, the way kubeadm's static pods
 * would run them, with one member each and no leader election.
 */

interface Component {
  readonly name: string;
  readonly args: (ctx: ClusterContext) => string[];
  /** A URL inside the namespace that answers 200 once the component is up. */
  readonly health: (ctx: ClusterContext) => string;
}

const STARTUP_TIMEOUT_MS = 120_000;

function pki(ctx: ClusterContext, file: string): string {
  return join(ctx.paths.pki, file);
}

function clientFlags(ctx: ClusterContext, user: 'kube-controller-manager' | 'kube-scheduler'): string[] {
  const kubeconfig = kubeconfigPath(ctx, user);
  return [`--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`];
}

const COMPONENTS: readonly Component[] = [
  {
    name: 'etcd',
    args: (ctx) => ['--data-dir', ctx.paths.etcdData, '--listen-client-urls', 'http://127.0.0.1:2379', '--listen-peer-urls', 'http://127.0.0.1:2380'],
    health: () => 'http://127.0.0.1:2379/health',
  },
  {
    name: 'kube-apiserver',
    args: (ctx) => [
      '--etcd-servers=http://127.0.0.1:2379',
      `--advertise-address=${ctx.config.nodeIp}`,
      `--secure-port=${ctx.config.apiServerPort}`,
      `--tls-cert-file=${pki(ctx, 'kube-apiserver.crt')}`,
      `--tls-private-key-file=${pki(ctx, 'kube-apiserver.key')}`,
      `--client-ca-file=${pki(ctx, 'ca.crt')}`,
      `--kubelet-client-certificate=${pki(ctx, 'apiserver-kubelet-client.crt')}`,
      `--kubelet-client-key=${pki(ctx, 'apiserver-kubelet-client.key')}`,
      `--kubelet-certificate-authority=${pki(ctx, 'ca.crt')}`,
      '--kubelet-preferred-address-types=InternalIP',
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki(ctx, 'sa.pub')}`,
      `--service-account-signing-key-file=${pki(ctx, 'sa.key')}`,
      `--service-cluster-ip-range=${ctx.config.serviceCidr}`,
      `--cert-dir=${join(ctx.paths.work, 'apiserver-certs')}`,
      '--allow-privileged=true',
      '--profiling=false',
    ],
    health: (ctx) => `https://${ctx.config.nodeIp}:${ctx.config.apiServerPort}/readyz`,
  },
  {
    name: 'kube-controller-manager',
    args: (ctx) => [
      ...clientFlags(ctx, 'kube-controller-manager'),
      '--bind-address=127.0.0.1',
      '--allocate-node-cidrs=true',
      `--cluster-cidr=${ctx.config.podCidr}`,
      '--node-cidr-mask-size=24',
      `--service-cluster-ip-range=${ctx.config.serviceCidr}`,
      `--cluster-signing-cert-file=${pki(ctx, 'ca.crt')}`,
      `--cluster-signing-key-file=${pki(ctx, 'ca.key')}`,
      `--root-ca-file=${pki(ctx, 'ca.crt')}`,
      `--service-account-private-key-file=${pki(ctx, 'sa.key')}`,
      '--use-service-account-credentials=true',
      '--leader-elect=false',
      '--profiling=false',
    ],
    health: () => 'https://127.0.0.1:10257/healthz',
  },
  {
    name: 'kube-scheduler',
    args: (ctx) => [...clientFlags(ctx, 'kube-scheduler'), '--bind-address=127.0.0.1', '--leader-elect=false', '--profiling=false'],
    health: () => 'https://127.0.0.1:10259/healthz',
  },
];

export const controlPlaneStep: Step = {
  title: 'Starting the control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)',
  async up(ctx) {
    for (const component of COMPONENTS) {
      const [command, args] = ctx.inside(join(ctx.paths.k8sBin, component.name), component.args(ctx));
      ctx.daemons.start({ name: component.name, command, args });
      await waitFor(`${component.name} healthy`, async () => (await ctx.httpStatus(component.health(ctx))) === 200, {
        timeoutMs: STARTUP_TIMEOUT_MS,
        intervalMs: 500,
        logFile: ctx.daemons.logFile(component.name),
        stillRunning: () => ctx.daemons.pid(component.name) !== undefined,
      });
    }
  },
  async down(ctx) {
    for (const component of [...COMPONENTS].reverse()) await ctx.daemons.stop(component.name, 15_000);
  },
};
