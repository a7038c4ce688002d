import { randomUUID } from 'node:crypto';
import {
  createSessionPool,
  createTensor,
  type ExecutionProvider,
  type ExecutionProviderFallback,
  type ExecutionProviderInfo,
  type GraphBuilder,
  type LoadOptions,
  type PooledSession,
  type SessionPool,
  type Tensor,
  toOnnxModel,
} from '@verdict/graph';
import { buildLlamaDecodeGraph, buildLlamaInferenceGraph } from '../arch/llama-graphs.js';
import type { LlamaFamilyConfig } from '../checkpoint/llama-config.js';
import type { LlamaWeights } from '../checkpoint/llama-weights.js';
import { ModelError } from '../errors.js';
import type { CausalLmConfig } from '../family/model-config.js';
import { int64, writeInt64 } from '../model/int64.js';
import type { ModelTokenizer } from '../tokenizer/tokenizer.js';
import type { CausalLm, StepInput, StepOutput } from './causal-lm.js';

/**
 * KV cache in buffers: `present.N.key|value`, each [batch, kv_heads, capacity, head_dim], of which
 * the first `length` positions are filled. Between decode steps the buffers stay in the decode
 * session's worker (`retained`); `tensors` holds them only where this thread has them (after a
 * prefill or a repack).
 */
export interface KvBufferCache {
  readonly tensors: Record<string, Tensor> | undefined;
  /** The worker-held buffers' key, shared by every cache of one generation; absent when `tensors` holds them. */
  readonly retained?: RetainedKv;
  readonly batchSize: number;
  readonly length: number;
  readonly capacity: number;
  /**
   * `compactCache` of retained buffers, applied once the next step has them back: `rows` of the
   * buffers' batch, without their first `drop` positions (`length`, `capacity` already describe the result).
   */
  readonly pending?: { readonly rows: readonly number[]; readonly drop: number };
}

/** A key under which a session worker holds a generation's KV buffers (one object per generation). */
export interface RetainedKv {
  readonly key: string;
}

export interface KvBufferCausalLmOptions {
  /** Share a pool between models; when omitted the model owns a pool it closes on close(). */
  readonly pool?: SessionPool;
  /** ORT intra-op threads of each session (default 1). */
  readonly intraOpThreads?: number;
  /** Session copies on separate pool workers; generation runs that many sub-batches (default 1). */
  readonly replicas?: number;
  /** Provider of the sessions (default 'cpu'); see @verdict/graph SessionOptions. */
  readonly executionProvider?: ExecutionProvider;
  /** When the provider is unavailable: 'cpu' (default) or 'never' (load fails). */
  readonly executionProviderFallback?: ExecutionProviderFallback;
  /**
   * Free positions added when a buffer is full (default max(32, length): capacity doubles). Each
   * step attends over the whole capacity (free positions masked); growing copies the cache into
   * fresh buffers, which measured dearer than attending to a few masked positions.
   */
  readonly growthPositions?: number;
  /**
   * Decode steps whose cache holds fewer than this many positions over the whole batch
   * (batch × length) run the Concat graph (the cache stays exact); from it on the cache moves into
   * buffers. The copies the buffers save grow with batch × length; their extra ops do not.
   * Default 2048 (batch 16 × 128). Measured here at batch 16: buffers 1.02× the Concat path for 16..80
   * positions and 1.44–1.66× end to end for 256..320; at batch 1, 256..320 positions: 0.96×.
   * 0 = buffers from the first decode step; Infinity = never (every step runs the Concat graph).
   */
  readonly minBufferedPositions?: number;
  /**
   * Loads a graph into `pool` (default: inline bytes, `pool.load(toOnnxModel(graph), opts)`).
   * Family models pass their GraphLoader's, which writes big graphs with external data.
   */
  readonly loadGraph?: (name: string, graph: GraphBuilder, opts: LoadOptions) => Promise<PooledSession>;
}

/**
 * A CausalLm whose decode steps run `buildLlamaDecodeGraph`: the KV cache stays in buffers this
 * object owns (moved to the session worker and back, never copied), the graph returns only each
 * step's new keys/values and they are written into the buffers here. The Concat graph instead
 * copies the whole cache every step twice: past ++ new in ORT, then onnxruntime-node's copy of every
 * present output into fresh arrays. Prefill, any multi-token step and decode steps of caches shorter
 * than `minBufferedPositions` (batch × length) run the usual inference graph (buffers only pay off for longer caches).
 * Same weights and math as `createLlamaModel`'s step; outputs agree to float32 rounding (tested:
 * same greedy ids, logprobs within 1e-5). Like the Concat path, a cache is consumed by the step
 * that receives it (its buffers move to the worker); step from the returned cache.
 */
export function createKvBufferCausalLm(
  config: LlamaFamilyConfig,
  weights: LlamaWeights,
  tokenizer: ModelTokenizer,
  options: KvBufferCausalLmOptions = {},
): KvBufferEngine<LlamaFamilyConfig> {
  const graphs: KvBufferGraphs = {
    prefill: () => buildLlamaInferenceGraph(config, weights, { logits: 'last' }),
    decode: () => buildLlamaDecodeGraph(config, weights),
  };
  return createKvBufferEngine(config, graphs, tokenizer, options);
}

/**
 * The two graphs the engine runs, with the Llama graphs' input/output names and conventions:
 * `prefill` is the inference (Concat) graph with 'last' logits + `logsumexp`, `decode` the
 * KV-buffer graph (`new_key_values.N.*`). Built lazily, on each session's first load.
 */
export interface KvBufferGraphs {
  prefill(): GraphBuilder;
  decode(): GraphBuilder;
}

/** A CausalLm over KV buffers, plus what the model wrappers need from it. */
export type KvBufferEngine<C extends CausalLmConfig> = CausalLm<KvBufferCache, C> & {
  compactCache(cache: KvBufferCache, rows: readonly number[], dropPositions: number): KvBufferCache;
  releaseCache(cache: KvBufferCache): Promise<void>;
  /** Provider of the first session loaded; undefined until one is loaded. */
  readonly executionProvider: ExecutionProviderInfo | undefined;
  /** Loads both sessions now (otherwise each loads on its first use, the decode one mid-generation). */
  loadSessions(): Promise<void>;
};

/** A cache whose buffers this thread holds. */
type HeldCache = KvBufferCache & { readonly tensors: Record<string, Tensor> };

/** createKvBufferCausalLm for any family whose graphs follow the Llama graphs' conventions. */
export function createKvBufferEngine<C extends CausalLmConfig>(
  config: C,
  graphs: KvBufferGraphs,
  tokenizer: ModelTokenizer,
  options: KvBufferCausalLmOptions = {},
): KvBufferEngine<C> {
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1)
    throw new ModelError('INVALID_ARGUMENT', `replicas must be an integer >= 1 (got ${replicas})`);
  const ownPool = options.pool === undefined;
  const threads = options.intraOpThreads ?? 1;
  const pool = options.pool ?? createSessionPool({ workers: replicas, intraOpThreadsPerWorker: threads });
  const loadOpts = {
    intraOpThreads: threads,
    replicas,
    ...(options.executionProvider === undefined ? {} : { executionProvider: options.executionProvider }),
    ...(options.executionProviderFallback === undefined
      ? {}
      : { executionProviderFallback: options.executionProviderFallback }),
  };
  let providerInfo: ExecutionProviderInfo | undefined;
  const minBuffered = options.minBufferedPositions ?? 2048;
  let prefillSession: Promise<PooledSession> | undefined;
  let decodeSession: Promise<PooledSession> | undefined;
  const { numKvHeads: KV, headDim: D, numLayers: L, vocabSize: V } = config;
  const cacheNames = Array.from({ length: L }, (_, l) => [`present.${l}.key`, `present.${l}.value`]).flat();
  const pastNames = cacheNames.map((name) => name.replace('present.', 'past_key_values.'));
  const newNames = cacheNames.map((name) => name.replace('present.', 'new_key_values.'));

  /** Rows `rows` of held buffers, without their first `drop` positions, in buffers of `capacity` positions. */
  // Callers pass checked arguments: compactCache validates its rows and drop; growth, prefill and a
  // pending compaction use all rows or rows checked when the compaction was asked for.
  function repack(cache: HeldCache, rows: readonly number[], drop: number, capacity: number): HeldCache {
    const keep = cache.length - drop;
    const tensors: Record<string, Tensor> = {};
    for (const name of cacheNames) {
      const t = cache.tensors[name]!;
      const src = t.data as Float32Array;
      const out = new Float32Array(rows.length * KV * capacity * D);
      rows.forEach((r, i) => {
        for (let h = 0; h < KV; h++) {
          const from = ((r * KV + h) * cache.capacity + drop) * D;
          out.set(src.subarray(from, from + keep * D), (i * KV + h) * capacity * D);
        }
      });
      tensors[name] = createTensor('float32', [rows.length, KV, capacity, D], out);
    }
    return { tensors, batchSize: rows.length, length: keep, capacity };
  }

  /** The decode session's worker forgets a generation's buffers when its caches are garbage (a backstop for `releaseCache`). */
  const orphans = new FinalizationRegistry<string>((key) => {
    void decodeSession?.then((s) => s.dropRetained(key)).catch(() => {});
  });

  /** The cache with its buffers in this thread: taken back from the worker, with a pending compaction applied. */
  async function held(cache: KvBufferCache): Promise<HeldCache> {
    if (cache.tensors !== undefined) return cache as HeldCache;
    if (cache.retained === undefined) throw new Error('KV cache without buffers');
    // The worker keeps them under their feed names (past_key_values.N.*).
    const taken = await (await decodeSessionOf()).takeRetained(cache.retained.key);
    const tensors: Record<string, Tensor> = {};
    for (const [i, name] of cacheNames.entries()) tensors[name] = taken[pastNames[i]!]!;
    const B = tensors[cacheNames[0]!]!.dims[0]!;
    const pending = cache.pending;
    if (pending === undefined)
      return { tensors, batchSize: B, length: cache.length, capacity: cache.capacity };
    const before: HeldCache = {
      tensors,
      batchSize: B,
      length: cache.length + pending.drop,
      capacity: cache.capacity + pending.drop,
    };
    return repack(before, pending.rows, pending.drop, cache.capacity);
  }

  const loadGraph = options.loadGraph ?? ((_name, graph, opts) => pool.load(toOnnxModel(graph), opts));
  const prefillSessionOf = () => (prefillSession ??= loadGraph('prefill', graphs.prefill(), loadOpts));
  const decodeSessionOf = () => (decodeSession ??= loadGraph('decode', graphs.decode(), loadOpts));

  const allRows = (cache: HeldCache) => Array.from({ length: cache.batchSize }, (_, i) => i);

  async function prefill(
    input: StepInput,
    cache: KvBufferCache | undefined,
  ): Promise<StepOutput<KvBufferCache>> {
    const session = await prefillSessionOf();
    providerInfo ??= session.executionProvider;
    const { batchSize: B, seqLen: S } = input;
    const pastLen = cache?.length ?? 0;
    const have = cache && (await held(cache));
    const exact = have && have.capacity !== have.length ? repack(have, allRows(have), 0, have.length) : have;
    const feeds: Record<string, Tensor> = {
      input_ids: createTensor('int64', [B, S], int64(input.inputIds)),
      attention_mask: createTensor('int64', [B, pastLen + S], int64(input.attentionMask)),
      position_ids: createTensor('int64', [B, S], int64(input.positionIds)),
    };
    for (let l = 0; l < L; l++) {
      for (const kind of ['key', 'value'] as const) {
        feeds[`past_key_values.${l}.${kind}`] =
          exact?.tensors[`present.${l}.${kind}`] ?? createTensor('float32', [B, KV, 0, D]);
      }
    }
    const out = await session.run(feeds);
    const tensors: Record<string, Tensor> = {};
    for (const name of cacheNames) tensors[name] = out[name]!;
    return {
      lastLogits: out['logits']!.data as Float32Array,
      lastLogSumExp: out['logsumexp']!.data as Float32Array,
      cache: { tensors, batchSize: B, length: pastLen + S, capacity: pastLen + S },
    };
  }

  return {
    config,
    tokenizer,
    concurrency: replicas,
    get executionProvider() {
      return providerInfo;
    },
    async step(input: StepInput, cache: KvBufferCache | undefined): Promise<StepOutput<KvBufferCache>> {
      const { batchSize: B, seqLen: S } = input;
      const pastLen = cache?.length ?? 0;
      if (input.inputIds.length !== B * S || input.positionIds.length !== B * S)
        throw new ModelError(
          'INVALID_ARGUMENT',
          `step: input_ids/position_ids must hold batch*seq = ${B * S} ids`,
        );
      if (input.attentionMask.length !== B * (pastLen + S))
        throw new ModelError(
          'INVALID_ARGUMENT',
          `step: attention_mask must hold batch*(past+seq) = ${B * (pastLen + S)} entries`,
        );
      const concatStep = cache !== undefined && cache.capacity === pastLen && B * pastLen < minBuffered;
      if (cache === undefined || S !== 1 || concatStep) return prefill(input, cache);
      const session = await decodeSessionOf();
      providerInfo ??= session.executionProvider;
      let buffers: KvBufferCache = cache;
      if (cache.capacity <= pastLen || cache.pending !== undefined) buffers = await held(cache);
      if (buffers.capacity <= pastLen) {
        const growth = options.growthPositions ?? Math.max(16, Math.ceil(Math.sqrt(6 * pastLen)));
        buffers = repack(buffers as HeldCache, allRows(buffers as HeldCache), 0, pastLen + growth);
      }
      const cap = buffers.capacity;
      // Mask over [buffer positions | new token]: the buffer's unfilled positions are masked out.
      const mask = new BigInt64Array(B * (cap + 1));
      for (let b = 0; b < B; b++) {
        writeInt64(mask, input.attentionMask, b * (cap + 1), b * (pastLen + 1), pastLen);
        writeInt64(mask, input.attentionMask, b * (cap + 1) + cap, b * (pastLen + 1) + pastLen, 1);
      }
      const feeds: Record<string, Tensor> = {
        input_ids: createTensor('int64', [B, 1], int64(input.inputIds)),
        attention_mask: createTensor('int64', [B, cap + 1], mask),
        position_ids: createTensor('int64', [B, 1], int64(input.positionIds)),
      };
      const inThread = buffers.tensors;
      if (inThread !== undefined)
        for (const [i, name] of cacheNames.entries()) feeds[pastNames[i]!] = inThread[name]!;
      let retained = cache.retained;
      if (retained === undefined) {
        retained = { key: randomUUID() };
        orphans.register(retained, retained.key, retained);
      }
      // The buffers go to the worker once and stay there: each step's new keys/values are written
      // into them in the worker, and only the logits come back.
      const out = await session.run(feeds, {
        ...(inThread === undefined ? { fromRetained: retained.key } : {}),
        retain: { key: retained.key, feeds: pastNames },
        writeRetained: newNames.map((output, i) => ({ output, into: pastNames[i]!, at: pastLen })),
      });
      const logits = out['logits'];
      if (logits === undefined || logits.data.length !== B * V)
        throw new Error('decode graph returned no [batch, 1, vocab] logits');
      return {
        lastLogits: logits.data as Float32Array,
        lastLogSumExp: out['logsumexp']!.data as Float32Array,
        cache: { tensors: undefined, retained, batchSize: B, length: pastLen + 1, capacity: cap },
      };
    },
    async loadSessions() {
      // One after the other: a graph's load holds its transient copies of the weights (the model
      // bytes, the worker's copy, ORT's parse), and two loads at once stacked them.
      const session = await prefillSessionOf();
      await decodeSessionOf();
      providerInfo ??= session.executionProvider;
    },
    compactCache(cache: KvBufferCache, rows: readonly number[], dropPositions: number): KvBufferCache {
      const drop = dropPositions;
      if (!Number.isInteger(drop) || drop < 0 || drop > cache.length)
        throw new ModelError(
          'INVALID_ARGUMENT',
          `compactCache: cannot drop ${drop} of ${cache.length} positions`,
        );
      for (const r of rows) {
        if (!Number.isInteger(r) || r < 0 || r >= cache.batchSize)
          throw new ModelError(
            'INVALID_ARGUMENT',
            `compactCache: row ${r} is outside [0, ${cache.batchSize})`,
          );
      }
      // Keeps the free positions, so compaction does not force a regrowth.
      if (cache.tensors !== undefined) return repack(cache as HeldCache, rows, drop, cache.capacity - drop);
      // Buffers in the worker: the next step takes them back and repacks (composed with an earlier compaction).
      const earlier = cache.pending;
      return {
        tensors: undefined,
        ...(cache.retained ? { retained: cache.retained } : {}),
        batchSize: rows.length,
        length: cache.length - drop,
        capacity: cache.capacity - drop,
        pending: {
          rows: earlier ? rows.map((r) => earlier.rows[r]!) : rows,
          drop: (earlier?.drop ?? 0) + drop,
        },
      };
    },
    async releaseCache(cache: KvBufferCache) {
      if (cache.tensors !== undefined || cache.retained === undefined) return;
      orphans.unregister(cache.retained);
      await (await decodeSessionOf()).dropRetained(cache.retained.key);
    },
    async close() {
      const sessions = [prefillSession, decodeSession].filter((s) => s !== undefined);
      prefillSession = undefined;
      decodeSession = undefined;
      if (ownPool) await pool.close();
      else await Promise.all(sessions.map(async (s) => (await s).release()));
    },
  };
}
