import { pathToFileURL } from 'node:url';
import {
  createGraph,
  createSession,
  createSessionPool,
  createTensor,
  type Tensor,
  toOnnxModel,
} from '../src/index.js';
import { medianMs } from './matmul-peak.js';

// Worker-pool overhead vs an in-thread session, and two workers running two models at once.

function model(): Uint8Array {
  const g = createGraph();
  const w = g.param(
    'w',
    'float32',
    [512, 512],
    Float32Array.from({ length: 512 * 512 }, (_, i) => (i % 13) / 13),
  );
  let h = g.input('x', 'float32', ['rows', 512]);
  for (let i = 0; i < 4; i++) h = g.tanh(g.matmul(h, w));
  g.output('y', h);
  return toOnnxModel(g);
}

const feeds = (): Record<string, Tensor> => ({
  x: createTensor(
    'float32',
    [256, 512],
    Float32Array.from({ length: 256 * 512 }, (_, i) => Math.sin(i)),
  ),
});

async function main(): Promise<void> {
  const bytes = model();
  const inThread = await createSession(bytes, { intraOpThreads: 1 });
  const tIn = await medianMs(() => inThread.run(feeds()), 15);
  await inThread.release();

  const pool = createSessionPool({ workers: 2, intraOpThreadsPerWorker: 1 });
  try {
    const a = await pool.load(bytes);
    const b = await pool.load(bytes);
    const tPool = await medianMs(() => a.run(feeds()), 15);
    const tBoth = await medianMs(() => Promise.all([a.run(feeds()), b.run(feeds())]), 15);
    console.log(
      `session-pool: in-thread ${tIn.toFixed(2)} ms, pool ${tPool.toFixed(2)} ms (overhead ${(tPool - tIn).toFixed(2)} ms), ` +
        `two models on two workers ${tBoth.toFixed(2)} ms = ${((2 * tPool) / tBoth).toFixed(2)}x of serial`,
    );
  } finally {
    await pool.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
