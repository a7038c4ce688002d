import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ExternalDataFile,
  type GraphBuilder,
  initializerBytes,
  type LoadOptions,
  openExternalDataFile,
  type PooledSession,
  type SessionPool,
  toOnnxModel,
  writeOnnxModel,
} from '@verdict/graph';
import { ModelError } from '../errors.js';

/** Default of `externalDataBytes`: well under protobuf's 2 GiB cap on one model, with room for the graph. */
export const DEFAULT_EXTERNAL_DATA_BYTES = 1.5 * 2 ** 30;

export interface GraphLoaderOptions {
  /**
   * A graph whose initializers (its weights) exceed this many bytes is written as an ONNX model
   * file with external data and loaded from that path; smaller graphs load from inline bytes, no
   * file written (default 1.5 GiB: protobuf caps one inline model at 2 GiB). 0 = always files.
   */
  readonly externalDataBytes?: number;
  /**
   * Where the model's external-data folder is created (default os.tmpdir()); the folder
   * (`verdict-model-*`) is the model's own and close() removes it.
   */
  readonly externalDataDir?: string;
}

/** Loads a model's graphs into a pool, inline or from external-data files it owns. */
export interface GraphLoader {
  /** Loads `graph` into `pool`; `name` names its model file when it gets one (`<name>.onnx`). */
  load(pool: SessionPool, name: string, graph: GraphBuilder, opts?: LoadOptions): Promise<PooledSession>;
  /** The model's folder once a graph went to a file; undefined before and after close(). */
  readonly dir: string | undefined;
  /** Removes the folder (call after the sessions loaded from it are released). */
  close(): void;
}

/**
 * One folder per model, one side file (`weights.data`) shared by its graphs: prefill, decode and
 * judge graphs are built over the same weight arrays, and each array is written once however many
 * graphs use it (a model's weights on disk once, not once per graph).
 */
export function createGraphLoader(options: GraphLoaderOptions = {}): GraphLoader {
  const threshold = options.externalDataBytes ?? DEFAULT_EXTERNAL_DATA_BYTES;
  if (!(threshold >= 0))
    throw new ModelError('INVALID_ARGUMENT', `externalDataBytes must be a number >= 0 (got ${threshold})`);
  let dir: string | undefined;
  let data: ExternalDataFile | undefined;
  let closed = false;
  const written = new Set<string>();

  function writeModel(name: string, graph: GraphBuilder): string {
    if (closed) throw new Error('the model is closed');
    if (!/^[\w.-]+$/.test(name) || written.has(name))
      throw new Error(`graph name ${JSON.stringify(name)} must be a new file name`);
    dir ??= mkdtempSync(join(options.externalDataDir ?? tmpdir(), 'verdict-model-'));
    data ??= openExternalDataFile(join(dir, 'weights.data'));
    written.add(name);
    return writeOnnxModel(graph, { path: join(dir, `${name}.onnx`), externalData: { file: data } }).path;
  }

  return {
    get dir() {
      return dir;
    },
    async load(pool, name, graph, opts = {}) {
      if (initializerBytes(graph) > threshold) return pool.load(writeModel(name, graph), opts);
      // The bytes are ours alone: moved to the worker, not copied (one copy of the weights less while loading).
      return pool.load(toOnnxModel(graph), { ...opts, transferModel: true });
    },
    close() {
      closed = true;
      data?.close();
      data = undefined;
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}
