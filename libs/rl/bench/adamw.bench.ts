// AdamW update throughput over a 10M-parameter map (10 tensors × 1M, Llama-like names).
// Prints M params/s and the ratio to a plain SGD pass (p -= lr·g) over the same memory,
// measured in the same run: AdamW touches 4 arrays per element (p, g, m, v), SGD 2.
import { createAdamW } from '../src/optim/adamw.js';
import type { ParamMap } from '../src/optim/param-map.js';

const tensorCount = 10;
const tensorSize = 1_000_000;
const steps = Number(process.env.BENCH_STEPS ?? 20);

const params: ParamMap = new Map();
const grads: ParamMap = new Map();
for (let t = 0; t < tensorCount; t++) {
  const name = t === 0 ? 'model.norm.weight' : `model.layers.${t}.mlp.up_proj.weight`;
  params.set(
    name,
    Float32Array.from({ length: tensorSize }, (_, i) => Math.sin(i + t)),
  );
  grads.set(
    name,
    Float32Array.from({ length: tensorSize }, (_, i) => Math.cos(i * 0.7 + t) * 1e-2),
  );
}
const total = tensorCount * tensorSize;

function sgd(lr: number): void {
  for (const [name, p] of params) {
    const g = grads.get(name)!;
    for (let i = 0; i < p.length; i++) p[i] = p[i]! - lr * g[i]!;
  }
}

function time(run: () => void): number {
  for (let i = 0; i < 3; i++) run(); // warm up the JIT
  const start = process.hrtime.bigint();
  for (let i = 0; i < steps; i++) run();
  return Number(process.hrtime.bigint() - start) / 1e9 / steps;
}

const opt = createAdamW(params, { weightDecay: 0.01 });
const adamSeconds = time(() => opt.update(params, grads, 1e-4));
const sgdSeconds = time(() => sgd(1e-4));
const mps = (s: number) => (total / s / 1e6).toFixed(1);
console.log(`adamw: ${(total / 1e6).toFixed(0)}M params, ${steps} steps`);
console.log(`  AdamW  ${(adamSeconds * 1e3).toFixed(1)} ms/step  ${mps(adamSeconds)} M params/s`);
console.log(`  SGD    ${(sgdSeconds * 1e3).toFixed(1)} ms/step  ${mps(sgdSeconds)} M params/s`);
console.log(`  AdamW / SGD time ratio: ${(adamSeconds / sgdSeconds).toFixed(2)}`);
