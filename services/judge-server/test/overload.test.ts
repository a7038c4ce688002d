import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { judgeV1 } from '@verdict/proto';
import { createGrpcClient, isVerdictError } from '@verdict/runtime';
import type { BatchReport } from '../src/domain/dynamic-batcher.js';
import { startJudgeApp } from './helpers.js';
import { writeToyJudgeModel } from './toy-judge-model.js';

/**
 * Offers the server 4× its measured capacity and checks the overload behaviour: the queue
 * never exceeds its bound (so memory stays bounded), the excess is refused with
 * RESOURCE_EXHAUSTED at once, and accepted requests finish within the latency the configured
 * queue implies: at most ceil(queue / batch) batches ahead of them, plus their own, plus the
 * batch wait. The numbers are printed; the bound is behavioural (derived from the config and
 * the batch durations observed in the same run), not a machine-speed assertion.
 */

const MAX_BATCH = 16;
const MAX_QUEUE = 64;
const MAX_WAIT_MS = 5;
const ITEMS_PER_REQUEST = 8;

function request(seq: number): judgeV1.JudgeBatchRequest {
  return {
    items: Array.from({ length: ITEMS_PER_REQUEST }, (_, i) => ({
      id: `${seq}-${i}`,
      question: `Tom has ${seq % 97} apples and buys ${i} more. How many apples does he have?`,
      solution: `He has ${seq % 97} and ${i} more so he has ${(seq % 97) + i} apples. #### ${(seq % 97) + i}`,
      templateName: '',
    })),
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe('judge-server under 4× its capacity', () => {
  const fixture = writeToyJudgeModel({ hiddenSize: 256, layers: 4, maxPositions: 128 });
  const batches: BatchReport[] = [];
  const app = startJudgeApp(
    fixture.dir,
    {
      JUDGE_MAX_BATCH_SIZE: String(MAX_BATCH),
      JUDGE_MAX_QUEUE_ITEMS: String(MAX_QUEUE),
      JUDGE_MAX_BATCH_WAIT: String(MAX_WAIT_MS),
      JUDGE_MAX_REQUEST_ITEMS: '64',
    },
    { onBatch: (r) => batches.push(r) },
  );
  let client: ReturnType<typeof createGrpcClient<judgeV1.JudgeServiceClient>>;

  before(async () => {
    const { address } = await app.start();
    client = createGrpcClient(judgeV1.JudgeServiceClient, address, { defaultDeadlineMs: 30_000 });
  });
  after(async () => {
    client?.close();
    await app.stop();
    fixture.cleanup();
  });

  it('refuses the excess with RESOURCE_EXHAUSTED, keeps memory and accepted latency bounded', async () => {
    // 1. Capacity: closed loop with enough callers to keep full batches queued.
    let seq = 0;
    let judged = 0;
    const measureUntil = Date.now() + 1_500;
    const measureStart = Date.now();
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (Date.now() < measureUntil) {
          const { results } = await client.unary('judgeBatch', request(seq++));
          judged += results.filter((r) => r.status === judgeV1.JudgeStatus.JUDGE_STATUS_OK).length;
        }
      }),
    );
    const capacityItemsPerS = judged / ((Date.now() - measureStart) / 1000);

    // 2. Overload: open loop at 4× capacity for 3 s.
    const offeredItemsPerS = 4 * capacityItemsPerS;
    const requestsPerS = offeredItemsPerS / ITEMS_PER_REQUEST;
    const durationMs = 3_000;
    const tickMs = 10;
    const batchesBefore = batches.length;
    const memBefore = process.memoryUsage();
    let peakRss = memBefore.rss;
    let peakHeap = memBefore.heapUsed;
    const latencies: number[] = [];
    let exhausted = 0;
    let otherErrors = 0;
    let itemTimeouts = 0;
    const calls: Promise<void>[] = [];
    const start = Date.now();
    let sent = 0;
    while (Date.now() - start < durationMs) {
      const due = Math.floor(((Date.now() - start) / 1000) * requestsPerS);
      for (; sent < due; sent++) {
        const t0 = Date.now();
        calls.push(
          client.unary('judgeBatch', request(seq++)).then(
            ({ results }) => {
              latencies.push(Date.now() - t0);
              itemTimeouts += results.filter((r) => r.status !== judgeV1.JudgeStatus.JUDGE_STATUS_OK).length;
            },
            (error: unknown) => {
              if (isVerdictError(error) && error.code === 'RESOURCE_EXHAUSTED') exhausted++;
              else otherErrors++;
            },
          ),
        );
      }
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
    await Promise.all(calls);
    const overloadBatches = batches.slice(batchesBefore);
    const maxBatchMs = Math.max(...overloadBatches.map((b) => b.durationMs));
    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p99 = percentile(sorted, 99);
    // Ahead of an accepted item: at most MAX_QUEUE queued items (ceil(Q/B) batches) and the
    // batch running when it arrived; then its own batch, after at most the batch wait.
    const boundMs = (Math.ceil(MAX_QUEUE / MAX_BATCH) + 2) * maxBatchMs + MAX_WAIT_MS + 100;
    const report = {
      capacityItemsPerS: Math.round(capacityItemsPerS),
      offeredItemsPerS: Math.round(offeredItemsPerS),
      requests: sent,
      accepted: latencies.length,
      resourceExhausted: exhausted,
      otherErrors,
      itemTimeouts,
      acceptedItemsPerS: Math.round((latencies.length * ITEMS_PER_REQUEST) / (durationMs / 1000)),
      maxQueueDepthSeen: app.stats().maxQueueDepthSeen,
      maxBatchMs,
      p50Ms: p50,
      p99Ms: p99,
      boundMs,
      rssGrowthMiB: Math.round((peakRss - memBefore.rss) / 2 ** 20),
      heapGrowthMiB: Math.round((peakHeap - memBefore.heapUsed) / 2 ** 20),
    };
    console.log('judge-server overload:', JSON.stringify(report));

    assert.equal(otherErrors, 0);
    assert.ok(exhausted > 0, 'the excess must be refused');
    assert.ok(latencies.length > 0, 'some requests must be accepted');
    assert.equal(itemTimeouts, 0);
    assert.ok(report.maxQueueDepthSeen <= MAX_QUEUE, 'the queue never grows past its bound');
    assert.ok(p99 <= boundMs, `accepted p99 ${p99} ms exceeds the queue-derived bound ${boundMs} ms`);
    // Memory: nothing queues beyond the bound; the slack covers the client side in this process.
    assert.ok(report.heapGrowthMiB < 200, `heap grew by ${report.heapGrowthMiB} MiB`);
    assert.ok(report.rssGrowthMiB < 400, `RSS grew by ${report.rssGrowthMiB} MiB`);
  });
});
