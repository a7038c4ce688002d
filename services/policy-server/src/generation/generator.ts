import type { CausalLm, FinishReason, SamplingOptions } from '@verdict/models';
import { VerdictError } from '@verdict/runtime';
import { createAsyncChannel } from '../domain/async-channel.js';
import { type DecodeResult, decodeBatch } from '../domain/batch-decode.js';
import { createBatchQueue } from '../domain/batch-queue.js';
import type { ModelHolder, ModelLease } from '../domain/model-holder.js';

/** One sequence to generate (already validated against the model's limits). */
export interface SequenceSpec {
  readonly promptIds: readonly number[];
  readonly sampling: Required<SamplingOptions>;
  readonly seed: number;
  readonly maxNewTokens: number;
  readonly stopTokenIds: ReadonlySet<number>;
  readonly stopStrings: readonly string[];
}

export type SequenceEvent =
  | {
      readonly kind: 'token';
      readonly index: number;
      readonly id: number;
      readonly logprob: number;
      readonly textDelta: string;
    }
  | {
      readonly kind: 'finish';
      readonly index: number;
      readonly result: DecodeResult;
      /** Epoch ms at which the sequence's batch started (its queueing ended). */
      readonly batchStartedAtMs: number;
    };

export interface GenerationHandle {
  /** Weights version every sequence of this call is generated with. */
  readonly version: bigint;
  /** Token and finish events of all sequences, interleaved; ends after the last finish. */
  readonly events: AsyncIterable<SequenceEvent>;
}

export interface GeneratorStats {
  batches: number;
  sequences: number;
  /** Largest batch run so far (rows). */
  maxBatchRows: number;
  /** Sum of rows over batches (mean = batchedRows / batches). */
  batchedRows: number;
}

export interface Generator {
  /**
   * Admits sequences: leases the loaded weights (UNAVAILABLE when none, FAILED_PRECONDITION when
   * older than `minVersion`), queues every sequence (RESOURCE_EXHAUSTED when the queue is full).
   * Aborting `signal` cancels the sequences not yet finished.
   */
  start(
    sequences: readonly SequenceSpec[],
    options?: { minVersion?: bigint; signal?: AbortSignal },
  ): GenerationHandle;
  /** Sequences queued or running. */
  readonly pending: number;
  readonly stats: Readonly<GeneratorStats>;
  /** Stops batching; waits for the running batch; fails what was still queued with UNAVAILABLE. */
  close(): Promise<void>;
}

export interface GeneratorOptions {
  readonly holder: ModelHolder<CausalLm>;
  readonly maxBatchSize: number;
  readonly maxWaitMs: number;
  /** Sequences queued or running beyond which start() answers RESOURCE_EXHAUSTED. */
  readonly maxPendingSequences: number;
  readonly onBatchError?: (error: unknown) => void;
}

interface Item {
  readonly spec: SequenceSpec;
  readonly index: number;
  readonly call: CallState;
}

interface CallState {
  readonly lease: ModelLease<CausalLm>;
  readonly push: (e: SequenceEvent) => void;
  readonly fail: (error: unknown) => void;
  readonly cancelled: () => boolean;
  /** Sequences not yet retired (finished, failed or dropped, and out of any running batch). */
  outstanding: number;
  finished: number;
  cleanup: () => void;
  readonly total: number;
}

export function createGenerator(options: GeneratorOptions): Generator {
  const stats: GeneratorStats = { batches: 0, sequences: 0, maxBatchRows: 0, batchedRows: 0 };
  let pending = 0;

  const retire = (item: Item): void => {
    pending--;
    const call = item.call;
    call.outstanding--;
    if (call.outstanding === 0) {
      call.lease.release();
      call.cleanup();
    }
  };

  const queue = createBatchQueue<Item>({
    maxBatchSize: options.maxBatchSize,
    maxWaitMs: options.maxWaitMs,
    // Rows of one batch must run on one model: never mix weights versions.
    keyOf: (item) => item.call.lease.version.toString(),
    isCancelled: (item) => item.call.cancelled(),
    onDropped: retire,
    run: async (batch) => {
      const first = batch[0]!;
      const startedAtMs = Date.now();
      stats.batches++;
      stats.batchedRows += batch.length;
      stats.maxBatchRows = Math.max(stats.maxBatchRows, batch.length);
      const open = new Set(batch);
      try {
        await decodeBatch(
          first.call.lease.model,
          batch.map((item) => ({
            ...item.spec,
            isCancelled: () => item.call.cancelled(),
            onToken: (id, logprob, textDelta) =>
              item.call.push({ kind: 'token', index: item.index, id, logprob, textDelta }),
            onFinish: (result) => {
              open.delete(item);
              item.call.push({ kind: 'finish', index: item.index, result, batchStartedAtMs: startedAtMs });
            },
          })),
        );
      } catch (error) {
        options.onBatchError?.(error);
        for (const item of open) item.call.fail(error);
      } finally {
        for (const item of batch) retire(item);
      }
    },
  });

  return {
    get pending() {
      return pending;
    },
    stats,
    start(sequences, startOptions = {}) {
      if (sequences.length === 0) {
        throw new VerdictError('INVALID_ARGUMENT', 'at least one sequence is required', { field: 'prompts' });
      }
      if (pending + sequences.length > options.maxPendingSequences) {
        throw new VerdictError(
          'RESOURCE_EXHAUSTED',
          `generation queue is full (${pending} sequences pending, limit ${options.maxPendingSequences})`,
        );
      }
      const lease = options.holder.acquire();
      if (lease === undefined) throw new VerdictError('UNAVAILABLE', 'no policy weights are loaded yet');
      const minVersion = startOptions.minVersion ?? 0n;
      if (lease.version < minVersion) {
        lease.release();
        throw new VerdictError(
          'FAILED_PRECONDITION',
          `min_policy_version is ${minVersion} but the loaded weights are version ${lease.version}`,
          { field: 'min_policy_version', details: { loadedVersion: lease.version.toString() } },
        );
      }
      const signal = startOptions.signal;
      const channel = createAsyncChannel<SequenceEvent>(() => {
        aborted = true;
      });
      let aborted = false;
      const call: CallState = {
        lease,
        total: sequences.length,
        outstanding: sequences.length,
        finished: 0,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
        cancelled: () => aborted || signal?.aborted === true,
        push: (e) => {
          channel.push(e);
          if (e.kind === 'finish' && ++call.finished === call.total) channel.end();
        },
        fail: (error) => {
          aborted = true;
          channel.end(error);
        },
      };
      const onAbort = () => {
        aborted = true;
        channel.end(new VerdictError('CANCELLED', 'generation cancelled'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      pending += sequences.length;
      stats.sequences += sequences.length;
      queue.push(...sequences.map((spec, index) => ({ spec, index, call })));
      return { version: lease.version, events: channel };
    },
    async close() {
      const left = await queue.close();
      for (const item of left) {
        item.call.fail(new VerdictError('UNAVAILABLE', 'policy-server is shutting down'));
        retire(item);
      }
    },
  };
}

/** Wire finish reasons fold `max_positions` into LENGTH (the proto has no separate value). */
export function isLengthFinish(reason: FinishReason): boolean {
  return reason === 'length' || reason === 'max_positions';
}
