import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificatePairError, DEFAULT_CIPHERS, loadCertificatePair, parseBalancerConfig } from '../../../services/balancer/index.js';
import { ConfigError } from '../../../services/shared/index.js';
import { TestPki, type IssuedPair } from '../../helpers/test-pki.js';

let pki: TestPki;
let server: IssuedPair;
let other: IssuedPair;

beforeAll(() => {
  pki = TestPki.create();
  server = pki.issue('server');
  other = pki.issue('other');
});

afterAll(() => pki.remove());

function problemsOf(env: Record<string, string>): string {
  try {
    parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1', ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.join('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('balancer TLS config', () => {
  it('when no certificate is configured, then the data port stays plain HTTP/1.1 and there is no redirect listener', () => {
    const config = parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1' });
    expect(config.tls).toBeUndefined();
    expect(config.redirect).toBeUndefined();
  });

  it('when a certificate and key are configured, then TLS 1.2+ with the ECDHE+AEAD default and the HTTP/2 limits are set, frozen', () => {
    const config = parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1', BALANCER_TLS_CERT_FILE: server.certFile, BALANCER_TLS_KEY_FILE: server.keyFile });
    expect(config.tls).toMatchObject({
      certFile: server.certFile,
      keyFile: server.keyFile,
      minVersion: 'TLSv1.2',
      ciphers: DEFAULT_CIPHERS,
      http2: { maxConcurrentStreams: 100, maxSessionMemoryMb: 10, maxResetsPer10s: 200, settingsTimeoutMs: 10_000 },
    });
    expect(config.tls?.caFile).toBeUndefined();
    expect(Object.isFrozen(config.tls?.http2)).toBe(true);
    for (const suite of DEFAULT_CIPHERS.split(':')) expect(suite).toMatch(/^(TLS_AES_|TLS_CHACHA20_|ECDHE-(ECDSA|RSA)-(AES\d+-GCM|CHACHA20-POLY1305))/);
  });

  it('when a CA file and a redirect port are set, then client certificates are checked and the redirect names the https port', () => {
    const config = parseBalancerConfig({
      UPSTREAMS: '127.0.0.1:1',
      BALANCER_TLS_CERT_FILE: server.certFile,
      BALANCER_TLS_KEY_FILE: server.keyFile,
      BALANCER_TLS_CA_FILE: pki.caCertFile,
      BALANCER_HTTP_REDIRECT_PORT: '8081',
      BALANCER_HTTP_REDIRECT_HTTPS_PORT: '8443',
    });
    expect(config.tls?.caFile).toBe(pki.caCertFile);
    expect(config.redirect).toEqual({ port: 8081, httpsPort: 8443 });
  });

  it('when only one of the pair, a redirect without TLS or a CA without TLS is set, then start-up stops naming each variable', () => {
    expect(problemsOf({ BALANCER_TLS_CERT_FILE: server.certFile })).toContain('BALANCER_TLS_KEY_FILE: required together with BALANCER_TLS_CERT_FILE');
    expect(problemsOf({ BALANCER_TLS_KEY_FILE: server.keyFile })).toContain('BALANCER_TLS_CERT_FILE: required together with BALANCER_TLS_KEY_FILE');
    expect(problemsOf({ BALANCER_HTTP_REDIRECT_PORT: '8081' })).toContain('BALANCER_HTTP_REDIRECT_PORT');
    expect(problemsOf({ BALANCER_TLS_CA_FILE: pki.caCertFile })).toContain('BALANCER_TLS_CA_FILE');
  });

  it('when the files are missing, mismatched or not PEM, or a TLS value is out of range, then one ConfigError names every variable', () => {
    const problems = problemsOf({
      BALANCER_TLS_CERT_FILE: join(pki.dir, 'missing.crt'),
      BALANCER_TLS_KEY_FILE: server.keyFile,
      BALANCER_TLS_MIN_VERSION: 'TLSv1.1',
      BALANCER_H2_MAX_CONCURRENT_STREAMS: '0',
      BALANCER_TLS_CIPHERS: 'NOT-A-CIPHER',
    });
    for (const name of ['BALANCER_TLS_CERT_FILE', 'BALANCER_TLS_MIN_VERSION', 'BALANCER_H2_MAX_CONCURRENT_STREAMS', 'BALANCER_TLS_CIPHERS']) expect(problems).toContain(name);
    expect(problems).toContain('allowed: TLSv1.2, TLSv1.3');
    expect(problemsOf({ BALANCER_TLS_CERT_FILE: server.certFile, BALANCER_TLS_KEY_FILE: other.keyFile })).toMatch(/BALANCER_TLS_CERT_FILE: the key in .* does not belong/);
    const garbage = join(pki.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a pem file\n');
    expect(problemsOf({ BALANCER_TLS_CERT_FILE: garbage, BALANCER_TLS_KEY_FILE: server.keyFile })).toContain('BALANCER_TLS_CERT_FILE');
    expect(problemsOf({ BALANCER_TLS_CERT_FILE: server.certFile, BALANCER_TLS_KEY_FILE: garbage })).toContain('BALANCER_TLS_KEY_FILE');
  });
});

describe('certificate pair loading', () => {
  it('when a pair is valid, then its serial, fingerprint and expiry are read from the leaf', () => {
    const pair = loadCertificatePair({ certFile: server.certFile, keyFile: server.keyFile });
    expect(pair.serialNumber).toBe(server.serialNumber);
    expect(pair.fingerprint256).toBe(server.fingerprint256);
    expect(pair.notAfter.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
  });

  it.each([
    ['key_mismatch', () => ({ certFile: server.certFile, keyFile: other.keyFile }), undefined],
    ['unreadable', () => ({ certFile: join(pki.dir, 'nope.crt'), keyFile: server.keyFile }), undefined],
    ['expired', () => ({ certFile: server.certFile, keyFile: server.keyFile }), new Date(Date.now() + 30 * 86_400_000)],
    ['not_yet_valid', () => ({ certFile: server.certFile, keyFile: server.keyFile }), new Date(Date.now() - 86_400_000)],
  ] as const)('when the pair is %s, then it is refused with that reason', (reason, files, now) => {
    let error: unknown;
    try {
      loadCertificatePair(files(), now);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CertificatePairError);
    expect((error as CertificatePairError).code).toBe('LB_ERR_TLS_PAIR');
    expect((error as CertificatePairError).reason).toBe(reason);
  });

  it('when the certificate file holds only half a PEM block (a copy caught mid-write), then it is refused', () => {
    const half = join(pki.dir, 'half.crt');
    copyFileSync(server.certFile, half);
    writeFileSync(half, server.cert.subarray(0, Math.floor(server.cert.length / 2)));
    expect(() => loadCertificatePair({ certFile: half, keyFile: server.keyFile })).toThrow(CertificatePairError);
  });
});
