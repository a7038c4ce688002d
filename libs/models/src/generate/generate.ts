import { maxSequenceLength } from '../checkpoint/llama-config.js';
import { ModelError } from '../errors.js';
import { positionIdsFromMask } from '../reference/llama-reference.js';
import type { CausalLm } from './causal-lm.js';
import { createRng, type Rng } from './rng.js';
import { checkSamplingOptions, logSoftmaxAt, type SamplingOptions, sampleToken } from './sampling.js';

export interface GenerateOptions extends SamplingOptions {
  /** Upper bound on generated tokens per prompt. Default 64. */
  readonly maxNewTokens?: number;
  /** Seed of the sampling RNG (ignored when greedy). Row i uses its own stream, seeded from (seed, i). Default 0. */
  readonly seed?: number;
  /** Token ids that end a row (included in `ids`). Default: the config's and the tokenizer's EOS ids. */
  readonly stopTokenIds?: readonly number[];
  /** Strings that end a row when they appear in its decoded continuation (`text` is cut before them). */
  readonly stopStrings?: readonly string[];
  /** Return the full logits at each prompt's last position (the first generated token's distribution). */
  readonly returnPromptLogits?: boolean;
  /** Add the tokenizer's special tokens (BOS) when encoding string prompts. Default true. */
  readonly addSpecialTokens?: boolean;
}

export type FinishReason = 'stop_token' | 'stop_string' | 'length' | 'max_positions';

export interface Generation {
  readonly promptIds: number[];
  /** Generated ids, including a final stop token. */
  readonly ids: number[];
  /** Decoded continuation without special tokens, cut before a matched stop string. */
  readonly text: string;
  /**
   * logprobs[i] = log_softmax(raw logits)[ids[i]] under the unmodified model distribution:
   * before temperature, top-k and top-p. This is what PPO ratios and KL terms need.
   */
  readonly logprobs: number[];
  readonly finishReason: FinishReason;
  readonly promptLogits?: Float32Array;
}

/** A prompt as text (encoded with the model's tokenizer) or as ready token ids. */
export type Prompt = string | { readonly ids: readonly number[] };

function rowRng(seed: number, row: number): Rng {
  // Per-row streams keep one prompt's sample independent of what else is in the batch.
  return createRng(Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(row + 1, 0x85ebca77));
}

/**
 * Batched generation: prompts are LEFT-padded into one batch with an attention mask, position
 * ids follow HF (cumsum(mask) − 1), then one KV-cached decode step per new token.
 */
export async function generate(
  model: CausalLm,
  prompts: readonly Prompt[],
  options: GenerateOptions = {},
): Promise<Generation[]> {
  const sampling = checkSamplingOptions(options);
  const maxNewTokens = options.maxNewTokens ?? 64;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
    throw new ModelError('INVALID_ARGUMENT', `max_new_tokens must be an integer >= 1 (got ${maxNewTokens})`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed))
    throw new ModelError('INVALID_ARGUMENT', `seed must be an integer (got ${seed})`);
  if (prompts.length === 0) return [];
  const { config, tokenizer } = model;
  const { limit: maxPositions, field: limitField } = maxSequenceLength(config);
  const promptIds = prompts.map((p, i) => {
    const ids =
      typeof p === 'string'
        ? tokenizer.encode(p, { addSpecialTokens: options.addSpecialTokens ?? true })
        : [...p.ids];
    if (ids.length === 0) throw new ModelError('INVALID_ARGUMENT', `prompt ${i} is empty after tokenization`);
    if (ids.length > maxPositions) {
      throw new ModelError(
        'INVALID_ARGUMENT',
        `prompt ${i} has ${ids.length} tokens, more than the model's ${limitField} (${maxPositions})`,
      );
    }
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize) {
        throw new ModelError(
          'INVALID_ARGUMENT',
          `prompt ${i} has token id ${id} outside [0, ${config.vocabSize})`,
        );
      }
    }
    return ids;
  });
  const stopIds = new Set(
    options.stopTokenIds ?? [
      ...config.eosTokenIds,
      ...(tokenizer.eosId === undefined ? [] : [tokenizer.eosId]),
    ],
  );
  const stopStrings = (options.stopStrings ?? []).filter((s) => s.length > 0);

  const B = promptIds.length;
  const T = Math.max(...promptIds.map((p) => p.length));
  const padId = tokenizer.padId ?? 0;
  const inputIds: number[] = [];
  const mask: number[] = [];
  const positions: number[] = [];
  for (const ids of promptIds) {
    const rowMask = [...Array<number>(T - ids.length).fill(0), ...ids.map(() => 1)];
    inputIds.push(...Array<number>(T - ids.length).fill(padId), ...ids);
    mask.push(...rowMask);
    positions.push(...positionIdsFromMask(rowMask));
  }
  const rows = promptIds.map((ids, i) => ({
    promptIds: ids,
    ids: [] as number[],
    logprobs: [] as number[],
    text: '',
    finishReason: undefined as FinishReason | undefined,
    rng: rowRng(seed, i),
    nextPosition: ids.length,
    promptLogits: undefined as Float32Array | undefined,
  }));

  let step = await model.step(
    { batchSize: B, seqLen: T, inputIds, attentionMask: mask, positionIds: positions },
    undefined,
  );
  let fullMask = mask;
  let pastLen = T;
  const V = config.vocabSize;
  for (let t = 0; t < maxNewTokens; t++) {
    const next: number[] = [];
    for (let b = 0; b < B; b++) {
      const row = rows[b]!;
      const logits = step.lastLogits.subarray(b * V, (b + 1) * V);
      if (t === 0 && options.returnPromptLogits) row.promptLogits = Float32Array.from(logits);
      if (row.finishReason !== undefined) {
        next.push(padId);
        continue;
      }
      const id = sampleToken(logits, sampling, row.rng);
      row.ids.push(id);
      row.logprobs.push(logSoftmaxAt(logits, id));
      row.nextPosition++;
      next.push(id);
      if (stopIds.has(id)) row.finishReason = 'stop_token';
      else if (stopStrings.length > 0) {
        const text = tokenizer.decode(row.ids);
        const hits = stopStrings.map((s) => text.indexOf(s)).filter((k) => k >= 0);
        if (hits.length > 0) {
          row.finishReason = 'stop_string';
          row.text = text.slice(0, Math.min(...hits));
        }
      }
      if (row.finishReason === undefined && row.nextPosition >= maxPositions)
        row.finishReason = 'max_positions';
    }
    if (rows.every((r) => r.finishReason !== undefined) || t === maxNewTokens - 1) break;
    // Finished rows keep a column (pad id, masked out) so the batch stays rectangular.
    const stepMask = rows.map((r) => (r.finishReason === undefined ? 1 : 0));
    const grown: number[] = [];
    for (let b = 0; b < B; b++) grown.push(...fullMask.slice(b * pastLen, (b + 1) * pastLen), stepMask[b]!);
    fullMask = grown;
    pastLen++;
    step = await model.step(
      {
        batchSize: B,
        seqLen: 1,
        inputIds: next,
        attentionMask: fullMask,
        positionIds: rows.map((r) => (r.finishReason === undefined ? r.nextPosition - 1 : 1)),
      },
      step.cache,
    );
  }
  return rows.map((r) => ({
    promptIds: r.promptIds,
    ids: r.ids,
    text: r.finishReason === 'stop_string' ? r.text : tokenizer.decode(r.ids),
    logprobs: r.logprobs,
    finishReason: r.finishReason ?? 'length',
    ...(r.promptLogits ? { promptLogits: r.promptLogits } : {}),
  }));
}
