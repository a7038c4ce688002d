// Transport security of createGrpcServer: PEM material (inline or read from files) becomes
// grpc-js ServerCredentials. No `tls` = plaintext. Everything is read and checked up front
// (files, PEM parsing, key matches certificate), so a bad secret fails the start with a message
// naming what is wrong instead of failing every handshake later.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';
import { VerdictError } from '../errors/verdict-error.js';

/** PEM text or bytes. */
export type PemSource = string | Uint8Array;

export interface GrpcServerTlsOptions {
  /** Server certificate chain (PEM), or `certFile` to read it from. */
  cert?: PemSource;
  certFile?: string;
  /** Private key of the certificate (PEM), or `keyFile`. */
  key?: PemSource;
  keyFile?: string;
  /** CA bundle that client certificates must chain to (PEM), or `clientCaFile`. */
  clientCa?: PemSource;
  clientCaFile?: string;
  /** Require a client certificate signed by the client CA (mutual TLS). Default: true when a client CA is given. */
  requireClientCert?: boolean;
}

/** How a server's port is secured, as logged at start. */
export type GrpcTransport = 'plaintext' | 'tls (server auth)' | 'tls (mutual)';

/** Names used in error messages instead of the option names (e.g. the environment variables). */
export interface GrpcServerTlsLabels {
  cert?: string;
  key?: string;
  clientCa?: string;
}

export interface ResolvedGrpcServerTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly clientCa: Buffer | undefined;
  readonly requireClientCert: boolean;
}

/**
 * Read and check the TLS material. Throws INVALID_ARGUMENT naming the option (or its label) for
 * a missing part, an unreadable file, unparsable PEM or a key that does not match the certificate.
 */
export function resolveGrpcServerTls(
  tls: GrpcServerTlsOptions,
  labels: GrpcServerTlsLabels = {},
): ResolvedGrpcServerTls {
  const name = {
    cert: labels.cert ?? 'tls.cert',
    key: labels.key ?? 'tls.key',
    clientCa: labels.clientCa ?? 'tls.clientCa',
  };
  const cert = pem(tls.cert, tls.certFile, name.cert);
  const key = pem(tls.key, tls.keyFile, name.key);
  const clientCa = pem(tls.clientCa, tls.clientCaFile, name.clientCa);
  if (cert === undefined || key === undefined) {
    throw new VerdictError(
      'INVALID_ARGUMENT',
      `${name.cert} and ${name.key} go together: set both or neither (only ${cert === undefined ? name.key : name.cert} is set)`,
      { field: `${name.cert},${name.key}` },
    );
  }
  const requireClientCert = tls.requireClientCert ?? clientCa !== undefined;
  if (requireClientCert && clientCa === undefined) {
    throw new VerdictError('INVALID_ARGUMENT', `requiring client certificates needs ${name.clientCa}`, {
      field: name.clientCa,
    });
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new VerdictError(
      'INVALID_ARGUMENT',
      `${name.cert} / ${name.key}: not a usable PEM certificate and matching private key (${reason(error)})`,
      { field: `${name.cert},${name.key}`, cause: error },
    );
  }
  if (clientCa !== undefined) {
    try {
      // createSecureContext accepts garbage as `ca`; parsing the first certificate does not.
      new X509Certificate(clientCa);
    } catch (error) {
      throw new VerdictError(
        'INVALID_ARGUMENT',
        `${name.clientCa}: not a usable PEM CA bundle (${reason(error)})`,
        { field: name.clientCa, cause: error },
      );
    }
  }
  return { cert, key, clientCa, requireClientCert };
}

/** Plaintext without `tls`; TLS (mutual when client certificates are required) with it. */
export function createGrpcServerCredentials(tls: ResolvedGrpcServerTls | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(
    tls.requireClientCert ? (tls.clientCa ?? null) : null,
    [{ private_key: tls.key, cert_chain: tls.cert }],
    tls.requireClientCert,
  );
}

export function grpcTransportOf(tls: ResolvedGrpcServerTls | undefined): GrpcTransport {
  if (tls === undefined) return 'plaintext';
  return tls.requireClientCert ? 'tls (mutual)' : 'tls (server auth)';
}

function pem(inline: PemSource | undefined, file: string | undefined, label: string): Buffer | undefined {
  if (inline !== undefined) return Buffer.from(inline);
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (error) {
    throw new VerdictError('INVALID_ARGUMENT', `${label} ${file} cannot be read (${reason(error)})`, {
      field: label,
      cause: error,
    });
  }
}

function reason(error: unknown): string {
  // File system errors: the code (ENOENT, EACCES); OpenSSL errors: the message.
  if (error instanceof Error)
    return 'syscall' in error && 'code' in error ? String(error.code) : error.message;
  return String(error);
}
