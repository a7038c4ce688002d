import {
  createSessionPool,
  createTensor,
  type ExecutionProvider,
  type ExecutionProviderFallback,
  type ExecutionProviderInfo,
  type PooledSession,
  type SessionPool,
  toOnnxModel,
} from '@verdict/graph';
import { buildLlamaJudgeGraph } from '../arch/llama-graphs.js';
import { type LlamaFamilyConfig, loadLlamaFamilyConfig } from '../checkpoint/llama-config.js';
import { type LlamaWeights, loadLlamaWeights } from '../checkpoint/llama-weights.js';
import { ModelError } from '../errors.js';
import type { CausalLm, StepInput } from '../generate/causal-lm.js';
import { createKvBufferCausalLm, type KvBufferCache } from '../generate/kv-buffer-causal-lm.js';
import type { JudgeModel, JudgeScores } from '../judge/judge.js';
import { loadModelTokenizer, type ModelTokenizer } from '../tokenizer/tokenizer.js';
import { int64 } from './int64.js';

/**
 * The KV cache between steps: `present.N.key|value` tensors per layer, [batch, kv_heads, capacity,
 * head_dim], of which the first `length` positions are filled (see createKvBufferCausalLm).
 */
export type KvCache = KvBufferCache;

/** A Llama-family model running on ONNX Runtime through @verdict/graph's worker pool. */
export interface LlamaModel extends CausalLm<KvCache>, JudgeModel {
  readonly weights: LlamaWeights;
  compactCache(cache: KvCache, rows: readonly number[], dropPositions: number): KvCache;
  /**
   * Loads the generation sessions (prefill/Concat and KV-buffer decode) now rather than on first
   * use, so a server can install a model whose graphs are known to load.
   */
  loadGenerationSessions(): Promise<void>;
  /** Provider of the first session loaded (generation or judge); undefined until one is loaded. */
  readonly executionProvider?: ExecutionProviderInfo | undefined;
}

export interface LlamaModelOptions {
  /** Share a pool between models; when omitted the model owns a one-worker pool it closes on close(). */
  readonly pool?: SessionPool;
  /** ORT intra-op threads of each session (default 1; 2 uses both cores of this machine). */
  readonly intraOpThreads?: number;
  /**
   * Copies of the generation and judge sessions, each on its own pool worker (default 1). With
   * n > 1, `generate` and `scoreLast` run a batch as n concurrent sub-batches: on a small machine n single-threaded
   * workers avoid the per-op thread synchronisation of one multi-threaded session. An owned pool
   * gets n workers; a shared pool needs at least n.
   */
  readonly replicas?: number;
  /** Provider of the model's sessions (default 'cpu'); see @verdict/graph SessionOptions. */
  readonly executionProvider?: ExecutionProvider;
  /** When the provider is unavailable: 'cpu' (default, reported on `executionProvider`) or 'never' (load fails). */
  readonly executionProviderFallback?: ExecutionProviderFallback;
  /**
   * Decode steps whose cache holds at least this many positions over the batch (batch × length)
   * keep the cache in JS-owned buffers (see createKvBufferCausalLm; default 2048); below it a step
   * runs the Concat graph. Infinity = always the Concat graph (the reference in tests and benches).
   */
  readonly minBufferedPositions?: number;
}

function checkStep(input: StepInput, pastLen: number): void {
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

export function createLlamaModel(
  config: LlamaFamilyConfig,
  weights: LlamaWeights,
  tokenizer: ModelTokenizer,
  options: LlamaModelOptions = {},
): LlamaModel {
  const ownPool = options.pool === undefined;
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1)
    throw new ModelError('INVALID_ARGUMENT', `replicas must be an integer >= 1 (got ${replicas})`);
  const pool =
    options.pool ??
    createSessionPool({ workers: replicas, intraOpThreadsPerWorker: options.intraOpThreads ?? 1 });
  const loadOpts = {
    ...(options.intraOpThreads === undefined ? {} : { intraOpThreads: options.intraOpThreads }),
    ...(options.executionProvider === undefined ? {} : { executionProvider: options.executionProvider }),
    ...(options.executionProviderFallback === undefined
      ? {}
      : { executionProviderFallback: options.executionProviderFallback }),
  };
  const engine = createKvBufferCausalLm(config, weights, tokenizer, {
    pool,
    replicas,
    ...loadOpts,
    ...(options.minBufferedPositions === undefined
      ? {}
      : { minBufferedPositions: options.minBufferedPositions }),
  });
  let judgeSession: Promise<PooledSession> | undefined;
  let providerInfo: ExecutionProviderInfo | undefined;
  const { vocabSize: V } = config;

  return {
    config,
    tokenizer,
    weights,
    concurrency: replicas,
    get executionProvider() {
      return providerInfo ?? engine.executionProvider;
    },
    // One decode engine: prefill and short caches run the inference (Concat) graph, longer caches
    // the KV-buffer decode graph; both on this model's pool.
    step: (input, cache) => engine.step(input, cache),
    compactCache: (cache, rows, dropPositions) => engine.compactCache(cache, rows, dropPositions),
    loadGenerationSessions: () => engine.loadSessions(),
    async scoreLast(input: StepInput, tokenIds: readonly number[]): Promise<JudgeScores> {
      judgeSession ??= pool.load(toOnnxModel(buildLlamaJudgeGraph(config, weights)), {
        ...loadOpts,
        replicas,
      });
      const session = await judgeSession;
      providerInfo ??= session.executionProvider;
      const { batchSize: B, seqLen: S } = input;
      checkStep(input, 0);
      for (const id of tokenIds) {
        if (!Number.isInteger(id) || id < 0 || id >= V) {
          throw new ModelError('INVALID_ARGUMENT', `token id ${id} is outside the vocabulary [0, ${V})`);
        }
      }
      // With replicas, contiguous row ranges run concurrently and their results are concatenated.
      const chunks = Math.max(1, Math.min(replicas, B));
      const parts = await Promise.all(
        Array.from({ length: chunks }, async (_, c) => {
          const from = Math.floor((c * B) / chunks);
          const rows = Math.floor(((c + 1) * B) / chunks) - from;
          const slice = (xs: readonly number[]) => int64(xs.slice(from * S, (from + rows) * S));
          const out = await session.run({
            input_ids: createTensor('int64', [rows, S], slice(input.inputIds)),
            attention_mask: createTensor('int64', [rows, S], slice(input.attentionMask)),
            position_ids: createTensor('int64', [rows, S], slice(input.positionIds)),
            token_ids: createTensor('int64', [tokenIds.length], int64(tokenIds)),
          });
          return [
            out['selected_logits']!.data as Float32Array,
            out['logsumexp']!.data as Float32Array,
          ] as const;
        }),
      );
      if (parts.length === 1) return { selectedLogits: parts[0]![0], logSumExp: parts[0]![1] };
      const concat = (xs: Float32Array[]) => {
        const out = new Float32Array(xs.reduce((n, x) => n + x.length, 0));
        let at = 0;
        for (const x of xs) {
          out.set(x, at);
          at += x.length;
        }
        return out;
      };
      return { selectedLogits: concat(parts.map((p) => p[0])), logSumExp: concat(parts.map((p) => p[1])) };
    },
    async close() {
      const judge = judgeSession;
      judgeSession = undefined;
      await engine.close(); // releases its sessions (the pool is ours, not the engine's)
      if (ownPool) await pool.close();
      else if (judge !== undefined) await (await judge).release();
    },
  };
}

/** Loads config.json, safetensors and tokenizer from a Hugging Face model folder. */
export function loadLlamaModel(dir: string, options: LlamaModelOptions = {}): LlamaModel {
  const config = loadLlamaFamilyConfig(dir);
  const weights = loadLlamaWeights(dir, config);
  const tokenizer = loadModelTokenizer(dir);
  return createLlamaModel(config, weights, tokenizer, options);
}
