import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** Where the resolver looks for datasets, and what it takes from the environment. */
export interface DataDirOptions {
  /** Environment to read `VERDICT_DATA_DIR` / `VERDICT_CACHE_DIR` from; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Start of the walk up for `shared/datasets`; default `process.cwd()`. */
  readonly cwd?: string;
  /** Home directory for the default cache; default `os.homedir()`. */
  readonly homeDir?: string;
}

export type DataDirOrigin = 'env' | 'shared' | 'cache';

export interface DataDirCandidate {
  readonly origin: DataDirOrigin;
  readonly dir: string;
  /** Why this place is a candidate, for error messages. */
  readonly how: string;
}

/** Thrown when a dataset file is in none of the candidate places. */
export class DatasetMissingError extends Error {
  readonly file: string;
  readonly searched: readonly DataDirCandidate[];
  constructor(file: string, searched: readonly DataDirCandidate[]) {
    const places = searched.map((c) => `  ${c.origin}: ${join(c.dir, file)} (${c.how})`).join('\n');
    super(
      `dataset file ${file} not found; looked in:\n${places}\n` +
        'Set VERDICT_DATA_DIR, or run `verdict data pull` to fill the cache.',
    );
    this.name = 'DatasetMissingError';
    this.file = file;
    this.searched = searched;
  }
}

/** The nearest `<ancestor>/shared/datasets` walking up from `start` (finds `../shared/datasets` of the repo). */
export function findSharedDatasets(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, 'shared', 'datasets');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The dataset cache that `verdict data pull` fills: `$VERDICT_CACHE_DIR/datasets` or `~/.cache/verdict/datasets`. */
export function datasetCacheDir(options: DataDirOptions = {}): string {
  const env = options.env ?? process.env;
  const root = env['VERDICT_CACHE_DIR'] || join(options.homeDir ?? homedir(), '.cache', 'verdict');
  return join(root, 'datasets');
}

/** The places to look, in order: `VERDICT_DATA_DIR`, then `shared/datasets` found walking up, then the cache. */
export function dataDirCandidates(options: DataDirOptions = {}): DataDirCandidate[] {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const out: DataDirCandidate[] = [];
  const fromEnv = env['VERDICT_DATA_DIR'];
  if (fromEnv) out.push({ origin: 'env', dir: resolve(cwd, fromEnv), how: 'VERDICT_DATA_DIR' });
  const shared = findSharedDatasets(cwd);
  out.push(
    shared !== undefined
      ? { origin: 'shared', dir: shared, how: `shared/datasets found walking up from ${cwd}` }
      : {
          origin: 'shared',
          dir: join(resolve(cwd), '..', 'shared', 'datasets'),
          how: 'no shared/datasets above cwd',
        },
  );
  out.push({
    origin: 'cache',
    dir: datasetCacheDir(options),
    how: 'local cache filled by `verdict data pull`',
  });
  return out;
}

/**
 * The data directory to use: the first candidate that exists; the cache when none does
 * (that is where `verdict data pull` writes).
 */
export function resolveDataDir(options: DataDirOptions = {}): { dir: string; origin: DataDirOrigin } {
  const candidates = dataDirCandidates(options);
  const found = candidates.find((c) => existsSync(c.dir));
  const chosen = found ?? candidates[candidates.length - 1]!;
  return { dir: chosen.dir, origin: chosen.origin };
}

/**
 * The path of one dataset file (relative to a data directory, e.g. `gsm8k/test.jsonl`): the first
 * candidate place that has it. Each file is looked up on its own, so a partial `VERDICT_DATA_DIR`
 * falls back to the shared copy or the cache; the error names every place searched.
 */
export function resolveDatasetFile(file: string, options: DataDirOptions = {}): string {
  const candidates = dataDirCandidates(options);
  for (const c of candidates) {
    const path = join(c.dir, file);
    if (existsSync(path)) return path;
  }
  throw new DatasetMissingError(file, candidates);
}
