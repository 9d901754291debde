import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port.js';
import { REPO_ROOT } from '../k8s-static/render.js';

/**
 * A real Kubernetes control plane for tests: etcd and kube-apiserver built
 * from source by scripts/k8s-binaries.sh, on loopback ports, with throwaway
 * certificates and an admin token. No controllers, scheduler or kubelet run:
 * objects are stored and validated, RBAC and admission are real, pods never
 * start.
 */
export interface ControlPlane {
  readonly kubeconfig: string;
  readonly server: string;
  readonly dir: string;
  /** The admin bearer token and the CA that signed the serving certificate. */
  readonly token: string;
  readonly ca: Buffer;
  /** kubectl against this API server; never throws, returns the exit code. */
  kubectl(args: readonly string[], input?: string): KubectlResult;
  /** GET on the API server as admin (e.g. /metrics). */
  get(path: string): Promise<{ status: number; body: string }>;
  /** Stops kube-apiserver (etcd keeps the data) and starts it again on the same port. */
  restartApiServer(options?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const STARTUP_TIMEOUT_MS = 90_000;

/** What this tier runs; kubectl of the same release, since kubectl supports one minor version of skew only. */
const K8S_TOOLS = ['etcd', 'kube-apiserver', 'kubectl'];

/** kubectl of the API server's release, or the one named by KUBECTL. */
function kubectlBinary(bin: string): string {
  return process.env.KUBECTL ?? join(bin, 'kubectl');
}

/** The bin folder scripts/k8s-binaries.sh printed on its last line. */
function lastLine(out: string): string {
  const bin = out.trim().split('\n').at(-1);
  if (bin === undefined || bin === '') throw new Error('scripts/k8s-binaries.sh printed no bin folder');
  return bin;
}

/** The folder with etcd, kube-apiserver and kubectl; builds them on first use (slow), then answers at once. */
export function k8sBinDir(): string {
  if (process.env.FLOTILLA_K8S_BIN !== undefined) return process.env.FLOTILLA_K8S_BIN;
  return lastLine(execFileSync('bash', [join(REPO_ROOT, 'scripts/k8s-binaries.sh'), ...K8S_TOOLS], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
}

/** The same folder if the binaries are already built, else undefined: never starts a build (scripts/k8s-binaries.sh --no-build). */
export function builtK8sBinDir(): string | undefined {
  if (process.env.FLOTILLA_K8S_BIN !== undefined) return process.env.FLOTILLA_K8S_BIN;
  const result = spawnSync('bash', [join(REPO_ROOT, 'scripts/k8s-binaries.sh'), '--no-build', ...K8S_TOOLS], { encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 ? lastLine(result.stdout) : undefined;
}

function openssl(dir: string, args: readonly string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a serving certificate for 127.0.0.1 signed by it, and a service-account signing key. */
function writeCertificates(dir: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=flotilla-test-ca']);
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'apiserver.key', '-out', 'apiserver.csr', '-subj', '/CN=kube-apiserver']);
  writeFileSync(join(dir, 'apiserver.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(dir, ['x509', '-req', '-in', 'apiserver.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'apiserver.crt', '-days', '1', '-extfile', 'apiserver.ext']);
  openssl(dir, ['genrsa', '-out', 'sa.key', '2048']);
  openssl(dir, ['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
}

function get(url: string, options: { ca?: Buffer; token?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {};
    const req = request(url, { ca: options.ca, headers, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  const log = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
  throw new Error(`${what} did not become ready (exit code ${String(child.exitCode)}); last log lines:\n${log}`);
}

function startProcess(binary: string, args: readonly string[], logFile: string): ChildProcess {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export interface ControlPlaneOptions {
  /**
   * The folder with etcd and kube-apiserver (kubectl only for kubectl()).
   * Default: k8sBinDir(), which builds what is missing. The bench passes the
   * folder it found, so that a run never starts a build of its own.
   */
  readonly bin?: string;
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const bin = options.bin ?? k8sBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-k8s-'));
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const child of [...children].reverse()) await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    writeCertificates(dir);
    const token = `flotilla-test-${process.pid}-${Date.now()}`;
    writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin,system:masters\n`);

    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const etcd = startProcess(
      join(bin, 'etcd'),
      ['--data-dir', join(dir, 'etcd'), '--listen-client-urls', etcdUrl, '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`],
      join(dir, 'etcd.log'),
    );
    children.push(etcd);
    await waitFor('etcd', async () => {
      const res = await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(2_000) });
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    }, etcd, join(dir, 'etcd.log'));

    const server = `https://127.0.0.1:${apiPort}`;
    const apiserverArgs = [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${join(dir, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(dir, 'apiserver.key')}`,
      `--client-ca-file=${join(dir, 'ca.crt')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      // Only an allocation range for Service IPs; nothing is ever sent there.
      '--service-cluster-ip-range=10.96.0.0/16',
      // The default/kubernetes Endpoints may not hold a loopback address.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
    ];
    const ca = readFileSync(join(dir, 'ca.crt'));
    let starts = 0;
    const startApiServer = async (): Promise<ChildProcess> => {
      const logFile = join(dir, `kube-apiserver-${++starts}.log`);
      const child = startProcess(join(bin, 'kube-apiserver'), apiserverArgs, logFile);
      children.push(child);
      await waitFor('kube-apiserver', async () => (await get(`${server}/readyz`, { ca, token })).status === 200, child, logFile);
      return child;
    };
    let apiserver = await startApiServer();
    const restartApiServer = async (options: { downMs?: number } = {}): Promise<void> => {
      await stopProcess(apiserver);
      children.splice(children.indexOf(apiserver), 1);
      if (options.downMs !== undefined) await new Promise((r) => setTimeout(r, options.downMs));
      apiserver = await startApiServer();
    };

    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '  - name: test',
        '    cluster:',
        `      server: ${server}`,
        `      certificate-authority: ${join(dir, 'ca.crt')}`,
        'users:',
        '  - name: admin',
        '    user:',
        `      token: ${token}`,
        'contexts:',
        '  - name: test',
        '    context: {cluster: test, user: admin}',
        'current-context: test',
        '',
      ].join('\n'),
    );
    mkdirSync(join(dir, 'kube-cache'));
    const kubectlPath = kubectlBinary(bin);
    const kubectl = (args: readonly string[], input?: string): KubectlResult => {
      const result = spawnSync(kubectlPath, [`--kubeconfig=${kubeconfig}`, `--cache-dir=${join(dir, 'kube-cache')}`, ...args], {
        input,
        encoding: 'utf8',
        timeout: 60_000,
      });
      return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
    };
    return { kubeconfig, server, dir, token, ca, kubectl, get: (path) => get(`${server}${path}`, { ca, token }), restartApiServer, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
