import { accessSync, constants } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { EnvReader } from '../../shared/index.js';
import { CertificatePairError, loadCertificatePair } from './certificate-pair.js';

export const TLS_MIN_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export type TlsMinVersion = (typeof TLS_MIN_VERSIONS)[number];

/**
 * ECDHE key exchange with AEAD ciphers only (forward secrecy, no CBC, no
 * RSA key transport), the TLS 1.2 part of Mozilla's "intermediate" profile
 * without DHE; TLS 1.3 suites are all AEAD and listed first. Names as
 * OpenSSL spells them: https://wiki.mozilla.org/Security/Server_Side_TLS
 */
export const DEFAULT_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** HTTP/2 limits of the TLS listener (RFC 9113 §6.5.2 settings and Node's session options). */
export interface Http2Limits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS per connection. */
  readonly maxConcurrentStreams: number;
  /** Node's maxSessionMemory: past it new streams are refused (ENHANCE_YOUR_CALM). */
  readonly maxSessionMemoryMb: number;
  /** Streams a client may cancel (RST_STREAM) per 10 s before the connection gets GOAWAY and is closed (rapid reset, CVE-2023-44487). */
  readonly maxResetsPer10s: number;
  /** The client must acknowledge our SETTINGS within this (RFC 9113 §6.5.3, SETTINGS_TIMEOUT). */
  readonly settingsTimeoutMs: number;
}

export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** When set, client certificates are required and verified against this bundle (mutual TLS). */
  readonly caFile?: string;
  readonly minVersion: TlsMinVersion;
  readonly ciphers: string;
  /** Period of the stat poll that backs up fs.watch (which misses events on some file systems). */
  readonly watchPollMs: number;
  readonly http2: Http2Limits;
}

export interface RedirectConfig {
  /** Port of the plain-HTTP listener that answers only 308 to https. */
  readonly port: number;
  /** The https port named in Location (omitted when 443). */
  readonly httpsPort: number;
}

function readableFile(reader: EnvReader, name: string): string | undefined {
  const path = reader.optionalString(name);
  if (path === undefined) return undefined;
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    reader.problem(`${name}: cannot read ${path} (${(err as Error).message}); allowed: a readable PEM file`);
  }
  return path;
}

/**
 * The TLS part of the balancer's configuration, or undefined for plain
 * HTTP/1.1 (the default). Both files or neither; the pair is loaded and
 * checked here too, so a wrong mount stops start-up with the variable's
 * name instead of failing at the first handshake.
 */
export function readTlsConfig(reader: EnvReader): TlsConfig | undefined {
  const certFile = readableFile(reader, 'BALANCER_TLS_CERT_FILE');
  const keyFile = readableFile(reader, 'BALANCER_TLS_KEY_FILE');
  const caFile = readableFile(reader, 'BALANCER_TLS_CA_FILE');
  const minVersion = reader.oneOf('BALANCER_TLS_MIN_VERSION', TLS_MIN_VERSIONS, 'TLSv1.2');
  const ciphers = reader.string('BALANCER_TLS_CIPHERS', DEFAULT_CIPHERS);
  const http2: Http2Limits = {
    maxConcurrentStreams: reader.int('BALANCER_H2_MAX_CONCURRENT_STREAMS', 100, { min: 1, max: 10_000 }),
    maxSessionMemoryMb: reader.int('BALANCER_H2_MAX_SESSION_MEMORY_MB', 10, { min: 1, max: 1_024 }),
    maxResetsPer10s: reader.int('BALANCER_H2_MAX_RESETS_PER_10S', 200, { min: 1, max: 100_000 }),
    settingsTimeoutMs: reader.int('BALANCER_H2_SETTINGS_TIMEOUT_MS', 10_000, { min: 100, max: 600_000 }),
  };
  const watchPollMs = reader.int('BALANCER_TLS_POLL_MS', 10_000, { min: 100, max: 3_600_000 });
  if (certFile === undefined && keyFile === undefined) {
    if (caFile !== undefined) reader.problem('BALANCER_TLS_CA_FILE: needs BALANCER_TLS_CERT_FILE and BALANCER_TLS_KEY_FILE (client certificates are checked only on a TLS listener)');
    return undefined;
  }
  if (certFile === undefined || keyFile === undefined) {
    reader.problem(`${certFile === undefined ? 'BALANCER_TLS_CERT_FILE' : 'BALANCER_TLS_KEY_FILE'}: required together with ${certFile === undefined ? 'BALANCER_TLS_KEY_FILE' : 'BALANCER_TLS_CERT_FILE'} (both or neither)`);
    return undefined;
  }
  try {
    createSecureContext({ ciphers });
  } catch (err) {
    reader.problem(`BALANCER_TLS_CIPHERS: "${ciphers}" is refused by OpenSSL (${(err as Error).message}); allowed: an OpenSSL cipher list`);
  }
  try {
    loadCertificatePair({ certFile, keyFile, ...(caFile !== undefined ? { caFile } : {}) });
  } catch (err) {
    // Unreadable files were reported above already.
    if (err instanceof CertificatePairError && err.reason !== 'unreadable') {
      const variable = err.reason === 'bad_key' ? 'BALANCER_TLS_KEY_FILE' : err.reason === 'bad_ca' ? 'BALANCER_TLS_CA_FILE' : 'BALANCER_TLS_CERT_FILE';
      reader.problem(`${variable}: ${err.message}; allowed: a PEM certificate chain and its matching, currently valid key`);
    } else if (!(err instanceof CertificatePairError)) {
      throw err;
    }
  }
  return { certFile, keyFile, ...(caFile !== undefined ? { caFile } : {}), minVersion, ciphers, watchPollMs, http2 };
}

/** BALANCER_HTTP_REDIRECT_PORT: an optional plain listener that only redirects to https; needs TLS. */
export function readRedirectConfig(reader: EnvReader, tls: TlsConfig | undefined): RedirectConfig | undefined {
  if (!reader.has('BALANCER_HTTP_REDIRECT_PORT')) return undefined;
  const port = reader.port('BALANCER_HTTP_REDIRECT_PORT', 0);
  const httpsPort = reader.int('BALANCER_HTTP_REDIRECT_HTTPS_PORT', 443, { min: 1, max: 65_535 });
  if (tls === undefined) {
    reader.problem('BALANCER_HTTP_REDIRECT_PORT: needs BALANCER_TLS_CERT_FILE and BALANCER_TLS_KEY_FILE (it redirects to the TLS listener)');
    return undefined;
  }
  return { port, httpsPort };
}
