/** Seconds as `1m05s` / `4.2s` for progress lines. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(1)}s`;
}

export interface ProgressMeter {
  /** Reports `done` of `total` units; prints at most every `everyMs` (and always at the end). */
  update(done: number, extra?: string): void;
}

/**
 * Progress lines with rate and ETA (`student sft 120/400 steps 3.1 steps/s eta 1m30s loss 0.81`).
 * Throttled so a fast loop does not flood stderr.
 */
export function createProgressMeter(
  label: string,
  total: number,
  unit: string,
  say: (line: string) => void,
  options: {
    /** Least time between lines (default 2 s). */
    readonly everyMs?: number;
    /** Units done before this meter started (a resumed run): counted in `done`, not in the rate. */
    readonly startAt?: number;
  } = {},
): ProgressMeter {
  const everyMs = options.everyMs ?? 2000;
  const startAt = options.startAt ?? 0;
  const started = performance.now();
  let lastPrinted = Number.NEGATIVE_INFINITY;
  return {
    update(done, extra) {
      const now = performance.now();
      if (done < total && now - lastPrinted < everyMs) return;
      lastPrinted = now;
      const elapsed = (now - started) / 1000;
      const rate = elapsed > 0 ? (done - startAt) / elapsed : 0;
      const eta = rate > 0 ? (total - done) / rate : Number.NaN;
      const rateText = rate >= 10 ? rate.toFixed(0) : rate.toFixed(2);
      say(
        `${label} ${done}/${total} ${unit} ${rateText} ${unit}/s eta ${formatSeconds(eta)}` +
          (extra ? ` ${extra}` : ''),
      );
    },
  };
}
