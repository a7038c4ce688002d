import {
  createSessionPool,
  createTensor,
  type ExecutionProvider,
  type ExecutionProviderFallback,
  type ExecutionProviderInfo,
  type PooledSession,
  type SessionPool,
  type Tensor,
  toOnnxModel,
} from '@verdict/graph';
import { buildLlamaInferenceGraph, buildLlamaJudgeGraph } from '../arch/llama-graphs.js';
import { type LlamaFamilyConfig, loadLlamaFamilyConfig } from '../checkpoint/llama-config.js';
import { type LlamaWeights, loadLlamaWeights } from '../checkpoint/llama-weights.js';
import { ModelError } from '../errors.js';
import type { CausalLm, StepInput, StepOutput } from '../generate/causal-lm.js';
import type { JudgeModel, JudgeScores } from '../judge/judge.js';
import { loadModelTokenizer, type ModelTokenizer } from '../tokenizer/tokenizer.js';
import { int64 } from './int64.js';

/** The KV cache between steps: `present.N.key|value` tensors of the previous step, per layer. */
export interface KvCache {
  readonly tensors: Record<string, Tensor>;
  readonly length: number;
}

/** A Llama-family model running on ONNX Runtime through @verdict/graph's worker pool. */
export interface LlamaModel extends CausalLm<KvCache>, JudgeModel {
  readonly weights: LlamaWeights;
  compactCache(cache: KvCache, rows: readonly number[], dropPositions: number): KvCache;
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
  let lmSession: Promise<PooledSession> | undefined;
  let judgeSession: Promise<PooledSession> | undefined;
  let providerInfo: ExecutionProviderInfo | undefined;
  const { numKvHeads: KV, headDim: D, numLayers: L, vocabSize: V } = config;

  return {
    config,
    tokenizer,
    weights,
    concurrency: replicas,
    get executionProvider() {
      return providerInfo;
    },
    async step(input: StepInput, cache: KvCache | undefined): Promise<StepOutput<KvCache>> {
      lmSession ??= pool.load(toOnnxModel(buildLlamaInferenceGraph(config, weights, { logits: 'last' })), {
        ...loadOpts,
        replicas,
      });
      const session = await lmSession;
      providerInfo ??= session.executionProvider;
      const { batchSize: B, seqLen: S } = input;
      const pastLen = cache?.length ?? 0;
      checkStep(input, pastLen);
      const feeds: Record<string, Tensor> = {
        input_ids: createTensor('int64', [B, S], int64(input.inputIds)),
        attention_mask: createTensor('int64', [B, pastLen + S], int64(input.attentionMask)),
        position_ids: createTensor('int64', [B, S], int64(input.positionIds)),
      };
      for (let l = 0; l < L; l++) {
        for (const kind of ['key', 'value'] as const) {
          feeds[`past_key_values.${l}.${kind}`] =
            cache?.tensors[`present.${l}.${kind}`] ?? createTensor('float32', [B, KV, 0, D]);
        }
      }
      // Feeds are transferred to the worker: the old cache buffers move rather than being copied.
      const out = await session.run(feeds);
      const logits = out['logits'];
      if (logits === undefined || logits.data.length !== B * V)
        throw new Error('inference graph returned no [batch, 1, vocab] logits');
      const tensors: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(out)) if (name.startsWith('present.')) tensors[name] = t;
      const lse = out['logsumexp'];
      return {
        lastLogits: logits.data as Float32Array,
        ...(lse === undefined ? {} : { lastLogSumExp: lse.data as Float32Array }),
        cache: { tensors, length: pastLen + S },
      };
    },
    compactCache(cache: KvCache, rows: readonly number[], dropPositions: number): KvCache {
      const P = cache.length;
      const keep = P - dropPositions;
      if (!Number.isInteger(dropPositions) || dropPositions < 0 || keep < 0) {
        throw new ModelError(
          'INVALID_ARGUMENT',
          `compactCache: cannot drop ${dropPositions} of ${P} positions`,
        );
      }
      const tensors: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(cache.tensors)) {
        const src = t.data as Float32Array;
        const B = t.dims[0]!;
        const out = new Float32Array(rows.length * KV * keep * D);
        rows.forEach((r, i) => {
          if (!Number.isInteger(r) || r < 0 || r >= B)
            throw new ModelError('INVALID_ARGUMENT', `compactCache: row ${r} is outside [0, ${B})`);
          // Each (row, head) block is [P, D] contiguous: copy its tail in one go.
          for (let h = 0; h < KV; h++) {
            const from = ((r * KV + h) * P + dropPositions) * D;
            out.set(src.subarray(from, from + keep * D), (i * KV + h) * keep * D);
          }
        });
        tensors[name] = createTensor('float32', [rows.length, KV, keep, D], out);
      }
      return { tensors, length: keep };
    },
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
      const sessions = [lmSession, judgeSession].filter((s) => s !== undefined);
      lmSession = undefined;
      judgeSession = undefined;
      if (ownPool) await pool.close();
      else await Promise.all(sessions.map(async (s) => (await s).release()));
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
