import { X509Certificate } from 'node:crypto';
import { Agent, request as httpsRequest } from 'node:https';
import type { ClientHttp2Session } from 'node:http2';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { request } from 'undici';
import { startBalancer, type BalancerHandle } from '../../helpers/balancer-process.js';
import { fixtureLauncher, startUpstreams, type ChaosUpstream } from '../../helpers/chaos-upstream.js';
import { curl, metricValue } from '../../helpers/curl.js';
import { closeSession, h2Request, openSession, peerCertificateOf } from '../../helpers/http2-client.js';
import { SecretVolume } from '../../helpers/secret-volume.js';
import { ProcessGroup } from '../../helpers/service-process.js';
import { TestPki, type IssuedPair } from '../../helpers/test-pki.js';

// Certificates at the balancer (issue 17): rotation through a Secret-like
// volume under load over h2 and http/1.1, a bad pair refused, client
// certificates, cluster mode. The stand-in upstream (no Postgres) is enough.
const processes = new ProcessGroup();
let pki: TestPki;
let upstreams: ChaosUpstream[] = [];
let first: IssuedPair;
let second: IssuedPair;
let third: IssuedPair;
let volume: SecretVolume;
let balancer: BalancerHandle;

const metricsOf = async (b: BalancerHandle): Promise<string> => (await request(`${b.adminUrl}/metrics`, { headersTimeout: 5_000, bodyTimeout: 5_000 })).body.text();
const sameSerial = (a: string, b: string): boolean => a.replace(/^0+/, '').toUpperCase() === b.replace(/^0+/, '').toUpperCase();

/** The serial of the certificate a new TLS connection is shown. */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca: pki.caCert, ALPNProtocols: ['http/1.1'] }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.destroy();
      resolve(serial);
    });
    socket.setTimeout(5_000, () => socket.destroy(new Error('TLS connect timed out')));
    socket.once('error', reject);
  });
}

/** One HTTP/1.1 request over TLS on a keep-alive agent. */
function h1Get(agent: Agent, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, agent, servername: 'localhost', ca: pki.caCert, timeout: 10_000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy(new Error('HTTP/1.1 request timed out')));
    req.once('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  pki = TestPki.create();
  first = pki.issue('first');
  second = pki.issue('second');
  third = pki.issue('third');
  volume = new SecretVolume(join(pki.dir, 'secret'));
  volume.write({ 'tls.crt': first.cert, 'tls.key': first.key });
  upstreams = await startUpstreams(2, fixtureLauncher());
  for (const u of upstreams) processes.add(u.process);
  balancer = await startBalancer(
    upstreams.map((u) => u.entry),
    { BALANCER_TLS_CERT_FILE: volume.certFile, BALANCER_TLS_KEY_FILE: volume.keyFile, BALANCER_TLS_POLL_MS: '1000' },
  );
  processes.add(balancer.process);
}, 60_000);

afterAll(async () => {
  await processes.stopAll();
  pki?.remove();
});

describe('when the certificate Secret is updated under load', () => {
  test('then the new pair is served to new connections without a restart, old connections keep working, and no client sees an error', async () => {
    expect(sameSerial(await servedSerial(balancer.port), first.serialNumber)).toBe(true);
    const oldSession: ClientHttp2Session = await openSession(balancer.port, { ca: pki.caCert });
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    const errors: string[] = [];
    let served = 0;
    let running = true;
    // Bounded: 4 clients, each one request at a time, until the checks below are done (at most ~20 s).
    const h2Client = async (): Promise<void> => {
      while (running) {
        try {
          const res = await h2Request(oldSession, { path: '/echo' });
          if (res.status !== 200) errors.push(`h2 ${res.status}`);
          served += 1;
        } catch (err) {
          errors.push(`h2 ${(err as Error).message}`);
        }
      }
    };
    const h1Client = async (): Promise<void> => {
      while (running) {
        try {
          const status = await h1Get(agent, balancer.port, '/echo');
          if (status !== 200) errors.push(`h1 ${status}`);
          served += 1;
        } catch (err) {
          errors.push(`h1 ${(err as Error).message}`);
        }
      }
    };
    const load = Promise.all([h2Client(), h2Client(), h1Client(), h1Client()]);
    const stopTimer = setTimeout(() => (running = false), 20_000);
    try {
      await new Promise((r) => setTimeout(r, 300));
      volume.write({ 'tls.crt': second.cert, 'tls.key': second.key });
      const reloaded = await balancer.process.waitForLog((e) => e.msg === 'TLS certificate reloaded', 10_000);
      expect(sameSerial(String(reloaded.serialNumber), second.serialNumber)).toBe(true);
      expect(sameSerial(await servedSerial(balancer.port), second.serialNumber)).toBe(true);
      const fresh = await openSession(balancer.port, { ca: pki.caCert });
      expect(peerCertificateOf(fresh).fingerprint256).toBe(second.fingerprint256);
      const echoed = JSON.parse((await h2Request(fresh, { path: '/echo' })).body) as { headers: Record<string, string> };
      // :authority became Host; no pseudo-header reached the upstream.
      expect(echoed.headers.host).toBe(`localhost:${balancer.port}`);
      expect(Object.keys(echoed.headers).filter((name) => name.startsWith(':'))).toEqual([]);
      await closeSession(fresh);
      // The connection opened before the rotation still has the first certificate, and still works.
      expect(peerCertificateOf(oldSession).fingerprint256).toBe(first.fingerprint256);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      running = false;
      clearTimeout(stopTimer);
      await load;
      await closeSession(oldSession);
      agent.destroy();
    }
    expect(errors).toEqual([]);
    expect(served).toBeGreaterThan(20);
    const text = await metricsOf(balancer);
    expect(metricValue(text, 'balancer_tls_certificate_reloads_total{result="ok"}')).toBe(1);
    expect(metricValue(text, 'balancer_tls_certificate_expiry_timestamp_seconds')).toBe(new Date(new X509Certificate(second.cert).validTo).getTime() / 1000);
  }, 40_000);

  test('when a pair whose key does not match is written, then it is refused with a warning and a metric, and the current certificate stays in use', async () => {
    volume.write({ 'tls.crt': third.cert, 'tls.key': first.key });
    const refused = await balancer.process.waitForLog((e) => e.msg === 'TLS certificate reload refused; keeping the certificate in use', 10_000);
    expect(refused).toMatchObject({ level: 40, reason: 'key_mismatch' });
    expect(metricValue(await metricsOf(balancer), 'balancer_tls_certificate_reloads_total{result="failed"}')).toBe(1);
    expect(sameSerial(await servedSerial(balancer.port), second.serialNumber)).toBe(true);
    const res = await curl(['--cacert', pki.caCertFile, '-o', '/dev/null', '-w', '%{http_code}', `https://localhost:${balancer.port}/echo`]);
    expect(res.stdout).toBe('200');
    // Fixed again: the next good pair is taken.
    volume.write({ 'tls.crt': third.cert, 'tls.key': third.key });
    await balancer.process.waitForLog((e) => e.msg === 'TLS certificate reloaded' && sameSerial(String(e.serialNumber), third.serialNumber), 10_000);
    expect(sameSerial(await servedSerial(balancer.port), third.serialNumber)).toBe(true);
  }, 30_000);
});

describe('when BALANCER_TLS_CA_FILE is set', () => {
  let mtls: BalancerHandle;
  let client: IssuedPair;

  beforeAll(async () => {
    client = pki.issue('client', { usage: 'client', commonName: 'flotilla-client' });
    mtls = await startBalancer(upstreams.map((u) => u.entry), { BALANCER_TLS_CERT_FILE: second.certFile, BALANCER_TLS_KEY_FILE: second.keyFile, BALANCER_TLS_CA_FILE: pki.caCertFile });
    processes.add(mtls.process);
  }, 30_000);

  test('then a client without a certificate is refused and one with a certificate from the CA is served, over h2 and http/1.1', async () => {
    const none = await curl(['--cacert', pki.caCertFile, '-o', '/dev/null', '-w', '%{http_code}', `https://localhost:${mtls.port}/echo`]);
    expect(none.code).not.toBe(0);
    expect(none.stdout).not.toBe('200');
    for (const version of ['--http2', '--http1.1']) {
      const ok = await curl(['--cacert', pki.caCertFile, '--cert', client.certFile, '--key', client.keyFile, version, '-o', '/dev/null', '-w', '%{http_code}', `https://localhost:${mtls.port}/echo`]);
      expect(ok.stdout).toBe('200');
    }
    const session = await openSession(mtls.port, { ca: pki.caCert, cert: client.cert, key: client.key });
    expect((await h2Request(session, { path: '/echo' })).status).toBe(200);
    await closeSession(session);
    // A certificate from another CA is refused as well.
    const stranger = TestPki.create('Other CA');
    try {
      const foreign = stranger.issue('foreign', { usage: 'client' });
      const res = await curl(['--cacert', pki.caCertFile, '--cert', foreign.certFile, '--key', foreign.keyFile, '-o', '/dev/null', '-w', '%{http_code}', `https://localhost:${mtls.port}/echo`]);
      expect(res.stdout).not.toBe('200');
    } finally {
      stranger.remove();
    }
    expect(metricValue(await metricsOf(mtls), 'balancer_tls_handshakes_total{result="failed"}')).toBeGreaterThanOrEqual(1);
  });
});

describe('when the balancer runs with BALANCER_WORKERS=2 and TLS', () => {
  test('then every worker process serves h2 and http/1.1 with the certificate, and the metrics add up with one expiry', async () => {
    const clustered = await startBalancer(upstreams.map((u) => u.entry), { BALANCER_WORKERS: '2', BALANCER_TLS_CERT_FILE: second.certFile, BALANCER_TLS_KEY_FILE: second.keyFile });
    processes.add(clustered.process);
    const sessions = await Promise.all(Array.from({ length: 4 }, () => openSession(clustered.port, { ca: pki.caCert })));
    for (const s of sessions) expect((await h2Request(s, { path: '/echo' })).status).toBe(200);
    await Promise.all(sessions.map((s) => closeSession(s)));
    for (let i = 0; i < 4; i++) {
      const res = await curl(['--cacert', pki.caCertFile, '--http1.1', '-o', '/dev/null', '-w', '%{http_code}', `https://localhost:${clustered.port}/echo`]);
      expect(res.stdout).toBe('200');
    }
    const text = await metricsOf(clustered);
    expect(metricValue(text, 'balancer_protocol_requests_total{protocol="h2",scheme="https"}')).toBe(4);
    expect(metricValue(text, 'balancer_protocol_requests_total{protocol="http/1.1",scheme="https"}')).toBe(4);
    expect(metricValue(text, 'balancer_tls_handshakes_total{result="ok"}')).toBe(8);
    expect(metricValue(text, 'balancer_tls_certificate_expiry_timestamp_seconds')).toBe(new Date(new X509Certificate(second.cert).validTo).getTime() / 1000);
    const pids = new Set(clustered.process.entries().filter((e) => e.msg === 'access').map((e) => e.pid));
    expect(pids.size).toBe(2);
    await clustered.process.stop();
  }, 40_000);
});
