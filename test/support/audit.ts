import { randomBytes } from 'node:crypto';
import type { Messaging } from '@verdict/runtime';

/**
 * Reads every message stored on one subject of a stream (a fresh durable consumer from the start)
 * and counts them by `key(data)`. Stops once `expected` messages arrived and no more came for
 * `settleMs` (so extra copies would still be seen), or after `timeoutMs`.
 */
export async function countStored(
  m: Messaging,
  stream: string,
  subject: string,
  key: (data: Uint8Array) => string,
  options: { expected: number; settleMs?: number; timeoutMs?: number },
): Promise<Map<string, number>> {
  const name = `audit-${randomBytes(4).toString('hex')}`;
  await m.ensureConsumer({ stream, name, filterSubject: subject, deliverPolicy: 'all', ackWaitMs: 30_000 });
  const counts = new Map<string, number>();
  let total = 0;
  const stop = new AbortController();
  let lastAt = Date.now();
  const started = Date.now();
  const timer = setInterval(() => {
    const settled = total >= options.expected && Date.now() - lastAt >= (options.settleMs ?? 1_000);
    if (settled || Date.now() - started > (options.timeoutMs ?? 20_000)) stop.abort();
  }, 100);
  try {
    await m.consume({
      stream,
      consumer: name,
      concurrency: 64,
      signal: stop.signal,
      fetchExpiresMs: 1_000,
      handler: (msg) => {
        const k = key(msg.data);
        counts.set(k, (counts.get(k) ?? 0) + 1);
        total++;
        lastAt = Date.now();
        return 'ack';
      },
    });
  } finally {
    clearInterval(timer);
    await m.jetstreamManager.consumers.delete(stream, name).catch(() => undefined);
  }
  return counts;
}
