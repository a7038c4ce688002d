import { join } from 'node:path';
import { type GraphBuilder, replayGraph, type Value } from '@verdict/graph';
import { createModelTokenizer, locateSharedDir, type ModelTokenizer } from '@verdict/models';

/** The two tiny random OPT checkpoints of shared/fixtures/opt-tiny (see its README). */
export const OPT_TINY = ['opt-tiny-galactica', 'opt-tiny-350m-style'] as const;

/** The fixture folder; locateSharedDir throws NOT_FOUND naming where it looked when shared data is absent. */
export function optTinyDir(name: string): string {
  return join(locateSharedDir(), 'fixtures', 'opt-tiny', name);
}

/**
 * The fixtures ship no tokenizer (references are on ids): a WordPiece tokenizer over the ids with
 * OPT's specials (<s> 0, <pad> 1, </s> 2), as libs/models/test/opt-helpers.ts builds it.
 */
export function idTokenizer(vocabSize: number): ModelTokenizer {
  const specials = ['<s>', '<pad>', '</s>', '<unk>'];
  const vocab: Record<string, number> = {};
  for (let i = 0; i < vocabSize; i++) vocab[specials[i] ?? `t${i}`] = i;
  return createModelTokenizer(
    {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: specials.map((content, id) => ({
        id,
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
      normalizer: null,
      pre_tokenizer: { type: 'Whitespace' },
      post_processor: null,
      decoder: { type: 'WordPiece', prefix: '##', cleanup: false },
      model: {
        type: 'WordPiece',
        unk_token: '<unk>',
        continuing_subword_prefix: '##',
        max_input_chars_per_word: 100,
        vocab,
      },
    },
    { bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>' },
  );
}

/** Taylor terms of erf: enough for |x/√2| ≤ 3 to ~1e-12 in float64 (last term ≈ 5e-27, cancellation ≈ e⁹·ε). */
const ERF_TERMS = 60;
/** Largest |z| the series is trusted for; callers check the activations stay below it. */
export const ERF_SERIES_LIMIT = 3;

/**
 * erf(z) = 2/√π · Σ (−1)ⁿ z^(2n+1) / (n!(2n+1)), Horner in z², from primitives only. ORT's CPU Erf
 * kernel is float32-only, so the float64 replay of an exact-GELU model (Galactica) swaps it for
 * this; autodiff then differentiates the series (its derivative is erf′ to the same accuracy), and
 * the float32 run (real Erf and its VJP) is compared with the float64 gradients separately.
 */
function erfSeries(g: GraphBuilder, z: Value, id: number): Value {
  // Explicit names: the replay keeps the source graph's value names, which the builder's automatic
  // names (add_N, ...) of new nodes could collide with.
  let k = 0;
  const name = () => `erf_series_${id}_${k++}`;
  const op = (type: string, a: Value, b: Value) => g.node(type, [a, b], {}, [name()])[0]!;
  const scalar = (v: number) => g.initializer(name(), Float64Array.of(v), [], 'float64');
  const coefs: number[] = [];
  let coef = 1; // (−1)ⁿ / n!
  for (let n = 0; n < ERF_TERMS; n++) {
    coefs.push(coef / (2 * n + 1));
    coef = -coef / (n + 1);
  }
  const w = op('Mul', z, z);
  let acc = op('Add', op('Mul', w, scalar(0)), scalar(coefs[ERF_TERMS - 1]!));
  for (let n = ERF_TERMS - 2; n >= 0; n--) acc = op('Add', op('Mul', acc, w), scalar(coefs[n]!));
  return op('Mul', op('Mul', z, acc), scalar(2 / Math.sqrt(Math.PI)));
}

/**
 * `replayGraph` into float64 except that each Erf node becomes `erfSeries` (see there). Names of
 * every other value are kept, so the loss is found by name as with replayGraph.
 */
export function replayFloat64WithErfSeries(dst: GraphBuilder, src: GraphBuilder): Map<string, Value> {
  const erfs = src.nodes.filter((n) => n.op === 'Erf');
  if (erfs.length === 0) return replayGraph(dst, src, { floatDtype: 'float64' });
  // replayGraph copies every node as is and has no hook per op, so this is its loop (same float
  // conversions) with Erf swapped.
  const map = new Map<string, Value>();
  for (const v of src.inputs) map.set(v.name, dst.input(v.name, f64(v.dtype), v.shape));
  for (const [name, p] of src.params) {
    const data = p.data && (p.data instanceof Float32Array ? Float64Array.from(p.data) : p.data);
    map.set(name, dst.param(name, f64(p.value.dtype), p.value.shape as number[], data));
  }
  for (const [name, t] of src.constants) {
    const data = t.data instanceof Float32Array ? Float64Array.from(t.data) : t.data;
    map.set(name, dst.initializer(name, data, t.dims, f64(t.dtype)));
  }
  for (const n of src.nodes) {
    const inputs = n.inputs.map((i) => {
      const v = map.get(i);
      if (!v) throw new Error(`replay: ${i} is not defined before ${n.op}`);
      return v;
    });
    if (n.op === 'Erf') {
      map.set(n.outputs[0]!, erfSeries(dst, inputs[0]!, map.size));
      continue;
    }
    const to = n.attrs['to'];
    // ONNX TensorProto codes: FLOAT = 1, DOUBLE = 11.
    const attrs = n.op === 'Cast' && (to === 1 || to === 11) ? { ...n.attrs, to: 11 } : n.attrs;
    for (const v of dst.node(n.op, inputs, attrs, n.outputs)) map.set(v.name, v);
  }
  return map;
}

function f64<D extends string>(d: D): D | 'float64' {
  return d === 'float32' || d === 'float64' ? 'float64' : d;
}
