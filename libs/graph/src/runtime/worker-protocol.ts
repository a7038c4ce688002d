import type { Tensor } from '../types.js';
import type { ExecutionProvider, ExecutionProviderInfo } from './execution-provider.js';
import type { SessionOptions } from './session.js';

// Messages between the pool (main thread) and session-worker.ts.

export type WorkerRequest =
  | { type: 'load'; id: number; model: Uint8Array | string; options: SessionOptions }
  | {
      type: 'run';
      id: number;
      handle: number;
      feeds: Record<string, Tensor>;
      outputs?: readonly string[];
      outputsInto?: Readonly<Record<string, string>>;
      /** Feeds sent back in `outputs` under their own names. */
      returnFeeds?: readonly string[];
    }
  | { type: 'release'; id: number; handle: number };

export type WorkerResponse =
  | {
      id: number;
      ok: true;
      handle?: number;
      inputNames?: string[];
      outputNames?: string[];
      executionProvider?: ExecutionProviderInfo;
      outputs?: Record<string, Tensor>;
    }
  | {
      id: number;
      ok: false;
      error: string;
      /** Set for ExecutionProviderUnavailableError, so the pool can rethrow the same class. */
      unavailable?: { requested: ExecutionProvider; reason: string };
    };

/** Buffers worth transferring: whole, non-shared buffers, each once. */
export function transferList(tensors: Iterable<Tensor>): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const t of tensors) {
    const b = t.data.buffer;
    if (b instanceof ArrayBuffer && b.byteLength > 0) seen.add(b);
  }
  return [...seen];
}
