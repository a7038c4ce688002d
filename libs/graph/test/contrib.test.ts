import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  ABSENT_INPUT,
  createGraph,
  createSession,
  createSessionPool,
  createTensor,
  type Tensor,
  toOnnxModel,
} from '../src/index.js';

// com.microsoft GroupQueryAttention (decode, one new token) against a JS reference, and the
// `outputsInto` run option that binds its present outputs to the past buffers (in-place append),
// and the pool's `returnFeeds`.

const [B, NH, KV, D, CAP, PAST] = [3, 4, 2, 8, 10, 5];
const TOTAL = PAST + 1;
// Row 1 and 2 are left-padded: their first 2 and 4 positions are masked out.
const MASK = [1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1];

function gqaModel(): Uint8Array {
  const g = createGraph();
  const q = g.input('q', 'float32', ['batch', 1, NH * D]);
  const k = g.input('k', 'float32', ['batch', 1, KV * D]);
  const v = g.input('v', 'float32', ['batch', 1, KV * D]);
  const pk = g.input('past_key', 'float32', ['batch', KV, 'cap', D]);
  const pv = g.input('past_value', 'float32', ['batch', KV, 'cap', D]);
  const seqlens = g.input('seqlens_k', 'int32', ['batch']);
  const total = g.input('total', 'int32', []);
  const bias = g.input('bias', 'float32', ['batch', 1, 1, 'total']);
  const [out, presentKey, presentValue] = g.node(
    'GroupQueryAttention',
    [q, k, v, pk, pv, seqlens, total, ABSENT_INPUT, ABSENT_INPUT, ABSENT_INPUT, bias],
    { num_heads: NH, kv_num_heads: KV, scale: 1 / Math.sqrt(D) },
    ['out', 'present_key', 'present_value'],
  );
  g.output('out', out!);
  g.output('present_key', presentKey!);
  g.output('present_value', presentValue!);
  return toOnnxModel(g);
}

let seed = 7;
const rand = (n: number) =>
  Float32Array.from({ length: n }, () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed / 2 ** 31) * 2 - 1;
  });

function makeFeeds(): Record<string, Tensor> {
  return {
    q: createTensor('float32', [B, 1, NH * D], rand(B * NH * D)),
    k: createTensor('float32', [B, 1, KV * D], rand(B * KV * D)),
    v: createTensor('float32', [B, 1, KV * D], rand(B * KV * D)),
    past_key: createTensor('float32', [B, KV, CAP, D], rand(B * KV * CAP * D)),
    past_value: createTensor('float32', [B, KV, CAP, D], rand(B * KV * CAP * D)),
    seqlens_k: createTensor('int32', [B], new Int32Array(B).fill(TOTAL - 1)),
    total: createTensor('int32', [], Int32Array.of(TOTAL)),
    bias: createTensor(
      'float32',
      [B, 1, 1, TOTAL],
      Float32Array.from(MASK, (m) => (m ? 0 : -1e9)),
    ),
  };
}

/** float64 softmax(q·kᵀ/√D + bias)·v, query head h using KV head ⌊h / (NH/KV)⌋ (HF repeat_kv). */
function reference(f: Record<string, Tensor>): Float64Array {
  const [q, k, v, pk, pv] = ['q', 'k', 'v', 'past_key', 'past_value'].map((n) => f[n]!.data as Float32Array);
  const out = new Float64Array(B * NH * D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const j = Math.floor(h / (NH / KV));
      const at = (cache: Float32Array, now: Float32Array, t: number, d: number) =>
        t < PAST ? cache[((b * KV + j) * CAP + t) * D + d]! : now[(b * KV + j) * D + d]!;
      const s = Array.from({ length: TOTAL }, (_, t) => {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q![(b * NH + h) * D + d]! * at(pk!, k!, t, d);
        return dot / Math.sqrt(D) + (MASK[b * TOTAL + t] ? 0 : -1e9);
      });
      const m = Math.max(...s);
      const e = s.map((x) => Math.exp(x - m));
      const z = e.reduce((a, c) => a + c, 0);
      for (let d = 0; d < D; d++) {
        let acc = 0;
        for (let t = 0; t < TOTAL; t++) acc += (e[t]! / z) * at(pv!, v!, t, d);
        out[(b * NH + h) * D + d] = acc;
      }
    }
  }
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The cache after the step: the past with the new key/value at position PAST of every (row, head). */
function appended(past: Float32Array, now: Float32Array): Float32Array {
  const out = Float32Array.from(past);
  for (let bh = 0; bh < B * KV; bh++) out.set(now.subarray(bh * D, (bh + 1) * D), (bh * CAP + PAST) * D);
  return out;
}

describe('GroupQueryAttention (com.microsoft) decode step', () => {
  const model = gqaModel();
  const pool = createSessionPool({ workers: 1 });
  after(() => pool.close());

  it('matches the JS reference with left-padding bias; present = past + new position', async () => {
    const s = await createSession(model);
    const feeds = makeFeeds();
    const out = await s.run(feeds);
    assert.ok(maxDiff(out['out']!.data as Float32Array, reference(feeds)) < 1e-5);
    assert.deepEqual(out['present_key']!.dims, [B, KV, CAP, D]);
    const pk = feeds['past_key']!.data as Float32Array;
    const want = appended(pk, feeds['k']!.data as Float32Array);
    const got = out['present_key']!.data as Float32Array;
    // Without aliasing only the valid prefix (past + new) is defined.
    for (let bh = 0; bh < B * KV; bh++) {
      const from = bh * CAP * D;
      assert.deepEqual(got.subarray(from, from + TOTAL * D), want.subarray(from, from + TOTAL * D));
    }
    await s.release();
  });

  it('outputsInto through the pool: the fed buffers come back, appended in place, nothing else written', async () => {
    const session = await pool.load(model);
    const feeds = makeFeeds();
    const ref = reference(feeds);
    const pastKey = Float32Array.from(feeds['past_key']!.data as Float32Array);
    const pastValue = Float32Array.from(feeds['past_value']!.data as Float32Array);
    const newKey = Float32Array.from(feeds['k']!.data as Float32Array);
    const newValue = Float32Array.from(feeds['v']!.data as Float32Array);
    const fedKeyBuffer = feeds['past_key']!.data.buffer;
    const out = await session.run(feeds, {
      outputsInto: { present_key: 'past_key', present_value: 'past_value' },
    });
    // The feed was transferred to the worker (detached here) and is the buffer that came back.
    assert.equal(fedKeyBuffer.byteLength, 0);
    assert.ok(maxDiff(out['out']!.data as Float32Array, ref) < 1e-5);
    assert.deepEqual(out['present_key']!.data, appended(pastKey, newKey));
    assert.deepEqual(out['present_value']!.data, appended(pastValue, newValue));
    await session.release();
  });

  it('returnFeeds hands fed buffers back (transferred, contents unchanged); unknown names are errors', async () => {
    const session = await pool.load(model);
    const feeds = makeFeeds();
    const pastKey = Float32Array.from(feeds['past_key']!.data as Float32Array);
    const out = await session.run(feeds, { returnFeeds: ['past_key'] });
    assert.equal(feeds['past_key']!.data.byteLength, 0); // moved to the worker, not copied
    assert.deepEqual(out['past_key']!.data, pastKey);
    assert.deepEqual(out['past_key']!.dims, [B, KV, CAP, D]);
    assert.ok(out['out'] !== undefined);
    await assert.rejects(
      session.run(makeFeeds(), { returnFeeds: ['nope'] }),
      /returnFeeds: nope is not a feed/,
    );
    await session.release();
  });

  it('outputsInto naming a feed that is not fed is an error', async () => {
    const s = await createSession(model);
    await assert.rejects(
      s.run(makeFeeds(), { outputsInto: { present_key: 'nope' } }),
      /outputsInto: present_key names feed nope/,
    );
    await s.release();
  });
});
