// TLS of every Verdict gRPC server and client from the environment: config fragments each
// service embeds in its own defineConfig schema (so its config.ts stays the one reader of
// process.env), with systematic names: a server `<P>_TLS_CERT_FILE`, `<P>_TLS_KEY_FILE`,
// `<P>_TLS_CLIENT_CA_FILE` (mutual TLS) and `<P>_HEALTH_PORT` (plaintext probes); a client
// `<P>` (on/off), `<P>_CA_FILE`, `<P>_SERVER_NAME`, `<P>_CERT_FILE`, `<P>_KEY_FILE`. Files are
// read and checked when the config loads, so a bad secret fails the start naming the variable.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { type ChannelCredentials, type ChannelOptions, credentials } from '@grpc/grpc-js';
import { env } from '../config/env.js';
import type { ConfigOf } from '../config/index.js';
import { isVerdictError, VerdictError } from '../errors/verdict-error.js';
import { resolveGrpcServerTls } from './server-tls.js';

// ---- server ----------------------------------------------------------------------------------

/**
 * `JUDGE` → `JUDGE_TLS_CERT_FILE`, `JUDGE_TLS_KEY_FILE`, `JUDGE_TLS_CLIENT_CA_FILE`,
 * `JUDGE_HEALTH_PORT`, spread into the service's `grpc` group: `grpc: { host, port,
 * ...grpcServerTlsEnv('JUDGE') }`. Turn the loaded group into PEM with `grpcServerTlsFromConfig`.
 */
export function grpcServerTlsEnv(prefix: string) {
  const v = grpcServerTlsVariables(prefix);
  return {
    tlsCertFile: env.optional(
      env.string(v.cert, {
        minLength: 1,
        description: `PEM server certificate chain: TLS on the gRPC port (with ${v.key})`,
      }),
    ),
    tlsKeyFile: env.optional(
      env.string(v.key, { minLength: 1, description: `PEM private key of ${v.cert}` }),
    ),
    tlsClientCaFile: env.optional(
      env.string(v.clientCa, {
        minLength: 1,
        description: 'PEM CA bundle: when set, clients must present a certificate it signed (mutual TLS)',
      }),
    ),
    healthPort: env.optional(
      env.int(v.healthPort, {
        min: 0,
        max: 65535,
        description: 'extra plaintext port serving only grpc.health.v1 (probes when the gRPC port has TLS)',
      }),
    ),
  };
}

export type GrpcServerTlsConfig = ConfigOf<ReturnType<typeof grpcServerTlsEnv>>;

export function grpcServerTlsVariables(prefix: string) {
  return {
    cert: `${prefix}_TLS_CERT_FILE`,
    key: `${prefix}_TLS_KEY_FILE`,
    clientCa: `${prefix}_TLS_CLIENT_CA_FILE`,
    healthPort: `${prefix}_HEALTH_PORT`,
  } as const;
}

/** PEM text read at load time (strings, so a loaded config stays deeply frozen). */
export interface GrpcServerTlsPem {
  readonly cert: string;
  readonly key: string;
  readonly clientCa: string | undefined;
}

/**
 * The PEM material of the loaded fragment (undefined = plaintext) or the one problem with it, as
 * a line naming the variable (a cert without a key, an unreadable file, a key that does not
 * match the certificate, a client CA without a certificate).
 */
export function readGrpcServerTls(
  config: GrpcServerTlsConfig,
  prefix: string,
): { tls: GrpcServerTlsPem | undefined; problem?: undefined } | { tls?: undefined; problem: string } {
  const v = grpcServerTlsVariables(prefix);
  const { tlsCertFile, tlsKeyFile, tlsClientCaFile } = config;
  if (tlsCertFile === undefined && tlsKeyFile === undefined && tlsClientCaFile === undefined)
    return { tls: undefined };
  if (tlsCertFile === undefined && tlsKeyFile === undefined) {
    return { problem: `${v.clientCa} needs ${v.cert} and ${v.key} (mutual TLS is TLS first)` };
  }
  try {
    const tls = resolveGrpcServerTls(
      {
        ...(tlsCertFile !== undefined ? { certFile: tlsCertFile } : {}),
        ...(tlsKeyFile !== undefined ? { keyFile: tlsKeyFile } : {}),
        ...(tlsClientCaFile !== undefined ? { clientCaFile: tlsClientCaFile } : {}),
      },
      v,
    );
    return {
      tls: {
        cert: tls.cert.toString('utf8'),
        key: tls.key.toString('utf8'),
        clientCa: tls.clientCa?.toString('utf8'),
      },
    };
  } catch (error) {
    if (!isVerdictError(error)) throw error;
    return { problem: error.message };
  }
}

/** readGrpcServerTls that throws its problem as a config error (INVALID_ARGUMENT, the schema's shape). */
export function grpcServerTlsFromConfig(
  config: GrpcServerTlsConfig,
  prefix: string,
): GrpcServerTlsPem | undefined {
  const read = readGrpcServerTls(config, prefix);
  if (read.problem === undefined) return read.tls;
  throw configProblemsError([read.problem], grpcServerTlsVariables(prefix).cert);
}

// ---- client ----------------------------------------------------------------------------------

/**
 * `LEARNER_EVALUATOR_TLS` → `LEARNER_EVALUATOR_TLS` (bool: TLS on; never guessed from a CA alone),
 * `…_CA_FILE`, `…_SERVER_NAME`, `…_CERT_FILE`, `…_KEY_FILE`: the fragment of one client.
 * `target` names the server in the descriptions (`the evaluator`).
 */
export function grpcClientTlsEnv(prefix: string, target: string) {
  const v = grpcClientTlsVariables(prefix);
  return {
    enabled: env.bool(v.enabled, { default: false, description: `TLS to ${target}` }),
    caFile: env.optional(
      env.string(v.caFile, {
        minLength: 1,
        description: `PEM CA bundle trusted for ${target}'s certificate (unset = system roots)`,
      }),
    ),
    serverName: env.optional(
      env.string(v.serverName, {
        minLength: 1,
        description: `name checked against ${target}'s certificate instead of the address host`,
      }),
    ),
    certFile: env.optional(
      env.string(v.certFile, {
        minLength: 1,
        description: `PEM client certificate for mutual TLS (with ${v.keyFile})`,
      }),
    ),
    keyFile: env.optional(
      env.string(v.keyFile, { minLength: 1, description: `PEM private key of ${v.certFile}` }),
    ),
  };
}

export type GrpcClientTlsConfig = ConfigOf<ReturnType<typeof grpcClientTlsEnv>>;

export function grpcClientTlsVariables(prefix: string) {
  return {
    enabled: prefix,
    caFile: `${prefix}_CA_FILE`,
    serverName: `${prefix}_SERVER_NAME`,
    certFile: `${prefix}_CERT_FILE`,
    keyFile: `${prefix}_KEY_FILE`,
  } as const;
}

/** How a client connects, as logged at start. */
export type GrpcClientTransport = 'plaintext' | 'tls' | 'tls (client certificate)';

export function grpcClientTransportOf(tls: GrpcClientTlsConfig): GrpcClientTransport {
  if (!tls.enabled) return 'plaintext';
  return tls.certFile !== undefined ? 'tls (client certificate)' : 'tls';
}

/** Problems of a loaded client fragment, one line each naming the variables (empty = fine); reads the files. */
export function grpcClientTlsProblems(tls: GrpcClientTlsConfig, prefix: string): string[] {
  const v = grpcClientTlsVariables(prefix);
  if (!tls.enabled) {
    const stray = (['caFile', 'serverName', 'certFile', 'keyFile'] as const)
      .filter((k) => tls[k] !== undefined)
      .map((k) => v[k]);
    // TLS material without TLS would silently dial plaintext: say so instead.
    return stray.length > 0 ? [`${stray.join(', ')} set but ${v.enabled} is not true`] : [];
  }
  const problems: string[] = [];
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    problems.push(`${v.certFile} and ${v.keyFile} go together (client certificate): set both or neither`);
  }
  const ca = readPem(tls.caFile, v.caFile, problems);
  if (ca !== undefined) {
    try {
      // createSecureContext accepts garbage as `ca`; parsing the first certificate does not.
      new X509Certificate(ca);
    } catch (error) {
      problems.push(`${v.caFile}: not a PEM CA certificate (${reasonOf(error)})`);
    }
  }
  const cert = readPem(tls.certFile, v.certFile, problems);
  const key = readPem(tls.keyFile, v.keyFile, problems);
  if (cert !== undefined && key !== undefined) {
    try {
      createSecureContext({ cert, key });
    } catch (error) {
      problems.push(
        `${v.certFile} / ${v.keyFile}: not a PEM certificate and matching private key (${reasonOf(error)})`,
      );
    }
  }
  return problems;
}

/** grpcClientTlsProblems that throws them as one config error. */
export function assertGrpcClientTls(tls: GrpcClientTlsConfig, prefix: string): void {
  const problems = grpcClientTlsProblems(tls, prefix);
  if (problems.length > 0) throw configProblemsError(problems, grpcClientTlsVariables(prefix).enabled);
}

/** Credentials and channel options for createGrpcClient (the files are read again: checked at load). */
export function grpcClientSecurity(tls: GrpcClientTlsConfig | undefined): {
  credentials: ChannelCredentials;
  channelOptions: ChannelOptions;
} {
  if (tls === undefined || !tls.enabled)
    return { credentials: credentials.createInsecure(), channelOptions: {} };
  const read = (file: string | undefined) => (file === undefined ? null : readFileSync(file));
  return {
    // No CA file = the system roots (a server behind a publicly trusted certificate).
    credentials: credentials.createSsl(read(tls.caFile), read(tls.keyFile), read(tls.certFile)),
    channelOptions: tls.serverName !== undefined ? { 'grpc.ssl_target_name_override': tls.serverName } : {},
  };
}

// ---- shared ----------------------------------------------------------------------------------

/** One INVALID_ARGUMENT in the shape of the schema's errors: one line per problem under one heading. */
export function configProblemsError(problems: readonly string[], field: string): VerdictError {
  const noun = problems.length === 1 ? 'problem' : 'problems';
  return new VerdictError(
    'INVALID_ARGUMENT',
    `invalid configuration (${problems.length} ${noun}):\n  ${problems.join('\n  ')}`,
    { field },
  );
}

function readPem(file: string | undefined, variable: string, problems: string[]): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (error) {
    problems.push(`${variable} ${file} cannot be read (${reasonOf(error)})`);
    return undefined;
  }
}

function reasonOf(error: unknown): string {
  // File system errors: the code (ENOENT, EACCES); OpenSSL errors: the message.
  if (error instanceof Error)
    return 'syscall' in error && 'code' in error ? String(error.code) : error.message;
  return String(error);
}
