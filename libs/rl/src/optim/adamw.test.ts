import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNormal } from '../test-support/prng.js';
import type { AdamWConfig, AdamWState } from './adamw.js';
import { createAdamW } from './adamw.js';
import { clipGradNorm } from './clip-grad-norm.js';
import { createGradAccumulator } from './grad-accumulator.js';
import { createLrSchedule } from './lr-schedule.js';
import type { ParamMap } from './param-map.js';
import { cloneParamMap } from './param-map.js';

const F32_ULP_AT_1 = 2 ** -23;

function randomParams(seed: number, sizes: Record<string, number>): ParamMap {
  const normal = createNormal(seed);
  return new Map(Object.entries(sizes).map(([name, n]) => [name, Float32Array.from({ length: n }, normal)]));
}

/** Textbook AdamW in float64 (Loshchilov & Hutter, Algorithm 2, with η_t = 1). */
function referenceAdamW(
  params: Map<string, Float64Array>,
  grads: ParamMap[],
  lrs: number[],
  c: Required<Omit<AdamWConfig, 'isNoDecay'>>,
  noDecay: Set<string>,
): void {
  const m = new Map([...params].map(([k, p]) => [k, new Float64Array(p.length)]));
  const v = new Map([...params].map(([k, p]) => [k, new Float64Array(p.length)]));
  grads.forEach((g, index) => {
    const t = index + 1;
    const lr = lrs[index]!;
    for (const [name, p] of params) {
      const gi = g.get(name)!;
      const mi = m.get(name)!;
      const vi = v.get(name)!;
      const wd = noDecay.has(name) ? 0 : c.weightDecay;
      for (let i = 0; i < p.length; i++) {
        mi[i] = c.beta1 * mi[i]! + (1 - c.beta1) * gi[i]!;
        vi[i] = c.beta2 * vi[i]! + (1 - c.beta2) * gi[i]! ** 2;
        const mHat = mi[i]! / (1 - c.beta1 ** t);
        const vHat = vi[i]! / (1 - c.beta2 ** t);
        p[i] = p[i]! - lr * (mHat / (Math.sqrt(vHat) + c.epsilon) + wd * p[i]!);
      }
    }
  });
}

describe('createAdamW', () => {
  it('matches a hand-computed first step, with and without decay', () => {
    const params: ParamMap = new Map([
      ['model.layers.0.mlp.up_proj.weight', new Float32Array([1])],
      ['model.norm.weight', new Float32Array([1])],
    ]);
    const opt = createAdamW(params, { weightDecay: 0.01 });
    const grads: ParamMap = new Map([
      ['model.layers.0.mlp.up_proj.weight', new Float32Array([0.5])],
      ['model.norm.weight', new Float32Array([0.5])],
    ]);
    opt.update(params, grads, 0.1);
    // m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25 → update = 0.1·0.5/(0.5 + 1e-8) = 0.1/(1 + 2e-8)
    // decayed: p = 1·(1 − 0.1·0.01) − update = 0.899000002; norm (no decay): 0.900000002
    const decayed = params.get('model.layers.0.mlp.up_proj.weight')![0]!;
    const norm = params.get('model.norm.weight')![0]!;
    assert.ok(Math.abs(decayed - 0.899000002) <= F32_ULP_AT_1, `${decayed}`);
    assert.ok(Math.abs(norm - 0.900000002) <= F32_ULP_AT_1, `${norm}`);
    const state = opt.exportState();
    assert.equal(state.tensors.get('exp_avg.model.norm.weight')![0], Math.fround(0.05));
    assert.equal(state.tensors.get('exp_avg_sq.model.norm.weight')![0], Math.fround(0.00025));
    assert.deepEqual(state.meta.noDecay, ['model.norm.weight']);
    assert.equal(opt.step, 1);
  });

  it('agrees with a float64 textbook reference over 50 steps', () => {
    const sizes = {
      'model.embed_tokens.weight': 300,
      'model.layers.0.input_layernorm.weight': 20,
      'lm_head.bias': 7,
    };
    const params = randomParams(1, sizes);
    const reference = new Map([...params].map(([k, p]) => [k, Float64Array.from(p)]));
    const config = { beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1 };
    const opt = createAdamW(params, config);
    const normal = createNormal(2);
    const grads = Array.from({ length: 50 }, () => randomParams(0, sizes)).map(
      (g) => new Map([...g].map(([k, t]) => [k, t.map(() => normal() * 0.1)])),
    );
    const lrs = grads.map((_, i) => 1e-3 * (1 + (i % 3)));
    grads.forEach((g, i) => {
      opt.update(params, g, lrs[i]!);
    });
    referenceAdamW(
      reference,
      grads,
      lrs,
      config,
      new Set(['model.layers.0.input_layernorm.weight', 'lm_head.bias']),
    );
    let maxDiff = 0;
    for (const [name, p] of params) {
      const r = reference.get(name)!;
      for (let i = 0; i < p.length; i++) maxDiff = Math.max(maxDiff, Math.abs(p[i]! - r[i]!));
    }
    // 50 float32 roundings of |p| ≲ 4 plus float32 moments: well under 1e-5.
    assert.ok(maxDiff < 1e-5, `max |Δ| = ${maxDiff}`);
    assert.ok(maxDiff > 0, 'float32 storage should differ from float64 somewhere');
  });

  it('minimises an ill-conditioned quadratic', () => {
    const n = 64;
    const scales = Float64Array.from({ length: n }, (_, i) => 10 ** ((4 * i) / (n - 1) - 2)); // 1e-2 … 1e2
    const target = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
    const params: ParamMap = new Map([['w', new Float32Array(n)]]);
    const loss = () => {
      const w = params.get('w')!;
      let s = 0;
      for (let i = 0; i < n; i++) s += 0.5 * scales[i]! * (w[i]! - target[i]!) ** 2;
      return s;
    };
    const initial = loss();
    const opt = createAdamW(params, { weightDecay: 0 });
    const schedule = createLrSchedule({ kind: 'cosine', peakLr: 0.05, warmupSteps: 10, totalSteps: 2000 });
    const grad = new Float32Array(n);
    for (let step = 0; step < 2000; step++) {
      const w = params.get('w')!;
      for (let i = 0; i < n; i++) grad[i] = scales[i]! * (w[i]! - target[i]!);
      opt.update(params, new Map([['w', grad]]), schedule(step));
    }
    assert.ok(loss() < initial * 1e-6, `loss ${loss()} from ${initial}`);
  });

  it('resumes bit-identically: N+M steps == N steps → serialise → M steps', () => {
    const sizes = {
      'model.embed_tokens.weight': 512,
      'model.layers.0.self_attn.q_proj.weight': 256,
      'model.norm.weight': 16,
    };
    const config = { weightDecay: 0.05, beta2: 0.98 };
    const schedule = createLrSchedule({
      kind: 'cosine',
      peakLr: 3e-3,
      warmupSteps: 3,
      totalSteps: 20,
      minLr: 3e-4,
    });
    /** Two micro-batches per step; grads depend on the weights and on a per-step seed. */
    const trainSteps = (
      params: ParamMap,
      state: AdamWState | undefined,
      from: number,
      to: number,
    ): AdamWState => {
      const opt = createAdamW(params, config, state);
      assert.equal(opt.step, from);
      const accumulator = createGradAccumulator(params);
      for (let step = from; step < to; step++) {
        accumulator.reset();
        for (let micro = 0; micro < 2; micro++) {
          const noise = createNormal(1000 * step + micro);
          accumulator.add(new Map([...params].map(([k, p]) => [k, p.map((x) => 0.3 * x + noise())])));
        }
        const grads = accumulator.finish();
        clipGradNorm(grads, 5);
        opt.update(params, grads, schedule(opt.step));
      }
      return opt.exportState();
    };
    const straight = randomParams(42, sizes);
    const straightState = trainSteps(straight, undefined, 0, 15);

    const resumed = randomParams(42, sizes);
    const half = trainSteps(resumed, undefined, 0, 7);
    // What a checkpoint keeps: copied tensors and JSON meta.
    const reloadedParams = cloneParamMap(resumed);
    const reloadedState: AdamWState = {
      tensors: cloneParamMap(half.tensors),
      meta: JSON.parse(JSON.stringify(half.meta)),
    };
    const resumedState = trainSteps(reloadedParams, reloadedState, 7, 15);

    for (const [name, p] of straight) {
      const q = reloadedParams.get(name)!;
      assert.equal(
        Buffer.compare(Buffer.from(p.buffer), Buffer.from(q.buffer)),
        0,
        `weights of ${name} differ`,
      );
    }
    for (const [name, t] of straightState.tensors) {
      const u = resumedState.tensors.get(name)!;
      assert.equal(Buffer.compare(Buffer.from(t.buffer), Buffer.from(u.buffer)), 0, `state ${name} differs`);
    }
    assert.deepEqual(resumedState.meta, straightState.meta);
  });

  it('refuses a state that does not match the config or the parameters', () => {
    const params = randomParams(3, { a: 4, 'b.bias': 2 });
    const opt = createAdamW(params, { weightDecay: 0.1 });
    opt.update(params, randomParams(4, { a: 4, 'b.bias': 2 }), 1e-3);
    const state = opt.exportState();
    assert.throws(() => createAdamW(params, { weightDecay: 0.2 }, state), /weightDecay 0.1 in state vs 0.2/);
    assert.throws(() => createAdamW(params, { weightDecay: 0.1, isNoDecay: () => false }, state), /no-decay/);
    assert.throws(
      () => createAdamW(randomParams(3, { a: 5, 'b.bias': 2 }), { weightDecay: 0.1 }, state),
      /names\/sizes/,
    );
    assert.throws(() => opt.update(params, randomParams(4, { a: 4 }), 1e-3), /missing 'b.bias'/);
    assert.throws(() => createAdamW(params, { beta1: 1, epsilon: 0 }), /beta1.*epsilon/);
  });
});
