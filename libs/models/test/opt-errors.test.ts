import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  checkOptWeights,
  isModelError,
  loadModel,
  loadOptConfig,
  loadSafetensorsDir,
  parseOptConfig,
} from '../src/index.js';
import { idTokenizer, optTinyDir } from './opt-helpers.js';

const galactica = optTinyDir('opt-tiny-galactica');
const rawConfig = JSON.parse(readFileSync(join(galactica, 'config.json'), 'utf8')) as Record<string, unknown>;

describe('OPT config validation', () => {
  it('reads both fixture configs', () => {
    const g = loadOptConfig(galactica);
    assert.equal(g.doLayerNormBefore, true);
    assert.equal(g.finalLayerNorm, true);
    assert.equal(g.activation, 'gelu');
    assert.equal(g.headDim, 16);
    const s = loadOptConfig(optTinyDir('opt-tiny-350m-style'));
    assert.equal(s.doLayerNormBefore, false);
    assert.equal(s.finalLayerNorm, false);
    assert.equal(s.activation, 'relu');
    assert.equal(s.wordEmbedProjDim, 32);
  });

  const cases: [string, Record<string, unknown>, RegExp, string][] = [
    [
      'missing ffn_dim',
      { ffn_dim: undefined },
      /ffn_dim must be a positive integer \(got undefined\)/,
      'INVALID_CONFIG',
    ],
    ['hidden_size 0', { hidden_size: 0 }, /hidden_size must be a positive integer/, 'INVALID_CONFIG'],
    [
      'heads not dividing hidden',
      { num_attention_heads: 5 },
      /num_attention_heads \(5\) must divide hidden_size \(64\)/,
      'INVALID_CONFIG',
    ],
    [
      'string flag',
      { do_layer_norm_before: 'yes' },
      /do_layer_norm_before must be a boolean/,
      'INVALID_CONFIG',
    ],
    [
      'unknown activation',
      { activation_function: 'swish' },
      /activation_function "swish" is not supported \(supported: relu, gelu\)/,
      'UNSUPPORTED_ARCHITECTURE',
    ],
    [
      'other architecture',
      { architectures: ['OPTForSequenceClassification'] },
      /expected \["OPTForCausalLM"\]/,
      'UNSUPPORTED_ARCHITECTURE',
    ],
  ];
  for (const [what, change, message, code] of cases) {
    it(`${what} is one ${code} naming the field`, () => {
      assert.throws(
        () => parseOptConfig({ ...rawConfig, ...change }),
        (e) => isModelError(e) && e.code === code && message.test(e.message),
      );
    });
  }
});

describe('OPT checkpoint validation', () => {
  const config = loadOptConfig(galactica);
  const tensors = loadSafetensorsDir(galactica);
  const tmp = mkdtempSync(join(tmpdir(), 'verdict-opt-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('a missing tensor names it and its expected shape', () => {
    const missing = new Map(tensors);
    missing.delete('model.decoder.layers.1.fc2.bias');
    assert.throws(
      () => checkOptWeights(config, missing),
      (e) =>
        isModelError(e) &&
        e.code === 'INVALID_CHECKPOINT' &&
        e.message === 'checkpoint is missing tensor model.decoder.layers.1.fc2.bias (expected shape [64])',
    );
  });

  it('tensors saved without the model. prefix (OPTModel names) load', () => {
    const bare = new Map([...tensors].map(([k, v]) => [k.replace(/^model\./, ''), v]));
    const w = checkOptWeights(config, bare);
    assert.equal(
      w.get('model.decoder.embed_tokens.weight'),
      tensors.get('model.decoder.embed_tokens.weight')!.data,
    );
  });

  it('a shape mismatch through loadModel names the tensor and both shapes', () => {
    // The fixture's weights under a config with 64 more positions: embed_positions no longer fits.
    writeFileSync(join(tmp, 'config.json'), JSON.stringify({ ...rawConfig, max_position_embeddings: 192 }));
    symlinkSync(join(galactica, 'model.safetensors'), join(tmp, 'model.safetensors'));
    assert.throws(
      () => loadModel(tmp, { tokenizer: idTokenizer(1024) }),
      (e) =>
        isModelError(e) &&
        e.code === 'SHAPE_MISMATCH' &&
        e.message ===
          'tensor model.decoder.embed_positions.weight has shape [130, 64] but the config implies [194, 64]',
    );
  });
});
