// The fuzz loop: for every RPC, N cases (each from its own seeded generator, cases.ts), sent one
// at a time per lane to the running stack; every outcome checked by the oracle (oracle.ts); a
// liveness check, the memory bound and a report at the end.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type Client, status } from '@grpc/grpc-js';
import { health, learnerV1 } from '@verdict/proto';
import { type CallOutcome, type CallPlan, makeClient, rawCall } from './call.js';
import { buildCase, hintsFor } from './cases.js';
import type { CaseKind } from './generate.js';
import { judge, statusName } from './oracle.js';
import { ADDRESS_KEY, type FuzzMethod, type FuzzSchema } from './schema.js';

export interface FuzzOptions {
  readonly seed: number;
  readonly casesPerMethod: number;
  /** Only methods whose id contains this text. */
  readonly methodFilter?: string;
  /** Replay one case: this method id and case index only. */
  readonly only?: { readonly method: string; readonly index: number };
  readonly deadlineMs?: number;
  readonly graceMs?: number;
  /** An event-loop stall longer than this during a case fails it. */
  readonly blockMs?: number;
  /** RSS after the run may exceed RSS before by at most this many MiB. */
  readonly rssBoundMb?: number;
  /** Methods fuzzed at the same time (each lane one case at a time). Default 1. */
  readonly lanes?: number;
  /** Progress lines (one per method). */
  readonly log?: (line: string) => void;
}

export interface CaseFailure {
  readonly method: string;
  readonly index: number;
  readonly kind: CaseKind;
  readonly reason: string;
  readonly notes: readonly string[];
  readonly replay: string;
}

export interface MethodReport {
  cases: number;
  failed: number;
  statuses: Record<string, number>;
  maxElapsedMs: number;
  maxReplyBytes: number;
  /** Up to eight distinct status texts per status (what a refusal says). */
  examples: Record<string, string[]>;
}

export interface FuzzReport {
  readonly seed: number;
  readonly cases: number;
  readonly failed: number;
  readonly methods: Readonly<Record<string, MethodReport>>;
  readonly failures: readonly CaseFailure[];
  readonly rssBeforeMb: number;
  readonly rssAfterMb: number;
  readonly heapBeforeMb: number;
  readonly heapAfterMb: number;
  /** Buffers and other memory V8 tracks outside its heap. */
  readonly externalBeforeMb: number;
  readonly externalAfterMb: number;
  readonly rssBoundMb: number;
  readonly maxBlockMs: number;
  readonly lanes: number;
  readonly wallMs: number;
}

export function replayCommand(seed: number, method: string, index: number): string {
  return `npm run fuzz -- --seed ${seed} --method ${method} --case ${index}`;
}

function forceGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** RSS and V8 heap in MiB after two full collections. */
function memoryMb(gc: () => void): { rss: number; heap: number; external: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  const mb = (n: number) => n / (1024 * 1024);
  return { rss: mb(m.rss), heap: mb(m.heapUsed), external: mb(m.external) };
}

/** After the run every server must still answer its health check (SERVING, within 5 s). */
async function liveness(
  clientFor: (server: string) => Client,
  servers: readonly string[],
): Promise<string[]> {
  const dead: string[] = [];
  for (const server of servers) {
    const outcome = await rawCall(clientFor(server), {
      path: '/grpc.health.v1.Health/Check',
      kind: 'unary',
      messages: [health.HealthCheckRequest.encode({ service: '' }).finish()],
      deadlineMs: 5000,
      maxReplies: 1,
      graceMs: 2000,
    });
    const reply = outcome.replies[0];
    const serving =
      outcome.code === 0 &&
      reply !== undefined &&
      health.HealthCheckResponse.decode(reply).status === health.HealthCheckResponse_ServingStatus.SERVING;
    if (!serving)
      dead.push(`${server} is not SERVING after the run (status ${outcome.code}: ${outcome.details})`);
  }
  return dead;
}

/** A run started by a plausible StartRun is stopped at once: it must not train during the fuzz. */
async function stopStartedRun(client: Client, method: FuzzMethod, outcome: CallOutcome): Promise<void> {
  if (method.desc.name !== 'StartRun' || outcome.code !== 0 || outcome.replies.length === 0) return;
  const runId = learnerV1.StartRunResponse.decode(outcome.replies[0]!).status?.runId ?? '';
  await rawCall(client, {
    path: '/verdict.learner.v1.LearnerService/StopRun',
    kind: 'unary',
    messages: [learnerV1.StopRunRequest.encode({ runId, reason: 'fuzz' }).finish()],
    deadlineMs: 5000,
    maxReplies: 1,
    graceMs: 2000,
  });
}

/** One case in flight: what the stall monitor and the crash hooks attribute to it. */
interface InFlight {
  readonly label: string;
  maxLagMs: number;
  readonly escaped: string[];
}

/**
 * Event-loop stalls, measured by a 20 ms ticker: each tick's lateness, less the fuzzer's own
 * case building, is charged to every case in flight (one, unless lanes > 1). Stalls are the
 * services' synchronous work, since they run in this process.
 */
function startStallMonitor(inflight: ReadonlySet<InFlight>): {
  stop(): void;
  /** The fuzzer's own synchronous work (building a case): not the services' stall. */
  fuzzerBusy(ms: number): void;
  readonly maxLagMs: number;
} {
  const PERIOD = 20;
  let last = performance.now();
  let maxLagMs = 0;
  let busyMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const lag = Math.max(0, now - last - PERIOD - busyMs);
    busyMs = 0;
    last = now;
    maxLagMs = Math.max(maxLagMs, lag);
    for (const c of inflight) c.maxLagMs = Math.max(c.maxLagMs, lag);
  }, PERIOD);
  return {
    stop: () => clearInterval(timer),
    fuzzerBusy: (ms) => {
      busyMs += ms;
    },
    get maxLagMs() {
      return maxLagMs;
    },
  };
}

/** Runs the cases against a stack whose servers listen at `addresses` (startStack's keys). */
export async function runFuzz(
  schema: FuzzSchema,
  addresses: Readonly<Record<string, string>>,
  o: FuzzOptions,
): Promise<FuzzReport> {
  const deadlineMs = o.deadlineMs ?? 3000;
  const graceMs = o.graceMs ?? 2000;
  const blockMs = o.blockMs ?? 1500;
  const rssBoundMb = o.rssBoundMb ?? 256;
  const lanes = Math.max(1, o.lanes ?? 1);
  const log = o.log ?? (() => undefined);
  const hints = hintsFor(schema);
  const gc = forceGc();
  const methods = schema.methods.filter(
    (m) =>
      (o.methodFilter === undefined || m.id.includes(o.methodFilter)) &&
      (o.only === undefined || m.id === o.only.method),
  );
  if (methods.length === 0) throw new Error(`fuzz: no method matches ${o.only?.method ?? o.methodFilter}`);
  const clients = new Map<string, Client>();
  const retired: Client[] = [];
  const resets = new Map<string, number>();
  const clientFor = (server: string): Client => {
    let c = clients.get(server);
    if (c === undefined) {
      const address = addresses[ADDRESS_KEY[server]!];
      if (address === undefined) throw new Error(`fuzz: no address for ${server}`);
      c = makeClient(address);
      clients.set(server, c);
    }
    return c;
  };
  /**
   * Every call the client ends early (cancel, deadline) sends an HTTP/2 RST_STREAM. Node's server
   * closes a connection that resets streams faster than its rapid-reset limit (CVE-2023-44487:
   * a burst of 1000, then about 33 a second) with GOAWAY INTERNAL_ERROR, which the calls in flight
   * see as INTERNAL "Session closed with error code 2": the fuzzer's doing, not the case's. So the
   * fuzzer moves to a new connection after RESETS_PER_CONNECTION resets (the old one is closed at
   * the end: another lane may have a call on it).
   */
  const RESETS_PER_CONNECTION = 500;
  const countReset = (server: string, o: CallOutcome): void => {
    const reset =
      o.cancelledByUs || o.hung || o.code === status.DEADLINE_EXCEEDED || o.code === status.CANCELLED;
    if (!reset) return;
    const n = (resets.get(server) ?? 0) + 1;
    resets.set(server, n);
    if (n < RESETS_PER_CONNECTION) return;
    const c = clients.get(server);
    if (c !== undefined) retired.push(c);
    clients.delete(server);
    resets.set(server, 0);
  };

  // Crashes the handlers did not catch land here, charged to the case(s) in flight.
  const inflight = new Set<InFlight>();
  const lateEscapes: string[] = [];
  const charge = (what: string) => {
    for (const c of inflight) c.escaped.push(`${what} during ${c.label}`);
    if (inflight.size === 0) lateEscapes.push(what);
  };
  const onRejection = (reason: unknown) => charge(`unhandled rejection: ${String(reason).slice(0, 300)}`);
  const onException = (error: Error) => charge(`uncaught exception: ${error.message.slice(0, 300)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);

  const started = performance.now();
  const before = memoryMb(gc);
  const monitor = startStallMonitor(inflight);
  const report: Record<string, MethodReport> = {};
  const failures: CaseFailure[] = [];
  let cases = 0;
  let after = before;

  const runMethod = async (method: FuzzMethod): Promise<void> => {
    const r: MethodReport = {
      cases: 0,
      failed: 0,
      statuses: {},
      maxElapsedMs: 0,
      maxReplyBytes: 0,
      examples: {},
    };
    report[method.id] = r;
    const first = o.only?.index ?? 0;
    const last = o.only !== undefined ? o.only.index + 1 : o.casesPerMethod;
    for (let index = first; index < last; index++) {
      const building = performance.now();
      const built = buildCase(method, o.seed, index, hints);
      monitor.fuzzerBusy(performance.now() - building);
      const plan: CallPlan = {
        path: method.path,
        kind: method.desc.methodKind,
        messages: built.messages,
        metadata: built.metadata,
        deadlineMs: built.deadlineMs ?? deadlineMs,
        // Watch streams never end by themselves: one status is the whole answer.
        maxReplies: method.desc.name === 'Watch' ? 1 : 8,
        graceMs,
      };
      const flight: InFlight = { label: `${method.id} case ${index}`, maxLagMs: 0, escaped: [] };
      inflight.add(flight);
      const client = clientFor(method.server);
      const outcome = await rawCall(client, plan);
      countReset(method.server, outcome);
      // Let a rejection the call caused surface before the verdict.
      await new Promise((resolve) => setImmediate(resolve));
      inflight.delete(flight);
      const reasons = judge(method, outcome, {
        blockedMs: flight.maxLagMs,
        blockMs,
        deadlineMs: plan.deadlineMs,
        graceMs,
      });
      reasons.push(...flight.escaped);
      cases++;
      r.cases++;
      const name = outcome.cancelledByUs ? 'CANCELLED(by fuzzer)' : statusName(outcome.code);
      r.statuses[name] = (r.statuses[name] ?? 0) + 1;
      if (outcome.code !== 0) {
        const seen = r.examples[name] ?? [];
        r.examples[name] = seen;
        const text = outcome.details.slice(0, 160);
        if (seen.length < 8 && !seen.some((e) => e.slice(0, 40) === text.slice(0, 40))) seen.push(text);
      }
      r.maxElapsedMs = Math.max(r.maxElapsedMs, outcome.elapsedMs);
      r.maxReplyBytes = Math.max(r.maxReplyBytes, outcome.replyBytes);
      if (reasons.length > 0) {
        r.failed++;
        failures.push({
          method: method.id,
          index,
          kind: built.kind,
          reason: reasons.join('; '),
          notes: built.notes,
          replay: replayCommand(o.seed, method.id, index),
        });
      }
      await stopStartedRun(client, method, outcome);
    }
    const statuses = Object.entries(r.statuses).map(([k, v]) => `${k} ${v}`);
    log(`fuzz: ${method.id}: ${r.cases} cases, ${r.failed} failed, ${statuses.join(', ')}`);
  };

  try {
    // Lanes take whole methods from one queue; each lane sends one case at a time.
    const queue = [...methods];
    await Promise.all(
      Array.from({ length: Math.min(lanes, queue.length) }, async () => {
        for (let m = queue.shift(); m !== undefined; m = queue.shift()) await runMethod(m);
      }),
    );
    const runFailure = (reason: string) =>
      failures.push({ method: '*', index: -1, kind: 'plausible', reason, notes: [], replay: '' });
    for (const what of lateEscapes) runFailure(`${what} (between cases)`);
    for (const reason of await liveness(clientFor, [...new Set(methods.map((m) => m.server))]))
      runFailure(reason);
    after = memoryMb(gc);
    if (o.only === undefined && after.rss - before.rss > rssBoundMb) {
      runFailure(
        `RSS grew ${Math.round(after.rss - before.rss)} MiB during the run (bound ${rssBoundMb} MiB)`,
      );
    }
  } finally {
    monitor.stop();
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    for (const c of [...clients.values(), ...retired]) c.close();
  }
  // Methods in schema order, whatever order the lanes finished them in.
  const ordered = Object.fromEntries(methods.map((m) => [m.id, report[m.id]!]));
  return {
    seed: o.seed,
    cases,
    failed: failures.length,
    methods: ordered,
    failures,
    rssBeforeMb: before.rss,
    rssAfterMb: after.rss,
    heapBeforeMb: before.heap,
    heapAfterMb: after.heap,
    externalBeforeMb: before.external,
    externalAfterMb: after.external,
    rssBoundMb,
    maxBlockMs: monitor.maxLagMs,
    lanes,
    wallMs: performance.now() - started,
  };
}

/** The report as lines; the last is `fuzz: N cases, F failed`. */
export function formatReport(r: FuzzReport, verbose = false): string[] {
  const lines: string[] = [`fuzz report (seed ${r.seed})`];
  for (const [id, m] of Object.entries(r.methods)) {
    const statuses = Object.entries(m.statuses)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(
      `  ${id}: ${m.cases} cases, ${m.failed} failed; ${statuses}; slowest ${Math.round(m.maxElapsedMs)} ms, largest reply ${m.maxReplyBytes} B`,
    );
    if (verbose)
      for (const [k, texts] of Object.entries(m.examples))
        for (const v of texts) lines.push(`      e.g. ${k}: ${v}`);
  }
  const crashes = r.failures.filter((f) => /uncaught|unhandled/.test(f.reason)).length;
  const hangs = r.failures.filter((f) => /hang|event loop/.test(f.reason)).length;
  const internals = r.failures.filter((f) => /status (INTERNAL|UNKNOWN)/.test(f.reason)).length;
  lines.push(
    `  crashes/unhandled ${crashes}, hangs/stalls ${hangs}, INTERNAL/UNKNOWN ${internals}; longest event-loop stall ${Math.round(r.maxBlockMs)} ms`,
    `  RSS before ${r.rssBeforeMb.toFixed(0)} MiB, after ${r.rssAfterMb.toFixed(0)} MiB (bound +${r.rssBoundMb} MiB); V8 heap ${r.heapBeforeMb.toFixed(0)} → ${r.heapAfterMb.toFixed(0)} MiB, external ${r.externalBeforeMb.toFixed(0)} → ${r.externalAfterMb.toFixed(0)} MiB; ${(r.wallMs / 1000).toFixed(1)} s, ${r.lanes} lane(s)`,
  );
  for (const f of r.failures.slice(0, 50)) {
    lines.push(`FAIL ${f.method} case ${f.index} (${f.kind}): ${f.reason}`);
    if (f.notes.length > 0) lines.push(`     case: ${f.notes.join('; ')}`);
    if (f.replay !== '') lines.push(`     replay: ${f.replay}`);
  }
  if (r.failures.length > 50) lines.push(`  … and ${r.failures.length - 50} more failures`);
  lines.push(`fuzz: ${r.cases} cases, ${r.failed} failed`);
  return lines;
}
