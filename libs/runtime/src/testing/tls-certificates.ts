import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Names in the server certificate unless the caller picks its own: `localhost` and the IP
 * 127.0.0.1 (nats.js checks a server dialled by IP against both), plus the service names the
 * gRPC tests override the target name with.
 */
export const DEFAULT_TEST_SERVER_NAMES: readonly string[] = [
  'localhost',
  '127.0.0.1',
  'judge.verdict.test',
  'grpc.verdict.test',
];

export interface TestCertificateOptions {
  /**
   * subjectAltName entries of the server certificate; IP addresses become `IP:` entries, the
   * rest `DNS:`. Pass a single name to test that dialling by IP fails without a name override.
   */
  serverNames?: readonly string[];
}

/** One certificate and its private key, as files on disk and as PEM text. */
export interface TestKeyPair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface TestCertificates {
  /** The temp directory holding every file; cleanup() removes it. */
  readonly dir: string;
  /** Self-signed CA that signed `server` and `client`. */
  readonly ca: TestKeyPair;
  /** serverAuth leaf with `serverNames` as subjectAltName. */
  readonly server: TestKeyPair;
  /** clientAuth leaf for mutual TLS. */
  readonly client: TestKeyPair;
  readonly serverNames: readonly string[];
  /** Removes `dir`. Idempotent. */
  cleanup(): void;
}

const OPENSSL_MISSING = 'openssl is not installed: cannot make test certificates';

/**
 * Why TLS tests cannot run here, or undefined when openssl works. Pass it as node:test's `skip`
 * option so the reason is printed: `describe('tls', { skip: opensslMissingReason() }, ...)`.
 */
export function opensslMissingReason(): string | undefined {
  return spawnSync('openssl', ['version']).status === 0 ? undefined : OPENSSL_MISSING;
}

/**
 * Makes a throwaway PKI with the openssl CLI in a fresh temp dir: a CA, a server certificate and
 * a client certificate (P-256 keys, valid 2 days). Throws when openssl is missing; guard the
 * test with opensslMissingReason().
 */
export function createTestCertificates(options: TestCertificateOptions = {}): TestCertificates {
  const serverNames = options.serverNames ?? DEFAULT_TEST_SERVER_NAMES;
  if (serverNames.length === 0) throw new Error('createTestCertificates: serverNames is empty');
  const dir = mkdtempSync(join(tmpdir(), 'verdict-test-pki-'));
  try {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=verdict test CA',
    );
    const leaf = (name: string, extensions: string) => {
      writeFileSync(join(dir, `${name}.ext`), extensions);
      ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=verdict test ${name}`);
      const sign = ['-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2'];
      ssl('x509', '-req', '-in', `${name}.csr`, ...sign, '-out', `${name}.pem`, '-extfile', `${name}.ext`);
    };
    const san = serverNames.map((n) => (isIP(n) === 0 ? `DNS:${n}` : `IP:${n}`)).join(',');
    leaf('server', `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
    leaf('client', 'extendedKeyUsage=clientAuth\n');
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const pair = (name: string): TestKeyPair => {
    const certFile = join(dir, `${name}.pem`);
    const keyFile = join(dir, `${name}.key`);
    return {
      certFile,
      keyFile,
      certPem: readFileSync(certFile, 'utf8'),
      keyPem: readFileSync(keyFile, 'utf8'),
    };
  };
  return {
    dir,
    ca: pair('ca'),
    server: pair('server'),
    client: pair('client'),
    serverNames,
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
