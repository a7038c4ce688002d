// While nats-server restarts, the client reconnects on its own (maxReconnectAttempts -1), but a
// request in flight (a JetStream publish ack, an Object Store call) times out meanwhile and
// nats.js rejects it. Operations that are safe to repeat are retried across such an outage, so a
// service does not give up on its work (the learner failed its whole run on one timed-out putBlob).

/** Default retry budget: well under the rollout streams' 2-minute duplicate window, so a retried publish is still deduplicated. */
export const DEFAULT_OUTAGE_RETRY_MS = 60_000;

const TRANSIENT_NAMES = new Set(['TimeoutError', 'NoRespondersError', 'JetStreamNotEnabled']);

/**
 * Errors a NATS outage causes and a retry can cure: a request timeout, no responders (JetStream not
 * back yet; nats.js reports it as JetStreamNotEnabled on publish) or a JetStream 503, found on the
 * error or its causes. A closed connection, a permission error or bad input is not transient.
 */
export function isTransientNatsError(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    if (TRANSIENT_NAMES.has(e.name)) return true;
    if (e.name === 'RequestError' && /no responders|timeout/i.test(e.message)) return true;
    const code = (e as { code?: unknown }).code;
    if (code === 503 || code === '503') return true;
    e = e.cause;
  }
  return false;
}

export interface OutageRetryOptions {
  /** Give up (rethrow the last error) once this long has passed; 0 = no retries. */
  readonly budgetMs: number;
  /** A closed connection never comes back: stop at once. */
  readonly isClosed: () => boolean;
}

/** Runs `op`, repeating it after transient failures (backoff 100 ms doubling to 2 s) within the budget. */
export async function retryAcrossOutage<T>(op: () => Promise<T>, o: OutageRetryOptions): Promise<T> {
  const deadline = Date.now() + o.budgetMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (error) {
      if (!isTransientNatsError(error) || o.isClosed() || Date.now() >= deadline) throw error;
      const delayMs = Math.min(2_000, 100 * 2 ** Math.min(attempt, 5), Math.max(0, deadline - Date.now()));
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}
