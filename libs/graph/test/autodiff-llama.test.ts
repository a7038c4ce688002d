import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createGraph, replayGraph } from '../src/index.js';
import { analyticGrads, type GradcheckSpec, gradcheck, makeData } from './gradcheck.js';
import { buildTinyLlamaLoss, type TinyLlamaConfig, tinyLlamaFeeds } from './gradcheck-llama.js';

// Whole-model checks: every parameter tensor of a 2-layer GQA Llama, random weights, padding masks.
// FD tolerance as in gradcheck.ts (float64, h = 1e-6, rtol 1e-5 with absFloor 1e-3).
// float32-vs-float64 analytic: max|g32 − g64| / max|g64| per tensor ≤ 1e-4. float32 rounds at
// ε ≈ 6e-8 per op; a few hundred ops with O(10)-term sums give ~1e-6 (the probe saw 1.6e-6), so
// 1e-4 keeps two orders of margin while a wrong float32-only path (a fusion, a dtype slip) is O(1).

const base: Omit<TinyLlamaConfig, 'tied'> = {
  vocab: 11,
  hidden: 8,
  layers: 2,
  heads: 2,
  kvHeads: 1,
  ffn: 12,
};

function specOf(tied: boolean): GradcheckSpec {
  const cfg = { ...base, tied };
  return {
    build: (g, dt) => buildTinyLlamaLoss(g, dt, cfg),
    feeds: tinyLlamaFeeds(cfg.vocab),
    // Norm weights near 1 like a trained model; everything else uniform [-1, 1].
    ranges: Object.fromEntries(
      [
        'model.norm.weight',
        ...[0, 1].flatMap((l) =>
          ['input_layernorm', 'post_attention_layernorm'].map((n) => `model.layers.${l}.${n}.weight`),
        ),
      ].map((n) => [n, [0.5, 1.5] as const]),
    ),
    entries: 8,
  };
}

for (const tied of [true, false]) {
  test(`tiny Llama (${tied ? 'tied' : 'untied'} head): every parameter tensor matches central differences`, async () => {
    const spec = specOf(tied);
    const r = await gradcheck(spec);
    assert.equal(r.tensors.length, tied ? 20 : 21);
    for (const t of r.tensors) assert.ok(t.maxAbsGrad > 1e-6, `${t.name}: gradient is zero`);
    console.log(
      `${tied ? 'tied' : 'untied'}: loss ${r.loss.toFixed(6)}, ${r.tensors.reduce((a, t) => a + t.checked, 0)} entries, ` +
        `worst rel ${r.worstRel.toExponential(2)}, worst abs ${r.worstAbs.toExponential(2)}`,
    );
  });

  test(`tiny Llama (${tied ? 'tied' : 'untied'} head): float32 analytic gradients match float64`, async () => {
    const spec = specOf(tied);
    const data = makeData(spec);
    const g64 = await analyticGrads(spec, data, 'float64');
    const g32 = await analyticGrads(spec, data, 'float32');
    assert.ok(Math.abs(g32.loss - g64.loss) < 1e-5 * Math.abs(g64.loss), `loss ${g32.loss} vs ${g64.loss}`);
    let worst = 0;
    for (const [name, a] of g64.grads) {
      const b = g32.grads.get(name);
      assert.ok(b);
      const scale = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const diff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
      worst = Math.max(worst, diff / scale);
      assert.ok(diff <= 1e-4 * scale, `${name}: max|g32 − g64| ${diff} vs max|g64| ${scale}`);
    }
    console.log(
      `${tied ? 'tied' : 'untied'}: ${g64.nodes} nodes, worst max|g32−g64|/max|g64| ${worst.toExponential(2)}`,
    );
  });
}

test('a graph built in float32 only, replayed as float64 (replayGraph), passes the same check', async () => {
  const cfg = { ...base, tied: true };
  const r = await gradcheck({
    // How an architecture that only builds float32 (libs/models today) gets a float64 gradient check.
    build(g, dt) {
      const src = createGraph();
      const loss = buildTinyLlamaLoss(src, 'float32', cfg);
      const map = replayGraph(g, src, { floatDtype: dt });
      const out = map.get(loss.name);
      assert.ok(out && out.dtype === dt);
      return out;
    },
    feeds: tinyLlamaFeeds(cfg.vocab),
    entries: 4,
  });
  assert.equal(r.tensors.length, 20);
});
