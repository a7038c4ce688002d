import { isDefaultNoDecayParam } from './no-decay.js';
import type { ParamMap } from './param-map.js';
import { assertSameLayout } from './param-map.js';

/**
 * AdamW (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization") with Adam's
 * bias correction (Kingma & Ba 2015), arranged exactly like torch.optim.AdamW:
 *   p ← p·(1 − lr·wd)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + eps)
 * Parameters and moments are Float32Arrays; each element is computed in float64 and
 * rounded once on store. One pass per tensor, no allocation per step, so the update is
 * memory-bound. The state (t, m, v) round-trips exactly through `exportState`, so a
 * resumed run continues bit-identically.
 */
export interface AdamWConfig {
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
  /** Decoupled weight decay coefficient. Default 0.01 (as torch). */
  readonly weightDecay?: number;
  /** Which parameters skip weight decay. Default: biases and norms by HF name. */
  readonly isNoDecay?: (name: string) => boolean;
}

export const ADAMW_STATE_FORMAT = 'verdict.adamw.v1';

/** JSON-safe part of the optimizer state. */
export interface AdamWStateMeta {
  readonly format: typeof ADAMW_STATE_FORMAT;
  /** Completed update steps t. */
  readonly step: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** Parameter names excluded from weight decay when the state was written. */
  readonly noDecay: string[];
  readonly params: { readonly name: string; readonly length: number }[];
}

/** Moments under `exp_avg.<name>` / `exp_avg_sq.<name>` (torch's names), plus meta. */
export interface AdamWState {
  readonly tensors: Map<string, Float32Array>;
  readonly meta: AdamWStateMeta;
}

export interface AdamW {
  /** Completed update steps. */
  readonly step: number;
  /** Updates `params` in place from `grads` (same names and sizes) with this step's lr. */
  update(params: ParamMap, grads: ParamMap, learningRate: number): void;
  /** A copy of the state, safe to write out while training continues. */
  exportState(): AdamWState;
}

interface Slot {
  readonly name: string;
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly decay: boolean;
}

export function createAdamW(params: ParamMap, config: AdamWConfig = {}, state?: AdamWState): AdamW {
  const beta1 = config.beta1 ?? 0.9;
  const beta2 = config.beta2 ?? 0.999;
  const epsilon = config.epsilon ?? 1e-8;
  const weightDecay = config.weightDecay ?? 0.01;
  const isNoDecay = config.isNoDecay ?? isDefaultNoDecayParam;
  const problems: string[] = [];
  if (!(beta1 >= 0 && beta1 < 1)) problems.push(`beta1 must be in [0, 1), got ${beta1}`);
  if (!(beta2 >= 0 && beta2 < 1)) problems.push(`beta2 must be in [0, 1), got ${beta2}`);
  if (!(epsilon > 0)) problems.push(`epsilon must be > 0, got ${epsilon}`);
  if (!(weightDecay >= 0)) problems.push(`weightDecay must be >= 0, got ${weightDecay}`);
  if (problems.length > 0) throw new RangeError(`invalid AdamW config: ${problems.join('; ')}`);

  const slots: Slot[] = [...params].map(([name, p]) => ({
    name,
    m: new Float32Array(p.length),
    v: new Float32Array(p.length),
    decay: weightDecay > 0 && !isNoDecay(name),
  }));
  let step = 0;

  if (state) {
    const meta = state.meta;
    const mismatches: string[] = [];
    if (meta.format !== ADAMW_STATE_FORMAT) mismatches.push(`format ${meta.format}`);
    for (const [key, value] of [
      ['beta1', beta1],
      ['beta2', beta2],
      ['epsilon', epsilon],
      ['weightDecay', weightDecay],
    ] as const) {
      if (meta[key] !== value) mismatches.push(`${key} ${meta[key]} in state vs ${value} configured`);
    }
    const noDecayNow = slots.filter((s) => !s.decay).map((s) => s.name);
    if (
      weightDecay > 0 &&
      JSON.stringify([...meta.noDecay].sort()) !== JSON.stringify([...noDecayNow].sort())
    ) {
      mismatches.push('the no-decay parameter set differs');
    }
    const layout = meta.params.map((p) => `${p.name}:${p.length}`).join(',');
    if (layout !== [...params].map(([n, p]) => `${n}:${p.length}`).join(','))
      mismatches.push('parameter names/sizes differ');
    if (!Number.isInteger(meta.step) || meta.step < 0) mismatches.push(`step ${meta.step}`);
    if (mismatches.length > 0) throw new RangeError(`AdamW state does not match: ${mismatches.join('; ')}`);
    for (const slot of slots) {
      const m = state.tensors.get(`exp_avg.${slot.name}`);
      const v = state.tensors.get(`exp_avg_sq.${slot.name}`);
      if (!m || !v || m.length !== slot.m.length || v.length !== slot.v.length) {
        throw new RangeError(`AdamW state lacks moments for '${slot.name}'`);
      }
      slot.m.set(m);
      slot.v.set(v);
    }
    step = meta.step;
  }

  function update(target: ParamMap, grads: ParamMap, learningRate: number): void {
    if (!(learningRate >= 0) || !Number.isFinite(learningRate)) {
      throw new RangeError(`learning rate must be finite and >= 0, got ${learningRate}`);
    }
    assertSameLayout(params, target, 'AdamW params');
    assertSameLayout(params, grads, 'AdamW grads');
    const t = step + 1;
    const stepSize = learningRate / (1 - beta1 ** t);
    const invSqrtBias2 = 1 / Math.sqrt(1 - beta2 ** t);
    const oneMinusBeta1 = 1 - beta1;
    const oneMinusBeta2 = 1 - beta2;
    for (const slot of slots) {
      const p = target.get(slot.name)!;
      const g = grads.get(slot.name)!;
      const { m, v } = slot;
      const keep = slot.decay ? 1 - learningRate * weightDecay : 1;
      const n = p.length;
      for (let i = 0; i < n; i++) {
        const gi = g[i]!;
        const mi = beta1 * m[i]! + oneMinusBeta1 * gi;
        const vi = beta2 * v[i]! + oneMinusBeta2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i]! * keep - (stepSize * mi) / (Math.sqrt(vi) * invSqrtBias2 + epsilon);
      }
    }
    step = t;
  }

  function exportState(): AdamWState {
    const tensors = new Map<string, Float32Array>();
    for (const slot of slots) {
      tensors.set(`exp_avg.${slot.name}`, slot.m.slice());
      tensors.set(`exp_avg_sq.${slot.name}`, slot.v.slice());
    }
    return {
      tensors,
      meta: {
        format: ADAMW_STATE_FORMAT,
        step,
        beta1,
        beta2,
        epsilon,
        weightDecay,
        noDecay: slots.filter((s) => !s.decay).map((s) => s.name),
        params: [...params].map(([name, p]) => ({ name, length: p.length })),
      },
    };
  }

  return {
    get step() {
      return step;
    },
    update,
    exportState,
  };
}
