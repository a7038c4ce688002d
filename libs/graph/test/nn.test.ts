import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createGraph, createSession, decodeOnnxModel, toOnnxModel } from '../src/index.js';
import { assertClose, evalGraph, tensorOf } from './harness.js';
import * as R from './reference.js';

const r = R.rng(4);

test('rotary: cos/sin from position ids and rotate_half application', async () => {
  const g = createGraph();
  const x = g.input('x', 'float32', ['batch', 2, 'seq', 4]);
  const pos = g.input('pos', 'int64', ['batch', 'seq']);
  const { cos, sin } = g.rotaryCosSin(pos, { headDim: 4, theta: 10000 });
  assert.deepEqual(cos.shape, ['batch', 1, 'seq', 4]);
  g.output('y', g.applyRotary(x, cos, sin));
  const xa = R.randn([1, 2, 3, 4], r);
  const pa = { dims: [1, 3], data: [5, 6, 7] };
  const out = await evalGraph(g, { x: tensorOf(xa), pos: tensorOf(pa, 'int64') });
  const inv = [1, 1 / 10000 ** 0.5];
  const ref = R.build([1, 2, 3, 4], ([b, h, t, d]) => {
    const p = pa.data[t!]!;
    const f = p * inv[d! % 2]!; // dims pair (0,2) and (1,3) share a frequency
    const xi = R.get(xa, [b!, h!, t!, d!]);
    const rot = d! < 2 ? -R.get(xa, [b!, h!, t!, d! + 2]) : R.get(xa, [b!, h!, t!, d! - 2]);
    return xi * Math.cos(f) + rot * Math.sin(f);
  });
  assertClose(out.y, ref, 1e-5, 'rotary');
});

test('attention bias: causal with a KV-cache offset plus padding; attention matches the reference', async () => {
  const g = createGraph();
  const q = g.input('q', 'float32', ['batch', 2, 'seq', 4]);
  const k = g.input('k', 'float32', ['batch', 2, 'total', 4]);
  const v = g.input('v', 'float32', ['batch', 2, 'total', 4]);
  const mask = g.input('mask', 'int64', ['batch', 'total']);
  const bias = g.attentionBias({ queryLen: 'seq', keyLen: 'total', paddingMask: mask });
  assert.deepEqual(bias.shape, ['batch', 1, 'seq', 'total']);
  g.output('bias', bias);
  g.output('att', g.attention(q, k, v, bias));
  const [B, T, K] = [2, 2, 5];
  const qa = R.randn([B, 2, T, 4], r);
  const ka = R.randn([B, 2, K, 4], r);
  const va = R.randn([B, 2, K, 4], r);
  const ma = { dims: [B, K], data: [1, 1, 1, 1, 1, 0, 1, 1, 1, 1] };
  const out = await evalGraph(g, {
    q: tensorOf(qa),
    k: tensorOf(ka),
    v: tensorOf(va),
    mask: tensorOf(ma, 'int64'),
  });
  const refBias = R.build([B, 1, T, K], ([b, , i, j]) => {
    const future = j! > K - T + i! ? -1e9 : 0;
    const pad = R.get(ma, [b!, j!]) === 0 ? -1e9 : 0;
    return future + pad;
  });
  assertClose(out.bias, refBias, 1e-6, 'bias');
  const scores = R.map([R.matmul(qa, R.transpose(ka, [0, 1, 3, 2])), refBias], (s, bb) => s / 2 + bb);
  assertClose(out.att, R.matmul(R.softmax(scores), va), 1e-5, 'attention');
});

test('norm and gelu composites are emitted in the patterns ORT fuses (SimplifiedLayerNorm, LayerNorm, Gelu)', async () => {
  const g = createGraph();
  const x = g.input('x', 'float32', ['b', 's', 16]);
  const w = g.param('w', 'float32', [16], new Float32Array(16).fill(1.5));
  const bias = g.param('bias', 'float32', [16], new Float32Array(16).fill(0.25));
  g.output('rms', g.rmsNorm(x, w, 1e-5, { fusable: true }));
  g.output('ln', g.layerNorm(x, w, bias, 1e-5, { fusable: true }));
  g.output('gelu', g.gelu(x));
  // The default forms stay unfused (parity-stable); only the fusable ones may become fused ops.
  g.output('rmsPlain', g.rmsNorm(x, w, 1e-5));
  const dir = await mkdtemp(join(tmpdir(), 'graph-fuse-'));
  try {
    const path = join(dir, 'opt.onnx');
    const s = await createSession(toOnnxModel(g), { optimizationLevel: 'all', optimizedModelPath: path });
    await s.release();
    const ops = decodeOnnxModel(await readFile(path)).graph!.node!.map((n) => n.opType);
    assert.equal(ops.filter((o) => o === 'SimplifiedLayerNormalization').length, 1, ops.join(' '));
    assert.ok(ops.includes('LayerNormalization'), ops.join(' '));
    assert.ok(ops.includes('Gelu'), ops.join(' '));
  } finally {
    await rm(dir, { recursive: true });
  }
});
