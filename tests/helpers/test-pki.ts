import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IssuedPair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Upper-case hex without separators, as X509Certificate.serialNumber gives it. */
  readonly serialNumber: string;
  readonly fingerprint256: string;
}

export interface IssueOptions {
  readonly commonName?: string;
  /** subjectAltName, e.g. "DNS:localhost,IP:127.0.0.1". */
  readonly altNames?: string;
  readonly days?: number;
  /** "server" (serverAuth) or "client" (clientAuth). */
  readonly usage?: 'server' | 'client';
  /** "ec" (P-256, the default: fast to make) or "rsa" (2048 bit). */
  readonly keyType?: 'ec' | 'rsa';
}

/**
 * A throw-away certificate authority in a temporary folder, made with the
 * openssl command line (as an operator would): a CA, then server and client
 * certificates it signs. remove() deletes the folder.
 */
export class TestPki {
  readonly caCertFile: string;
  private readonly caKeyFile: string;
  private counter = 0;

  private constructor(readonly dir: string) {
    this.caCertFile = join(dir, 'ca.crt');
    this.caKeyFile = join(dir, 'ca.key');
  }

  static create(name = 'Flotilla Test CA'): TestPki {
    const pki = new TestPki(mkdtempSync(join(tmpdir(), 'flotilla-pki-')));
    pki.openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', pki.caKeyFile]);
    pki.openssl(['req', '-x509', '-new', '-key', pki.caKeyFile, '-sha256', '-days', '30', '-subj', `/CN=${name}`, '-out', pki.caCertFile]);
    return pki;
  }

  get caCert(): Buffer {
    return readFileSync(this.caCertFile);
  }

  private openssl(args: readonly string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  }

  /** A key and a certificate signed by this CA, in files named <name>.key and <name>.crt. */
  issue(name: string, options: IssueOptions = {}): IssuedPair {
    this.counter += 1;
    const keyFile = join(this.dir, `${name}.key`);
    const csrFile = join(this.dir, `${name}.csr`);
    const certFile = join(this.dir, `${name}.crt`);
    const extFile = join(this.dir, `${name}.ext`);
    if (options.keyType === 'rsa') this.openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile]);
    else this.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
    this.openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${options.commonName ?? 'localhost'}`, '-out', csrFile]);
    const usage = options.usage ?? 'server';
    const ext = [
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature',
      `extendedKeyUsage=${usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
      ...(usage === 'server' ? [`subjectAltName=${options.altNames ?? 'DNS:localhost,IP:127.0.0.1'}`] : []),
    ];
    writeFileSync(extFile, `${ext.join('\n')}\n`);
    // A serial of our own per certificate, so that tests can tell pairs apart.
    const serial = `0x${(Date.now() * 1000 + this.counter).toString(16)}`;
    this.openssl([
      'x509', '-req', '-in', csrFile, '-CA', this.caCertFile, '-CAkey', this.caKeyFile, '-set_serial', serial,
      '-days', String(options.days ?? 7), '-sha256', '-extfile', extFile, '-out', certFile,
    ]);
    const cert = readFileSync(certFile);
    const x509 = new X509Certificate(cert);
    return { certFile, keyFile, cert, key: readFileSync(keyFile), serialNumber: x509.serialNumber, fingerprint256: x509.fingerprint256 };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
