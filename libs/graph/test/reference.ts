// Plain-JS reference implementations (float64 math on number arrays) for the op tests.

export interface Arr {
  dims: number[];
  data: number[];
}

export function size(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (dims[i + 1] as number);
  return s;
}

function unravel(i: number, dims: readonly number[]): number[] {
  const idx = new Array<number>(dims.length).fill(0);
  for (let k = dims.length - 1; k >= 0; k--) {
    const d = dims[k] as number;
    idx[k] = i % d;
    i = Math.floor(i / d);
  }
  return idx;
}

function ravel(idx: readonly number[], dims: readonly number[]): number {
  let o = 0;
  for (let k = 0; k < dims.length; k++) o = o * (dims[k] as number) + (idx[k] as number);
  return o;
}

export function broadcastDims(...ds: number[][]): number[] {
  const r = Math.max(...ds.map((d) => d.length));
  return Array.from({ length: r }, (_, i) => Math.max(...ds.map((d) => d[d.length - r + i] ?? 1)));
}

/** Reads `a` at an index of a broadcast output shape. */
function at(a: Arr, outIdx: readonly number[]): number {
  const off = outIdx.length - a.dims.length;
  const idx = a.dims.map((d, k) => (d === 1 ? 0 : (outIdx[k + off] as number)));
  return a.data[ravel(idx, a.dims)] as number;
}

export function map(xs: Arr[], f: (...v: number[]) => number): Arr {
  const dims = broadcastDims(...xs.map((x) => x.dims));
  const data = Array.from({ length: size(dims) }, (_, i) => {
    const idx = unravel(i, dims);
    return f(...xs.map((x) => at(x, idx)));
  });
  return { dims, data };
}

export function matmul(a: Arr, b: Arr): Arr {
  const [m, k] = a.dims.slice(-2) as [number, number];
  const n = b.dims[b.dims.length - 1] as number;
  const batch = broadcastDims(a.dims.slice(0, -2), b.dims.slice(0, -2));
  const dims = [...batch, m, n];
  const data = new Array<number>(size(dims)).fill(0);
  const pick = (x: Arr, bIdx: number[], r: number, c: number) => {
    const xb = x.dims.slice(0, -2);
    const off = bIdx.length - xb.length;
    const idx = [...xb.map((d, q) => (d === 1 ? 0 : (bIdx[q + off] as number))), r, c];
    return x.data[ravel(idx, x.dims)] as number;
  };
  for (let bi = 0; bi < size(batch); bi++) {
    const bIdx = unravel(bi, batch);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += pick(a, bIdx, i, q) * pick(b, bIdx, q, j);
        data[(bi * m + i) * n + j] = s;
      }
  }
  return { dims, data };
}

export function reduce(x: Arr, axes: number[], keep: boolean, kind: 'sum' | 'mean' | 'max'): Arr {
  const ax = axes.map((a) => (a < 0 ? a + x.dims.length : a));
  const kdims = x.dims.map((d, i) => (ax.includes(i) ? 1 : d));
  const acc = new Array<number>(size(kdims)).fill(kind === 'max' ? -Infinity : 0);
  const cnt = ax.reduce((p, a) => p * (x.dims[a] as number), 1);
  x.data.forEach((v, i) => {
    const idx = unravel(i, x.dims).map((q, k) => (ax.includes(k) ? 0 : q));
    const o = ravel(idx, kdims);
    acc[o] = kind === 'max' ? Math.max(acc[o] as number, v) : (acc[o] as number) + v;
  });
  const data = kind === 'mean' ? acc.map((v) => v / cnt) : acc;
  return { dims: keep ? kdims : x.dims.filter((_, i) => !ax.includes(i)), data };
}

export function softmax(x: Arr, log = false): Arr {
  const n = x.dims[x.dims.length - 1] as number;
  const data = [...x.data];
  for (let r = 0; r < data.length / n; r++) {
    const row = data.slice(r * n, r * n + n);
    const m = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
    row.forEach((v, j) => {
      data[r * n + j] = log ? v - m - Math.log(z) : Math.exp(v - m) / z;
    });
  }
  return { dims: x.dims, data };
}

export function transpose(x: Arr, perm: number[]): Arr {
  const dims = perm.map((p) => x.dims[p] as number);
  const data = Array.from({ length: x.data.length }, (_, i) => {
    const o = unravel(i, dims);
    const src = new Array<number>(dims.length);
    perm.forEach((p, k) => {
      src[p] = o[k] as number;
    });
    return x.data[ravel(src, x.dims)] as number;
  });
  return { dims, data };
}

/** Generic gather by index function over an output shape. */
export function build(dims: number[], f: (idx: number[]) => number): Arr {
  return { dims, data: Array.from({ length: size(dims) }, (_, i) => f(unravel(i, dims))) };
}

export function get(x: Arr, idx: readonly number[]): number {
  return x.data[ravel(idx, x.dims)] as number;
}

export { strides };

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randn(dims: number[], r: () => number, scale = 1): Arr {
  // Rounded to float32 so exact data movement compares exactly.
  return { dims, data: Array.from({ length: size(dims) }, () => Math.fround((r() * 2 - 1) * scale)) };
}
