import { ModelError } from '../errors.js';
import type { Rng } from './rng.js';

/** How the next token is picked. `temperature: 0` is greedy (argmax). */
export interface SamplingOptions {
  /** 0 = greedy; otherwise logits are divided by it. Default 0. */
  readonly temperature?: number;
  /** Keep only the k most likely tokens; 0 = off. Default 0. */
  readonly topK?: number;
  /** Keep the smallest set of tokens whose probability sums to ≥ topP; 1 = off. Default 1. */
  readonly topP?: number;
}

/** Validates sampling parameters; each problem is one INVALID_ARGUMENT naming the parameter and the limit. */
export function checkSamplingOptions(o: SamplingOptions): Required<SamplingOptions> {
  const temperature = o.temperature ?? 0;
  const topK = o.topK ?? 0;
  const topP = o.topP ?? 1;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) {
    throw new ModelError('INVALID_ARGUMENT', `temperature must be a finite number >= 0 (got ${temperature})`);
  }
  if (!Number.isInteger(topK) || topK < 0) {
    throw new ModelError('INVALID_ARGUMENT', `top_k must be an integer >= 0 (got ${topK}; 0 disables it)`);
  }
  if (typeof topP !== 'number' || !Number.isFinite(topP) || topP <= 0 || topP > 1) {
    throw new ModelError('INVALID_ARGUMENT', `top_p must be in (0, 1] (got ${topP})`);
  }
  return { temperature, topK, topP };
}

/** Natural-log softmax of one logits row at `id`, in float64. */
export function logSoftmaxAt(logits: ArrayLike<number>, id: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  return logits[id]! - max - Math.log(sum);
}

function argmaxOf(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/**
 * Picks the next token from one logits row. Greedy ties go to the lowest id (like torch.argmax).
 * Sampling: logits / temperature → top-k → top-p (over the renormalised survivors) → draw.
 */
export function sampleToken(logits: ArrayLike<number>, o: Required<SamplingOptions>, rng: Rng): number {
  if (o.temperature === 0) return argmaxOf(logits);
  const n = logits.length;
  // Candidates sorted by logit, descending; ties by id for determinism.
  let order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (o.topK > 0 && o.topK < n) order = order.slice(0, o.topK);
  const top = logits[order[0]!]! / o.temperature;
  const weights = order.map((i) => Math.exp(logits[i]! / o.temperature - top));
  let total = weights.reduce((a, b) => a + b, 0);
  if (o.topP < 1) {
    let cum = 0;
    let keep = 0;
    while (keep < weights.length) {
      cum += weights[keep]! / total;
      keep++;
      if (cum >= o.topP) break;
    }
    order = order.slice(0, keep);
    weights.length = keep;
    total = weights.reduce((a, b) => a + b, 0);
  }
  let r = rng.next() * total;
  for (let j = 0; j < order.length; j++) {
    r -= weights[j]!;
    if (r < 0) return order[j]!;
  }
  return order[order.length - 1]!;
}
