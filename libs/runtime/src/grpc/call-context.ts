// What a handler sees besides its request: metadata, peer, deadline, and an AbortSignal that
// fires when the client cancels, the deadline passes, or the server force-stops.
import type { Metadata } from '@grpc/grpc-js';
import { VerdictError } from '../errors/verdict-error.js';

export interface CallContext {
  /** Full method path, e.g. `/verdict.judge.v1.JudgeService/Judge`. */
  method: string;
  metadata: Metadata;
  peer: string;
  /** Epoch milliseconds, or undefined when the client set no deadline. */
  deadlineMs: number | undefined;
  signal: AbortSignal;
}

/** The parts of a grpc-js server call the adapters rely on. */
export interface ServerCallLike {
  metadata: Metadata;
  cancelled: boolean;
  getPeer(): string;
  getDeadline(): Date | number;
  getPath(): string;
  on(event: 'cancelled', listener: () => void): unknown;
}

export interface ManagedCallContext {
  context: CallContext;
  /** Release the deadline timer once the call is over. */
  dispose(): void;
}

export function createCallContext(call: ServerCallLike): ManagedCallContext {
  const controller = new AbortController();
  const rawDeadline = call.getDeadline();
  const deadlineMs = rawDeadline instanceof Date ? rawDeadline.getTime() : rawDeadline;
  const finiteDeadlineMs = Number.isFinite(deadlineMs) ? deadlineMs : undefined;
  const abort = (code: 'CANCELLED' | 'DEADLINE_EXCEEDED', message: string): void => {
    if (!controller.signal.aborted) controller.abort(new VerdictError(code, message));
  };
  if (call.cancelled) abort('CANCELLED', 'call cancelled by the client');
  call.on('cancelled', () => abort('CANCELLED', 'call cancelled by the client'));
  // grpc-js also cancels at the deadline; the timer makes the signal independent of that detail.
  const timer =
    finiteDeadlineMs === undefined
      ? undefined
      : setTimeout(
          () => abort('DEADLINE_EXCEEDED', 'deadline exceeded'),
          Math.max(0, finiteDeadlineMs - Date.now()),
        );
  timer?.unref();
  return {
    context: {
      method: call.getPath(),
      metadata: call.metadata,
      peer: call.getPeer(),
      deadlineMs: finiteDeadlineMs,
      signal: controller.signal,
    },
    dispose: () => clearTimeout(timer),
  };
}

/** Resolves when the signal aborts (never rejects), for Promise.race against work. */
export function whenAborted(signal: AbortSignal): Promise<typeof ABORTED> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(ABORTED);
    else signal.addEventListener('abort', () => resolve(ABORTED), { once: true });
  });
}

export const ABORTED: unique symbol = Symbol('aborted');
