import {
  type CausalLm,
  type CausalLmConfig,
  type FinishReason,
  generate,
  type SamplingOptions,
} from '@verdict/models';
import { VerdictError } from '@verdict/runtime';
import { createAsyncChannel } from '../domain/async-channel.js';
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

/** A finished sequence, as `generate()` of @verdict/models returns it. */
export interface SequenceResult {
  readonly ids: readonly number[];
  readonly logprobs: readonly number[];
  /** Decoded continuation (cut before a matched stop string). */
  readonly text: string;
  /** The last part of `text` not yet sent in a token event. */
  readonly textDelta: string;
  readonly finishReason: FinishReason;
  /** Time of the batch's prompt forward pass. */
  readonly prefillMs: number;
  /** Time from the end of prefill until this sequence finished. */
  readonly decodeMs: number;
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
      readonly result: SequenceResult;
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

/** What the server generates with: a model of any registered family (Llama, OPT, ...). */
export type ServedModel = CausalLm<unknown, CausalLmConfig>;

export interface GeneratorOptions {
  readonly holder: ModelHolder<ServedModel>;
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
  readonly lease: ModelLease<ServedModel>;
  readonly push: (e: SequenceEvent) => void;
  readonly fail: (error: unknown) => void;
  /** Aborted when the caller cancels, stops reading or the call fails: its rows leave their batch. */
  readonly cancel: AbortController;
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
    isCancelled: (item) => item.call.cancel.signal.aborted,
    onDropped: retire,
    run: async (batch) => {
      const first = batch[0]!;
      const startedAtMs = Date.now();
      stats.batches++;
      stats.batchedRows += batch.length;
      stats.maxBatchRows = Math.max(stats.maxBatchRows, batch.length);
      const open = new Set(batch);
      // The wire sends a sequence's last text in its finish chunk (its last token chunk carries '').
      const lastDelta = new Map<number, string>();
      try {
        // One decode engine: @verdict/models generation with each sequence's own settings and seed
        // (a row seeded s samples what it samples alone, whatever its batch mates).
        await generate(
          first.call.lease.model,
          batch.map(({ spec, call }) => ({
            ids: spec.promptIds,
            ...spec.sampling,
            seed: spec.seed,
            maxNewTokens: spec.maxNewTokens,
            stopTokenIds: [...spec.stopTokenIds],
            stopStrings: spec.stopStrings,
            signal: call.cancel.signal,
          })),
          {
            onToken: (e) => {
              const item = batch[e.row]!;
              if (e.finishReason !== undefined) lastDelta.set(e.row, e.textDelta);
              item.call.push({
                kind: 'token',
                index: item.index,
                id: e.tokenId,
                logprob: e.logprob,
                textDelta: e.finishReason === undefined ? e.textDelta : '',
              });
            },
            onFinish: (row, g) => {
              const item = batch[row]!;
              open.delete(item);
              // A cancelled call has already ended its stream.
              if (g.finishReason === 'cancelled') return;
              item.call.push({
                kind: 'finish',
                index: item.index,
                result: { ...g, textDelta: lastDelta.get(row) ?? '' },
                batchStartedAtMs: startedAtMs,
              });
            },
          },
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
      const cancel = new AbortController();
      // A consumer that stops reading cancels the rest of its sequences.
      const channel = createAsyncChannel<SequenceEvent>(() => cancel.abort());
      const call: CallState = {
        lease,
        total: sequences.length,
        outstanding: sequences.length,
        finished: 0,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
        cancel,
        push: (e) => {
          channel.push(e);
          if (e.kind === 'finish' && ++call.finished === call.total) channel.end();
        },
        fail: (error) => {
          cancel.abort();
          channel.end(error);
        },
      };
      const onAbort = () => {
        cancel.abort();
        channel.end(new VerdictError('CANCELLED', 'generation cancelled'));
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
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
