import ort from 'onnxruntime-node';
import type { AnyTypedArray, DType, Tensor } from '../types.js';
import {
  describeProviderError,
  type ExecutionProvider,
  type ExecutionProviderFallback,
  type ExecutionProviderInfo,
  fallBack,
  ortExecutionProviders,
  probeExecutionProvider,
} from './execution-provider.js';

export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionOptions {
  /** Intra-op threads (default 1: this machine has 2 cores shared by everything). */
  intraOpThreads?: number;
  /** Graph optimizer level (default 'all'). float64 graphs need 'basic' or 'disabled'. */
  optimizationLevel?: OptimizationLevel;
  /** Default false: the arena keeps peak memory forever (2.2 GB vs 1.0 GB in the probe, same speed). */
  enableCpuMemArena?: boolean;
  /** Default false (see enableCpuMemArena). */
  enableMemPattern?: boolean;
  /** 0 verbose … 4 fatal; default 3 (silences unused-initializer warnings). */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Debugging: write the optimized model here (shows which fusions ORT applied). */
  optimizedModelPath?: string;
  /**
   * Where the session runs (default 'cpu'). 'cuda' is used only when its provider is available
   * (see probeExecutionProvider); the session's `executionProvider` says what it got.
   */
  executionProvider?: ExecutionProvider;
  /** When the requested provider is unavailable: 'cpu' (default) runs on CPU and says why; 'never' throws. */
  executionProviderFallback?: ExecutionProviderFallback;
}

export interface RunOptions {
  /** Output names to fetch (default: all outputs). */
  outputs?: readonly string[];
  /**
   * Output name → feed name: ORT writes that output into the feed's buffer (a pre-allocated
   * output; shapes must match), and the result holds the feed's tensor, updated in place. With an
   * op that detects the aliasing (com.microsoft GroupQueryAttention's past/present), the KV cache
   * is appended in place instead of copied. (onnxruntime-node still copies each fetched output
   * into a fresh array; that copy is dropped.)
   */
  outputsInto?: Readonly<Record<string, string>>;
}

/** An ORT session running in the calling thread: `run` blocks the event loop while it computes. */
export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Requested and active provider (with the fallback reason when they differ). */
  readonly executionProvider: ExecutionProviderInfo;
  run(feeds: Readonly<Record<string, Tensor>>, opts?: RunOptions): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

const ORT_TYPE: Readonly<Record<DType, ort.Tensor.Type>> = {
  float32: 'float32',
  float64: 'float64',
  int64: 'int64',
  int32: 'int32',
  bool: 'bool',
};

function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(ORT_TYPE[t.dtype], t.data, [...t.dims]);
}

function fromOrt(t: ort.Tensor): Tensor {
  const dtype = t.type as DType;
  if (!(dtype in ORT_TYPE)) throw new Error(`unsupported output type ${t.type}`);
  let data = t.data as AnyTypedArray;
  // ORT returns bool as Uint8Array already; keep a defensive conversion for other views.
  if (dtype === 'bool' && !(data instanceof Uint8Array)) data = Uint8Array.from(data as ArrayLike<number>);
  return { dtype, dims: [...t.dims], data } as Tensor;
}

export function sessionOptionsToOrt(opts: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: opts.intraOpThreads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: opts.optimizationLevel ?? 'all',
    enableCpuMemArena: opts.enableCpuMemArena ?? false,
    enableMemPattern: opts.enableMemPattern ?? false,
    logSeverityLevel: opts.logSeverityLevel ?? 3,
    ...(opts.optimizedModelPath ? { optimizedModelFilePath: opts.optimizedModelPath } : {}),
  };
}

function createOrtSession(
  model: Uint8Array | string,
  opts: SessionOptions,
  provider: ExecutionProvider,
): Promise<ort.InferenceSession> {
  const ortOpts = { ...sessionOptionsToOrt(opts), executionProviders: ortExecutionProviders(provider) };
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, ortOpts)
    : ort.InferenceSession.create(model, ortOpts);
}

/**
 * Creates the ORT session on the requested provider when it is available, else on CPU (or throws
 * for fallback 'never'). A provider that passed the probe but fails on this model also falls
 * back; when the CPU session then fails too, the model itself is at fault and its error is thrown.
 */
async function createOnProvider(
  model: Uint8Array | string,
  opts: SessionOptions,
): Promise<{ session: ort.InferenceSession; info: ExecutionProviderInfo }> {
  const requested = opts.executionProvider ?? 'cpu';
  const fallback = opts.executionProviderFallback ?? 'cpu';
  if (requested === 'cpu') {
    return { session: await createOrtSession(model, opts, 'cpu'), info: { requested, active: 'cpu' } };
  }
  const probe = await probeExecutionProvider(requested);
  if (!probe.available) {
    const info = fallBack(requested, probe.reason, fallback);
    return { session: await createOrtSession(model, opts, 'cpu'), info };
  }
  try {
    return {
      session: await createOrtSession(model, opts, requested),
      info: { requested, active: requested },
    };
  } catch (error) {
    if (fallback === 'never') throw error;
    const reason = `session creation on ${requested} failed: ${describeProviderError(requested, error)}`;
    return {
      session: await createOrtSession(model, opts, 'cpu'),
      info: fallBack(requested, reason, fallback),
    };
  }
}

/** Creates an in-thread session from model bytes or a .onnx path. */
export async function createSession(model: Uint8Array | string, opts: SessionOptions = {}): Promise<Session> {
  const { session, info } = await createOnProvider(model, opts);
  return {
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    executionProvider: info,
    async run(feeds, runOpts = {}) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrt(t);
      const into = runOpts.outputsInto;
      if (into) {
        const fetches: Record<string, ort.Tensor | null> = {};
        for (const name of runOpts.outputs ?? session.outputNames) fetches[name] = null;
        for (const [name, feed] of Object.entries(into)) {
          const t = ortFeeds[feed];
          if (!t) throw new Error(`outputsInto: ${name} names feed ${feed}, which is not fed`);
          fetches[name] = t;
        }
        const res = await session.run(ortFeeds, fetches);
        const out: Record<string, Tensor> = {};
        for (const [name, t] of Object.entries(res)) {
          const feed = into[name];
          out[name] = feed === undefined ? fromOrt(t) : (feeds[feed] as Tensor);
        }
        return out;
      }
      const fetches = runOpts.outputs ? [...runOpts.outputs] : undefined;
      const res = fetches ? await session.run(ortFeeds, fetches) : await session.run(ortFeeds);
      const out: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(res)) out[name] = fromOrt(t);
      return out;
    },
    release: () => session.release(),
  };
}
