// The minimal logging surface the runtime needs. Telemetry provides a real (structured,
// trace-correlated) implementation; these two keep the runtime usable without it.

export interface RuntimeLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: RuntimeLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/** One JSON line per record on stderr (stdout is reserved for `--json` CLI output). */
export function createStderrLogger(
  name: string,
  minLevel: 'debug' | 'info' | 'warn' | 'error' = 'info',
): RuntimeLogger {
  const levels = ['debug', 'info', 'warn', 'error'] as const;
  const min = levels.indexOf(minLevel);
  const write =
    (level: (typeof levels)[number]) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (levels.indexOf(level) < min) return;
      process.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), level, name, message, ...serialise(fields) })}\n`,
      );
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

function serialise(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  if (fields === undefined) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] =
      value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
  }
  return out;
}
