import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type DataDirOptions, datasetCacheDir } from './data-dir.js';
import { DATASET_SOURCES, type DatasetSourceFile } from './dataset-manifest.js';

export type PullFailure = 'http' | 'checksum' | 'size';

/** A file could not be pulled; nothing was written for it. */
export class DatasetPullError extends Error {
  readonly reason: PullFailure;
  readonly file: string;
  constructor(reason: PullFailure, file: string, message: string) {
    super(message);
    this.name = 'DatasetPullError';
    this.reason = reason;
    this.file = file;
  }
}

export interface PullOptions {
  /** Files to pull; default the manifest `DATASET_SOURCES`. */
  readonly sources?: readonly DatasetSourceFile[];
  /** Destination; default the resolver's cache (`$VERDICT_CACHE_DIR/datasets` or `~/.cache/verdict/datasets`). */
  readonly cacheDir?: string;
  /** The fetch to use; default `globalThis.fetch`. */
  readonly fetch?: (url: string) => Promise<Response>;
  /** Also pull entries marked optional. */
  readonly includeOptional?: boolean;
  /** Called once per file with a one-line progress message (the CLI prints them on stderr). */
  readonly onProgress?: (message: string) => void;
  readonly dataDirOptions?: DataDirOptions;
}

export interface PullResult {
  readonly file: string;
  readonly path: string;
  readonly status: 'downloaded' | 'cached';
  readonly bytes: number;
  /** What the bytes were checked against: the pinned sha256, the size only, or nothing (both unknown). */
  readonly verified: 'sha256' | 'size' | 'none';
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function verify(source: DatasetSourceFile, bytes: Uint8Array): PullResult['verified'] {
  if (source.sha256 !== null) {
    const actual = sha256Hex(bytes);
    if (actual !== source.sha256) {
      throw new DatasetPullError(
        'checksum',
        source.file,
        `${source.file}: sha256 ${actual} does not match the pinned ${source.sha256} (${source.url})`,
      );
    }
    return 'sha256';
  }
  if (source.bytes !== null) {
    if (bytes.byteLength !== source.bytes) {
      throw new DatasetPullError(
        'size',
        source.file,
        `${source.file}: ${bytes.byteLength} bytes, expected ${source.bytes} (${source.url})`,
      );
    }
    return 'size';
  }
  return 'none';
}

/** Whether the file already in the cache passes the same checks (so it is not downloaded again). */
function cachedIsValid(source: DatasetSourceFile, path: string): boolean {
  try {
    if (source.sha256 === null && source.bytes === null) return statSync(path).size > 0;
    verify(source, readFileSync(path));
    return true;
  } catch {
    return false;
  }
}

/**
 * Downloads the datasets' public files into the cache, checking each against its pinned sha256
 * (or size when only that is known) before anything is written, and writing through a temp
 * file + rename so a crash never leaves a partial file under the final name. Files already
 * present and valid are kept. Stops at the first failure (files pulled before it stay).
 */
export async function pullDatasets(options: PullOptions = {}): Promise<PullResult[]> {
  const sources = (options.sources ?? DATASET_SOURCES).filter((s) => options.includeOptional || !s.optional);
  const cacheDir = options.cacheDir ?? datasetCacheDir(options.dataDirOptions);
  const doFetch = options.fetch ?? ((url: string) => globalThis.fetch(url));
  const results: PullResult[] = [];
  for (const source of sources) {
    const path = join(cacheDir, source.file);
    if (cachedIsValid(source, path)) {
      const result: PullResult = {
        file: source.file,
        path,
        status: 'cached',
        bytes: statSync(path).size,
        verified: source.sha256 !== null ? 'sha256' : source.bytes !== null ? 'size' : 'none',
      };
      results.push(result);
      options.onProgress?.(`${source.file}: cached (${result.bytes} bytes, ${result.verified})`);
      continue;
    }
    let response: Response;
    try {
      response = await doFetch(source.url);
    } catch (err) {
      throw new DatasetPullError(
        'http',
        source.file,
        `${source.file}: fetch ${source.url} failed: ${(err as Error).message}`,
      );
    }
    if (!response.ok) {
      throw new DatasetPullError(
        'http',
        source.file,
        `${source.file}: HTTP ${response.status} from ${source.url}`,
      );
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    const verified = verify(source, bytes);
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      writeFileSync(tmp, bytes);
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    results.push({ file: source.file, path, status: 'downloaded', bytes: bytes.byteLength, verified });
    options.onProgress?.(`${source.file}: downloaded (${bytes.byteLength} bytes, ${verified})`);
  }
  return results;
}
