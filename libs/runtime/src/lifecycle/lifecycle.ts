// An explicit process lifecycle (Temporal-worker style): components start in registration
// order and are drained in reverse, under one grace timeout after which whatever is still
// running is abandoned and reported. SIGINT/SIGTERM drain; a second signal stops at once.
import type { EventEmitter } from 'node:events';
import { VerdictError } from '../errors/verdict-error.js';
import { type RuntimeLogger, silentLogger } from './logger.js';

export type LifecycleState = 'STARTING' | 'SERVING' | 'DRAINING' | 'STOPPED' | 'FAILED';

export interface StopContext {
  /** Aborted when the grace timeout expires or an immediate stop is requested. */
  signal: AbortSignal;
  /** Epoch milliseconds by which the whole drain must be over. */
  deadlineMs: number;
  reason: string;
}

export interface LifecycleComponent {
  name: string;
  /** May return a promise; it is awaited before the next component starts. */
  start?(): unknown;
  /** Drain and release. Should finish before `ctx.deadlineMs` and give up when `ctx.signal` aborts. */
  stop?(ctx: StopContext): unknown;
}

export interface LifecycleOptions {
  /** Used in logs. */
  name?: string;
  /** Budget for the whole drain; afterwards remaining components are abandoned. Default 30 s. */
  graceTimeoutMs?: number;
  logger?: RuntimeLogger;
}

export interface ShutdownReport {
  reason: string;
  state: 'STOPPED' | 'FAILED';
  /** Components whose stop() completed, in the order they were stopped. */
  stopped: string[];
  failed: Array<{ name: string; error: unknown }>;
  /** Components still draining at the deadline, or never reached, in reverse start order. */
  abandoned: string[];
  /** Set when the lifecycle was stopped through fail(). */
  failure: unknown;
  durationMs: number;
}

export type StateListener = (state: LifecycleState, previous: LifecycleState) => void;

export interface SignalHandlerOptions {
  /** Where signals arrive; default `process`. */
  target?: Pick<EventEmitter, 'on' | 'off'>;
  signals?: readonly NodeJS.Signals[];
  /** Called once with 0 after a clean drain, 1 otherwise; default `process.exit`. */
  exit?: (code: number) => void;
}

const DEFAULT_GRACE_TIMEOUT_MS = 30_000;

// Signal handlers must be installed once per process, whichever lifecycle asks first.
const targetsWithHandlers = new WeakSet<object>();

export class Lifecycle {
  readonly name: string;
  readonly graceTimeoutMs: number;
  private readonly logger: RuntimeLogger;
  private current: LifecycleState = 'STARTING';
  private readonly components: LifecycleComponent[] = [];
  private readonly started: LifecycleComponent[] = [];
  private readonly listeners = new Set<StateListener>();
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<ShutdownReport> | undefined;
  private readonly abortDrain = new AbortController();
  private failure: unknown;
  private startFailed = false;
  private resolveStopped!: (report: ShutdownReport) => void;
  private readonly stoppedPromise = new Promise<ShutdownReport>((resolve) => {
    this.resolveStopped = resolve;
  });

  constructor(options: LifecycleOptions = {}) {
    this.name = options.name ?? 'service';
    this.graceTimeoutMs = options.graceTimeoutMs ?? DEFAULT_GRACE_TIMEOUT_MS;
    this.logger = options.logger ?? silentLogger;
    if (!(this.graceTimeoutMs >= 0)) {
      throw new VerdictError('INVALID_ARGUMENT', 'graceTimeoutMs must be >= 0', { field: 'graceTimeoutMs' });
    }
  }

  get state(): LifecycleState {
    return this.current;
  }

  /** True once stop() or fail() was called (DRAINING, STOPPED or FAILED). */
  get stopping(): boolean {
    return this.stopPromise !== undefined;
  }

  /** Add a component; it is started by start() after those registered before it. */
  register(component: LifecycleComponent): this {
    if (this.startPromise !== undefined) {
      throw new VerdictError(
        'FAILED_PRECONDITION',
        `cannot register ${component.name}: lifecycle already started`,
      );
    }
    this.components.push(component);
    return this;
  }

  /** Sugar for a stop-only component, drained in reverse registration order like the others. */
  onShutdown(name: string, stop: (ctx: StopContext) => unknown): this {
    return this.register({ name, stop });
  }

  onStateChange(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Start every component in order; on failure, stop the started ones and rethrow. */
  start(): Promise<void> {
    this.startPromise ??= this.runStart();
    return this.startPromise;
  }

  /** Drain (idempotent: every call returns the same report). */
  stop(reason = 'stop requested'): Promise<ShutdownReport> {
    this.stopPromise ??= this.runStop(reason);
    return this.stopPromise;
  }

  /** Abandon the drain now: in-progress and remaining components are reported as abandoned. */
  stopNow(reason = 'immediate stop requested'): Promise<ShutdownReport> {
    const report = this.stop(reason);
    this.abortDrain.abort(new VerdictError('ABORTED', reason));
    return report;
  }

  /** A fatal error: drain and end in FAILED. */
  fail(error: unknown): Promise<ShutdownReport> {
    this.failure ??= error;
    this.logger.error('lifecycle failure', { lifecycle: this.name, error });
    return this.stop('failure');
  }

  /** Resolves with the shutdown report once STOPPED or FAILED. */
  whenStopped(): Promise<ShutdownReport> {
    return this.stoppedPromise;
  }

  /**
   * SIGINT/SIGTERM → stop(); a second signal → stopNow(). Installed once per signal target:
   * later calls (from any lifecycle) are no-ops. Returns a function that removes the handlers.
   */
  installSignalHandlers(options: SignalHandlerOptions = {}): () => void {
    const target = options.target ?? process;
    const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
    const exit = options.exit ?? ((code: number) => process.exit(code));
    if (targetsWithHandlers.has(target)) return () => {};
    targetsWithHandlers.add(target);
    let received = 0;
    let exited = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      received += 1;
      if (received === 1) {
        this.logger.info('signal received: draining', { lifecycle: this.name, signal });
        void this.stop(`signal ${signal}`).then((report) => {
          if (exited) return;
          exited = true;
          exit(report.state === 'STOPPED' ? 0 : 1);
        });
      } else {
        this.logger.warn('second signal: stopping immediately', { lifecycle: this.name, signal });
        void this.stopNow(`second signal ${signal}`);
      }
    };
    for (const signal of signals) target.on(signal, onSignal);
    return () => {
      for (const signal of signals) target.off(signal, onSignal);
      targetsWithHandlers.delete(target);
    };
  }

  private setState(next: LifecycleState): void {
    const previous = this.current;
    if (previous === next) return;
    this.current = next;
    this.logger.info('lifecycle state', { lifecycle: this.name, state: next, previous });
    for (const listener of [...this.listeners]) {
      try {
        listener(next, previous);
      } catch (error) {
        // A listener must not be able to derail a state transition.
        this.logger.error('state listener threw', { lifecycle: this.name, error });
      }
    }
  }

  private async runStart(): Promise<void> {
    for (const component of this.components) {
      if (this.stopping) {
        throw new VerdictError('CANCELLED', `lifecycle stopped while starting (before ${component.name})`);
      }
      try {
        await component.start?.();
      } catch (error) {
        this.logger.error('component failed to start', {
          lifecycle: this.name,
          component: component.name,
          error,
        });
        this.started.push(component); // half-started components get a chance to release resources
        this.startFailed = true; // the drain below must not wait for this very start() to settle
        await this.fail(error);
        throw error;
      }
      this.started.push(component);
    }
    if (this.stopping) throw new VerdictError('CANCELLED', 'lifecycle stopped while starting');
    this.setState('SERVING');
  }

  private async runStop(reason: string): Promise<ShutdownReport> {
    const startedAtMs = Date.now();
    const deadlineMs = startedAtMs + this.graceTimeoutMs;
    this.setState('DRAINING');
    const signal = this.abortDrain.signal;
    const timer = setTimeout(
      () => this.abortDrain.abort(new VerdictError('DEADLINE_EXCEEDED', 'grace timeout expired')),
      this.graceTimeoutMs,
    );
    const aborted = new Promise<'aborted'>((resolve) => {
      if (signal.aborted) resolve('aborted');
      else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    const report: ShutdownReport = {
      reason,
      state: 'STOPPED',
      stopped: [],
      failed: [],
      abandoned: [],
      failure: undefined,
      durationMs: 0,
    };
    try {
      // A concurrent start() finishes (or fails) before we drain what it started.
      if (this.startPromise !== undefined && !this.startFailed) {
        await Promise.race([this.startPromise.catch(() => undefined), aborted]);
      }
      const ctx: StopContext = { signal, deadlineMs, reason };
      for (const component of [...this.started].reverse()) {
        if (signal.aborted) {
          report.abandoned.push(component.name);
          continue;
        }
        try {
          const outcome = await Promise.race([
            Promise.resolve(component.stop?.(ctx)).then(() => 'done'),
            aborted,
          ]);
          if (outcome === 'done') report.stopped.push(component.name);
          else report.abandoned.push(component.name);
        } catch (error) {
          report.failed.push({ name: component.name, error });
          this.logger.error('component failed to stop', {
            lifecycle: this.name,
            component: component.name,
            error,
          });
        }
      }
    } finally {
      clearTimeout(timer);
    }
    report.failure = this.failure;
    report.durationMs = Date.now() - startedAtMs;
    if (report.abandoned.length > 0) {
      this.logger.warn('grace timeout: abandoned components', {
        lifecycle: this.name,
        abandoned: report.abandoned,
        graceTimeoutMs: this.graceTimeoutMs,
      });
    }
    const clean = report.failed.length === 0 && report.abandoned.length === 0 && this.failure === undefined;
    report.state = clean ? 'STOPPED' : 'FAILED';
    this.setState(report.state);
    this.resolveStopped(report);
    return report;
  }
}

export function createLifecycle(options: LifecycleOptions = {}): Lifecycle {
  return new Lifecycle(options);
}
