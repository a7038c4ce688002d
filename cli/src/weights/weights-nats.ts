import { accessSync, constants as fsConstants } from 'node:fs';
import type { Messaging } from '@verdict/runtime';
import { CommandFailure } from '../framework/command-failure.js';
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

/** Connects for one CLI command: a failed connect is exit 1 with one line, a bad creds path exit 2. */
export async function connectWeightsNats(
  servers: string[],
  credsFile: string | undefined,
): Promise<Messaging> {
  if (credsFile !== undefined) {
    try {
      accessSync(credsFile, fsConstants.R_OK);
    } catch {
      throw new UsageError(`--creds ${credsFile} cannot be read`);
    }
  }
  const { connectNats } = await import('@verdict/runtime');
  try {
    return await connectNats({
      servers,
      name: 'verdict-cli-weights',
      timeoutMs: 10_000,
      // A CLI run (or an init container) fails and is retried by its caller rather than waiting forever.
      reconnect: { maxAttempts: 3, waitMs: 1_000 },
      ...(credsFile !== undefined ? { credsFile } : {}),
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
