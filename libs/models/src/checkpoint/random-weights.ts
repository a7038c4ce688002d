import { createRng } from '../generate/rng.js';
import type { LlamaFamilyConfig } from './llama-config.js';
import { type LlamaWeights, llamaWeightShapes } from './llama-weights.js';

/**
 * Seeded random weights for a config: matrices ~ U(−a, a) with a = √(3/fan_in)·scale (unit
 * variance activations), norm weights around 1. For tests and benchmarks, never for training.
 */
export function createRandomLlamaWeights(config: LlamaFamilyConfig, seed = 0, scale = 1): LlamaWeights {
  const rng = createRng(seed);
  const out: LlamaWeights = new Map();
  for (const [name, shape] of llamaWeightShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith('norm.weight') || name.endsWith('layernorm.weight')) {
      for (let i = 0; i < n; i++) data[i] = 1 + 0.2 * (rng.next() - 0.5);
    } else {
      const fanIn = shape.length === 2 ? shape[1]! : shape[0]!;
      const a = Math.sqrt(3 / fanIn) * scale;
      for (let i = 0; i < n; i++) data[i] = (rng.next() * 2 - 1) * a;
    }
    out.set(name, data);
  }
  return out;
}
