import { UsageError } from '../framework/usage-error.js';

/**
 * Validates `HOST:PORT` (`[v6addr]:PORT` for IPv6) for --remote and returns it as gRPC expects.
 * No scheme: gRPC targets like `dns:///` are not accepted, so typos fail here with exit 2.
 */
export function parseRemoteAddress(flag: string, text: string): string {
  const bad = new UsageError(`--${flag} must be HOST:PORT (got ${JSON.stringify(text)})`);
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(text.trim());
  if (m === null) throw bad;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw bad;
  return `${m[1]}:${port}`;
}
