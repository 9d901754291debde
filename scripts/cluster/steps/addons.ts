import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterContext } from '../context.js';
import { buildGoTool, goTools } from '../go-tools.js';
import { coreDnsImage } from '../image-names.js';
import { writeSkaffoldConfig } from '../skaffold.js';
import { waitFor } from '../wait.js';
import type { Step } from './step.js';

/**
 * What a cluster brings besides its core: CoreDNS (Service names resolve in
 * pods), storage for PersistentVolumeClaims, and an OCI registry on the
 * namespace's loopback for skaffold to push to.
 */

export const STORAGE_CLASS = 'flotilla-local';
const PERSISTENT_VOLUMES = 3;
const REGISTRY = 'registry';

/**
 * Storage: a default StorageClass without a provisioner, and `local`
 * PersistentVolumes in the work dir for it, bound when a pod is scheduled.
 * `local` rather than hostPath because kubelet applies fsGroup to local
 * volumes, which the postgres pod (uid 999) needs to write its data.
 */
function storageManifest(ctx: ClusterContext): string {
  const volumes = Array.from({ length: PERSISTENT_VOLUMES }, (_, i) => {
    const path = join(ctx.paths.volumes, `pv-${i}`);
    mkdirSync(path, { recursive: true });
    return `---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: ${STORAGE_CLASS}-${i}
spec:
  capacity: {storage: 5Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ${STORAGE_CLASS}
  local: {path: ${path}}
  nodeAffinity:
    required:
      nodeSelectorTerms:
        - matchExpressions:
            - {key: kubernetes.io/hostname, operator: In, values: [${ctx.config.nodeName}]}
`;
  });
  return `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: ${STORAGE_CLASS}
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
${volumes.join('')}`;
}

/**
 * CoreDNS with the kubernetes plugin and no forward plugin: cluster names
 * resolve, nothing else does, and no query leaves the namespace. It listens
 * on 1053 so that it needs no capability; the Service maps 53 there. As
 * kubeadm's Corefile, but with the plugin's own record TTL (5 s) instead of
 * kubeadm's 30 s, so that a moved pod's address is not served stale for
 * half a minute.
 */
function coreDnsManifest(ctx: ClusterContext): string {
  return `apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: system:coredns}
rules:
  - apiGroups: [""]
    resources: [endpoints, services, pods, namespaces]
    verbs: [list, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: system:coredns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:coredns}
subjects:
  - {kind: ServiceAccount, name: coredns, namespace: kube-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    .:1053 {
        errors
        health :8080
        ready :8181
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
        }
        cache 30
        loop
        loadbalance
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      serviceAccountName: coredns
      dnsPolicy: Default
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: coredns
          image: ${coreDnsImage(ctx.config.coreDnsVersion)}
          imagePullPolicy: IfNotPresent
          args: [-conf, /etc/coredns/Corefile]
          ports:
            - {name: dns, containerPort: 1053, protocol: UDP}
            - {name: dns-tcp, containerPort: 1053, protocol: TCP}
          livenessProbe:
            httpGet: {path: /health, port: 8080}
            periodSeconds: 10
          readinessProbe:
            httpGet: {path: /ready, port: 8181}
            periodSeconds: 2
          resources:
            requests: {cpu: 50m, memory: 32Mi}
            limits: {memory: 128Mi}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
          volumeMounts:
            - {name: config, mountPath: /etc/coredns, readOnly: true}
      volumes:
        - name: config
          configMap: {name: coredns}
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  selector: {k8s-app: kube-dns}
  clusterIP: ${ctx.config.clusterDnsIp}
  ports:
    - {name: dns, port: 53, targetPort: 1053, protocol: UDP}
    - {name: dns-tcp, port: 53, targetPort: 1053, protocol: TCP}
`;
}

async function startRegistry(ctx: ClusterContext): Promise<void> {
  const binary = await buildGoTool(ctx, goTools(ctx).registry);
  mkdirSync(ctx.paths.registryData, { recursive: true });
  const configFile = join(ctx.paths.work, 'registry.yaml');
  writeFileSync(
    configFile,
    `version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: ${ctx.paths.registryData}}
  delete: {enabled: true}
http:
  addr: ${ctx.config.registryAddress}
`,
  );
  const [command, args] = ctx.inside(binary, ['serve', configFile]);
  // OTEL_TRACES_EXPORTER=none: distribution v3 exports traces by default, to an endpoint that does not exist here.
  ctx.daemons.start({ name: REGISTRY, command, args, env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' } });
  await waitFor('registry answering', async () => (await ctx.httpStatus(`http://${ctx.config.registryAddress}/v2/`)) === 200, {
    timeoutMs: 30_000,
    logFile: ctx.daemons.logFile(REGISTRY),
    stillRunning: () => ctx.daemons.pid(REGISTRY) !== undefined,
  });
}

export const addonsStep: Step = {
  title: 'Adding CoreDNS, storage and a registry',
  async up(ctx) {
    await ctx.kubectl(['apply', '-f', '-'], { input: storageManifest(ctx) });
    await ctx.kubectl(['apply', '-f', '-'], { input: coreDnsManifest(ctx) });
    await startRegistry(ctx);
    writeSkaffoldConfig(ctx);
    await ctx.kubectl(['-n', 'kube-system', 'rollout', 'status', 'deploy/coredns', '--timeout=120s'], { timeoutMs: 130_000 });
  },
  async down(ctx) {
    await ctx.daemons.stop(REGISTRY, 5_000);
  },
};
