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

/** Ids of the k largest logits, sorted descending (ties → lower id), via a size-k min-heap: O(V log k). */
function topKIds(logits: ArrayLike<number>, k: number): number[] {
  const heap: number[] = [];
  // "a ranks below b": smaller logit, or equal logit and larger id.
  const below = (a: number, b: number) => logits[a]! < logits[b]! || (logits[a] === logits[b] && a > b);
  const swap = (i: number, j: number) => {
    const t = heap[i]!;
    heap[i] = heap[j]!;
    heap[j] = t;
  };
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && below(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && below(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  for (let id = 0; id < logits.length; id++) {
    if (heap.length < k) {
      heap.push(id);
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (!below(heap[i]!, heap[parent]!)) break;
        swap(i, parent);
        i = parent;
      }
    } else if (below(heap[0]!, id)) {
      heap[0] = id;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (below(a, b) ? 1 : below(b, a) ? -1 : 0));
}

/** Sorts ids by logit, descending, ties → lower id. */
function sortDesc(ids: number[], logits: ArrayLike<number>): number[] {
  return ids.sort((a, b) => logits[b]! - logits[a]! || a - b);
}

/**
 * Picks the next token from one logits row. Greedy ties go to the lowest id (like torch.argmax).
 * Sampling: logits / temperature → top-k → top-p (over the renormalised survivors) → one draw.
 * Large vocabularies are never fully sorted unless top-p needs it: top-k uses a heap, and
 * top-p first tries the prefix of tokens within a factor 1e-4 of the best one.
 */
export function sampleToken(logits: ArrayLike<number>, o: Required<SamplingOptions>, rng: Rng): number {
  if (o.temperature === 0) return argmaxOf(logits);
  const n = logits.length;
  const best = logits[argmaxOf(logits)]!;
  const weight = (id: number) => Math.exp((logits[id]! - best) / o.temperature);
  let ids: number[] | undefined; // undefined = the whole vocabulary in id order
  if (o.topK > 0 && o.topK < n) ids = topKIds(logits, o.topK);
  if (o.topP < 1) {
    if (ids === undefined) {
      // Tokens above a weight threshold are a prefix of the sorted order; if they already hold
      // top_p of the mass, the nucleus lies inside them and the rest needs no sorting.
      let total = 0;
      const head: number[] = [];
      let headMass = 0;
      for (let id = 0; id < n; id++) {
        const w = weight(id);
        total += w;
        if (w >= 1e-4) {
          head.push(id);
          headMass += w;
        }
      }
      ids =
        headMass >= o.topP * total
          ? sortDesc(head, logits)
          : sortDesc(
              Array.from({ length: n }, (_, i) => i),
              logits,
            );
      let cum = 0;
      let keep = 0;
      while (keep < ids.length) {
        cum += weight(ids[keep]!);
        keep++;
        if (cum >= o.topP * total) break;
      }
      ids = ids.slice(0, keep);
    } else {
      const total = ids.reduce((a, id) => a + weight(id), 0);
      let cum = 0;
      let keep = 0;
      while (keep < ids.length) {
        cum += weight(ids[keep]!);
        keep++;
        if (cum >= o.topP * total) break;
      }
      ids = ids.slice(0, keep);
    }
  }
  const count = ids === undefined ? n : ids.length;
  let mass = 0;
  for (let j = 0; j < count; j++) mass += weight(ids === undefined ? j : ids[j]!);
  let r = rng.next() * mass;
  for (let j = 0; j < count; j++) {
    const id = ids === undefined ? j : ids[j]!;
    r -= weight(id);
    if (r < 0) return id;
  }
  return ids === undefined ? n - 1 : ids[count - 1]!;
}
