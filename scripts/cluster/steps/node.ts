import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterContext } from '../context.js';
import { run } from '../exec.js';
import { goToolPath, goTools } from '../go-tools.js';
import { waitFor } from '../wait.js';
import { kubeconfigPath } from './pki.js';
import type { Step } from './step.js';

/**
 * The node: the CNI bridge, kubelet and kube-proxy, all in the cluster's
 * namespaces. Settings that differ from a stock node say why.
 */

const KUBELET = 'kubelet';
const KUBE_PROXY = 'kube-proxy';
const NODE_READY_TIMEOUT_MS = 120_000;

function cniConfig(ctx: ClusterContext): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'flotilla',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          // Pod traffic has nowhere to go outside the namespace: nothing to masquerade.
          ipMasq: false,
          // A pod reaching itself through a Service IP comes back over the same bridge port.
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: ctx.config.nodePodCidr }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

function kubeletConfig(ctx: ClusterContext): string {
  const pki = ctx.paths.pki;
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${join(pki, 'ca.crt')}}
authorization: {mode: Webhook}
tlsCertFile: ${join(pki, 'kubelet-serving.crt')}
tlsPrivateKeyFile: ${join(pki, 'kubelet-serving.key')}
containerRuntimeEndpoint: unix://${ctx.paths.containerdSocket}
# containerd 1.6 cannot report its cgroup driver (no RuntimeConfig call), so
# kubelet's own setting counts; runc uses cgroupfs too (SystemdCgroup = false).
cgroupDriver: cgroupfs
# These machines run cgroup v1 (hybrid); kubelet 1.35+ refuses it unless told.
failCgroupV1: false
failSwapOn: false
clusterDNS: [${ctx.config.clusterDnsIp}]
clusterDomain: cluster.local
# No host DNS inside pods: names resolve through CoreDNS or not at all.
resolvConf: ""
healthzBindAddress: 127.0.0.1
healthzPort: 10248
# The images are imported, not pulled: garbage-collecting one would leave
# pods that cannot start. 100 % disk use is never reached, so GC never runs.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# A shared machine's disk may be fuller than kubelet's defaults allow
# (10 % / 15 % free); evict only when it is really about to run out.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  imagefs.available: 1%
  nodefs.inodesFree: 1%
serializeImagePulls: false
rotateCertificates: false
# The failover tests read every line a balancer logged over a scenario with
# kubectl logs, which reads only a container's current log file. Its access
# log writes about 300 KB/s under their load: at the default 10Mi kubelet
# rotates within a scenario and the evidence of its first half is cut off.
containerLogMaxSize: 200Mi
containerLogMaxFiles: 2
`;
}

function kubeProxyConfig(ctx: ClusterContext): string {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: ${kubeconfigPath(ctx, 'kube-proxy')}
hostnameOverride: ${ctx.config.nodeName}
mode: iptables
clusterCIDR: ${ctx.config.podCidr}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["${ctx.config.nodeIp}/32"]
# Zero leaves each conntrack setting as it is: nf_conntrack_max is not
# per-namespace, and kube-proxy would otherwise raise it host-wide.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`;
}

async function nodeReady(ctx: ClusterContext): Promise<boolean> {
  const { stdout } = await ctx.kubectl(['get', 'node', ctx.config.nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'], {
    timeoutMs: 10_000,
  });
  return stdout.trim() === 'True';
}

export const nodeStep: Step = {
  title: 'Starting the node (CNI bridge, kubelet, kube-proxy)',
  async up(ctx) {
    const cniDir = join(ctx.paths.hostFs, 'etc/cni/net.d');
    mkdirSync(cniDir, { recursive: true });
    writeFileSync(join(cniDir, '10-flotilla.conflist'), `${cniConfig(ctx)}\n`);
    writeFileSync(ctx.paths.kubeletConfig, kubeletConfig(ctx));
    writeFileSync(ctx.paths.kubeProxyConfig, kubeProxyConfig(ctx));

    const [kubelet, kubeletArgs] = ctx.inside(join(ctx.paths.k8sBin, KUBELET), [
      `--config=${ctx.paths.kubeletConfig}`,
      `--kubeconfig=${kubeconfigPath(ctx, 'kubelet')}`,
      `--node-ip=${ctx.config.nodeIp}`,
      `--hostname-override=${ctx.config.nodeName}`,
    ]);
    ctx.daemons.start({ name: KUBELET, command: kubelet, args: kubeletArgs });
    const [proxy, proxyArgs] = ctx.inside(join(ctx.paths.k8sBin, KUBE_PROXY), [`--config=${ctx.paths.kubeProxyConfig}`]);
    ctx.daemons.start({ name: KUBE_PROXY, command: proxy, args: proxyArgs });

    await waitFor('node Ready', () => nodeReady(ctx), {
      timeoutMs: NODE_READY_TIMEOUT_MS,
      intervalMs: 1_000,
      logFile: ctx.daemons.logFile(KUBELET),
      stillRunning: () => ctx.daemons.pid(KUBELET) !== undefined,
    });
    await waitFor('kube-proxy healthy', async () => (await ctx.httpStatus('http://127.0.0.1:10256/healthz')) === 200, {
      timeoutMs: 60_000,
      intervalMs: 500,
      logFile: ctx.daemons.logFile(KUBE_PROXY),
      stillRunning: () => ctx.daemons.pid(KUBE_PROXY) !== undefined,
    });
  },
  async down(ctx) {
    await ctx.daemons.stop(KUBE_PROXY, 10_000);
    await ctx.daemons.stop(KUBELET, 15_000);
    // With kubelet gone nothing restarts them: stop and remove every pod, so
    // the shims exit and the CNI plugin releases each pod's address and netns.
    const crictl = goToolPath(ctx, goTools(ctx).crictl);
    if (existsSync(crictl) && existsSync(ctx.paths.containerdSocket)) {
      await run(crictl, ['--runtime-endpoint', `unix://${ctx.paths.containerdSocket}`, '--timeout', '30s', 'rmp', '--all', '--force'], {
        timeoutMs: 120_000,
      }).catch((err: Error) => {
        // Not fatal: the namespaces step ends whatever still runs in the cluster's mount namespace and cgroups.
        ctx.status.info(`crictl rmp failed (${err.message.split('\n')[0] ?? ''}); what is left is swept with the namespaces`);
      });
    }
  },
};
