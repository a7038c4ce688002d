/** A seeded pseudo-random source: `next()` is uniform in [0, 1). */
export interface Rng {
  next(): number;
}

/**
 * Mulberry32 seeded through SplitMix32: small, fast, and identical on every platform, so a
 * seed reproduces a sampled sequence exactly. Not for cryptography.
 */
export function createRng(seed: number): Rng {
  let s = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  // One SplitMix-style scramble so nearby seeds start far apart.
  s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
  s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
  let state = (s ^ (s >>> 16)) >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
