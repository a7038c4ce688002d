import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isModelError, loadModelTokenizer, locateSharedDir } from '../src/index.js';
import { loadStoriesReference, storiesDir } from './helpers.js';

describe('tokenizer', () => {
  it('stories260k encodes the reference prompts with BOS and decodes the continuations', () => {
    const tok = loadModelTokenizer(storiesDir());
    assert.equal(tok.bosId, 1);
    assert.equal(tok.eosId, 2);
    assert.equal(tok.padId, undefined);
    assert.equal(tok.addBosToken, true);
    for (const c of loadStoriesReference().cases) {
      assert.deepEqual(tok.encode(c.prompt), c.input_ids);
      assert.equal(tok.decode(c.generated_ids), c.generated_text);
      assert.equal(tok.decode([...c.input_ids, ...c.generated_ids]), c.full_text);
    }
  });

  it('Qwen3 loads and round-trips text, including non-ASCII and special tokens', () => {
    const tok = loadModelTokenizer(join(locateSharedDir(), 'tokenizers', 'qwen3'));
    assert.deepEqual(tok.encode('Hello, my dog is cute'), [9707, 11, 847, 5562, 374, 18838]);
    assert.equal(tok.bosId, undefined);
    assert.equal(tok.eosId, tok.tokenToId('<|im_end|>'));
    assert.equal(tok.padId, 151643);
    assert.equal(tok.vocabSize, 151_669);
    for (const text of [
      'Natalia sold 48 clips in April.',
      '  leading spaces\tand tabs\n',
      'naïve café — 猫 🐈',
      'x = 3.14159',
    ]) {
      const ids = tok.encode(text);
      assert.equal(tok.decode(ids), text);
    }
    const withSpecial = tok.encode('<|im_start|>user\nhi<|im_end|>');
    assert.equal(withSpecial[0], tok.tokenToId('<|im_start|>'));
    assert.equal(tok.decode(withSpecial, { skipSpecialTokens: false }), '<|im_start|>user\nhi<|im_end|>');
    assert.equal(tok.decode(withSpecial), 'user\nhi');
  });

  it('Qwen3 chat template renders with thinking disabled', () => {
    const tok = loadModelTokenizer(join(locateSharedDir(), 'tokenizers', 'qwen3'));
    const text = tok.applyChatTemplate([{ role: 'user', content: 'Is 2+2=4?' }], { enableThinking: false });
    assert.equal(
      text,
      '<|im_start|>user\nIs 2+2=4?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
    );
  });

  it('a tokenizer without chat template says so', () => {
    const tok = loadModelTokenizer(storiesDir());
    assert.throws(() => tok.applyChatTemplate([{ role: 'user', content: 'x' }]), /no chat_template/);
  });

  it('a missing tokenizer.json is NOT_FOUND naming the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verdict-tok-'));
    assert.throws(
      () => loadModelTokenizer(dir),
      (e) => isModelError(e) && e.code === 'NOT_FOUND' && /tokenizer\.json/.test(e.message),
    );
  });
});
