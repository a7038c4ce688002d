import { type LlamaFamilyConfig, maxSequenceLength } from '../checkpoint/llama-config.js';
import { ModelError } from '../errors.js';
import type { CausalLmConfig } from '../family/model-config.js';
import type { StepInput } from '../generate/causal-lm.js';
import { positionIdsFromMask } from '../reference/llama-reference.js';
import type { ModelTokenizer } from '../tokenizer/tokenizer.js';
import {
  encodeJudgePrompt,
  findYesNoTokenIds,
  type JudgeTemplateName,
  renderJudgePrompt,
  resolveJudgeTemplate,
} from './judge-prompt.js';

/** Next-token scores at each row's last real position: chosen rows of the LM head plus the full-vocab LSE. */
export interface JudgeScores {
  /** [batch, tokenIds.length]. */
  readonly selectedLogits: Float32Array;
  /** [batch] log Σ_v exp(z_v) over the whole vocabulary. */
  readonly logSumExp: Float32Array;
}

/** A model that can run the judge graph (prefill only, last position, selected rows). */
export interface JudgeModel<Config extends CausalLmConfig = LlamaFamilyConfig> {
  readonly config: Config;
  readonly tokenizer: ModelTokenizer;
  scoreLast(input: StepInput, tokenIds: readonly number[]): Promise<JudgeScores>;
}

export interface JudgeItem {
  readonly question: string;
  readonly answer: string;
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
}

/** Left-pads token rows into one StepInput (HF position ids). */
export function leftPadBatch(rows: readonly (readonly number[])[], padId: number): StepInput {
  const T = Math.max(...rows.map((r) => r.length));
  const inputIds: number[] = [];
  const attentionMask: number[] = [];
  const positionIds: number[] = [];
  for (const r of rows) {
    const mask = [...Array<number>(T - r.length).fill(0), ...r.map(() => 1)];
    inputIds.push(...Array<number>(T - r.length).fill(padId), ...r);
    attentionMask.push(...mask);
    positionIds.push(...positionIdsFromMask(mask));
  }
  return { batchSize: rows.length, seqLen: T, inputIds, attentionMask, positionIds };
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
  const maxBatchSize = options.maxBatchSize ?? 32;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
    throw new ModelError('INVALID_ARGUMENT', `max_batch_size must be an integer >= 1 (got ${maxBatchSize})`);
  }
  const { tokenizer, config } = model;
  const template = resolveJudgeTemplate(tokenizer, options.template);
  const { yesId, noId } = findYesNoTokenIds(tokenizer, template);
  const { limit, field } = maxSequenceLength(config);
  const encoded = items.map((item, i) => {
    const ids = encodeJudgePrompt(
      tokenizer,
      renderJudgePrompt(tokenizer, item.question, item.answer, template),
      template,
    );
    if (ids.length > limit) {
      throw new ModelError(
        'INVALID_ARGUMENT',
        `judge prompt ${i} has ${ids.length} tokens, more than the model's ${field} (${limit})`,
      );
    }
    return ids;
  });
  const results: JudgeResult[] = [];
  for (let start = 0; start < encoded.length; start += maxBatchSize) {
    const chunk = encoded.slice(start, start + maxBatchSize);
    const out = await model.scoreLast(leftPadBatch(chunk, tokenizer.padId ?? 0), [yesId, noId]);
    for (let b = 0; b < chunk.length; b++) {
      const zYes = out.selectedLogits[b * 2]!;
      const zNo = out.selectedLogits[b * 2 + 1]!;
      const lse = out.logSumExp[b]!;
      const pYesFull = Math.exp(zYes - lse);
      const pNoFull = Math.exp(zNo - lse);
      results.push({
        score: sigmoid(zYes - zNo),
        pYesFull,
        pNoFull,
        otherMass: Math.max(0, 1 - pYesFull - pNoFull),
        zYes,
        zNo,
        yesId,
        noId,
      });
    }
  }
  return results;
}
