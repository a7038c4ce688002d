import {
  createSessionPool,
  type ExecutionProvider,
  type ExecutionProviderFallback,
  type ExecutionProviderInfo,
  type GraphBuilder,
  type PooledSession,
  type SessionPool,
} from '@verdict/graph';
import { ModelError } from '../errors.js';
import type { CausalLmConfig } from '../family/model-config.js';
import type { CausalLm, StepInput } from '../generate/causal-lm.js';
import {
  createKvBufferEngine,
  type KvBufferCache,
  type KvBufferGraphs,
} from '../generate/kv-buffer-causal-lm.js';
import type { JudgeModel, PrefixKv } from '../judge/judge.js';
import type { ModelTokenizer } from '../tokenizer/tokenizer.js';
import { createClassifyRunner } from './classify-runner.js';
import { createGraphLoader, type GraphLoaderOptions } from './graph-loader.js';
import { holdWeights, type WeightsRole } from './held-weights.js';
import { createJudgeRunner } from './judge-runner.js';

/** Parameters by Hugging Face name, float32, shapes implied by the family's config. */
export type ModelWeights = Map<string, Float32Array>;

/**
 * The graphs a family model runs, all with the Llama graphs' names and conventions
 * (see arch/llama-graphs.ts): `prefill` (inference graph, 'last' logits + logsumexp), `decode`
 * (KV-buffer graph) and `judge` (last real position, `token_ids` input, `selected_logits` + `logsumexp`).
 */
export interface FamilyGraphs extends KvBufferGraphs {
  judge(): GraphBuilder;
  /**
   * The judge graph takes past key/values (`past_key_values.N.*` in, `present.N.*` out; see
   * buildLlamaJudgeGraph's `pastKeyValues`): the model then offers shared-prefix judging
   * (`prefillPrefixes`, `scoreLastAfterPrefix`). Families without it judge every prompt whole.
   */
  readonly judgeTakesPast?: boolean;
  /**
   * Present for a sequence-classification checkpoint (a reranker): `logits` [batch, num_labels]
   * at the last real token (see buildLlamaClassifierGraph); the model then offers `classifyLast`.
   */
  classify?(): GraphBuilder;
}

/** A model of any registered family running on ONNX Runtime through @verdict/graph's worker pool. */
export interface FamilyModel<C extends CausalLmConfig = CausalLmConfig>
  extends CausalLm<KvBufferCache, C>,
    JudgeModel<C> {
  /** The weights the graphs are built from; with `releaseWeightsAfterLoad`, an error once released. */
  readonly weights: ModelWeights;
  /**
   * Bytes of weight arrays this model still references (0 once `releaseWeightsAfterLoad` let
   * them go): what it keeps in the JS heap beside ORT's copies.
   */
  weightBytesHeld(): number;
  compactCache(cache: KvBufferCache, rows: readonly number[], dropPositions: number): KvBufferCache;
  releaseCache(cache: KvBufferCache): Promise<void>;
  /**
   * Loads the generation sessions (prefill/Concat and KV-buffer decode) now rather than on first
   * use, so a server can install a model whose graphs are known to load.
   */
  loadGenerationSessions(): Promise<void>;
  /** Provider of the first session loaded (generation or judge); undefined until one is loaded. */
  readonly executionProvider?: ExecutionProviderInfo | undefined;
  /**
   * Only for a sequence-classification checkpoint (FamilyGraphs.classify): the classifier's
   * logits [batch, num_labels] at each row's last real token; use `classify()`.
   */
  classifyLast?(input: StepInput): Promise<Float32Array>;
}

/**
 * `externalDataBytes` / `externalDataDir` (see GraphLoaderOptions): a graph whose weights exceed
 * the threshold (default 1.5 GiB) loads from ONNX files with external data in a temp folder the
 * model owns and removes on close(); smaller graphs load from bytes, as before.
 */
export interface ModelOptions extends GraphLoaderOptions {
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
  /**
   * For an inference-only model: drop the model's JS weights once the sessions of this role have
   * loaded ('generation': prefill + decode, e.g. after `loadGenerationSessions()`; 'judge': the
   * judge session, loaded by the first `scoreLast`; 'all': the three; 'classify': a classifier
   * checkpoint's classify session, loaded by the first `classifyLast`), so ORT's copy is the only
   * one. Such a model refuses the graphs outside its role (INVALID_ARGUMENT) and `weights` throws
   * after the release. Default: keep them (training and export read `weights`).
   */
  readonly releaseWeightsAfterLoad?: WeightsRole;
}

/**
 * One model over a family's graphs: generation through the KV-buffer engine (prefill and short
 * caches on the inference graph, longer caches on the decode graph) and the judge graph for
 * `scoreLast`, all on one pool. Every family model (Llama's included) is this object.
 */
export function createFamilyModel<C extends CausalLmConfig>(
  config: C,
  weights: ModelWeights,
  tokenizer: ModelTokenizer,
  graphs: FamilyGraphs,
  options: ModelOptions = {},
): FamilyModel<C> {
  const ownPool = options.pool === undefined;
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1)
    throw new ModelError('INVALID_ARGUMENT', `replicas must be an integer >= 1 (got ${replicas})`);
  // Before the pool: a bad option must not leave an owned pool's worker running.
  const held = holdWeights(weights, graphs, options.releaseWeightsAfterLoad);
  const loader = createGraphLoader({
    ...(options.externalDataBytes === undefined ? {} : { externalDataBytes: options.externalDataBytes }),
    ...(options.externalDataDir === undefined ? {} : { externalDataDir: options.externalDataDir }),
  });
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
  const engine = createKvBufferEngine(config, held.graphs, tokenizer, {
    pool,
    replicas,
    loadGraph: async (name, graph, opts) => {
      const session = await loader.load(pool, name, graph, opts);
      held.loaded(name); // the engine names its graphs 'prefill' and 'decode'
      return session;
    },
    ...loadOpts,
    ...(options.minBufferedPositions === undefined
      ? {}
      : { minBufferedPositions: options.minBufferedPositions }),
  });
  let judgeSession: Promise<PooledSession> | undefined;
  let providerInfo: ExecutionProviderInfo | undefined;
  const judgeRunner = createJudgeRunner(
    config,
    async () => {
      judgeSession ??= loader
        .load(pool, 'judge', held.graphs.judge(), { ...loadOpts, replicas })
        .then((session) => {
          held.loaded('judge');
          return session;
        });
      const session = await judgeSession;
      providerInfo ??= session.executionProvider;
      return session;
    },
    replicas,
  );
  // Lazily as the judge's: a reranker model loads only this session.
  let classifySession: Promise<PooledSession> | undefined;
  const classifyGraph = held.graphs.classify;
  const classifyRunner =
    classifyGraph === undefined
      ? undefined
      : createClassifyRunner(async () => {
          classifySession ??= loader
            .load(pool, 'classify', classifyGraph(), { ...loadOpts, replicas })
            .then((session) => {
              held.loaded('classify');
              return session;
            });
          const session = await classifySession;
          providerInfo ??= session.executionProvider;
          return session;
        }, replicas);

  return {
    config,
    tokenizer,
    get weights() {
      return held.weights();
    },
    weightBytesHeld: () => held.bytesHeld(),
    concurrency: replicas,
    get executionProvider() {
      return providerInfo ?? engine.executionProvider;
    },
    step: (input, cache) => engine.step(input, cache),
    compactCache: (cache, rows, dropPositions) => engine.compactCache(cache, rows, dropPositions),
    releaseCache: (cache) => engine.releaseCache(cache),
    loadGenerationSessions: () => engine.loadSessions(),
    scoreLast: (input, tokenIds) => judgeRunner.scoreLast(input, tokenIds),
    ...(graphs.judgeTakesPast === true
      ? {
          prefillPrefixes: (input: StepInput) => judgeRunner.prefillPrefixes(input),
          scoreLastAfterPrefix: (
            input: StepInput,
            prefix: PrefixKv,
            prefixRows: readonly number[],
            tokenIds: readonly number[],
          ) => judgeRunner.scoreLastAfterPrefix(input, prefix, prefixRows, tokenIds),
        }
      : {}),
    ...(classifyRunner === undefined
      ? {}
      : { classifyLast: (input: StepInput) => classifyRunner.classifyLast(input) }),
    async close() {
      const judge = judgeSession;
      const classifier = classifySession;
      judgeSession = undefined;
      classifySession = undefined;
      try {
        await engine.close(); // releases its sessions (the pool is ours, not the engine's)
        if (ownPool) await pool.close();
        else {
          if (judge !== undefined) await (await judge).release();
          if (classifier !== undefined) await (await classifier).release();
        }
      } finally {
        loader.close(); // the sessions that read its files are gone
      }
    },
  };
}
