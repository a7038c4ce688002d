import { accessSync, constants as fsConstants } from 'node:fs';
import type { Messaging, NatsConnectionSettings } from '@verdict/runtime';
import { CommandFailure } from '../framework/command-failure.js';
import type { FlagSpecs } from '../framework/flags.js';
import { UsageError } from '../framework/usage-error.js';

const SCHEMES = new Set(['nats:', 'tls:']);

/**
 * Validates --nats: a comma-separated list of `nats://HOST:PORT`, `tls://HOST:PORT` or bare
 * `HOST:PORT`. Anything else (http URLs, mem://, typos) is a usage error naming the flag.
 */
export function parseNatsServers(text: string): string[] {
  const servers = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = () =>
    new UsageError(
      `--nats must be nats://HOST:PORT (or tls://, or a comma-separated list; got ${JSON.stringify(text)})`,
    );
  if (servers.length === 0) throw bad();
  for (const s of servers) {
    let url: URL;
    try {
      url = new URL(s.includes('://') ? s : `nats://${s}`);
    } catch {
      throw bad();
    }
    if (!SCHEMES.has(url.protocol) || url.hostname === '' || (url.pathname !== '' && url.pathname !== '/'))
      throw bad();
    if (url.port !== '' && (Number(url.port) < 1 || Number(url.port) > 65535)) throw bad();
  }
  return servers;
}

/** Object names: non-empty, relative, no `..` or empty segments (they become folder-like prefixes). */
export function checkObjectName(flag: string, name: string): string {
  const segments = name.split('/');
  if (name.trim() !== name || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new UsageError(
      `--${flag} must be an object name like qwen3-0.6b or run-1/v3.safetensors (got ${JSON.stringify(name)})`,
    );
  }
  return name;
}

/** Object Store bucket names are restricted by NATS (they become stream names). */
export function checkBucketName(name: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    throw new UsageError(`--bucket must be letters, digits, - or _ (got ${JSON.stringify(name)})`);
  }
  return name;
}

/** The connection flags every `weights` command takes (all optional). */
export interface WeightsNatsFlags {
  creds?: string | undefined;
  tlsCa?: string | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
}

/** Flag specs shared by `weights push` and `weights pull`. */
export const WEIGHTS_NATS_FLAGS = {
  creds: { type: 'string', description: 'NATS .creds file (JWT + seed); default NATS_CREDS_FILE' },
  tlsCa: { type: 'string', description: 'CA (PEM) of the NATS server certificate; default NATS_TLS_CA_FILE' },
  tlsCert: {
    type: 'string',
    description: 'client certificate (PEM) for mutual TLS; default NATS_TLS_CERT_FILE',
  },
  tlsKey: { type: 'string', description: 'client key (PEM) for mutual TLS; default NATS_TLS_KEY_FILE' },
} as const satisfies FlagSpecs;

function checkReadableFlag(flag: string, path: string | undefined): void {
  if (path === undefined) return;
  try {
    accessSync(path, fsConstants.R_OK);
  } catch {
    throw new UsageError(`--${flag} ${path} cannot be read`);
  }
}

/**
 * Credentials and TLS for a weights command: the NATS_* variables (the ones the Helm chart gives
 * the init container: NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS_FILE, NATS_TLS_*), with
 * flags taking precedence (--creds replaces any credentials from the environment).
 */
export async function resolveWeightsNatsAuth(
  flags: WeightsNatsFlags,
  env: Readonly<Record<string, string | undefined>>,
): Promise<NatsConnectionSettings> {
  checkReadableFlag('creds', flags.creds);
  checkReadableFlag('tls-ca', flags.tlsCa);
  checkReadableFlag('tls-cert', flags.tlsCert);
  checkReadableFlag('tls-key', flags.tlsKey);
  const { defineConfig, natsConnectionEnv, natsConnectOptionsFromConfig } = await import('@verdict/runtime');
  let fromEnv: NatsConnectionSettings;
  try {
    const loaded = defineConfig({ nats: natsConnectionEnv() }).load(env);
    fromEnv = natsConnectOptionsFromConfig(loaded.nats);
  } catch (e) {
    throw new UsageError((e instanceof Error ? e.message : String(e)).replace(/\n\s*/g, '; '));
  }
  const out: NatsConnectionSettings =
    flags.creds !== undefined
      ? { credsFile: flags.creds }
      : {
          ...(fromEnv.user !== undefined ? { user: fromEnv.user, pass: fromEnv.pass } : {}),
          ...(fromEnv.token !== undefined ? { token: fromEnv.token } : {}),
          ...(fromEnv.credsFile !== undefined ? { credsFile: fromEnv.credsFile } : {}),
        };
  const caFile = flags.tlsCa ?? fromEnv.tls?.caFile;
  const certFile = flags.tlsCert ?? fromEnv.tls?.certFile;
  const keyFile = flags.tlsKey ?? fromEnv.tls?.keyFile;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError(
      '--tls-cert and --tls-key (or NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE) go together',
    );
  }
  if (caFile !== undefined || certFile !== undefined) {
    out.tls = {
      ...(caFile !== undefined ? { caFile } : {}),
      ...(certFile !== undefined ? { certFile } : {}),
      ...(keyFile !== undefined ? { keyFile } : {}),
    };
  }
  return out;
}

/**
 * Connects for one CLI command: a failed connect (refused credentials included) is exit 1 with
 * one line; a bad flag, an unreadable file or bad NATS_* variables exit 2.
 */
export async function connectWeightsNats(
  servers: string[],
  flags: WeightsNatsFlags,
  progress?: (message: string) => void,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<Messaging> {
  const auth = await resolveWeightsNatsAuth(flags, env);
  const { connectNats } = await import('@verdict/runtime');
  const say = progress ?? (() => {});
  try {
    return await connectNats({
      servers,
      name: 'verdict-cli-weights',
      timeoutMs: 10_000,
      // A CLI run (or an init container) fails and is retried by its caller rather than waiting forever.
      reconnect: { maxAttempts: 3, waitMs: 1_000 },
      ...auth,
      logger: { debug: () => {}, info: say, warn: say, error: say },
    });
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
    throw new CommandFailure(message, { cause: e });
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}
