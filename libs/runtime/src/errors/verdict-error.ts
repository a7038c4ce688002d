import { fromGrpcError, isGrpcServiceError } from './grpc-status.js';
import { isModelEngineError, MODEL_ERROR_CODE_MAP } from './model-error-codes.js';

// The one error type of Verdict (connect-es style): a closed set of codes that maps 1:1 onto
// gRPC status codes at a single boundary (./grpc-status.ts). Domain code throws VerdictError;
// anything else that escapes is treated as a bug and becomes INTERNAL with a generic message.

export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'FAILED_PRECONDITION',
  'RESOURCE_EXHAUSTED',
  'DEADLINE_EXCEEDED',
  'UNAVAILABLE',
  'ABORTED',
  'CANCELLED',
  'INTERNAL',
  'UNIMPLEMENTED',
  'PERMISSION_DENIED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** JSON-safe extra information sent to clients alongside the message. */
export type ErrorDetails = Readonly<Record<string, unknown>>;

export interface VerdictErrorOptions {
  /** The input field (or config variable) at fault, e.g. `request.maxNewTokens`. */
  field?: string;
  details?: ErrorDetails;
  cause?: unknown;
}

/** Message used when an unexpected error is turned into INTERNAL: never leak internals. */
export const INTERNAL_ERROR_MESSAGE = 'internal error';

const BRAND = Symbol.for('verdict.VerdictError');

export class VerdictError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly details: ErrorDetails | undefined;
  // Brand instead of instanceof only: two copies of this module (tsx + dist) must agree.
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options: VerdictErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VerdictError';
    this.code = code;
    this.field = options.field;
    this.details = options.details;
  }

  /**
   * Normalise anything thrown into a VerdictError. VerdictErrors pass through; gRPC
   * ServiceErrors (objects with a numeric `code` and `metadata`) are decoded; the model engine's
   * ModelErrors keep their message under the mapped code (see model-error-codes.ts); aborts become
   * CANCELLED; everything else becomes INTERNAL with a generic message and the original
   * error as `cause` (for server-side logs only).
   */
  static from(error: unknown): VerdictError {
    if (isVerdictError(error)) return error;
    if (isModelEngineError(error)) {
      return new VerdictError(MODEL_ERROR_CODE_MAP[error.code], error.message, {
        details: { modelErrorCode: error.code },
        cause: error,
      });
    }
    if (isAbortError(error)) {
      return new VerdictError('CANCELLED', 'operation was cancelled', { cause: error });
    }
    if (isGrpcServiceError(error)) return fromGrpcError(error);
    return new VerdictError('INTERNAL', INTERNAL_ERROR_MESSAGE, { cause: error });
  }

  override toString(): string {
    return `VerdictError [${this.code}]${this.field ? ` (${this.field})` : ''}: ${this.message}`;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, field: this.field, details: this.details };
  }
}

export function isVerdictError(value: unknown): value is VerdictError {
  return (
    value instanceof VerdictError ||
    (typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true)
  );
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
