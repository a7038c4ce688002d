import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  generate,
  isModelError,
  llamaFamily,
  loadLlamaModel,
  loadModel,
  loadModelConfig,
  type ModelFamily,
  modelFamilyFor,
  type OptConfig,
  optFamily,
  registerModelFamily,
  supportedModelTypes,
} from '../src/index.js';
import { storiesDir } from './helpers.js';
import { optTinyDir } from './opt-helpers.js';

describe('model-family registry', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'verdict-family-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const unsupported = (type: string) => (e: unknown) =>
    isModelError(e) &&
    e.code === 'UNSUPPORTED_ARCHITECTURE' &&
    e.message === `unsupported model_type "${type}": supported are ${supportedModelTypes().join(', ')}`;

  it('the built-in families serve Llama-family types and opt', () => {
    for (const type of ['llama', 'mistral', 'qwen2', 'qwen3'])
      assert.equal(modelFamilyFor(type), llamaFamily);
    assert.equal(modelFamilyFor('opt'), optFamily);
    assert.deepEqual(supportedModelTypes(), ['llama', 'mistral', 'opt', 'qwen2', 'qwen3']);
  });

  it('loadModelConfig picks the family by model_type', () => {
    assert.equal(loadModelConfig(storiesDir()).modelType, 'llama');
    const opt = loadModelConfig(optTinyDir('opt-tiny-350m-style')) as OptConfig;
    assert.equal(opt.modelType, 'opt');
    assert.equal(opt.wordEmbedProjDim, 32);
  });

  it('an unknown model_type is one UNSUPPORTED_ARCHITECTURE naming it and the supported types', () => {
    assert.throws(() => modelFamilyFor('gpt_neox'), unsupported('gpt_neox'));
    writeFileSync(join(tmp, 'config.json'), JSON.stringify({ model_type: 'gpt2', vocab_size: 10 }));
    assert.throws(() => loadModelConfig(tmp), unsupported('gpt2'));
    assert.throws(() => loadModel(tmp), unsupported('gpt2'));
    writeFileSync(join(tmp, 'config.json'), JSON.stringify({ vocab_size: 10 }));
    assert.throws(
      () => loadModelConfig(tmp),
      (e) => isModelError(e) && e.code === 'INVALID_CONFIG' && /model_type must be a string/.test(e.message),
    );
  });

  it('a registered family is found by its type; a taken type is refused', () => {
    const alias: ModelFamily<OptConfig> = {
      ...optFamily,
      name: 'opt-alias',
      modelTypes: ['opt-alias'],
      parseConfig: (raw) => optFamily.parseConfig({ ...(raw as object), model_type: 'opt' }),
    };
    registerModelFamily(alias);
    registerModelFamily(alias); // the same object again is a no-op
    assert.equal(modelFamilyFor('opt-alias'), alias);
    assert.throws(
      () => registerModelFamily({ ...alias, name: 'other', modelTypes: ['opt'] }),
      (e) => isModelError(e) && /model_type "opt" is already registered by family opt/.test(e.message),
    );
  });

  it('loadModel on a Llama folder generates what loadLlamaModel does', async () => {
    const a = loadModel(storiesDir());
    const b = loadLlamaModel(storiesDir());
    try {
      const [x] = await generate(a, ['Once upon a time'], { maxNewTokens: 12 });
      const [y] = await generate(b, ['Once upon a time'], { maxNewTokens: 12 });
      assert.deepEqual(x!.ids, y!.ids);
      assert.deepEqual(x!.logprobs, y!.logprobs);
      assert.equal(a.config.modelType, 'llama');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
