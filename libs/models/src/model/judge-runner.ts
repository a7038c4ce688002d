import { createTensor, type PooledSession, type Tensor } from '@verdict/graph';
import { ModelError } from '../errors.js';
import type { CausalLmConfig } from '../family/model-config.js';
import type { StepInput } from '../generate/causal-lm.js';
import type { JudgeScores, PrefixKv } from '../judge/judge.js';
import { int64 } from './int64.js';

/** What a family model's judge session answers (see JudgeModel). */
export interface JudgeRunner {
  scoreLast(input: StepInput, tokenIds: readonly number[]): Promise<JudgeScores>;
  prefillPrefixes(input: StepInput): Promise<PrefixKv>;
  scoreLastAfterPrefix(
    input: StepInput,
    prefix: PrefixKv,
    prefixRows: readonly number[],
    tokenIds: readonly number[],
  ): Promise<JudgeScores>;
}

const SCORES = ['selected_logits', 'logsumexp'] as const;

function concat(xs: Float32Array[]): Float32Array {
  const out = new Float32Array(xs.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of xs) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}

/** `input_ids`, `attention_mask` (past + seq columns) and `position_ids` of rows [from, from+rows). */
export function stepFeeds(
  input: StepInput,
  from: number,
  rows: number,
  pastLen: number,
): Record<string, Tensor> {
  const S = input.seqLen;
  const K = pastLen + S;
  return {
    input_ids: createTensor('int64', [rows, S], int64(input.inputIds.slice(from * S, (from + rows) * S))),
    attention_mask: createTensor(
      'int64',
      [rows, K],
      int64(input.attentionMask.slice(from * K, (from + rows) * K)),
    ),
    position_ids: createTensor(
      'int64',
      [rows, S],
      int64(input.positionIds.slice(from * S, (from + rows) * S)),
    ),
  };
}

/** A StepInput whose arrays hold batch*seq ids and batch*(past+seq) mask entries, else INVALID_ARGUMENT. */
export function checkStepInput(input: StepInput, pastLen: number): void {
  const { batchSize: B, seqLen: S } = input;
  if (input.inputIds.length !== B * S || input.positionIds.length !== B * S) {
    throw new ModelError(
      'INVALID_ARGUMENT',
      `step: input_ids/position_ids must hold batch*seq = ${B * S} ids`,
    );
  }
  if (input.attentionMask.length !== B * (pastLen + S)) {
    throw new ModelError(
      'INVALID_ARGUMENT',
      `step: attention_mask must hold batch*(past+seq) = ${B * (pastLen + S)} entries`,
    );
  }
}

/**
 * Runs `run(from, rows)` over `replicas` contiguous row ranges of a batch of B at once (each on
 * its own session copy) and joins the float outputs `names` (row-major, batch first) in row order.
 */
export async function runInRowChunks(
  B: number,
  replicas: number,
  names: readonly string[],
  run: (from: number, rows: number) => Promise<Record<string, Tensor>>,
): Promise<Float32Array[]> {
  const chunks = Math.max(1, Math.min(replicas, B));
  const parts = await Promise.all(
    Array.from({ length: chunks }, async (_, c) => {
      const from = Math.floor((c * B) / chunks);
      const out = await run(from, Math.floor(((c + 1) * B) / chunks) - from);
      return names.map((n) => out[n]!.data as Float32Array);
    }),
  );
  if (parts.length === 1) return parts[0]!;
  return names.map((_, i) => concat(parts.map((p) => p[i]!)));
}

/**
 * Runs a family's judge graph: whole prompts (`scoreLast`) and, when the graph takes past
 * key/values (the Llama family's does), prefixes whose keys/values are kept (`prefillPrefixes`)
 * and suffixes judged against them (`scoreLastAfterPrefix`). One session serves the three: a
 * second graph would hold a second copy of the weights in ORT. With replicas, contiguous row
 * ranges run concurrently on the session's copies and their results are concatenated.
 */
export function createJudgeRunner(
  config: CausalLmConfig,
  sessionOf: () => Promise<PooledSession>,
  replicas: number,
): JudgeRunner {
  const { vocabSize: V, numKvHeads: KV, headDim: D, numLayers: L } = config;
  const cacheNames = Array.from({ length: L }, (_, l) => [`present.${l}.key`, `present.${l}.value`]).flat();
  const pastName = (present: string) => present.replace('present.', 'past_key_values.');
  const takesPast = (session: PooledSession) => session.inputNames.includes('past_key_values.0.key');

  function checkTokenIds(tokenIds: readonly number[]): void {
    for (const id of tokenIds) {
      if (!Number.isInteger(id) || id < 0 || id >= V) {
        throw new ModelError('INVALID_ARGUMENT', `token id ${id} is outside the vocabulary [0, ${V})`);
      }
    }
  }

  /** Feeds of rows [from, from+rows) of `input`, with `past(from, rows)` as the cache (absent: none). */
  function feedsOf(
    session: PooledSession,
    input: StepInput,
    from: number,
    rows: number,
    pastLen: number,
    past: ((name: string) => Tensor) | undefined,
  ): Record<string, Tensor> {
    const feeds = stepFeeds(input, from, rows, pastLen);
    if (takesPast(session)) {
      for (const name of cacheNames)
        feeds[pastName(name)] = past?.(name) ?? createTensor('float32', [rows, KV, 0, D]);
    }
    return feeds;
  }

  async function scoreInChunks(
    B: number,
    run: (from: number, rows: number) => Promise<Record<string, Tensor>>,
  ): Promise<JudgeScores> {
    const [selectedLogits, logSumExp] = await runInRowChunks(B, replicas, SCORES, run);
    return { selectedLogits: selectedLogits!, logSumExp: logSumExp! };
  }

  async function pastSession(): Promise<PooledSession> {
    const session = await sessionOf();
    if (!takesPast(session))
      throw new ModelError('INVALID_ARGUMENT', "this model's judge graph takes no past key/values");
    return session;
  }

  return {
    async scoreLast(input, tokenIds) {
      const session = await sessionOf();
      checkStepInput(input, 0);
      checkTokenIds(tokenIds);
      const ids = int64(tokenIds);
      return scoreInChunks(input.batchSize, (from, rows) =>
        session.run(
          {
            ...feedsOf(session, input, from, rows, 0, undefined),
            token_ids: createTensor('int64', [tokenIds.length], ids.slice()),
          },
          { outputs: SCORES },
        ),
      );
    },
    async prefillPrefixes(input) {
      const session = await pastSession();
      checkStepInput(input, 0);
      // Any token id will do: only the keys/values are read.
      const out = await session.run(
        {
          ...feedsOf(session, input, 0, input.batchSize, 0, undefined),
          token_ids: createTensor('int64', [1], int64([0])),
        },
        { outputs: cacheNames },
      );
      const tensors: Record<string, Tensor> = {};
      for (const name of cacheNames) tensors[name] = out[name]!;
      return { batchSize: input.batchSize, length: input.seqLen, tensors };
    },
    async scoreLastAfterPrefix(input, prefix, prefixRows, tokenIds) {
      const session = await pastSession();
      const P = prefix.length;
      checkStepInput(input, P);
      checkTokenIds(tokenIds);
      if (prefixRows.length !== input.batchSize)
        throw new ModelError(
          'INVALID_ARGUMENT',
          `prefixRows must hold one prefix row per input row (${input.batchSize})`,
        );
      for (const r of prefixRows) {
        if (!Number.isInteger(r) || r < 0 || r >= prefix.batchSize)
          throw new ModelError('INVALID_ARGUMENT', `prefix row ${r} is outside [0, ${prefix.batchSize})`);
      }
      const ids = int64(tokenIds);
      const rowFloats = KV * P * D;
      return scoreInChunks(input.batchSize, (from, rows) => {
        // Each row's copy of its prefix's cache: the graph attends per row (one batched matmul).
        const past = (name: string): Tensor => {
          const src = prefix.tensors[name]!.data as Float32Array;
          const out = new Float32Array(rows * rowFloats);
          for (let b = 0; b < rows; b++) {
            const r = prefixRows[from + b]!;
            out.set(src.subarray(r * rowFloats, (r + 1) * rowFloats), b * rowFloats);
          }
          return createTensor('float32', [rows, KV, P, D], out);
        };
        return session.run(
          {
            ...feedsOf(session, input, from, rows, P, past),
            token_ids: createTensor('int64', [tokenIds.length], ids.slice()),
          },
          { outputs: SCORES },
        );
      });
    },
  };
}
