import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  createRandomLlamaWeights,
  isModelError,
  llamaConfigToJson,
  loadLlamaFamilyConfig,
  loadLlamaWeights,
  loadSafetensorsDir,
  maxSequenceLength,
  parseLlamaFamilyConfig,
  readSafetensors,
  toWeightMap,
  writeSafetensors,
} from '../src/index.js';
import { qwen3ToyConfig, storiesDir } from './helpers.js';

function errorWith(code: string, pattern: RegExp) {
  return (e: unknown) => isModelError(e) && e.code === code && pattern.test(e.message);
}

describe('config.json', () => {
  it('parses the stories260k Llama config', () => {
    const c = loadLlamaFamilyConfig(storiesDir());
    assert.equal(c.modelType, 'llama');
    assert.equal(c.numKvHeads, 4);
    assert.equal(c.headDim, 8);
    assert.equal(c.tieWordEmbeddings, true);
    assert.equal(c.qkNorm, false);
    assert.deepEqual(c.eosTokenIds, [2]);
  });

  it('Qwen3 gets q/k norm, Qwen2 gets qkv bias', () => {
    assert.equal(qwen3ToyConfig().qkNorm, true);
    const q2 = qwen3ToyConfig({ model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'] });
    assert.equal(q2.attentionBias, true);
    assert.equal(q2.outputBias, false);
    assert.equal(q2.qkNorm, false);
  });

  it('round-trips through llamaConfigToJson', () => {
    const c = qwen3ToyConfig({ rope_scaling: { rope_type: 'linear', factor: 2 } });
    assert.deepEqual(parseLlamaFamilyConfig(JSON.parse(JSON.stringify(llamaConfigToJson(c)))), c);
  });

  it('a used sliding window caps the sequence length; an unused one does not', () => {
    const mistral = qwen3ToyConfig({
      model_type: 'mistral',
      architectures: ['MistralForCausalLM'],
      sliding_window: 32,
    });
    assert.deepEqual(maxSequenceLength(mistral), { limit: 32, field: 'sliding_window' });
    const qwen = qwen3ToyConfig({ sliding_window: 32, use_sliding_window: false });
    assert.deepEqual(maxSequenceLength(qwen), { limit: 64, field: 'max_position_embeddings' });
  });

  it('rejects an unsupported architecture with one clear error', () => {
    assert.throws(
      () => qwen3ToyConfig({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'] }),
      errorWith('UNSUPPORTED_ARCHITECTURE', /unsupported model_type "gpt2"/),
    );
    assert.throws(
      () => qwen3ToyConfig({ architectures: ['Qwen3MoeForCausalLM'] }),
      errorWith('UNSUPPORTED_ARCHITECTURE', /Qwen3MoeForCausalLM/),
    );
  });

  it('rejects invalid fields naming them', () => {
    assert.throws(
      () => qwen3ToyConfig({ num_key_value_heads: 3 }),
      errorWith('INVALID_CONFIG', /num_key_value_heads/),
    );
    assert.throws(() => qwen3ToyConfig({ hidden_size: -1 }), errorWith('INVALID_CONFIG', /hidden_size/));
  });

  it('a missing config.json names the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verdict-models-'));
    assert.throws(
      () => loadLlamaFamilyConfig(dir),
      errorWith('NOT_FOUND', /model config not found: .*config\.json/),
    );
  });
});

describe('safetensors', () => {
  it('reads the stories260k checkpoint and validates it against the config', () => {
    const c = loadLlamaFamilyConfig(storiesDir());
    const w = loadLlamaWeights(storiesDir(), c);
    assert.equal(w.size, 47);
    let params = 0;
    for (const t of w.values()) params += t.length;
    assert.equal(params, 260_032);
  });

  it('writes F32 and reads back bit-identical; sharded index works', () => {
    const c = qwen3ToyConfig();
    const w = createRandomLlamaWeights(c, 7);
    const dir = mkdtempSync(join(tmpdir(), 'verdict-models-'));
    const all = toWeightMap(c, w);
    writeSafetensors(join(dir, 'model.safetensors'), all);
    const back = readSafetensors(join(dir, 'model.safetensors'));
    for (const [name, t] of all) assert.deepEqual(back.get(name)?.data, t.data, name);

    const sharded = mkdtempSync(join(tmpdir(), 'verdict-models-'));
    const names = [...all.keys()];
    const half = Math.floor(names.length / 2);
    const shardA = new Map(names.slice(0, half).map((n) => [n, all.get(n)!]));
    const shardB = new Map(names.slice(half).map((n) => [n, all.get(n)!]));
    writeSafetensors(join(sharded, 'a.safetensors'), shardA);
    writeSafetensors(join(sharded, 'b.safetensors'), shardB);
    const weightMap = Object.fromEntries([
      ...[...shardA.keys()].map((n) => [n, 'a.safetensors']),
      ...[...shardB.keys()].map((n) => [n, 'b.safetensors']),
    ]);
    writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
    const loaded = loadSafetensorsDir(sharded);
    assert.equal(loaded.size, all.size);
    assert.deepEqual(loaded.get(names[names.length - 1]!)?.data, all.get(names[names.length - 1]!)?.data);
  });

  it('converts F16 and BF16 to float32', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verdict-models-'));
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] },
      b: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] },
    });
    const buf = Buffer.alloc(8 + header.length + 10);
    buf.writeBigUInt64LE(BigInt(header.length), 0);
    buf.write(header, 8);
    const d = 8 + header.length;
    buf.writeUInt16LE(0x3c00, d); // 1.0
    buf.writeUInt16LE(0xc000, d + 2); // -2.0
    buf.writeUInt16LE(0x3555, d + 4); // ≈0.33325
    buf.writeUInt16LE(0x3fc0, d + 6); // bf16 1.5
    buf.writeUInt16LE(0xc0a0, d + 8); // bf16 -5
    writeFileSync(join(dir, 'x.safetensors'), buf);
    const t = readSafetensors(join(dir, 'x.safetensors'));
    assert.deepEqual([...t.get('h')!.data.slice(0, 2)], [1, -2]);
    assert.ok(Math.abs(t.get('h')!.data[2]! - 0.33325) < 1e-4);
    assert.deepEqual([...t.get('b')!.data], [1.5, -5]);
  });

  it('a truncated file, a header past its end or a missing file is one error naming the file', () => {
    // Tensors are read one by one from the file (never the whole file at once): the checks use its size.
    const dir = mkdtempSync(join(tmpdir(), 'verdict-models-'));
    const path = join(dir, 'model.safetensors');
    writeSafetensors(path, new Map([['t', { shape: [4], data: Float32Array.from([1, 2, 3, 4]) }]]));
    const whole = readFileSync(path);
    writeFileSync(path, whole.subarray(0, whole.length - 4));
    assert.throws(
      () => readSafetensors(path),
      errorWith('INVALID_CHECKPOINT', /model\.safetensors: tensor t byte range \[0, 16\) does not fit/),
    );
    writeFileSync(path, whole.subarray(0, 20));
    assert.throws(
      () => readSafetensors(path),
      errorWith('INVALID_CHECKPOINT', /header length \d+ exceeds the file size/),
    );
    writeFileSync(path, whole.subarray(0, 5));
    assert.throws(
      () => readSafetensors(path),
      errorWith('INVALID_CHECKPOINT', /too short for a safetensors header/),
    );
    assert.throws(
      () => readSafetensors(join(dir, 'absent.safetensors')),
      errorWith('NOT_FOUND', /safetensors file not found: .*absent\.safetensors/),
    );
  });

  it('a tensor shape that does not match the config names tensor, expected and actual shape', () => {
    const c = qwen3ToyConfig();
    const all = toWeightMap(c, createRandomLlamaWeights(c, 1));
    all.set('model.layers.1.self_attn.k_proj.weight', { shape: [16, 32], data: new Float32Array(512) });
    const dir = mkdtempSync(join(tmpdir(), 'verdict-models-'));
    writeSafetensors(join(dir, 'model.safetensors'), all);
    assert.throws(
      () => loadLlamaWeights(dir, c),
      errorWith(
        'SHAPE_MISMATCH',
        /model\.layers\.1\.self_attn\.k_proj\.weight has shape \[16, 32\] but the config implies \[32, 32\]/,
      ),
    );
  });

  it('a missing safetensors file is NOT_FOUND naming the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verdict-models-'));
    assert.throws(() => loadSafetensorsDir(dir), errorWith('NOT_FOUND', /model\.safetensors/));
  });
});
