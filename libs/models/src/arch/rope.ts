import type { LlamaFamilyConfig } from '../checkpoint/llama-config.js';

/**
 * RoPE inverse frequencies (head_dim/2 of them), HF `rotate_half` convention, with the
 * config's rope scaling applied. Shared by the float64 reference and the graph's cos/sin tables.
 */
export function ropeInverseFrequencies(config: LlamaFamilyConfig): Float64Array {
  const half = config.headDim / 2;
  const inv = new Float64Array(half);
  for (let j = 0; j < half; j++) inv[j] = 1 / config.ropeTheta ** ((2 * j) / config.headDim);
  const s = config.ropeScaling;
  if (s.type === 'linear') {
    for (let j = 0; j < half; j++) inv[j] = inv[j]! / s.factor;
  } else if (s.type === 'llama3') {
    const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
    const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
    for (let j = 0; j < half; j++) {
      const f = inv[j]!;
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < highWavelen) continue;
      if (wavelen > lowWavelen) inv[j] = f / s.factor;
      else {
        const smooth =
          (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) /
          (s.highFreqFactor - s.lowFreqFactor);
        inv[j] = ((1 - smooth) * f) / s.factor + smooth * f;
      }
    }
  }
  return inv;
}

/** cos/sin tables [maxPositions, head_dim/2] as float32, for the RotaryEmbedding-style gather by position. */
export function ropeTables(
  config: LlamaFamilyConfig,
  maxPositions: number,
): { cos: Float32Array; sin: Float32Array } {
  const inv = ropeInverseFrequencies(config);
  const half = inv.length;
  const cos = new Float32Array(maxPositions * half);
  const sin = new Float32Array(maxPositions * half);
  for (let p = 0; p < maxPositions; p++) {
    for (let j = 0; j < half; j++) {
      const a = p * inv[j]!;
      cos[p * half + j] = Math.cos(a);
      sin[p * half + j] = Math.sin(a);
    }
  }
  return { cos, sin };
}
