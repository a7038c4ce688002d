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
      /** Feeds missing from `feeds` come from the tensors retained under this key. */
      fromRetained?: string;
      /** Outputs written into retained feeds after the run (and left out of the reply). */
      writeRetained?: readonly RetainedWrite[];
      /** Feeds kept in the worker under `key` after the run (and left out of the reply). */
      retain?: { key: string; feeds: readonly string[] };
    }
  | { type: 'release'; id: number; handle: number }
  /** Sends the tensors retained under `key` back (transferred) and forgets them. */
  | { type: 'take-retained'; id: number; key: string }
  | { type: 'drop-retained'; id: number; key: string };

/**
 * After a run: `outputs[output]`, shaped [a, b, 1, d], is written into the retained or fed tensor
 * `into`, shaped [a, b, capacity, d], at position `at` of axis 2 — one new KV-cache entry per row
 * and head, appended where the cache's buffer has room.
 */
export interface RetainedWrite {
  readonly output: string;
  readonly into: string;
  readonly at: number;
}

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
