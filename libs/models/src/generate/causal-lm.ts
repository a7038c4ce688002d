import type { LlamaFamilyConfig } from '../checkpoint/llama-config.js';
import type { CausalLmConfig } from '../family/model-config.js';
import type { ModelTokenizer } from '../tokenizer/tokenizer.js';

/** One forward step over a batch, row-major int arrays. */
export interface StepInput {
  readonly batchSize: number;
  /** New tokens per row (prompt length at prefill, 1 when decoding). */
  readonly seqLen: number;
  /** [batch, seqLen] token ids. */
  readonly inputIds: readonly number[];
  /** [batch, pastLen + seqLen] 1 = real token, 0 = padding. */
  readonly attentionMask: readonly number[];
  /** [batch, seqLen]. */
  readonly positionIds: readonly number[];
}

/** Logits of the last column of each row, [batch, vocab], and the cache to pass to the next step. */
export interface StepOutput<Cache> {
  readonly lastLogits: Float32Array;
  /** Optional [batch] log-sum-exp of each `lastLogits` row; generation computes it in JS when absent. */
  readonly lastLogSumExp?: Float32Array;
  readonly cache: Cache;
}

/**
 * What generation and judging need from a model: a KV-cached step and its tokenizer. The ONNX
 * implementation is `loadCausalLm`; tests may wrap the float64 reference in the same shape.
 */
export interface CausalLm<Cache = unknown, Config extends CausalLmConfig = LlamaFamilyConfig> {
  /** The family's config; generation reads only the CausalLmConfig part, so any family runs. */
  readonly config: Config;
  readonly tokenizer: ModelTokenizer;
  /**
   * How many `step` calls can run at the same time (e.g. session replicas on separate worker
   * threads); generation splits a batch into this many concurrent sub-batches. Default 1.
   */
  readonly concurrency?: number;
  /** `cache` undefined = no past (prefill). The returned cache covers past + these tokens. */
  step(input: StepInput, cache: Cache | undefined): Promise<StepOutput<Cache>>;
  /**
   * Optional: a cache holding only batch rows `rows` (in that order) without its first
   * `dropPositions` positions (left padding no kept row attends to). Generation uses it to stop
   * spending compute on finished rows; models without it keep finished rows in the batch.
   */
  compactCache?(cache: Cache, rows: readonly number[], dropPositions: number): Cache;
  /**
   * Optional: frees what a cache holds outside this thread (a session worker's KV buffers) once
   * nobody will step from it. Generation calls it when a batch ends, however it ends.
   */
  releaseCache?(cache: Cache): Promise<void>;
  close(): Promise<void>;
}
