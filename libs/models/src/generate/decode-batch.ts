import type { CausalLmConfig } from '../family/model-config.js';
import { positionIdsFromMask } from '../reference/llama-reference.js';
import type { CausalLm } from './causal-lm.js';
import type { FinishReason, TokenEvent } from './generate.js';
import { type IncrementalText, stopPrefixHoldback } from './incremental-text.js';
import type { Rng } from './rng.js';
import { logSoftmaxAt, type SamplingOptions, sampleToken } from './sampling.js';

/** One prompt's decoding state and its own settings (validated by `generate`). */
export interface Row {
  readonly index: number;
  readonly promptIds: number[];
  readonly sampling: Required<SamplingOptions>;
  readonly maxNewTokens: number;
  readonly stopIds: ReadonlySet<number>;
  readonly stopStrings: readonly string[];
  readonly maxStopLength: number;
  readonly signal: AbortSignal | undefined;
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
  prefillMs: number;
  /** performance.now() at the end of the row's prefill. */
  prefillEnd: number;
  decodeMs: number;
}

export interface DecodeContext {
  readonly model: CausalLm<unknown, CausalLmConfig>;
  readonly maxPositions: number;
  readonly padId: number;
  readonly onToken: ((event: TokenEvent) => void) | undefined;
  readonly returnPromptLogits: boolean;
  readonly compact: boolean;
  readonly signal: AbortSignal | undefined;
  readonly finalText: (row: Row) => string;
  /** Called once when a row gets its finishReason. */
  readonly finished: (row: Row) => void;
}

function finish(ctx: DecodeContext, row: Row, reason: FinishReason): void {
  row.finishReason = reason;
  row.decodeMs = row.prefillEnd === 0 ? 0 : performance.now() - row.prefillEnd;
  ctx.finished(row);
}

const cancelled = (ctx: DecodeContext, row: Row) =>
  row.signal?.aborted === true || ctx.signal?.aborted === true;

/** Samples row's next token from its logits and applies its stop rules; returns the id. */
function advance(ctx: DecodeContext, row: Row, logits: Float32Array, lse: number | undefined): number {
  const { tokenizer } = ctx.model;
  const id = sampleToken(logits, row.sampling, row.rng);
  const logprob = lse === undefined ? logSoftmaxAt(logits, id) : logits[id]! - lse;
  row.ids.push(id);
  row.logprobs.push(logprob);
  row.nextPosition++;
  let reason: FinishReason | undefined;
  if (row.stopIds.has(id)) reason = 'stop_token';
  else if (row.detok !== undefined) {
    const before = row.detok.text.length;
    const delta = row.detok.push(row.ids);
    if (delta.length > 0 && row.stopStrings.length > 0) {
      // Only a match that overlaps the new text can be new.
      const from = Math.max(0, before - row.maxStopLength + 1);
      if (row.stopStrings.some((s) => row.detok!.text.indexOf(s, from) >= 0)) {
        // Cut where the full decode puts the earliest stop (what a non-incremental check returns).
        const full = tokenizer.decode(row.ids);
        const hits = row.stopStrings.map((s) => full.indexOf(s)).filter((k) => k >= 0);
        const incremental = row.stopStrings.map((s) => row.detok!.text.indexOf(s)).filter((k) => k >= 0);
        reason = 'stop_string';
        row.stopText =
          hits.length > 0
            ? full.slice(0, Math.min(...hits))
            : row.detok.text.slice(0, Math.min(...incremental));
      }
    }
  }
  if (reason === undefined && row.nextPosition >= ctx.maxPositions) reason = 'max_positions';
  if (reason === undefined && row.ids.length >= row.maxNewTokens) reason = 'length';
  // finishReason is set before the token event so its delta is the rest of the final text.
  if (reason !== undefined) row.finishReason = reason;
  if (ctx.onToken !== undefined) {
    let textDelta: string;
    if (reason !== undefined) {
      textDelta = ctx.finalText(row).slice(row.streamed);
    } else {
      const text = row.detok!.text;
      const safe = text.length - stopPrefixHoldback(text, row.stopStrings);
      textDelta = safe > row.streamed ? text.slice(row.streamed, safe) : '';
    }
    row.streamed += textDelta.length;
    ctx.onToken({
      row: row.index,
      index: row.ids.length - 1,
      tokenId: id,
      logprob,
      textDelta,
      ...(reason === undefined ? {} : { finishReason: reason }),
    });
  }
  if (reason !== undefined) finish(ctx, row, reason);
  return id;
}

/** Prefill + KV-cached decode of one left-padded batch; fills in each row's results. */
export async function decodeBatch(ctx: DecodeContext, batchRows: readonly Row[]): Promise<void> {
  for (const r of batchRows) if (cancelled(ctx, r)) finish(ctx, r, 'cancelled');
  const rows = batchRows.filter((r) => r.finishReason === undefined);
  if (rows.length === 0) return;
  const { model, padId } = ctx;
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
  const started = performance.now();
  let step = await model.step(
    { batchSize: rows.length, seqLen: T, inputIds, attentionMask: masks.flat(), positionIds: positions },
    undefined,
  );
  const prefillEnd = performance.now();
  for (const r of rows) {
    r.prefillMs = prefillEnd - started;
    r.prefillEnd = prefillEnd;
  }
  let cache = step.cache;
  try {
    await decodeSteps();
  } finally {
    await model.releaseCache?.(cache);
  }

  async function decodeSteps(): Promise<void> {
    const V = model.config.vocabSize;
    for (let t = 0; ; t++) {
      const next: number[] = [];
      for (let slot = 0; slot < active.length; slot++) {
        const row = active[slot]!;
        const logits = step.lastLogits.subarray(slot * V, (slot + 1) * V);
        if (t === 0 && ctx.returnPromptLogits) row.promptLogits = Float32Array.from(logits);
        if (row.finishReason === undefined && cancelled(ctx, row)) finish(ctx, row, 'cancelled');
        if (row.finishReason !== undefined) {
          next.push(padId);
          continue;
        }
        next.push(advance(ctx, row, logits, step.lastLogSumExp?.[slot]));
      }
      const doneSlots = active.filter((r) => r.finishReason !== undefined).length;
      if (doneSlots === active.length) break;
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
}
