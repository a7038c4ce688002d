// The model engine (@verdict/models) throws its own ModelError with a closed code set. This kit may
// not import that library (libs/runtime sits below it), so its errors are recognised by shape:
// `name === 'ModelError'` and a `code` from the engine's set. Mapping them here, at the one
// boundary, means a broken checkpoint or a bad prompt reaches a gRPC caller (or a JetStream
// handler's settle decision) with its code and message instead of a bare INTERNAL.
import type { ErrorCode } from './verdict-error.js';

/**
 * Engine code → VerdictError code. The checkpoint/config/tokenizer failures are
 * FAILED_PRECONDITION: the request may be fine, the model files on disk are not usable, and the
 * call should not be repeated until someone fixes them.
 */
export const MODEL_ERROR_CODE_MAP = {
  NOT_FOUND: 'NOT_FOUND',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  INVALID_CONFIG: 'FAILED_PRECONDITION',
  UNSUPPORTED_ARCHITECTURE: 'FAILED_PRECONDITION',
  INVALID_CHECKPOINT: 'FAILED_PRECONDITION',
  SHAPE_MISMATCH: 'FAILED_PRECONDITION',
  INVALID_TOKENIZER: 'FAILED_PRECONDITION',
} as const satisfies Readonly<Record<string, ErrorCode>>;

export type ModelEngineErrorCode = keyof typeof MODEL_ERROR_CODE_MAP;

/** An error thrown by the model engine (structural check: name and code). */
export interface ModelEngineError extends Error {
  readonly name: 'ModelError';
  readonly code: ModelEngineErrorCode;
}

export function isModelEngineError(value: unknown): value is ModelEngineError {
  if (!(value instanceof Error) || value.name !== 'ModelError') return false;
  const code = (value as { code?: unknown }).code;
  return typeof code === 'string' && Object.hasOwn(MODEL_ERROR_CODE_MAP, code);
}

/** The VerdictError code a model engine error maps to, or undefined for any other value. */
export function modelErrorToErrorCode(value: unknown): ErrorCode | undefined {
  return isModelEngineError(value) ? MODEL_ERROR_CODE_MAP[value.code] : undefined;
}
