import { maxSequenceLength } from '../checkpoint/llama-config.js';
import { ModelError } from '../errors.js';
import { positionIdsFromMask } from '../reference/llama-reference.js';
import type { CausalLm } from './causal-lm.js';
import { createIncrementalText, type IncrementalText, stopPrefixHoldback } from './incremental-text.js';
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
  /** Called once per generated token, in generation order (for streaming). Must not throw. */
  readonly onToken?: (event: TokenEvent) => void;
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

  const onToken = options.onToken;
  const needText = stopStrings.length > 0 || onToken !== undefined;
  const rows: Row[] = promptIds.map((ids, i) => ({
    index: i,
    promptIds: ids,
    ids: [],
    logprobs: [],
    finishReason: undefined,
    rng: rowRng(seed, i),
    nextPosition: ids.length,
    promptLogits: undefined,
    detok: needText ? createIncrementalText(tokenizer) : undefined,
    stopText: undefined,
    streamed: 0,
  }));
  const ctx: DecodeContext = {
    model,
    sampling,
    maxNewTokens,
    maxPositions,
    stopIds,
    stopStrings,
    maxStopLength: Math.max(0, ...stopStrings.map((s) => s.length)),
    padId: tokenizer.padId ?? 0,
    onToken,
    returnPromptLogits: options.returnPromptLogits ?? false,
    compact: (options.compactFinishedRows ?? true) && model.compactCache !== undefined,
    finalText: (r) => r.stopText ?? tokenizer.decode(r.ids),
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
  return rows.map((r) => ({
    promptIds: r.promptIds,
    ids: r.ids,
    text: ctx.finalText(r),
    logprobs: r.logprobs,
    finishReason: r.finishReason ?? 'length',
    ...(r.promptLogits ? { promptLogits: r.promptLogits } : {}),
  }));
}

interface Row {
  readonly index: number;
  readonly promptIds: number[];
  readonly ids: number[];
  readonly logprobs: number[];
  finishReason: FinishReason | undefined;
  readonly rng: Rng;
  nextPosition: number;
  promptLogits: Float32Array | undefined;
  readonly detok: IncrementalText | undefined;
  /** Set when the row finishes on a stop string: the text cut before it. */
  stopText: string | undefined;
  /** Characters of text already passed to onToken. */
  streamed: number;
}

interface DecodeContext {
  readonly model: CausalLm;
  readonly sampling: Required<SamplingOptions>;
  readonly maxNewTokens: number;
  readonly maxPositions: number;
  readonly stopIds: ReadonlySet<number>;
  readonly stopStrings: readonly string[];
  readonly maxStopLength: number;
  readonly padId: number;
  readonly onToken: ((event: TokenEvent) => void) | undefined;
  readonly returnPromptLogits: boolean;
  readonly compact: boolean;
  readonly finalText: (row: Row) => string;
}

/** Prefill + KV-cached decode of one left-padded batch; fills in each row's results. */
async function decodeBatch(ctx: DecodeContext, rows: readonly Row[]): Promise<void> {
  if (rows.length === 0) return;
  const { model, maxNewTokens, stopIds, stopStrings, padId, onToken } = ctx;
  const { tokenizer } = model;
  const T = Math.max(...rows.map((r) => r.promptIds.length));
  const inputIds: number[] = [];
  const positions: number[] = [];
  // masks[slot] = attention mask of the row in batch slot `slot`, over the cached positions.
  let masks: number[][] = [];
  for (const { promptIds: ids } of rows) {
    const rowMask = [...Array<number>(T - ids.length).fill(0), ...ids.map(() => 1)];
    inputIds.push(...Array<number>(T - ids.length).fill(padId), ...ids);
    masks.push(rowMask);
    positions.push(...positionIdsFromMask(rowMask));
  }
  // active[slot] = the row in that batch slot.
  let active = [...rows];
  let step = await model.step(
    { batchSize: rows.length, seqLen: T, inputIds, attentionMask: masks.flat(), positionIds: positions },
    undefined,
  );
  let cache = step.cache;
  const V = model.config.vocabSize;
  for (let t = 0; t < maxNewTokens; t++) {
    const next: number[] = [];
    for (let slot = 0; slot < active.length; slot++) {
      const row = active[slot]!;
      const logits = step.lastLogits.subarray(slot * V, (slot + 1) * V);
      if (t === 0 && ctx.returnPromptLogits) row.promptLogits = Float32Array.from(logits);
      if (row.finishReason !== undefined) {
        next.push(padId);
        continue;
      }
      const id = sampleToken(logits, ctx.sampling, row.rng);
      const lse = step.lastLogSumExp?.[slot];
      const logprob = lse === undefined ? logSoftmaxAt(logits, id) : logits[id]! - lse;
      row.ids.push(id);
      row.logprobs.push(logprob);
      row.nextPosition++;
      next.push(id);
      if (stopIds.has(id)) row.finishReason = 'stop_token';
      else if (row.detok !== undefined) {
        const before = row.detok.text.length;
        const delta = row.detok.push(row.ids);
        if (delta.length > 0 && stopStrings.length > 0) {
          // Only a match that overlaps the new text can be new.
          const from = Math.max(0, before - ctx.maxStopLength + 1);
          if (stopStrings.some((s) => row.detok!.text.indexOf(s, from) >= 0)) {
            // Cut where the full decode puts the earliest stop (what a non-incremental check returns).
            const full = tokenizer.decode(row.ids);
            const hits = stopStrings.map((s) => full.indexOf(s)).filter((k) => k >= 0);
            const incremental = stopStrings.map((s) => row.detok!.text.indexOf(s)).filter((k) => k >= 0);
            row.finishReason = 'stop_string';
            row.stopText =
              hits.length > 0
                ? full.slice(0, Math.min(...hits))
                : row.detok.text.slice(0, Math.min(...incremental));
          }
        }
      }
      if (row.finishReason === undefined && row.nextPosition >= ctx.maxPositions)
        row.finishReason = 'max_positions';
      if (row.finishReason === undefined && t === maxNewTokens - 1) row.finishReason = 'length';
      if (onToken !== undefined) {
        let textDelta: string;
        if (row.finishReason !== undefined) {
          textDelta = ctx.finalText(row).slice(row.streamed);
        } else {
          const text = row.detok!.text;
          const safe = text.length - stopPrefixHoldback(text, stopStrings);
          textDelta = safe > row.streamed ? text.slice(row.streamed, safe) : '';
        }
        row.streamed += textDelta.length;
        onToken({
          row: row.index,
          index: row.ids.length - 1,
          tokenId: id,
          logprob,
          textDelta,
          ...(row.finishReason === undefined ? {} : { finishReason: row.finishReason }),
        });
      }
    }
    if (active.every((r) => r.finishReason !== undefined) || t === maxNewTokens - 1) break;
    const doneSlots = active.filter((r) => r.finishReason !== undefined).length;
    if (ctx.compact && doneSlots >= Math.max(1, Math.floor(active.length / 8))) {
      const keep = active.flatMap((r, slot) => (r.finishReason === undefined ? [slot] : []));
      // Unfinished rows' masks are zeros (left padding) then ones: drop the padding all of them share.
      const drop = Math.min(...keep.map((slot) => masks[slot]!.indexOf(1)));
      cache = model.compactCache!(cache, keep, drop);
      active = keep.map((slot) => active[slot]!);
      masks = keep.map((slot) => masks[slot]!.slice(drop));
      const kept = keep.map((slot) => next[slot]!);
      next.length = 0;
      next.push(...kept);
    }
    // Finished rows still in the batch keep a column (pad id, masked out) so it stays rectangular.
    for (const [slot, r] of active.entries()) masks[slot]!.push(r.finishReason === undefined ? 1 : 0);
    step = await model.step(
      {
        batchSize: active.length,
        seqLen: 1,
        inputIds: next,
        attentionMask: masks.flat(),
        positionIds: active.map((r) => (r.finishReason === undefined ? r.nextPosition - 1 : 1)),
      },
      cache,
    );
    cache = step.cache;
  }
}
