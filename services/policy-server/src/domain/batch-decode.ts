import {
  type CausalLm,
  createRng,
  type FinishReason,
  logSoftmaxAt,
  maxSequenceLength,
  positionIdsFromMask,
  type Rng,
  type SamplingOptions,
  sampleToken,
} from '@verdict/models';
import { createTextStream, type TextStream } from './text-stream.js';

/**
 * One sequence of a batch with its own sampling: rows of one batch may differ in temperature,
 * top-k/p, seed, limits and stops, so any concurrent requests can share a batch.
 */
export interface DecodeRow {
  readonly promptIds: readonly number[];
  readonly sampling: Required<SamplingOptions>;
  /** Seed of this row's RNG (only used when sampling). */
  readonly seed: number;
  readonly maxNewTokens: number;
  /** Ids that end the row (kept in the output). */
  readonly stopTokenIds: ReadonlySet<number>;
  readonly stopStrings: readonly string[];
  /** Checked every step: a cancelled row stops decoding and gets no further callbacks. */
  isCancelled(): boolean;
  /** After each generated token: the id, its logprob and the text it added (may be ''). */
  onToken(id: number, logprob: number, textDelta: string): void;
  /** Once, when the row ends (never for a cancelled row). */
  onFinish(result: DecodeResult): void;
}

export interface DecodeResult {
  readonly ids: readonly number[];
  readonly logprobs: readonly number[];
  /** Decoded continuation (cut before a matched stop string). */
  readonly text: string;
  /** The last part of `text` not yet passed to onToken. */
  readonly textDelta: string;
  readonly finishReason: FinishReason;
  /** Time of the batch's prompt forward pass. */
  readonly prefillMs: number;
  /** Time from the end of prefill until this row finished. */
  readonly decodeMs: number;
}

/**
 * The RNG stream `generate()` of @verdict/models gives row `row` for `seed` (same formula), so
 * a row seeded with s reproduces `generate(model, [prompt], { seed: s })` whatever batch it is in.
 */
export function rowRng(seed: number, row = 0): Rng {
  return createRng(Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(row + 1, 0x85ebca77));
}

interface RowState {
  readonly spec: DecodeRow;
  readonly rng: Rng;
  readonly text: TextStream;
  readonly ids: number[];
  readonly logprobs: number[];
  nextPosition: number;
  done: boolean;
}

/**
 * KV-cached batched decoding with per-row sampling and per-token callbacks. Semantics follow
 * `generate()` of @verdict/models exactly (left padding, position ids = cumsum(mask) − 1,
 * logprobs = log_softmax of the raw logits, stop token kept, text cut before a stop string,
 * `max_positions` at the model's sequence limit), which a test checks token for token.
 * Prompts must already be validated (non-empty, ids in the vocabulary, within the limit).
 */
export async function decodeBatch(
  model: CausalLm,
  rows: readonly DecodeRow[],
  now: () => number = () => performance.now(),
): Promise<void> {
  if (rows.length === 0) return;
  const { config, tokenizer } = model;
  const maxPositions = maxSequenceLength(config).limit;
  const V = config.vocabSize;
  const padId = tokenizer.padId ?? 0;
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.promptIds.length));
  const inputIds: number[] = [];
  let mask: number[] = [];
  const positions: number[] = [];
  for (const r of rows) {
    const pad = T - r.promptIds.length;
    const rowMask = [...Array<number>(pad).fill(0), ...r.promptIds.map(() => 1)];
    inputIds.push(...Array<number>(pad).fill(padId), ...r.promptIds);
    mask.push(...rowMask);
    positions.push(...positionIdsFromMask(rowMask));
  }
  const states: RowState[] = rows.map((spec) => ({
    spec,
    rng: rowRng(spec.seed),
    text: createTextStream(
      (ids) => tokenizer.decode(ids),
      Math.max(0, ...spec.stopStrings.map((s) => s.length - 1)),
    ),
    ids: [],
    logprobs: [],
    nextPosition: spec.promptIds.length,
    done: false,
  }));

  const started = now();
  let step = await model.step(
    { batchSize: B, seqLen: T, inputIds, attentionMask: mask, positionIds: positions },
    undefined,
  );
  const prefillEnd = now();
  const prefillMs = prefillEnd - started;
  let pastLen = T;

  const finish = (s: RowState, finishReason: FinishReason, cutText?: string): void => {
    s.done = true;
    const text = cutText ?? tokenizer.decode(s.ids);
    s.spec.onFinish({
      ids: s.ids,
      logprobs: s.logprobs,
      text,
      textDelta: s.text.finish(text),
      finishReason,
      prefillMs,
      decodeMs: now() - prefillEnd,
    });
  };

  for (;;) {
    const next: number[] = [];
    for (let b = 0; b < B; b++) {
      const s = states[b]!;
      if (!s.done && s.spec.isCancelled()) s.done = true;
      if (s.done) {
        next.push(padId);
        continue;
      }
      const logits = step.lastLogits.subarray(b * V, (b + 1) * V);
      const id = sampleToken(logits, s.spec.sampling, s.rng);
      const logprob = logSoftmaxAt(logits, id);
      s.ids.push(id);
      s.logprobs.push(logprob);
      s.nextPosition++;
      next.push(id);
      if (s.spec.stopTokenIds.has(id)) {
        s.spec.onToken(id, logprob, '');
        finish(s, 'stop_token');
        continue;
      }
      if (s.spec.stopStrings.length > 0) {
        const text = tokenizer.decode(s.ids);
        const hits = s.spec.stopStrings.map((x) => text.indexOf(x)).filter((k) => k >= 0);
        if (hits.length > 0) {
          s.spec.onToken(id, logprob, '');
          finish(s, 'stop_string', text.slice(0, Math.min(...hits)));
          continue;
        }
      }
      const ended =
        s.nextPosition >= maxPositions
          ? 'max_positions'
          : s.ids.length >= s.spec.maxNewTokens
            ? 'length'
            : undefined;
      s.spec.onToken(id, logprob, ended === undefined ? s.text.update(s.ids) : '');
      if (ended !== undefined) finish(s, ended);
    }
    if (states.every((s) => s.done)) return;
    // Finished rows keep a column (pad id, masked out) so the batch stays rectangular.
    const grown: number[] = [];
    for (let b = 0; b < B; b++) {
      grown.push(...mask.slice(b * pastLen, (b + 1) * pastLen), states[b]!.done ? 0 : 1);
    }
    mask = grown;
    pastLen++;
    step = await model.step(
      {
        batchSize: B,
        seqLen: 1,
        inputIds: next,
        attentionMask: mask,
        positionIds: states.map((s) => (s.done ? 1 : s.nextPosition - 1)),
      },
      step.cache,
    );
  }
}
