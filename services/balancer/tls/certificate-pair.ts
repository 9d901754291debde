import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { FlotillaError } from '../../shared/index.js';

/** Why a certificate pair was refused; `reason` is also the metric label. */
export type PairProblem = 'unreadable' | 'bad_certificate' | 'bad_key' | 'key_mismatch' | 'expired' | 'not_yet_valid' | 'bad_ca';

export class CertificatePairError extends FlotillaError {
  constructor(
    readonly reason: PairProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('LB_ERR_TLS_PAIR', message, options);
    this.name = 'CertificatePairError';
  }
}

export interface PairFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** Client certificates are verified against this bundle when set. */
  readonly caFile?: string;
}

/** A certificate chain and key that parse, belong together and are valid now. */
export interface CertificatePair {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  /** The leaf (first) certificate of the chain. */
  readonly leaf: X509Certificate;
  readonly notAfter: Date;
  readonly serialNumber: string;
  /** SHA-256 fingerprint of the leaf, as `openssl x509 -fingerprint -sha256` prints it. */
  readonly fingerprint256: string;
}

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CertificatePairError('unreadable', `cannot read the ${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Reads and checks a pair the way a reload must before it replaces a working
 * one: the chain's first certificate parses, the key parses and is the
 * certificate's key (X509Certificate.checkPrivateKey), the certificate is
 * valid at `now`, and the CA bundle (if any) parses. A half-written Secret
 * (kubelet swaps the `..data` symlink atomically, but a copy by hand is not)
 * fails one of these and is refused.
 */
export function loadCertificatePair(files: PairFiles, now: Date = new Date()): CertificatePair {
  const cert = read(files.certFile, 'certificate');
  const key = read(files.keyFile, 'key');
  const ca = files.caFile === undefined ? undefined : read(files.caFile, 'CA bundle');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new CertificatePairError('bad_certificate', `${files.certFile} holds no PEM certificate: ${(err as Error).message}`, { cause: err });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new CertificatePairError('bad_key', `${files.keyFile} holds no PEM private key: ${(err as Error).message}`, { cause: err });
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new CertificatePairError('key_mismatch', `the key in ${files.keyFile} does not belong to the certificate in ${files.certFile}`);
  }
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  if (now.getTime() > notAfter.getTime()) throw new CertificatePairError('expired', `the certificate in ${files.certFile} expired at ${notAfter.toISOString()}`);
  if (now.getTime() < notBefore.getTime()) throw new CertificatePairError('not_yet_valid', `the certificate in ${files.certFile} is valid only from ${notBefore.toISOString()}`);
  if (ca !== undefined) {
    try {
      // Parses every certificate of the bundle, which X509Certificate (one certificate) would not.
      createSecureContext({ ca });
    } catch (err) {
      throw new CertificatePairError('bad_ca', `${files.caFile ?? ''} is not a PEM CA bundle: ${(err as Error).message}`, { cause: err });
    }
  }
  return { cert, key, ...(ca !== undefined ? { ca } : {}), leaf, notAfter, serialNumber: leaf.serialNumber, fingerprint256: leaf.fingerprint256 };
}

/** Options every secure context gets: the TLS policy plus the pair. */
export interface ContextPolicy {
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly ciphers: string;
}

/** The options for tls.createSecureContext / server.setSecureContext from a checked pair. */
export function secureContextOptions(pair: CertificatePair, policy: ContextPolicy): SecureContextOptions {
  return {
    cert: pair.cert,
    key: pair.key,
    ...(pair.ca !== undefined ? { ca: pair.ca } : {}),
    minVersion: policy.minVersion,
    maxVersion: 'TLSv1.3',
    ciphers: policy.ciphers,
    honorCipherOrder: true,
  };
}

/** Builds a context once, so that a cipher list or key OpenSSL refuses is found before it is installed. */
export function buildSecureContext(pair: CertificatePair, policy: ContextPolicy): SecureContext {
  return createSecureContext(secureContextOptions(pair, policy));
}
