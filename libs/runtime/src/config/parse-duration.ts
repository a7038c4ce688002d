const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const TOKEN = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** `250ms`, `1.5s`, `1m30s`, `2h`, or a bare integer (milliseconds) → integer milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  const raw = text.trim();
  if (/^\d+$/.test(raw)) return Number(raw);
  if (raw === '') return undefined;
  TOKEN.lastIndex = 0;
  let totalMs = 0;
  while (TOKEN.lastIndex < raw.length) {
    const match = TOKEN.exec(raw);
    if (match === null) return undefined;
    totalMs += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
  }
  return Number.isFinite(totalMs) ? Math.round(totalMs) : undefined;
}
