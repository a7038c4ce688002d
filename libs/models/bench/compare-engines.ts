// Interleaved timing of generation engines on the same prompts (interleaving spreads the load of
// this shared machine over all engines alike).

import { parseLlamaFamilyConfig } from '../src/index.js';

/** The ~10M-parameter GQA Llama (random weights) both engine benches generate with. */
export const BENCH_LLAMA_CONFIG = parseLlamaFamilyConfig({
  model_type: 'llama',
  vocab_size: 8000,
  hidden_size: 512,
  intermediate_size: 1376,
  num_hidden_layers: 8,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  max_position_embeddings: 1024,
  tie_word_embeddings: true,
});

export interface Engine {
  readonly name: string;
  readonly ours: boolean;
  /** Greedy continuation ids per prompt. */
  run(prompts: readonly number[][]): Promise<number[][]>;
}

export interface EngineResult {
  readonly name: string;
  readonly ours: boolean;
  readonly medianMs: number;
  /** Median process CPU time (all threads) of a run: the work done, less sensitive to other load. */
  readonly medianCpuMs: number;
  readonly ids: number[][];
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function timedMs<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await f();
  return [performance.now() - t0, r];
}

/** One warm-up run per engine (its ids are kept), then `runs` rounds, each engine once per round. */
export async function compareEngines(
  engines: readonly Engine[],
  prompts: readonly number[][],
  runs: number,
): Promise<EngineResult[]> {
  const ids: number[][][] = [];
  for (const e of engines) ids.push(await e.run(prompts));
  const times: number[][] = engines.map(() => []);
  const cpu: number[][] = engines.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [k, e] of engines.entries()) {
      const c0 = process.cpuUsage();
      times[k]!.push((await timedMs(() => e.run(prompts)))[0]);
      const c = process.cpuUsage(c0);
      cpu[k]!.push((c.user + c.system) / 1000);
    }
  }
  return engines.map((e, k) => ({
    name: e.name,
    ours: e.ours,
    medianMs: median(times[k]!),
    medianCpuMs: median(cpu[k]!),
    ids: ids[k]!,
  }));
}

/** How many tokens agree position by position. */
export function identicalTokens(a: readonly number[][], b: readonly number[][]): number {
  return a.reduce((n, row, r) => n + row.filter((id, k) => id === b[r]?.[k]).length, 0);
}
