import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterContext } from '../context.js';
import { run } from '../exec.js';
import type { Step } from './step.js';

/**
 * A throwaway certificate authority for this one cluster, the certificates
 * every component presents, the service-account signing key, and a
 * kubeconfig per client. ECDSA P-256 keys: quick to make, accepted
 * everywhere in Kubernetes. Valid for 30 days; the cluster is not meant to
 * live that long.
 */

interface Certificate {
  readonly name: string;
  readonly subject: string;
  readonly usage: 'server' | 'client' | 'both';
  readonly altNames?: readonly string[];
}

/** A kubeconfig user: the certificate it authenticates with. */
export const KUBECONFIG_USERS = ['admin', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'] as const;
export type KubeconfigUser = (typeof KUBECONFIG_USERS)[number];

function certificates(ctx: ClusterContext): Certificate[] {
  const { config } = ctx;
  return [
    {
      name: 'kube-apiserver',
      subject: '/CN=kube-apiserver',
      usage: 'server',
      altNames: [
        `IP:${config.nodeIp}`,
        `IP:${config.kubernetesServiceIp}`,
        'IP:127.0.0.1',
        'DNS:kubernetes',
        'DNS:kubernetes.default',
        'DNS:kubernetes.default.svc',
        'DNS:kubernetes.default.svc.cluster.local',
        'DNS:localhost',
      ],
    },
    // For logs, exec and port-forward: the API server calling the kubelet.
    { name: 'apiserver-kubelet-client', subject: '/O=system:masters/CN=kube-apiserver-kubelet-client', usage: 'client' },
    { name: 'admin', subject: '/O=system:masters/CN=flotilla-admin', usage: 'client' },
    { name: 'kube-controller-manager', subject: '/CN=system:kube-controller-manager', usage: 'client' },
    { name: 'kube-scheduler', subject: '/CN=system:kube-scheduler', usage: 'client' },
    // The Node authorizer knows a kubelet by this name and group.
    { name: 'kubelet', subject: `/O=system:nodes/CN=system:node:${config.nodeName}`, usage: 'client' },
    { name: 'kubelet-serving', subject: `/CN=${config.nodeName}`, usage: 'server', altNames: [`IP:${config.nodeIp}`, `DNS:${config.nodeName}`] },
    { name: 'kube-proxy', subject: '/CN=system:kube-proxy', usage: 'client' },
  ];
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const DAYS = '30';

async function openssl(dir: string, args: readonly string[]): Promise<void> {
  await run('openssl', args, { cwd: dir, timeoutMs: 30_000 });
}

async function makeCertificate(dir: string, cert: Certificate): Promise<void> {
  const usage = { server: 'serverAuth', client: 'clientAuth', both: 'serverAuth,clientAuth' }[cert.usage];
  const extensions = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', `extendedKeyUsage=${usage}`];
  if (cert.altNames !== undefined) extensions.push(`subjectAltName=${cert.altNames.join(',')}`);
  writeFileSync(join(dir, `${cert.name}.ext`), `${extensions.join('\n')}\n`);
  await openssl(dir, ['req', '-new', ...EC_KEY, '-keyout', `${cert.name}.key`, '-out', `${cert.name}.csr`, '-subj', cert.subject]);
  await openssl(dir, [
    'x509', '-req', '-in', `${cert.name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', DAYS, '-extfile', `${cert.name}.ext`, '-out', `${cert.name}.crt`,
  ]);
}

export function kubeconfigPath(ctx: ClusterContext, user: KubeconfigUser): string {
  return join(ctx.paths.kubeconfigs, `${user}.kubeconfig`);
}

/** The API server's address inside the namespace. */
export function apiServerUrl(ctx: ClusterContext): string {
  return `https://${ctx.config.nodeIp}:${ctx.config.apiServerPort}`;
}

function writeKubeconfig(ctx: ClusterContext, user: KubeconfigUser): void {
  const pki = ctx.paths.pki;
  const name = ctx.config.netns;
  writeFileSync(
    kubeconfigPath(ctx, user),
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `  - name: ${name}`,
      '    cluster:',
      `      server: ${apiServerUrl(ctx)}`,
      `      certificate-authority: ${join(pki, 'ca.crt')}`,
      'users:',
      `  - name: ${user}`,
      '    user:',
      `      client-certificate: ${join(pki, `${user}.crt`)}`,
      `      client-key: ${join(pki, `${user}.key`)}`,
      'contexts:',
      `  - name: ${name}`,
      `    context: {cluster: ${name}, user: ${user}}`,
      `current-context: ${name}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
}

export const pkiStep: Step = {
  title: 'Making certificates and kubeconfigs',
  async up(ctx) {
    const dir = ctx.paths.pki;
    const done = join(dir, 'complete');
    if (existsSync(done)) return;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    mkdirSync(ctx.paths.kubeconfigs, { recursive: true, mode: 0o700 });
    await openssl(dir, [
      'req', '-x509', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', DAYS, '-subj', '/CN=flotilla-cluster-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ]);
    // One at a time: each signing updates the CA's serial file.
    for (const cert of certificates(ctx)) await makeCertificate(dir, cert);
    // Signs and checks service-account tokens.
    await openssl(dir, ['genpkey', '-algorithm', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'sa.key']);
    await openssl(dir, ['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
    for (const user of KUBECONFIG_USERS) writeKubeconfig(ctx, user);
    writeFileSync(done, '');
  },
};
