// The load generator of the load-curve and overload benches: the one harness that offers load to any
// gRPC server (judge-server, policy-server) and measures what came back. Open loop: calls leave on a
// schedule (a rate), whether or not earlier ones have answered, as independent clients would send
// them; a closed loop (callers that wait for their answer) would slow down with the server and hide
// its queueing. Measured per step: accepted throughput, p50/p99 latency of accepted calls, rejections
// by status code and the server process's RSS.
import { readFileSync } from 'node:fs';

/** What the generator drives: one call of the server under test. */
export interface LoadTarget {
  /** Short name for tables and charts (`judge-server toy`). */
  readonly name: string;
  /** Work units one call carries (judge items, generated sequences): throughput is in these. */
  readonly unitsPerCall: number;
  /** Name of the unit, plural (`items`, `sequences`). */
  readonly unit: string;
  /** The server's process id: its RSS is sampled during each step (undefined = not sampled). */
  readonly pid?: number;
  /**
   * Makes call number `seq`. Resolves once the server has answered it in full and accepted it;
   * rejects with the failure (an error with a string `code`, e.g. a VerdictError, counts under it).
   */
  call(seq: number): Promise<void>;
}

export interface StepResult {
  /** Offered load as a multiple of the measured capacity (the curve's x axis). */
  readonly multiplier: number;
  readonly offeredUnitsPerS: number;
  readonly durationMs: number;
  readonly sent: number;
  readonly accepted: number;
  /** Units of accepted calls per second, over the time from the first send to the last answer. */
  readonly acceptedUnitsPerS: number;
  /** Latency of accepted calls, send to last byte (NaN when none was accepted). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Failed calls by status code (`RESOURCE_EXHAUSTED`, `DEADLINE_EXCEEDED`, ...). */
  readonly rejected: Readonly<Record<string, number>>;
  /** Server RSS: before the step and the peak during it (MiB; NaN when not sampled). */
  readonly rssStartMiB: number;
  readonly rssPeakMiB: number;
  /**
   * CPU seconds the server process used from the step's first send to its last answer (NaN when not
   * sampled): with the accepted units it tells what refusing the excess costs the server.
   */
  readonly serverCpuS: number;
  /** CPU seconds of this process (the load generator) over the same time: on a shared machine it competes with the server. */
  readonly loadGenCpuS: number;
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The status code of a failed call: its `code` when it has a string one, else `UNKNOWN`. */
export function statusCodeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/** Resident set size of a process in MiB from /proc (NaN where there is no /proc or no such process). */
export function processRssMiB(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? Number.NaN : Number(m[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (user + system) a process has used, in seconds, from /proc (NaN where unavailable).
 * /proc/<pid>/stat counts in clock ticks, 100 per second on Linux.
 */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, hence the last ')'): utime is the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Capacity: `concurrency` callers in a closed loop for `durationMs` (enough callers to keep the
 * server's batches full). Returns accepted units per second; failures are not counted.
 */
export async function measureCapacity(
  target: LoadTarget,
  options: { durationMs: number; concurrency: number; firstSeq?: number },
): Promise<number> {
  let seq = options.firstSeq ?? 0;
  let units = 0;
  const start = performance.now();
  const until = start + options.durationMs;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < until) {
        try {
          await target.call(seq++);
          units += target.unitsPerCall;
        } catch {
          // A refusal here means the concurrency overfills the queue; the rest still measure it.
        }
      }
    }),
  );
  return units / ((performance.now() - start) / 1000);
}

/**
 * One open-loop step: calls leave at `unitsPerS / unitsPerCall` per second for `durationMs`
 * (checked every `tickMs`, so bursts are at most one tick of calls), then every call is awaited.
 */
export async function runOpenLoopStep(
  target: LoadTarget,
  options: {
    unitsPerS: number;
    durationMs: number;
    multiplier: number;
    tickMs?: number;
    firstSeq?: number;
  },
): Promise<StepResult> {
  const tickMs = options.tickMs ?? 10;
  const callsPerS = options.unitsPerS / target.unitsPerCall;
  const latencies: number[] = [];
  const rejected: Record<string, number> = {};
  const calls: Promise<void>[] = [];
  const rssStartMiB = processRssMiB(target.pid);
  let rssPeakMiB = rssStartMiB;
  const cpuStart = processCpuSeconds(target.pid);
  const ownCpuStart = process.cpuUsage();
  let sent = 0;
  let seq = options.firstSeq ?? 0;
  const start = performance.now();
  while (performance.now() - start < options.durationMs) {
    const due = Math.floor(((performance.now() - start) / 1000) * callsPerS);
    for (; sent < due; sent++) {
      const t0 = performance.now();
      calls.push(
        target.call(seq++).then(
          () => {
            latencies.push(performance.now() - t0);
          },
          (error: unknown) => {
            const code = statusCodeOf(error);
            rejected[code] = (rejected[code] ?? 0) + 1;
          },
        ),
      );
    }
    rssPeakMiB = Math.max(rssPeakMiB, processRssMiB(target.pid));
    await sleep(tickMs);
  }
  // Keep sampling while the accepted calls drain: the queue is fullest right after the last send.
  let drained = false;
  const all = Promise.all(calls).then(() => {
    drained = true;
  });
  while (!drained) {
    rssPeakMiB = Math.max(rssPeakMiB, processRssMiB(target.pid));
    await Promise.race([all, sleep(50)]);
  }
  const elapsedS = (performance.now() - start) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    multiplier: options.multiplier,
    offeredUnitsPerS: options.unitsPerS,
    durationMs: options.durationMs,
    sent,
    accepted: latencies.length,
    acceptedUnitsPerS: (latencies.length * target.unitsPerCall) / elapsedS,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? Number.NaN,
    rejected,
    rssStartMiB,
    rssPeakMiB,
    serverCpuS: processCpuSeconds(target.pid) - cpuStart,
    loadGenCpuS: cpuSecondsSince(ownCpuStart),
  };
}

export interface LoadCurveOptions {
  /** Offered load per step as multiples of the measured capacity (e.g. 0.25 … 4). */
  readonly multipliers: readonly number[];
  readonly stepMs: number;
  readonly capacityMs: number;
  /**
   * Closed-loop load before the capacity measurement, not measured: the first calls of a fresh
   * server pay for ONNX Runtime's first runs at new batch shapes. Default 1 s.
   */
  readonly warmupMs?: number;
  /** Closed-loop callers of the capacity measurement. */
  readonly capacityConcurrency: number;
  /** Pause between steps (the server's queue is empty then; lets timers and GC settle). */
  readonly pauseMs?: number;
  readonly onStep?: (step: StepResult) => void;
}

export interface LoadCurve {
  readonly target: string;
  readonly unit: string;
  /** Closed-loop capacity (units/s): the reference the multipliers scale. */
  readonly capacityUnitsPerS: number;
  /** The highest accepted throughput over the open-loop steps: the capacity the server reached. */
  readonly reachedUnitsPerS: number;
  readonly steps: readonly StepResult[];
}

/** Measures capacity, then offers each multiple of it for one step. */
export async function runLoadCurve(target: LoadTarget, options: LoadCurveOptions): Promise<LoadCurve> {
  await measureCapacity(target, {
    durationMs: options.warmupMs ?? 1_000,
    concurrency: options.capacityConcurrency,
    firstSeq: 2_000_000_000,
  });
  const capacityUnitsPerS = await measureCapacity(target, {
    durationMs: options.capacityMs,
    concurrency: options.capacityConcurrency,
  });
  if (!(capacityUnitsPerS > 0)) throw new Error(`${target.name}: no call succeeded while measuring capacity`);
  const steps: StepResult[] = [];
  // Distinct request contents per step (the judge and generation are content-independent in cost,
  // but distinct ids keep any cache honest).
  let firstSeq = 1_000_000;
  for (const multiplier of options.multipliers) {
    await sleep(options.pauseMs ?? 500);
    const step = await runOpenLoopStep(target, {
      unitsPerS: multiplier * capacityUnitsPerS,
      durationMs: options.stepMs,
      multiplier,
      firstSeq,
    });
    firstSeq += step.sent;
    steps.push(step);
    options.onStep?.(step);
  }
  return {
    target: target.name,
    unit: target.unit,
    capacityUnitsPerS,
    reachedUnitsPerS: Math.max(...steps.map((s) => s.acceptedUnitsPerS)),
    steps,
  };
}

/** One line per step, aligned, for the console. */
export function formatLoadCurve(curve: LoadCurve): string {
  const rows = [
    [
      'load',
      `offered ${curve.unit}/s`,
      `accepted ${curve.unit}/s`,
      'sent',
      'ok',
      'p50 ms',
      'p99 ms',
      'rejected',
      'RSS MiB',
      'server CPU s',
      'load-gen CPU s',
    ],
    ...curve.steps.map((s) => [
      `${s.multiplier}×`,
      s.offeredUnitsPerS.toFixed(0),
      s.acceptedUnitsPerS.toFixed(0),
      String(s.sent),
      String(s.accepted),
      fmtMs(s.p50Ms),
      fmtMs(s.p99Ms),
      formatRejected(s.rejected),
      Number.isNaN(s.rssPeakMiB) ? '-' : s.rssPeakMiB.toFixed(0),
      Number.isNaN(s.serverCpuS) ? '-' : s.serverCpuS.toFixed(2),
      s.loadGenCpuS.toFixed(2),
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) => r.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
  return [
    `${curve.target}: capacity (closed loop) ${curve.capacityUnitsPerS.toFixed(0)} ${curve.unit}/s, ` +
      `reached (open loop) ${curve.reachedUnitsPerS.toFixed(0)} ${curve.unit}/s`,
    ...lines,
  ].join('\n');
}

export function formatRejected(rejected: Readonly<Record<string, number>>): string {
  const parts = Object.entries(rejected).map(([code, n]) => `${code} ${n}`);
  return parts.length === 0 ? '0' : parts.join(', ');
}

function fmtMs(ms: number): string {
  return Number.isNaN(ms) ? '-' : ms.toFixed(0);
}
