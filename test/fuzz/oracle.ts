// The oracle: what every reply to a fuzzed request must be. Every input here is the client's, so
// an INTERNAL or UNKNOWN is a handler bug, not bad luck.
import { fromBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import type { CallOutcome } from './call.js';
import type { FuzzMethod } from './schema.js';

/** Statuses a request may get: OK, or a refusal that names the input's fault. */
export const ALLOWED = new Set<number>([
  status.OK,
  status.INVALID_ARGUMENT,
  status.OUT_OF_RANGE,
  status.RESOURCE_EXHAUSTED,
  status.FAILED_PRECONDITION,
  status.NOT_FOUND,
  // The input names a thing that exists already (a run id in use).
  status.ALREADY_EXISTS,
  // The server ran the call's work past the client's deadline: bounded (the watchdog checks the
  // call really ended), and the client asked for that deadline.
  status.DEADLINE_EXCEEDED,
]);

/**
 * RPCs that do no work proportional to the request (lookups, status reads): for them a deadline
 * that passes is a reply that never came (a status too large to send stalled the connection, as
 * in issue 17), not slow work.
 */
export const QUICK_METHODS = new Set([
  'Check',
  'Watch',
  'GetJudgeInfo',
  'GetModelInfo',
  'ListSuites',
  'StopRun',
  'GetRunStatus',
]);

/** The status text of a refusal is for people: a few sentences, never the request echoed back. */
export const MAX_DETAILS_BYTES = 4096;
/** Trailers (verdict-field, verdict-details-bin) are bounded by the runtime at 8 KiB of details. */
export const MAX_TRAILER_BYTES = 16 * 1024;

const NAMES = Object.fromEntries(Object.entries(status).map(([k, v]) => [v, k])) as Record<number, string>;

export function statusName(code: number): string {
  return NAMES[code] ?? `code ${code}`;
}

export interface JudgeLimits {
  readonly blockedMs: number;
  readonly blockMs: number;
  readonly deadlineMs: number;
  readonly graceMs: number;
}

/** Why this outcome breaks the contract (empty when it does not). */
export function judge(method: FuzzMethod, o: CallOutcome, l: JudgeLimits): string[] {
  const reasons: string[] = [];
  if (o.hung) reasons.push(`hang: no status ${l.deadlineMs + l.graceMs} ms after the call started`);
  if (l.blockedMs > l.blockMs) reasons.push(`event loop blocked ${Math.round(l.blockedMs)} ms`);
  // A case's own short deadline (under a second) may pass before any server could answer.
  if (o.code === status.DEADLINE_EXCEEDED && QUICK_METHODS.has(method.desc.name) && l.deadlineMs >= 1000) {
    reasons.push(`no reply within the ${l.deadlineMs} ms deadline from a lookup (${method.desc.name})`);
  }
  if (!o.hung && !o.cancelledByUs && !ALLOWED.has(o.code)) {
    reasons.push(`status ${statusName(o.code)}: ${JSON.stringify(o.details.slice(0, 300))}`);
  }
  const detailBytes = Buffer.byteLength(o.details, 'utf8');
  if (detailBytes > MAX_DETAILS_BYTES) reasons.push(`status details of ${detailBytes} bytes`);
  if (o.trailerBytes > MAX_TRAILER_BYTES) reasons.push(`trailers of ${o.trailerBytes} bytes`);
  for (const [i, reply] of o.replies.entries()) {
    try {
      fromBinary(method.desc.output, reply);
    } catch (error) {
      reasons.push(`reply ${i} is not a ${method.desc.output.typeName}: ${(error as Error).message}`);
      break;
    }
  }
  return reasons;
}
