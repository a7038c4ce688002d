import type { Tensor } from '@verdict/graph';
import type { LlamaFamilyConfig } from '../checkpoint/llama-config.js';
import { ModelError } from '../errors.js';
import type { CausalLmConfig } from '../family/model-config.js';
import type { StepInput } from '../generate/causal-lm.js';
import type { ModelTokenizer } from '../tokenizer/tokenizer.js';
import { findYesNoTokenIds, type JudgeTemplateName, resolveJudgeTemplate } from './judge-prompt.js';
import { checkMaxBatchSize, encodeJudgeItems, forEachPaddedBatch } from './prompt-batches.js';
import {
  hasSharedPrefixJudging,
  judgeSharedChunk,
  planSharedPrefixes,
  type SharedPrefixJudgeModel,
} from './shared-prefix.js';

/** Next-token scores at each row's last real position: chosen rows of the LM head plus the full-vocab LSE. */
export interface JudgeScores {
  /** [batch, tokenIds.length]. */
  readonly selectedLogits: Float32Array;
  /** [batch] log Σ_v exp(z_v) over the whole vocabulary. */
  readonly logSumExp: Float32Array;
}

/**
 * Keys and values of a batch of left-padded prefixes, one row each: `present.N.key|value`
 * [batchSize, kv_heads, length, head_dim] per layer (opaque to callers of judge()).
 */
export interface PrefixKv {
  readonly batchSize: number;
  readonly length: number;
  readonly tensors: Readonly<Record<string, Tensor>>;
}

/** A model that can run the judge graph (prefill only, last position, selected rows). */
export interface JudgeModel<Config extends CausalLmConfig = LlamaFamilyConfig> {
  readonly config: Config;
  readonly tokenizer: ModelTokenizer;
  scoreLast(input: StepInput, tokenIds: readonly number[]): Promise<JudgeScores>;
  /**
   * Optional, with `scoreLastAfterPrefix` (shared-prefix judging): the keys/values of left-padded
   * prefixes (`input`: one row per prefix, no past).
   */
  prefillPrefixes?(input: StepInput): Promise<PrefixKv>;
  /**
   * Optional: `scoreLast` of suffix rows where row b continues prefix row `prefixRows[b]` of
   * `prefix`; `input.attentionMask` is [batch, prefix.length + seqLen] (that prefix row's mask,
   * then the suffix's), `positionIds` continue the prefix's.
   */
  scoreLastAfterPrefix?(
    input: StepInput,
    prefix: PrefixKv,
    prefixRows: readonly number[],
    tokenIds: readonly number[],
  ): Promise<JudgeScores>;
}

export interface JudgeItem {
  readonly question: string;
  readonly answer: string;
  /**
   * Items of one group (e.g. the G samples of one GRPO question) are judged with their common
   * token prefix prefilled once (see JudgeOptions.sharedPrefix); absent = judged on its own.
   */
  readonly groupKey?: string;
}

export interface JudgeResult {
  /** sigmoid(z_yes − z_no) = P(Yes) renormalised over {Yes, No}. */
  readonly score: number;
  /** exp(z_yes − lse): P(Yes) under the full vocabulary. */
  readonly pYesFull: number;
  readonly pNoFull: number;
  /** 1 − P(Yes) − P(No): mass on every other token. */
  readonly otherMass: number;
  readonly zYes: number;
  readonly zNo: number;
  readonly yesId: number;
  readonly noId: number;
}

export interface JudgeOptions {
  readonly template?: JudgeTemplateName;
  /** Rows per forward pass. Default 32. */
  readonly maxBatchSize?: number;
  /**
   * Shared-prefix judging (default true): items with the same `groupKey` whose prompts share at
   * least `minSharedPrefixTokens` leading tokens are judged by prefilling that prefix once and
   * running only the rest of each prompt against its keys/values (scores equal the whole-prompt
   * path to float32 rounding). Needs a model with `prefillPrefixes`; others, singletons and
   * groups without such a prefix are judged whole, silently.
   */
  readonly sharedPrefix?: boolean;
  /** Shortest common prefix worth sharing, in tokens (default 16). */
  readonly minSharedPrefixTokens?: number;
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Single-token judging: one prefill per batch, the verdict read from the last prompt position. */
export async function judge(
  model: JudgeModel<CausalLmConfig>,
  items: readonly JudgeItem[],
  options: JudgeOptions = {},
): Promise<JudgeResult[]> {
  const maxBatchSize = checkMaxBatchSize(options.maxBatchSize);
  const { tokenizer } = model;
  const template = resolveJudgeTemplate(tokenizer, options.template);
  const { yesId, noId } = findYesNoTokenIds(tokenizer, template);
  const encoded = encodeJudgeItems(model, items, template);
  const toResult = (zYes: number, zNo: number, lse: number): JudgeResult => {
    const pYesFull = Math.exp(zYes - lse);
    const pNoFull = Math.exp(zNo - lse);
    return {
      score: sigmoid(zYes - zNo),
      pYesFull,
      pNoFull,
      otherMass: Math.max(0, 1 - pYesFull - pNoFull),
      zYes,
      zNo,
      yesId,
      noId,
    };
  };
  const results = new Array<JudgeResult>(items.length);
  const store = (rows: readonly number[], out: JudgeScores): void => {
    rows.forEach((row, b) => {
      results[row] = toResult(out.selectedLogits[b * 2]!, out.selectedLogits[b * 2 + 1]!, out.logSumExp[b]!);
    });
  };
  const padId = tokenizer.padId ?? 0;
  const minShared = options.minSharedPrefixTokens ?? 16;
  if (!Number.isInteger(minShared) || minShared < 1) {
    throw new ModelError(
      'INVALID_ARGUMENT',
      `min_shared_prefix_tokens must be an integer >= 1 (got ${minShared})`,
    );
  }
  const canShare = options.sharedPrefix !== false && hasSharedPrefixJudging(model);
  const plan = canShare
    ? planSharedPrefixes(
        encoded,
        items.map((item) => item.groupKey),
        { minShared, maxBatchSize },
      )
    : { whole: encoded.map((_, i) => i), chunks: [] };
  await forEachPaddedBatch(encoded, plan.whole, maxBatchSize, padId, async (rows, input) =>
    store(rows, await model.scoreLast(input, [yesId, noId])),
  );
  for (const chunk of plan.chunks) {
    store(
      chunk.rows,
      await judgeSharedChunk(model as SharedPrefixJudgeModel, encoded, chunk, padId, [yesId, noId]),
    );
  }
  return results;
}
