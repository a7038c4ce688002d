// THE boundary between VerdictError and gRPC status. Servers turn whatever a handler threw into
// a status with toGrpcStatus(); clients turn a ServiceError back into a VerdictError with
// fromGrpcError(). No other file maps codes.
import { status as GrpcStatus, Metadata, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { boundedStatusText } from './client-text.js';
import { isModelEngineError } from './model-error-codes.js';
import {
  type ErrorCode,
  type ErrorDetails,
  INTERNAL_ERROR_MESSAGE,
  isVerdictError,
  VerdictError,
} from './verdict-error.js';

// Trailer keys carrying the structured parts of a VerdictError. `-bin` keys may hold any bytes.
export const FIELD_TRAILER = 'verdict-field';
export const DETAILS_TRAILER = 'verdict-details-bin';

/** Details larger than this (JSON bytes) are replaced by a marker: a status must stay small. */
export const DETAILS_TRAILER_MAX_BYTES = 8192;

const TO_GRPC: Readonly<Record<ErrorCode, GrpcStatus>> = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  FAILED_PRECONDITION: GrpcStatus.FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED: GrpcStatus.RESOURCE_EXHAUSTED,
  DEADLINE_EXCEEDED: GrpcStatus.DEADLINE_EXCEEDED,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  ABORTED: GrpcStatus.ABORTED,
  CANCELLED: GrpcStatus.CANCELLED,
  INTERNAL: GrpcStatus.INTERNAL,
  UNIMPLEMENTED: GrpcStatus.UNIMPLEMENTED,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
};

// gRPC codes outside our closed set fold onto the nearest member.
const FROM_GRPC: Readonly<Record<number, ErrorCode>> = {
  ...Object.fromEntries(Object.entries(TO_GRPC).map(([code, grpc]) => [grpc, code as ErrorCode])),
  [GrpcStatus.UNKNOWN]: 'INTERNAL',
  [GrpcStatus.DATA_LOSS]: 'INTERNAL',
  [GrpcStatus.OUT_OF_RANGE]: 'INVALID_ARGUMENT',
  [GrpcStatus.UNAUTHENTICATED]: 'PERMISSION_DENIED',
};

export function errorCodeToGrpc(code: ErrorCode): GrpcStatus {
  return TO_GRPC[code];
}

export function grpcToErrorCode(code: number): ErrorCode {
  return FROM_GRPC[code] ?? 'INTERNAL';
}

export interface GrpcStatusMapping {
  status: Required<Pick<StatusObject, 'code' | 'details' | 'metadata'>>;
  /** The normalised error (its `cause` is the original, for server-side logging). */
  error: VerdictError;
  /** True when the original was not a VerdictError: a bug, log it with its stack. */
  unexpected: boolean;
}

/**
 * Map anything a handler threw onto the status sent to the client. A VerdictError's message,
 * field and details are sent as-is (they are written for callers), and so is a model engine
 * ModelError's message under its mapped code (its messages name the file or argument at fault);
 * anything else becomes INTERNAL with a generic message, never its own message or stack.
 */
export function toGrpcStatus(thrown: unknown): GrpcStatusMapping {
  const unexpected = !isVerdictError(thrown) && !isGrpcServiceError(thrown) && !isModelEngineError(thrown);
  const error = VerdictError.from(thrown);
  const metadata = new Metadata();
  // Every part is bounded here, whatever the handler wrote: an unbounded echo of client input
  // would make the status as large as the request and stall the connection (see client-text.ts).
  if (error.field !== undefined) metadata.set(FIELD_TRAILER, asciiSafe(boundedStatusText(error.field)));
  if (error.details !== undefined) {
    const json = Buffer.from(JSON.stringify(error.details), 'utf8');
    const bounded =
      json.length <= DETAILS_TRAILER_MAX_BYTES
        ? json
        : Buffer.from(JSON.stringify({ truncated: true, bytes: json.length }), 'utf8');
    metadata.set(DETAILS_TRAILER, bounded);
  }
  const details = unexpected ? INTERNAL_ERROR_MESSAGE : boundedStatusText(error.message);
  return { status: { code: errorCodeToGrpc(error.code), details, metadata }, error, unexpected };
}

/** Decode a client-side ServiceError (or a status object) into a VerdictError. */
export function fromGrpcError(error: Pick<ServiceError, 'code'> & Partial<ServiceError>): VerdictError {
  const metadata = error.metadata instanceof Metadata ? error.metadata : undefined;
  const fieldValue = metadata?.get(FIELD_TRAILER)[0];
  const detailsValue = metadata?.get(DETAILS_TRAILER)[0];
  let details: ErrorDetails | undefined;
  if (Buffer.isBuffer(detailsValue)) {
    try {
      details = JSON.parse(detailsValue.toString('utf8')) as ErrorDetails;
    } catch {
      details = undefined; // a foreign server's trailer: ignore rather than fail the call twice
    }
  }
  const code = grpcToErrorCode(error.code);
  const message = error.details || error.message || code;
  return new VerdictError(code, message, {
    ...(typeof fieldValue === 'string' ? { field: fieldValue } : {}),
    ...(details !== undefined ? { details } : {}),
    cause: error,
  });
}

export function isGrpcServiceError(value: unknown): value is ServiceError {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return typeof e['code'] === 'number' && e['metadata'] instanceof Metadata;
}

// Plain (non -bin) metadata values must be printable ASCII.
function asciiSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?');
}
