import { maxSequenceLength } from '../checkpoint/llama-config.js';
import { ModelError } from '../errors.js';
import type { CausalLmConfig } from '../family/model-config.js';
import type { CausalLm } from './causal-lm.js';
import { type DecodeContext, decodeBatch, type Row } from './decode-batch.js';
import { createIncrementalText } from './incremental-text.js';
import { createRng, type Rng } from './rng.js';
import { checkSamplingOptions, type SamplingOptions } from './sampling.js';

/** Settings one prompt may carry for itself; each unset field takes the value of the call's options. */
export interface RowOptions extends SamplingOptions {
  /**
   * This row's own sampling seed: the row draws exactly what `generate(model, [prompt], { seed })`
   * draws, whatever else is in the batch and wherever it sits (rollout sample i passes seed + i).
   * Unset: the call's `seed` and the row's position (see GenerateOptions.seed).
   */
  readonly seed?: number;
  readonly maxNewTokens?: number;
  readonly stopTokenIds?: readonly number[];
  readonly stopStrings?: readonly string[];
  /** Aborting it ends this row (finishReason 'cancelled') before its next token; other rows go on. */
  readonly signal?: AbortSignal;
}

export interface GenerateOptions extends SamplingOptions {
  /** Upper bound on generated tokens per prompt. Default 64. */
  readonly maxNewTokens?: number;
  /**
   * Seed of the sampling RNG (ignored when greedy). Row i uses its own stream, seeded from (seed, i),
   * so it does not depend on the other rows; a prompt's own `seed` overrides this. Default 0.
   */
  readonly seed?: number;
  /** Token ids that end a row (included in `ids`). Default: the config's and the tokenizer's EOS ids. */
  readonly stopTokenIds?: readonly number[];
  /** Strings that end a row when they appear in its decoded continuation (`text` is cut before them). */
  readonly stopStrings?: readonly string[];
  /** Return the full logits at each prompt's last position (the first generated token's distribution). */
  readonly returnPromptLogits?: boolean;
  /** Add the tokenizer's special tokens (BOS) when encoding string prompts. Default true. */
  readonly addSpecialTokens?: boolean;
  /** Called once per generated token, in generation order (for streaming). Must not throw. */
  readonly onToken?: (event: TokenEvent) => void;
  /**
   * Called once per row as soon as it ends (any reason, 'cancelled' included), with the row's
   * final result; `generate` resolves after the last one. Must not throw.
   */
  readonly onFinish?: (row: number, generation: Generation) => void;
  /** Aborting it ends every unfinished row ('cancelled') before its next token. */
  readonly signal?: AbortSignal;
  /**
   * Drop finished rows from the batch (and left padding no remaining row needs from the KV cache)
   * once at least 1/8 of the batch has finished, so they stop costing compute. Outputs do not
   * change. Default true; needs the model's `compactCache`.
   */
  readonly compactFinishedRows?: boolean;
}

/** One generated token, as `onToken` sees it. */
export interface TokenEvent {
  /** Index of the prompt. */
  readonly row: number;
  /** Position in the row's `ids` (0 = first generated token). */
  readonly index: number;
  readonly tokenId: number;
  /** The same value as `Generation.logprobs[index]`. */
  readonly logprob: number;
  /**
   * Text that became final with this token; a row's deltas concatenate to its `Generation.text`.
   * Often '' (an incomplete UTF-8 character, a special token, or text that may start a stop string
   * is held back until it is decided).
   */
  readonly textDelta: string;
  /** Set on the row's last token. */
  readonly finishReason?: FinishReason;
}

/** `cancelled`: the row's or the call's signal was aborted (its last token carries no finishReason). */
export type FinishReason = 'stop_token' | 'stop_string' | 'length' | 'max_positions' | 'cancelled';

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
  /** Time of the prompt forward pass of the row's (sub-)batch, ms (0 for a row cancelled before it). */
  readonly prefillMs: number;
  /** Time from the end of that prefill until the row ended, ms. */
  readonly decodeMs: number;
}

/** A prompt as text (encoded with the model's tokenizer) or as ready token ids with optional own settings. */
export type Prompt = string | ({ readonly ids: readonly number[] } & RowOptions);

/**
 * The stream of a row seeded (seed, position). A row with its own seed s uses (s, 0): what it gets
 * alone. (The policy-server's old decode loop seeded every sequence this way, so rollouts keep
 * their samples.)
 */
function rowRng(seed: number, row: number): Rng {
  return createRng(Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(row + 1, 0x85ebca77));
}

function checkMaxNewTokens(n: number, where: string): number {
  if (!Number.isInteger(n) || n < 1)
    throw new ModelError('INVALID_ARGUMENT', `${where}max_new_tokens must be an integer >= 1 (got ${n})`);
  return n;
}

function checkSeed(seed: number, where: string): number {
  if (!Number.isSafeInteger(seed))
    throw new ModelError('INVALID_ARGUMENT', `${where}seed must be an integer (got ${seed})`);
  return seed;
}

/**
 * Batched generation: prompts are LEFT-padded into one batch with an attention mask, position
 * ids follow HF (cumsum(mask) − 1), then one KV-cached decode step per new token. Rows may differ
 * in sampling, seed, limits and stop rules (each prompt's RowOptions).
 */
export async function generate(
  model: CausalLm<unknown, CausalLmConfig>,
  prompts: readonly Prompt[],
  options: GenerateOptions = {},
): Promise<Generation[]> {
  const sampling = checkSamplingOptions(options);
  const maxNewTokens = checkMaxNewTokens(options.maxNewTokens ?? 64, '');
  const seed = checkSeed(options.seed ?? 0, '');
  if (prompts.length === 0) return [];
  const { config, tokenizer } = model;
  const { limit: maxPositions, field: limitField } = maxSequenceLength(config);
  const defaultStopIds = options.stopTokenIds ?? [
    ...config.eosTokenIds,
    ...(tokenizer.eosId === undefined ? [] : [tokenizer.eosId]),
  ];
  const rows: Row[] = prompts.map((p, i) => {
    const own: RowOptions = typeof p === 'string' ? {} : p;
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
    const where = `prompt ${i}: `;
    let rowSampling = sampling;
    if (own.temperature !== undefined || own.topK !== undefined || own.topP !== undefined) {
      try {
        rowSampling = checkSamplingOptions({ ...sampling, ...definedOf(own) });
      } catch (error) {
        throw new ModelError('INVALID_ARGUMENT', `${where}${(error as Error).message}`);
      }
    }
    const stopStrings = (own.stopStrings ?? options.stopStrings ?? []).filter((s) => s.length > 0);
    const needText = stopStrings.length > 0 || options.onToken !== undefined;
    return {
      index: i,
      promptIds: ids,
      sampling: rowSampling,
      maxNewTokens:
        own.maxNewTokens === undefined ? maxNewTokens : checkMaxNewTokens(own.maxNewTokens, where),
      stopIds: new Set(own.stopTokenIds ?? defaultStopIds),
      stopStrings,
      maxStopLength: Math.max(0, ...stopStrings.map((s) => s.length)),
      signal: own.signal,
      ids: [],
      logprobs: [],
      finishReason: undefined,
      rng: own.seed === undefined ? rowRng(seed, i) : rowRng(checkSeed(own.seed, where), 0),
      nextPosition: ids.length,
      promptLogits: undefined,
      detok: needText ? createIncrementalText(tokenizer) : undefined,
      stopText: undefined,
      streamed: 0,
      prefillMs: 0,
      prefillEnd: 0,
      decodeMs: 0,
    };
  });
  const ctx: DecodeContext = {
    model,
    maxPositions,
    padId: tokenizer.padId ?? 0,
    onToken: options.onToken,
    returnPromptLogits: options.returnPromptLogits ?? false,
    compact: (options.compactFinishedRows ?? true) && model.compactCache !== undefined,
    signal: options.signal,
    // The tokenizer rejects an empty id list (a row cancelled before its first token).
    finalText: (r) => r.stopText ?? (r.ids.length === 0 ? '' : tokenizer.decode(r.ids)),
    finished: (r) => options.onFinish?.(r.index, resultOf(ctx, r)),
  };
  // Concurrent sub-batches when the model runs several steps at once (session replicas on
  // separate workers); rows sorted by prompt length so each sub-batch carries little padding.
  const chunks = Math.max(1, Math.min(model.concurrency ?? 1, rows.length));
  const byLength = [...rows].sort((a, b) => a.promptIds.length - b.promptIds.length || a.index - b.index);
  await Promise.all(
    Array.from({ length: chunks }, (_, c) =>
      decodeBatch(
        ctx,
        byLength.slice(Math.floor((c * rows.length) / chunks), Math.floor(((c + 1) * rows.length) / chunks)),
      ),
    ),
  );
  return rows.map((r) => resultOf(ctx, r));
}

function definedOf(o: SamplingOptions): SamplingOptions {
  return {
    ...(o.temperature === undefined ? {} : { temperature: o.temperature }),
    ...(o.topK === undefined ? {} : { topK: o.topK }),
    ...(o.topP === undefined ? {} : { topP: o.topP }),
  };
}

function resultOf(ctx: DecodeContext, r: Row): Generation {
  return {
    promptIds: r.promptIds,
    ids: r.ids,
    text: ctx.finalText(r),
    logprobs: r.logprobs,
    finishReason: r.finishReason ?? 'length',
    ...(r.promptLogits ? { promptLogits: r.promptLogits } : {}),
    prefillMs: r.prefillMs,
    decodeMs: r.decodeMs,
  };
}
