/**
 * Closed set of failure kinds of the model engine. Services map these to their own error
 * type (VerdictError in @verdict/runtime) at their boundary; this library may not import it.
 */
export type ModelErrorCode =
  | 'NOT_FOUND'
  | 'INVALID_CONFIG'
  | 'UNSUPPORTED_ARCHITECTURE'
  | 'INVALID_CHECKPOINT'
  | 'SHAPE_MISMATCH'
  | 'INVALID_ARGUMENT'
  | 'INVALID_TOKENIZER';

/** One error type for the package: `code` is machine-readable, the message names the problem. */
export class ModelError extends Error {
  readonly code: ModelErrorCode;
  constructor(code: ModelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelError';
    this.code = code;
  }
}

export function isModelError(e: unknown): e is ModelError {
  return e instanceof ModelError;
}
