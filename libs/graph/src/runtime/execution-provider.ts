import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { toOnnxModel } from '../emit.js';
import { createGraph } from '../graph-builder.js';

/** Where sessions run. 'cuda' needs onnxruntime-node's CUDA EP libraries and a GPU. */
export type ExecutionProvider = 'cpu' | 'cuda';
/** What to do when the requested provider cannot be used: run on CPU (default) or fail. */
export type ExecutionProviderFallback = 'cpu' | 'never';

export const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'cuda'];
export const EXECUTION_PROVIDER_FALLBACKS: readonly ExecutionProviderFallback[] = ['cpu', 'never'];

/** The provider a session asked for and the one it got; `fallbackReason` is set only when they differ. */
export interface ExecutionProviderInfo {
  readonly requested: ExecutionProvider;
  readonly active: ExecutionProvider;
  readonly fallbackReason?: string;
}

export type ProviderProbe =
  | { readonly available: true }
  | { readonly available: false; readonly reason: string };

export interface ResolveProviderOptions {
  executionProvider?: ExecutionProvider;
  executionProviderFallback?: ExecutionProviderFallback;
}

export interface ResolveProviderNaming {
  /**
   * Name of the setting the request came from (e.g. 'JUDGE_EXECUTION_PROVIDER'), used in the error
   * message; the fallback setting is assumed to be `<variable>_FALLBACK`.
   */
  readonly variable?: string;
}

/** Thrown when the requested provider is unavailable and the fallback is 'never'. */
export class ExecutionProviderUnavailableError extends Error {
  static readonly code = 'EXECUTION_PROVIDER_UNAVAILABLE';
  readonly code = ExecutionProviderUnavailableError.code;
  constructor(
    readonly requested: ExecutionProvider,
    readonly reason: string,
    message = unavailableMessage(requested, reason),
  ) {
    super(message);
    this.name = 'ExecutionProviderUnavailableError';
  }
}

function unavailableMessage(requested: ExecutionProvider, reason: string, variable?: string): string {
  const setting =
    variable === undefined
      ? `executionProvider '${requested}' was requested`
      : `${variable}=${requested} was requested`;
  const fallback =
    variable === undefined ? `executionProviderFallback 'never'` : `${variable}_FALLBACK=never`;
  return `${setting} but the ${requested.toUpperCase()} execution provider is unavailable and ${fallback} forbids falling back to CPU: ${reason}`;
}

/** ORT's name for each provider (executionProviders session option). */
const ORT_NAME: Readonly<Record<ExecutionProvider, string>> = { cpu: 'cpu', cuda: 'cuda' };

/**
 * The shared libraries onnxruntime-node's CUDA EP loads from its binary folder. They are not in the
 * npm tarball: the package's postinstall downloads them (ONNXRUNTIME_NODE_INSTALL=cuda12), so a
 * CPU-only install lacks them and session creation fails with ORT's terse
 * "OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library". The file names
 * make that reason readable.
 */
const CUDA_LIBRARIES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];

function ortBinaryDir(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
    return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

function missingLibrariesNote(provider: ExecutionProvider): string {
  if (provider !== 'cuda' || process.platform !== 'linux') return '';
  const dir = ortBinaryDir();
  if (dir === undefined) return '';
  const missing = CUDA_LIBRARIES.filter((f) => !existsSync(join(dir, f)));
  if (missing.length === 0) return '';
  return ` (missing ${missing.join(', ')} in ${dir}: install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12)`;
}

/** Text of the error ORT threw, with a note on missing provider libraries when that is the cause. */
export function describeProviderError(provider: ExecutionProvider, error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return `${text}${missingLibrariesNote(provider)}`;
}

let probeModel: Uint8Array | undefined;

/** A one-node graph: enough for ORT to initialise a provider, cheap on any device. */
function tinyModel(): Uint8Array {
  if (probeModel) return probeModel;
  const g = createGraph();
  const x = g.input('x', 'float32', ['n']);
  g.output('y', g.add(x, 1));
  probeModel = toOnnxModel(g, { name: 'execution-provider-probe' });
  return probeModel;
}

// Per thread (each worker has its own module instance): one probe per provider, then cached.
const probes = new Map<ExecutionProvider, Promise<ProviderProbe>>();

/**
 * Whether sessions can be created on `provider` in this thread. 'cpu' is always available; other
 * providers must be compiled into the binding (`listSupportedBackends`) and a session on a tiny
 * graph must be creatable with them (their shared libraries load and a device answers). The
 * result is cached per thread; the reason is ORT's own error text.
 */
export function probeExecutionProvider(provider: ExecutionProvider): Promise<ProviderProbe> {
  if (provider === 'cpu') return Promise.resolve({ available: true });
  let probe = probes.get(provider);
  if (probe === undefined) {
    probe = runProbe(provider);
    probes.set(provider, probe);
  }
  return probe;
}

async function runProbe(provider: ExecutionProvider): Promise<ProviderProbe> {
  const backends = ort.listSupportedBackends();
  if (!backends.some((b) => b.name === ORT_NAME[provider])) {
    return {
      available: false,
      reason: `this onnxruntime-node build (${process.platform}/${process.arch}) has no '${provider}' backend; it supports: ${backends.map((b) => b.name).join(', ')}`,
    };
  }
  try {
    const session = await ort.InferenceSession.create(tinyModel(), {
      executionProviders: [ORT_NAME[provider]],
      logSeverityLevel: 3,
    });
    await session.release();
    return { available: true };
  } catch (error) {
    return { available: false, reason: describeProviderError(provider, error) };
  }
}

/**
 * Resolves what a session created with these options runs on, without creating it: 'cpu' as is;
 * an unavailable provider falls back to CPU with the reason, or throws
 * ExecutionProviderUnavailableError when the fallback is 'never'. Services call it at start to log
 * the provider and to fail before loading anything.
 */
export async function resolveExecutionProvider(
  opts: ResolveProviderOptions = {},
  naming: ResolveProviderNaming = {},
): Promise<ExecutionProviderInfo> {
  const requested = opts.executionProvider ?? 'cpu';
  if (!EXECUTION_PROVIDERS.includes(requested)) throw new Error(`unknown execution provider '${requested}'`);
  const probe = await probeExecutionProvider(requested);
  if (probe.available) return { requested, active: requested };
  return fallBack(requested, probe.reason, opts.executionProviderFallback ?? 'cpu', naming.variable);
}

/** The CPU fallback of `requested`, or the 'never' error. */
export function fallBack(
  requested: ExecutionProvider,
  reason: string,
  fallback: ExecutionProviderFallback,
  variable?: string,
): ExecutionProviderInfo {
  if (fallback === 'never') {
    throw new ExecutionProviderUnavailableError(
      requested,
      reason,
      unavailableMessage(requested, reason, variable),
    );
  }
  return { requested, active: 'cpu', fallbackReason: reason };
}

/** ORT `executionProviders` for a session on `provider` (CUDA keeps CPU for ops it lacks). */
export function ortExecutionProviders(provider: ExecutionProvider): string[] {
  return provider === 'cpu' ? ['cpu'] : [ORT_NAME[provider], 'cpu'];
}

/** One-line form for logs: `cuda`, or `cpu (requested cuda; fallback: <reason>)`. */
export function formatExecutionProvider(info: ExecutionProviderInfo): string {
  if (info.active === info.requested) return info.active;
  return `${info.active} (requested ${info.requested}; fallback: ${info.fallbackReason ?? 'unknown reason'})`;
}
