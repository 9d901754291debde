import type { Logger } from '../../shared/index.js';
import type { BalancerMetrics } from '../metrics.js';
import { CertificatePairError, buildSecureContext, loadCertificatePair, secureContextOptions, type CertificatePair, type ContextPolicy, type PairFiles } from './certificate-pair.js';
import { CertificateWatcher } from './certificate-watcher.js';
import type { TlsConfig } from './tls-config.js';

/** What the reloader installs a new pair into: tls.Server#setSecureContext. */
export interface SecureContextTarget {
  setSecureContext(options: ReturnType<typeof secureContextOptions>): void;
}

export function pairFilesOf(tls: TlsConfig): PairFiles {
  return { certFile: tls.certFile, keyFile: tls.keyFile, ...(tls.caFile !== undefined ? { caFile: tls.caFile } : {}) };
}

function describePair(pair: CertificatePair): Record<string, string> {
  return { serialNumber: pair.serialNumber, fingerprint256: pair.fingerprint256, notAfter: pair.notAfter.toISOString(), subject: pair.leaf.subject };
}

/**
 * Keeps the data port's certificate in step with its files: on a change the
 * new pair is loaded and checked (certificate-pair.ts) and built into a
 * context before server.setSecureContext() installs it, so new handshakes
 * get it while existing connections keep theirs; no restart, nothing
 * dropped. A pair that fails any check is refused with a warn line and
 * `balancer_tls_certificate_reloads_total{result="failed"}`, and the old one
 * stays in use.
 */
export class CertificateReloader {
  private current: CertificatePair;
  private readonly watcher: CertificateWatcher;
  private readonly files: PairFiles;
  private readonly policy: ContextPolicy;

  constructor(
    tls: TlsConfig,
    initial: CertificatePair,
    private readonly target: SecureContextTarget,
    private readonly metrics: BalancerMetrics,
    private readonly logger: Logger,
  ) {
    this.current = initial;
    this.files = pairFilesOf(tls);
    this.policy = { minVersion: tls.minVersion, ciphers: tls.ciphers };
    const watched = [tls.certFile, tls.keyFile, ...(tls.caFile !== undefined ? [tls.caFile] : [])];
    this.watcher = new CertificateWatcher(watched, { pollMs: tls.watchPollMs }, () => this.reload(), logger);
    metrics.certificateExpiry.set(initial.notAfter.getTime() / 1000);
    // Both series exist from start-up, so that increase() sees the first failure (a series born at 1 shows no increase).
    for (const result of ['ok', 'failed']) metrics.certificateReloads.inc({ result }, 0);
    for (const result of ['ok', 'failed']) metrics.tlsHandshakes.inc({ result }, 0);
  }

  get pair(): CertificatePair {
    return this.current;
  }

  start(): void {
    this.logger.info({ ...describePair(this.current), certFile: this.files.certFile }, 'TLS certificate loaded');
    this.watcher.start();
  }

  stop(): void {
    this.watcher.stop();
  }

  /** Loads the files again; true when the new pair is in use. */
  reload(): boolean {
    let pair: CertificatePair;
    try {
      pair = loadCertificatePair(this.files);
      // OpenSSL's own checks (a key type it will not use with these ciphers) before anything is swapped.
      buildSecureContext(pair, this.policy);
      this.target.setSecureContext(secureContextOptions(pair, this.policy));
    } catch (err) {
      this.metrics.certificateReloads.inc({ result: 'failed' });
      const reason = err instanceof CertificatePairError ? err.reason : 'refused_by_openssl';
      this.logger.warn({ err, reason, kept: describePair(this.current) }, 'TLS certificate reload refused; keeping the certificate in use');
      return false;
    }
    const previous = this.current;
    this.current = pair;
    this.metrics.certificateReloads.inc({ result: 'ok' });
    this.metrics.certificateExpiry.set(pair.notAfter.getTime() / 1000);
    this.logger.info({ ...describePair(pair), previousSerialNumber: previous.serialNumber }, 'TLS certificate reloaded');
    return true;
  }
}
