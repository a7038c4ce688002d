import { pathToFileURL } from 'node:url';
import { createGraph, createSession, createTensor, toOnnxModel } from '../src/index.js';
import { medianMs } from './matmul-peak.js';

// The norm/GELU composites are emitted in ORT's fusable patterns: compare 'basic' (primitives
// run one by one) with 'all' (fused SimplifiedLayerNormalization / LayerNormalization / Gelu).

async function main(): Promise<void> {
  const [B, T, D] = [16, 128, 512];
  const g = createGraph();
  let h = g.input('x', 'float32', ['batch', 'seq', D]);
  const w = g.param('w', 'float32', [D], new Float32Array(D).fill(1));
  const b = g.param('b', 'float32', [D], new Float32Array(D).fill(0));
  const f = { fusable: true };
  for (let i = 0; i < 4; i++) h = g.gelu(g.layerNorm(g.rmsNorm(h, w, 1e-5, f), w, b, 1e-5, f));
  g.output('y', h);
  const model = toOnnxModel(g);
  const x = Float32Array.from({ length: B * T * D }, (_, i) => Math.sin(i));
  const feeds = { x: createTensor('float32', [B, T, D], x) };
  const times: Record<string, number> = {};
  for (const level of ['basic', 'all'] as const) {
    const s = await createSession(model, { optimizationLevel: level, intraOpThreads: 1 });
    times[level] = await medianMs(() => s.run(feeds), 9);
    await s.release();
  }
  const ratio = (times.basic as number) / (times.all as number);
  console.log(
    `norm-fusion [${B},${T},${D}] x4 (rms+ln+gelu): basic ${times.basic?.toFixed(1)} ms, all ${times.all?.toFixed(1)} ms, speedup ${ratio.toFixed(2)}x`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
