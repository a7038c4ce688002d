// NATS credentials and TLS from the environment, as a defineConfig fragment every NATS client
// embeds in its own schema (so config.ts stays the one reader of process.env), plus the
// cross-variable rules defineConfig cannot express (user needs password, one auth method).
// The variable names are the ones the Helm chart sets (deploy/helm/verdict `verdict.natsEnv`).
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { env } from '../config/env.js';
import { type ConfigOf, ConfigVar, type ParseResult } from '../config/index.js';
import { VerdictError } from '../errors/index.js';
import type { NatsConnectOptions } from './connect-nats.js';

const READABLE_FILE_RULE = 'path of a readable file';

function isReadableFile(path: string): boolean {
  try {
    accessSync(path, fsConstants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A file path checked at config load, so a missing Secret mount fails the start naming the variable. */
function readableFileVar(variable: string, description: string): ConfigVar<string> {
  return new ConfigVar(
    variable,
    READABLE_FILE_RULE,
    (raw): ParseResult<string> =>
      isReadableFile(raw) ? { ok: true, value: raw } : { ok: false, rule: READABLE_FILE_RULE },
    { description },
  );
}

/**
 * The NATS connection variables as a config fragment: `defineConfig({ natsUrl: …,
 * natsConnection: natsConnectionEnv() })`. All optional; turn the loaded value into connect
 * options with `natsConnectOptionsFromConfig`.
 */
export function natsConnectionEnv() {
  return {
    user: env.optional(env.string('NATS_USER', { description: 'NATS user name (needs NATS_PASSWORD)' })),
    password: env.optional(
      env.string('NATS_PASSWORD', { secret: true, description: 'password of NATS_USER' }),
    ),
    token: env.optional(env.string('NATS_TOKEN', { secret: true, description: 'NATS auth token' })),
    credsFile: env.optional(
      readableFileVar('NATS_CREDS_FILE', 'NATS .creds file (JWT + NKey seed, decentralised auth)'),
    ),
    tls: {
      caFile: env.optional(
        readableFileVar('NATS_TLS_CA_FILE', 'CA bundle (PEM) that signed the NATS server certificate'),
      ),
      certFile: env.optional(
        readableFileVar('NATS_TLS_CERT_FILE', 'client certificate (PEM) for mutual TLS (needs the key)'),
      ),
      keyFile: env.optional(readableFileVar('NATS_TLS_KEY_FILE', 'client private key (PEM) for mutual TLS')),
    },
  };
}

export type NatsConnectionConfig = ConfigOf<ReturnType<typeof natsConnectionEnv>>;

/** The credential and TLS part of NatsConnectOptions. */
export type NatsConnectionSettings = Pick<
  NatsConnectOptions,
  'user' | 'pass' | 'token' | 'credsFile' | 'tls'
>;

/** Cross-variable problems of a loaded fragment, one line each naming the variables (empty = fine). */
export function natsConnectionProblems(config: NatsConnectionConfig): string[] {
  const problems: string[] = [];
  if ((config.user === undefined) !== (config.password === undefined)) {
    const [set, unset] =
      config.user !== undefined ? ['NATS_USER', 'NATS_PASSWORD'] : ['NATS_PASSWORD', 'NATS_USER'];
    problems.push(`NATS_USER and NATS_PASSWORD must be set together (${set} is set, ${unset} is not)`);
  }
  const methods = [
    config.user !== undefined || config.password !== undefined ? 'NATS_USER/NATS_PASSWORD' : undefined,
    config.token !== undefined ? 'NATS_TOKEN' : undefined,
    config.credsFile !== undefined ? 'NATS_CREDS_FILE' : undefined,
  ].filter((m): m is string => m !== undefined);
  if (methods.length > 1) {
    problems.push(`set only one NATS auth method, got ${methods.join(' and ')}`);
  }
  if ((config.tls.certFile === undefined) !== (config.tls.keyFile === undefined)) {
    const [set, unset] =
      config.tls.certFile !== undefined
        ? ['NATS_TLS_CERT_FILE', 'NATS_TLS_KEY_FILE']
        : ['NATS_TLS_KEY_FILE', 'NATS_TLS_CERT_FILE'];
    problems.push(
      `NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE must be set together (${set} is set, ${unset} is not)`,
    );
  }
  return problems;
}

/**
 * Validated connect options from the loaded fragment; throws one INVALID_ARGUMENT naming the
 * variables. Call it in `loadXConfig` (fail at start) and spread the result into connectMessaging.
 */
export function natsConnectOptionsFromConfig(config: NatsConnectionConfig): NatsConnectionSettings {
  const problems = natsConnectionProblems(config);
  if (problems.length > 0) {
    const noun = problems.length === 1 ? 'problem' : 'problems';
    throw new VerdictError(
      'INVALID_ARGUMENT',
      `invalid configuration (${problems.length} ${noun}):\n  ${problems.join('\n  ')}`,
      { field: 'NATS_USER,NATS_PASSWORD,NATS_TOKEN,NATS_CREDS_FILE,NATS_TLS_CERT_FILE,NATS_TLS_KEY_FILE' },
    );
  }
  const out: NatsConnectionSettings = {};
  if (config.user !== undefined && config.password !== undefined) {
    out.user = config.user;
    out.pass = config.password;
  }
  if (config.token !== undefined) out.token = config.token;
  if (config.credsFile !== undefined) out.credsFile = config.credsFile;
  const { caFile, certFile, keyFile } = config.tls;
  if (caFile !== undefined || certFile !== undefined || keyFile !== undefined) {
    out.tls = {
      ...(caFile !== undefined ? { caFile } : {}),
      ...(certFile !== undefined ? { certFile } : {}),
      ...(keyFile !== undefined ? { keyFile } : {}),
    };
  }
  return out;
}
