/**
 * An expected operational failure (a server that is down, a deadline that passed, a missing
 * object): printed as one line without a stack trace, exit code 1. Bad input is UsageError (2).
 */
export class CommandFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommandFailure';
  }
}
