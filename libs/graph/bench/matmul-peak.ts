import { pathToFileURL } from 'node:url';
import { createGraph, createSession, createTensor, toOnnxModel } from '../src/index.js';

const N = 1024;

/** Median wall time of `runs` calls after `warmup` calls, in ms. */
export async function medianMs(fn: () => Promise<unknown>, runs: number, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

/**
 * ORT MatMul 1024³ fp32 with both operands as inputs: the reference peak other benches compare
 * against (median of `runs`). This VM is noisy (±10–15%): compare ratios measured in one process.
 */
export async function measureMatMulPeakGflops(threads: number, runs = 9): Promise<number> {
  const g = createGraph();
  g.output('c', g.matmul(g.input('a', 'float32', [N, N]), g.input('b', 'float32', [N, N])));
  const session = await createSession(toOnnxModel(g), { intraOpThreads: threads });
  const fill = () => Float32Array.from({ length: N * N }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const feeds = { a: createTensor('float32', [N, N], fill()), b: createTensor('float32', [N, N], fill()) };
  try {
    const ms = await medianMs(() => session.run(feeds), runs);
    return (2 * N ** 3) / (ms * 1e6);
  } finally {
    await session.release();
  }
}

async function main(): Promise<void> {
  for (const threads of [1, 2]) {
    const gflops = await measureMatMulPeakGflops(threads);
    console.log(`matmul-peak threads=${threads} ${gflops.toFixed(1)} GFLOP/s (1024^3 fp32, median of 9)`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
