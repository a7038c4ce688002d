import { maxSequenceLength } from '../checkpoint/llama-config.js';
import { ModelError } from '../errors.js';
import type { CausalLmConfig } from '../family/model-config.js';
import type { StepInput } from '../generate/causal-lm.js';
import { positionIdsFromMask } from '../reference/llama-reference.js';
import type { ModelTokenizer } from '../tokenizer/tokenizer.js';
import { encodeJudgePrompt, renderJudgePrompt } from './judge-prompt.js';

/**
 * The prompt and batching path every scorer of (question, answer) items shares: the judge (its
 * verdict token) and the classifier (a reranker's score head) read the same prompt, encoded and
 * left-padded the same way, at the same last position.
 */

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

/** Rows per forward pass: default 32, else an integer >= 1 (INVALID_ARGUMENT naming max_batch_size). */
export function checkMaxBatchSize(maxBatchSize: number | undefined): number {
  const n = maxBatchSize ?? 32;
  if (!Number.isInteger(n) || n < 1) {
    throw new ModelError('INVALID_ARGUMENT', `max_batch_size must be an integer >= 1 (got ${n})`);
  }
  return n;
}

/** Each item's judge prompt as token ids; one longer than the model's positions is INVALID_ARGUMENT naming it. */
export function encodeJudgeItems(
  model: { readonly config: CausalLmConfig; readonly tokenizer: ModelTokenizer },
  items: readonly { readonly question: string; readonly answer: string }[],
  template: 'plain' | 'chat',
): number[][] {
  const { tokenizer, config } = model;
  const { limit, field } = maxSequenceLength(config);
  return items.map((item, i) => {
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
}

/** Runs `run` on `rows` (indices into `encoded`) in order, maxBatchSize at a time, left-padded with `padId`. */
export async function forEachPaddedBatch(
  encoded: readonly (readonly number[])[],
  rows: readonly number[],
  maxBatchSize: number,
  padId: number,
  run: (rows: readonly number[], input: StepInput) => Promise<void>,
): Promise<void> {
  for (let start = 0; start < rows.length; start += maxBatchSize) {
    const batch = rows.slice(start, start + maxBatchSize);
    await run(
      batch,
      leftPadBatch(
        batch.map((r) => encoded[r]!),
        padId,
      ),
    );
  }
}
