import { startBalancer, type BalancerHandle } from './balancer-process.js';
import { fixtureLauncher, startUpstreams } from './chaos-upstream.js';
import type { ProcessGroup } from './service-process.js';
import { TestPki } from './test-pki.js';

export interface TlsBalancer {
  /** The test CA (pki.caCert for clients) and the server pair the balancer serves. */
  readonly pki: TestPki;
  readonly balancer: BalancerHandle;
}

export interface TlsBalancerOptions {
  /** How many fixture upstreams (tests/fixtures/balancer/upstream-server.mjs) stand behind it. */
  readonly upstreams: number;
  readonly upstreamEnv?: Record<string, string>;
  /** The balancer's environment besides its TLS pair. */
  readonly env?: Record<string, string>;
}

/**
 * A real balancer serving TLS (HTTP/2 and HTTP/1.1 by ALPN) with a server
 * certificate from a new test CA, in front of fixture upstreams. Every
 * process goes into `processes`; the caller removes the PKI (pki.remove()).
 */
export async function startTlsBalancer(processes: ProcessGroup, options: TlsBalancerOptions): Promise<TlsBalancer> {
  const pki = TestPki.create();
  const server = pki.issue('server');
  const upstreams = await startUpstreams(options.upstreams, fixtureLauncher(options.upstreamEnv));
  for (const u of upstreams) processes.add(u.process);
  const balancer = await startBalancer(
    upstreams.map((u) => u.entry),
    { BALANCER_TLS_CERT_FILE: server.certFile, BALANCER_TLS_KEY_FILE: server.keyFile, ...options.env },
  );
  processes.add(balancer.process);
  return { pki, balancer };
}
