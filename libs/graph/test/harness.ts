import assert from 'node:assert/strict';
import type { GraphBuilder, OptimizationLevel, Session, Tensor } from '../src/index.js';
import { createSession, createTensor, toNumbers, toOnnxModel, typedArrayFrom } from '../src/index.js';
import type { DType } from '../src/types.js';
import type { Arr } from './reference.js';

export function tensorOf(a: Arr, dtype: DType = 'float32'): Tensor {
  return createTensor(dtype, a.dims, typedArrayFrom(dtype, a.data) as never);
}

export function arrOf(t: Tensor | undefined): Arr {
  assert.ok(t, 'missing output');
  return { dims: [...t.dims], data: toNumbers(t.data) };
}

export async function sessionOf(
  g: GraphBuilder,
  optimizationLevel: OptimizationLevel = 'all',
): Promise<Session> {
  return createSession(toOnnxModel(g), { optimizationLevel });
}

/** Builds, emits, loads and runs `g` once; outputs come back as reference arrays. */
export async function evalGraph(
  g: GraphBuilder,
  feeds: Record<string, Tensor>,
  optimizationLevel: OptimizationLevel = 'all',
): Promise<Record<string, Arr>> {
  const s = await sessionOf(g, optimizationLevel);
  try {
    const out = await s.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, arrOf(v)]));
  } finally {
    await s.release();
  }
}

export function assertClose(actual: Arr | undefined, expected: Arr, tol = 1e-5, label = ''): void {
  assert.ok(actual, `${label}: missing`);
  assert.deepEqual(actual.dims, expected.dims, `${label}: dims`);
  actual.data.forEach((v, i) => {
    const e = expected.data[i] as number;
    const err = Math.abs(v - e);
    if (!(err <= tol * (1 + Math.abs(e)))) {
      assert.fail(`${label}: element ${i}: got ${v}, expected ${e} (tol ${tol})`);
    }
  });
}
