import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clipGradNorm, globalGradNorm } from './clip-grad-norm.js';
import { createGradAccumulator } from './grad-accumulator.js';
import { createLrSchedule } from './lr-schedule.js';
import { isDefaultNoDecayParam } from './no-decay.js';
import type { ParamMap } from './param-map.js';

describe('clipGradNorm', () => {
  it('returns the pre-clip norm and scales to maxNorm', () => {
    const grads: ParamMap = new Map([
      ['a', new Float32Array([3])],
      ['b', new Float32Array([0, 4])],
    ]);
    assert.equal(clipGradNorm(grads, 1), 5);
    assert.ok(Math.abs(globalGradNorm(grads) - 1) < 1e-6);
    assert.ok(Math.abs(grads.get('a')![0]! - 0.6) < 1e-6);
    const small: ParamMap = new Map([['a', new Float32Array([0.3, 0.4])]]);
    assert.ok(Math.abs(clipGradNorm(small, 1) - 0.5) < 1e-7);
    assert.deepEqual([...small.get('a')!], [Math.fround(0.3), Math.fround(0.4)]);
  });

  it('leaves non-finite gradients untouched and reports the norm', () => {
    const grads: ParamMap = new Map([['a', new Float32Array([Number.NaN, 1])]]);
    assert.ok(Number.isNaN(clipGradNorm(grads, 1)));
    assert.equal(grads.get('a')![1], 1);
  });
});

describe('createLrSchedule', () => {
  it('warmup then cosine to the floor', () => {
    const s = createLrSchedule({ kind: 'cosine', peakLr: 1, warmupSteps: 4, totalSteps: 14, minLr: 0.1 });
    assert.deepEqual([0, 1, 2, 3].map(s), [0.25, 0.5, 0.75, 1]);
    assert.equal(s(4), 1);
    assert.ok(Math.abs(s(9) - 0.55) < 1e-12); // halfway: 0.1 + 0.9·0.5
    assert.ok(Math.abs(s(14) - 0.1) < 1e-12);
    assert.ok(Math.abs(s(100) - 0.1) < 1e-12);
  });

  it('linear decay and constant', () => {
    const s = createLrSchedule({ kind: 'linear', peakLr: 2, totalSteps: 10 });
    assert.deepEqual([0, 5, 10, 11].map(s), [2, 1, 0, 0]);
    const c = createLrSchedule({ kind: 'constant', peakLr: 0.5, warmupSteps: 2 });
    assert.deepEqual([0, 1, 2, 1000].map(c), [0.25, 0.5, 0.5, 0.5]);
  });

  it('validates the config', () => {
    assert.throws(
      () => createLrSchedule({ kind: 'cosine', peakLr: 1, warmupSteps: 10, totalSteps: 5 }),
      /totalSteps/,
    );
    assert.throws(() => createLrSchedule({ kind: 'constant', peakLr: 1, minLr: 2 }), /minLr/);
  });
});

describe('createGradAccumulator', () => {
  it('sums then scales (mean by default, custom scale)', () => {
    const layout: ParamMap = new Map([['w', new Float32Array(2)]]);
    const acc = createGradAccumulator(layout);
    acc.add(new Map([['w', new Float32Array([1, 2])]]));
    acc.add(new Map([['w', new Float32Array([3, 6])]]));
    assert.equal(acc.count, 2);
    assert.deepEqual([...acc.finish().get('w')!], [2, 4]);
    assert.throws(() => acc.add(new Map([['w', new Float32Array(2)]])), /reset/);
    acc.reset();
    acc.add(new Map([['w', new Float32Array([10, 20])]]));
    assert.deepEqual([...acc.finish(0.1).get('w')!], [1, 2]);
  });

  it('rejects mismatched layouts and empty finishes', () => {
    const acc = createGradAccumulator(new Map([['w', new Float32Array(2)]]));
    assert.throws(() => acc.finish(), /empty/);
    assert.throws(() => acc.add(new Map([['w', new Float32Array(3)]])), /3 elements, expected 2/);
  });
  it('weighted: adds weight · grads and tracks the weights (a weighted mean with finish(1 / weight))', () => {
    const acc = createGradAccumulator(new Map([['w', new Float32Array(2)]]));
    acc.add(new Map([['w', new Float32Array([1, 2])]]), 3);
    acc.add(new Map([['w', new Float32Array([5, 6])]]), 1);
    assert.equal(acc.weight, 4);
    assert.deepEqual([...acc.finish(1 / acc.weight).get('w')!], [2, 3]);
    acc.reset();
    assert.equal(acc.weight, 0);
    assert.throws(() => acc.add(new Map([['w', new Float32Array(2)]]), -1), /weight must be finite and >= 0/);
  });
});

describe('isDefaultNoDecayParam', () => {
  it('excludes biases and norms by Hugging Face name, decays the rest', () => {
    const noDecay = [
      'model.norm.weight',
      'model.layers.3.input_layernorm.weight',
      'model.layers.3.post_attention_layernorm.weight',
      'model.layers.0.self_attn.q_norm.weight',
      'model.layers.0.self_attn.q_proj.bias',
    ];
    const decay = ['model.embed_tokens.weight', 'lm_head.weight', 'model.layers.0.mlp.down_proj.weight'];
    for (const n of noDecay) assert.equal(isDefaultNoDecayParam(n), true, n);
    for (const n of decay) assert.equal(isDefaultNoDecayParam(n), false, n);
  });
});
