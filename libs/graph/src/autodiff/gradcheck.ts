import { toOnnxModel } from '../emit.js';
import type { GraphBuilder } from '../graph-builder.js';
import { createGraph } from '../graph-builder.js';
import { createSession, type Session } from '../runtime/session.js';
import { createTensor } from '../tensor.js';
import type { Dim, Tensor, Value } from '../types.js';
import { grad } from './grad.js';

/**
 * Finite-difference gradient checks in float64.
 *
 * Tolerance (defaults): central differences with h = 1e-6·max(1, |x|) have truncation error
 * ~h²·|f‴|/6 ≈ 1e-13 and rounding error ~ε·|L|/h ≈ 1.1e-16·|L|/1e-6 ≈ 1e-10·|L| (|L| ≈ 1–5 here),
 * so the finite difference is good to ~1e-9 absolute (measured: worst |analytic − numeric| 4e-10 to
 * 9e-10 on the tiny Llama, ≤ 5e-10 on single ops). The check passes when
 * |analytic − numeric| / max(|analytic|, |numeric|, absFloor) ≤ rtol, rtol = 1e-5, absFloor = 1e-3:
 * relative 1e-5 for gradients above 1e-3, absolute 1e-8 (10× the FD noise) below it. A wrong VJP
 * shows up as O(1e-3 … 1) relative error (a 1% slip in Sigmoid's rule measured 2e-2).
 */
export interface GradcheckSpec {
  /** Declares params/inputs and returns the scalar loss. Called once per graph (same names each time). */
  build(g: GraphBuilder, dtype: 'float32' | 'float64'): Value;
  /** Concrete sizes of symbolic dims, for auto-generated float inputs. */
  dims?: Readonly<Record<string, number>>;
  /** Explicit feeds (integer/bool inputs; float inputs as Float64Array data, cast for float32). */
  feeds?: Readonly<Record<string, Tensor>>;
  /** Names of the params/float inputs to differentiate (default: every param). */
  wrt?: readonly string[];
  /** Uniform init ranges per param/input name (default [-1, 1]). */
  ranges?: Readonly<Record<string, readonly [number, number]>>;
  /** At most this many finite-difference entries per tensor (default 24; all entries when smaller). */
  entries?: number;
  h?: number;
  rtol?: number;
  absFloor?: number;
  seed?: number;
}

export interface TensorReport {
  readonly name: string;
  readonly checked: number;
  readonly worstRel: number;
  readonly worstAbs: number;
  readonly maxAbsGrad: number;
}

export interface GradcheckReport {
  readonly loss: number;
  readonly worstRel: number;
  readonly worstAbs: number;
  readonly tensors: readonly TensorReport[];
}

/** Deterministic uniform [0, 1) generator (mulberry32). */
export function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Size of a symbolic dim, including derived ones ('batch*seq', 'past+seq', '(a+b)*c'). */
function evalDim(d: string, dims: Readonly<Record<string, number>>, name: string): number {
  const split = (s: string, sep: string): string[] => {
    const out: string[] = [];
    let depth = 0;
    let start = 0;
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '(') depth++;
      else if (s[i] === ')') depth--;
      else if (s[i] === sep && depth === 0) {
        out.push(s.slice(start, i));
        start = i + 1;
      }
    }
    return [...out, s.slice(start)];
  };
  const sum = split(d, '+');
  if (sum.length > 1) return sum.reduce((a, t) => a + evalDim(t, dims, name), 0);
  const prod = split(d, '*');
  if (prod.length > 1) return prod.reduce((a, t) => a * evalDim(t, dims, name), 1);
  if (d.startsWith('(') && d.endsWith(')')) return evalDim(d.slice(1, -1), dims, name);
  if (/^\d+$/.test(d)) return Number(d);
  const n = dims[d];
  if (n === undefined) throw new Error(`gradcheck: no size for dim '${d}' of ${name}`);
  return n;
}

function concreteDims(shape: readonly Dim[], dims: Readonly<Record<string, number>>, name: string): number[] {
  return shape.map((d) => (typeof d === 'number' ? d : evalDim(d, dims, name)));
}

/** Random float64 data for every float param and input of a graph built by `spec`, plus the explicit feeds. */
export function makeGradcheckData(spec: GradcheckSpec): Map<string, Tensor> {
  const g = createGraph();
  spec.build(g, 'float64');
  const rnd = mulberry(spec.seed ?? 1);
  const data = new Map<string, Tensor>(Object.entries(spec.feeds ?? {}));
  const values = [...g.inputs, ...[...g.params.values()].map((p) => p.value)];
  for (const v of values) {
    if (data.has(v.name)) continue;
    if (v.dtype !== 'float64') throw new Error(`gradcheck: feed for non-float input ${v.name} is missing`);
    const dims = concreteDims(v.shape, spec.dims ?? {}, v.name);
    const [lo, hi] = spec.ranges?.[v.name] ?? [-1, 1];
    const arr = new Float64Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < arr.length; i++) arr[i] = lo + (hi - lo) * rnd();
    data.set(v.name, createTensor('float64', dims, arr));
  }
  return data;
}

function castFeeds(data: ReadonlyMap<string, Tensor>, dtype: 'float32' | 'float64'): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of data) {
    out[k] =
      dtype === 'float32' && t.dtype === 'float64'
        ? createTensor('float32', t.dims, Float32Array.from(t.data as Float64Array))
        : t;
  }
  return out;
}

/** Builds the gradient graph in `dtype` and returns loss and analytic gradients (as float64). */
export async function analyticGrads(
  spec: GradcheckSpec,
  data: ReadonlyMap<string, Tensor>,
  dtype: 'float32' | 'float64',
): Promise<{ loss: number; grads: Map<string, Float64Array>; nodes: number }> {
  const g = createGraph();
  const loss = spec.build(g, dtype);
  const wrt = (spec.wrt ?? [...g.params.keys()]).map((n) => g.value(n));
  const { gradOutputNames } = grad(g, loss, wrt);
  // float64 graphs need 'basic': 'all' fuses x·σ(x) into QuickGelu, which has no double kernel.
  const s = await createSession(toOnnxModel(g, { params: 'inputs' }), {
    optimizationLevel: dtype === 'float64' ? 'basic' : 'all',
  });
  try {
    const out = await s.run(castFeeds(data, dtype));
    const grads = new Map<string, Float64Array>();
    for (const [name, outName] of gradOutputNames) {
      const t = out[outName];
      if (!t) throw new Error(`gradcheck: missing output ${outName}`);
      grads.set(name, Float64Array.from(t.data as Float64Array));
    }
    return { loss: Number(out['loss']?.data[0]), grads, nodes: g.nodes.length };
  } finally {
    await s.release();
  }
}

async function lossSession(spec: GradcheckSpec): Promise<Session> {
  const g = createGraph();
  g.output('loss', spec.build(g, 'float64'));
  return createSession(toOnnxModel(g, { params: 'inputs' }), { optimizationLevel: 'basic' });
}

/** Checks analytic float64 gradients against central differences; throws on a mismatch. */
export async function gradcheck(spec: GradcheckSpec): Promise<GradcheckReport> {
  const h = spec.h ?? 1e-6;
  const rtol = spec.rtol ?? 1e-5;
  const absFloor = spec.absFloor ?? 1e-3;
  const data = makeGradcheckData(spec);
  const { loss, grads } = await analyticGrads(spec, data, 'float64');
  const s = await lossSession(spec);
  const feeds = castFeeds(data, 'float64');
  const evalLoss = async () => Number((await s.run(feeds, { outputs: ['loss'] }))['loss']?.data[0]);
  const rnd = mulberry((spec.seed ?? 1) + 7);
  const tensors: TensorReport[] = [];
  try {
    for (const [name, analytic] of grads) {
      const x = feeds[name]?.data as Float64Array;
      const n = x.length;
      const maxEntries = spec.entries ?? 24;
      const picks =
        n <= maxEntries
          ? [...Array(n).keys()]
          : [...new Set(Array.from({ length: maxEntries }, () => Math.floor(rnd() * n)))];
      let worstRel = 0;
      let worstAbs = 0;
      for (const i of picks) {
        const orig = x[i] as number;
        const step = h * Math.max(1, Math.abs(orig));
        x[i] = orig + step;
        const up = await evalLoss();
        x[i] = orig - step;
        const down = await evalLoss();
        x[i] = orig;
        const numeric = (up - down) / (2 * step);
        const a = analytic[i] as number;
        const abs = Math.abs(a - numeric);
        const rel = abs / Math.max(Math.abs(a), Math.abs(numeric), absFloor);
        worstAbs = Math.max(worstAbs, abs);
        worstRel = Math.max(worstRel, rel);
        if (!(rel <= rtol)) {
          throw new Error(
            `gradcheck ${name}[${i}]: analytic ${a} vs numeric ${numeric} (rel ${rel.toExponential(2)} > ${rtol})`,
          );
        }
      }
      const maxAbsGrad = analytic.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      tensors.push({ name, checked: picks.length, worstRel, worstAbs, maxAbsGrad });
    }
  } finally {
    await s.release();
  }
  return {
    loss,
    worstRel: Math.max(0, ...tensors.map((t) => t.worstRel)),
    worstAbs: Math.max(0, ...tensors.map((t) => t.worstAbs)),
    tensors,
  };
}
