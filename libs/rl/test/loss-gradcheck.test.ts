import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createGraph,
  createSession,
  createTensor,
  grad,
  type Tensor,
  toOnnxModel,
  type Value,
} from '@verdict/graph';
import { sequenceImportanceWeight } from '../src/kl/importance-weights.js';
import { klTerm } from '../src/kl/kl-estimators.js';
import type { LossAggregation } from '../src/losses/aggregate.js';
import { buildPolicyLoss, type PolicyLossOptions } from '../src/losses/policy-loss.js';
import { buildSftLoss } from '../src/losses/sft-loss.js';
import { tokenEntropy, tokenLogprobs } from '../src/losses/token-logprobs.js';
import { buildValueLoss } from '../src/losses/value-loss.js';

// Float64 loss graphs differentiated by `grad`, checked by central differences. With h = 1e-6 the
// truncation error is O(h²·f''') ≈ 1e-12 and the rounding error ≈ 1e-16·|f|/h ≈ 1e-10, so a
// tolerance of 1e-7·max(1, |g|) leaves two orders of margin; a wrong VJP is off by O(|g|).
const B = 2;
const T = 4;
const V = 5;
const H = 1e-6;

function rand(seed: number, n: number, scale = 1): Float64Array {
  return Float64Array.from(
    { length: n },
    (_, i) => ((Math.sin(seed * 12.9898 + i * 78.233) * 43758.5453) % 1) * scale,
  );
}

const targets = BigInt64Array.from({ length: B * T }, (_, i) => BigInt((i * 3 + 1) % V));
// Row 1 has padding at the end; row 0 masks its first token (a "prompt").
const mask = Float64Array.from([0, 1, 1, 1, 1, 1, 0, 0]);

interface Case {
  readonly build: (
    g: ReturnType<typeof createGraph>,
    x: Value,
  ) => { loss: Value; metrics: Record<string, Value> };
  readonly feeds: Record<string, Tensor>;
  readonly xShape: number[];
  readonly x: Float64Array;
}

async function check(c: Case) {
  const g = createGraph();
  const x = g.param('x', 'float64', c.xShape);
  const { loss, metrics } = c.build(g, x);
  grad(g, loss, [x], { extraOutputs: metrics });
  const session = await createSession(toOnnxModel(g, { params: 'inputs' }), { optimizationLevel: 'basic' });
  const run = async (xv: Float64Array) =>
    session.run({ ...c.feeds, x: createTensor('float64', c.xShape, xv) });
  const out = await run(c.x);
  const analytic = out['grad.x']!.data as Float64Array;
  let worst = 0;
  for (let i = 0; i < c.x.length; i++) {
    const plus = c.x.slice();
    plus[i] = plus[i]! + H;
    const minus = c.x.slice();
    minus[i] = minus[i]! - H;
    const fd =
      (Number((await run(plus))['loss']!.data[0]) - Number((await run(minus))['loss']!.data[0])) / (2 * H);
    const err = Math.abs(fd - analytic[i]!) / Math.max(1, Math.abs(fd));
    worst = Math.max(worst, err);
  }
  await session.release?.();
  return { out, worst, analytic };
}

const f64 = (dims: number[], data: Float64Array) => createTensor('float64', dims, data);
const baseFeeds = { targets: createTensor('int64', [B, T], targets), mask: f64([B, T], mask) };
const logits0 = rand(1, B * T * V, 3);

function jsLogprobs(logits: Float64Array): number[] {
  const out: number[] = [];
  for (let p = 0; p < B * T; p++) {
    const row = logits.subarray(p * V, p * V + V);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    out.push(row[Number(targets[p])]! - lse);
  }
  return out;
}

function policyCase(options: PolicyLossOptions, feeds: Record<string, Float64Array>, entropy = false): Case {
  return {
    xShape: [B, T, V],
    x: logits0,
    feeds: {
      ...baseFeeds,
      ...Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, f64([B, T], v)])),
    },
    build(g, x) {
      const inp = (name: string) => (name in feeds ? g.input(name, 'float64', [B, T]) : undefined);
      const logprobs = tokenLogprobs(g, x, g.input('targets', 'int64', [B, T]));
      return buildPolicyLoss(
        g,
        {
          logprobs,
          mask: g.input('mask', 'float64', [B, T]),
          advantages: inp('advantages')!,
          behaviourLogprobs: inp('behaviour_logprobs')!,
          refLogprobs: inp('ref_logprobs'),
          rolloutLogprobs: inp('rollout_logprobs'),
          entropy: entropy ? tokenEntropy(g, x) : undefined,
        },
        options,
      );
    },
  };
}

for (const est of ['k1', 'k3'] as const) {
  test(`KL (${est}) in the loss: 0 at policy = reference; value matches klTerm and gradient matches FD otherwise`, async () => {
    const lp = Float64Array.from(jsLogprobs(logits0));
    const zeroA = new Float64Array(B * T);
    const same = await check(
      policyCase(
        { klCoef: 1, klEstimator: est },
        { advantages: zeroA, behaviour_logprobs: lp, ref_logprobs: lp },
      ),
    );
    assert.ok(Math.abs(Number(same.out['kl']!.data[0])) < 1e-15, `kl ${same.out['kl']!.data[0]}`);
    // At π = π_ref the k3 gradient vanishes (minimum); k1's gradient is the score, nonzero per token but
    // it sums to ~0 only in expectation, so only FD agreement is asserted for it.
    if (est === 'k3') assert.ok(same.analytic.every((v) => Math.abs(v) < 1e-12));
    assert.ok(same.worst < 1e-7, `worst FD error at π = π_ref: ${same.worst}`);

    const ref = Float64Array.from(lp, (v, i) => v + rand(9, B * T, 0.8)[i]!);
    const r = await check(
      policyCase(
        { klCoef: 1, klEstimator: est },
        { advantages: zeroA, behaviour_logprobs: lp, ref_logprobs: ref },
      ),
    );
    let num = 0;
    let den = 0;
    for (let i = 0; i < B * T; i++) {
      num += mask[i]! * klTerm(est, lp[i]!, ref[i]!);
      den += mask[i]!;
    }
    assert.ok(Math.abs(Number(r.out['kl']!.data[0]) - num / den) < 1e-12);
    assert.ok(Math.abs(Number(r.out['loss']!.data[0]) - num / den) < 1e-12);
    assert.ok(r.worst < 1e-7, `worst FD error: ${r.worst}`);
  });
}

for (const aggregation of ['token-mean', 'sequence-mean'] as LossAggregation[]) {
  test(`clipped surrogate + KL + entropy + truncated IS (${aggregation}): gradient matches FD`, async () => {
    const lp = jsLogprobs(logits0);
    const noise = rand(4, B * T, 0.6);
    const behaviour = Float64Array.from(lp, (v, i) => v + noise[i]!); // ratios 0.55–1.8
    const rollout = Float64Array.from(behaviour, (v, i) => v + rand(8, B * T, 0.4)[i]!);
    // Advantages agree in sign with log(ratio) = −noise, so the clipped branch is active where |noise| > ε.
    const r = await check(
      policyCase(
        {
          clipLow: 0.2,
          clipHigh: 0.28,
          klCoef: 0.05,
          entropyCoef: 0.01,
          aggregation,
          truncatedIs: { cap: 1.1, aggregation: 'sum' },
        },
        {
          advantages: Float64Array.from(noise, (v) => -3 * v),
          behaviour_logprobs: behaviour,
          ref_logprobs: Float64Array.from(lp, (v, i) => v + rand(6, B * T, 0.3)[i]!),
          rollout_logprobs: rollout,
        },
        true,
      ),
    );
    // The in-graph sequence weight equals the JS reference (one row is truncated at the cap).
    const rows = [0, 1].map((b) =>
      sequenceImportanceWeight(
        behaviour.subarray(b * T, b * T + T),
        rollout.subarray(b * T, b * T + T),
        { cap: 1.1 },
        mask.subarray(b * T, b * T + T),
      ),
    );
    assert.deepEqual(
      rows.map((w) => w.truncated),
      [false, true],
    );
    const expectedW = (rows[0]!.weight + rows[1]!.weight) / 2;
    assert.ok(Math.abs(Number(r.out['is_weight_mean']!.data[0]) - expectedW) < 1e-12);
    const clip = Number(r.out['clip_fraction']!.data[0]);
    assert.ok(clip > 0 && clip < 1, `clip fraction ${clip} should exercise both branches`);
    assert.ok(r.worst < 1e-7, `worst FD error: ${r.worst}`);
  });
}

test('masked cross-entropy (SFT): value = mean NLL over the mask, gradient matches FD', async () => {
  const r = await check({
    xShape: [B, T, V],
    x: logits0,
    feeds: baseFeeds,
    build: (g, x) =>
      buildSftLoss(g, {
        logprobs: tokenLogprobs(g, x, g.input('targets', 'int64', [B, T])),
        mask: g.input('mask', 'float64', [B, T]),
      }),
  });
  const lp = jsLogprobs(logits0);
  const expected = -lp.reduce((s, v, i) => s + v * mask[i]!, 0) / 5;
  assert.ok(Math.abs(Number(r.out['loss']!.data[0]) - expected) < 1e-12);
  assert.ok(r.worst < 1e-7, `worst FD error: ${r.worst}`);
});

test('clipped value loss: gradient matches FD with both branches active', async () => {
  const old = rand(11, B * T, 1);
  const r = await check({
    xShape: [B, T],
    x: Float64Array.from(old, (v, i) => v + rand(12, B * T, 0.6)[i]!),
    feeds: {
      mask: f64([B, T], mask),
      old_values: f64([B, T], old),
      returns: f64([B, T], rand(13, B * T, 1)),
    },
    build: (g, x) =>
      buildValueLoss(
        g,
        {
          values: x,
          oldValues: g.input('old_values', 'float64', [B, T]),
          returns: g.input('returns', 'float64', [B, T]),
          mask: g.input('mask', 'float64', [B, T]),
        },
        { clipRange: 0.2 },
      ),
  });
  const frac = Number(r.out['vf_clip_fraction']!.data[0]);
  assert.ok(frac > 0 && frac < 1, `value clip fraction ${frac}`);
  assert.ok(r.worst < 1e-7, `worst FD error: ${r.worst}`);
});
