import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { exportLlamaOnnx } from '../src/index.js';
import { loadStoriesReference, storiesDir } from './helpers.js';

describe('exportLlamaOnnx', () => {
  const out = mkdtempSync(join(tmpdir(), 'verdict-export-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  it('writes model.onnx and the same file as onnx/model.onnx, with config and tokenizer', () => {
    const r = exportLlamaOnnx(storiesDir(), out);
    for (const f of [
      'model.onnx',
      'onnx/model.onnx',
      'config.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]) {
      assert.ok(r.files.includes(f), f);
      assert.ok(statSync(join(out, f)).size > 0, f);
    }
    assert.equal(statSync(join(out, 'onnx/model.onnx')).size, r.onnxBytes);
    assert.ok(readFileSync(join(out, 'onnx/model.onnx')).equals(readFileSync(join(out, 'model.onnx'))));
  });

  it('transformers.js loads the export and its greedy generate reproduces reference.json', async () => {
    const tjs = await import('@huggingface/transformers');
    tjs.env.allowRemoteModels = false;
    tjs.env.localModelPath = '';
    const model = await tjs.AutoModelForCausalLM.from_pretrained(out, { dtype: 'fp32', device: 'cpu' });
    try {
      const c = loadStoriesReference().cases[0]!;
      const T = c.input_ids.length;
      const seq = await model.generate({
        input_ids: new tjs.Tensor('int64', BigInt64Array.from(c.input_ids.map(BigInt)), [1, T]),
        attention_mask: new tjs.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
        max_new_tokens: c.generated_ids.length,
        do_sample: false,
      });
      assert.ok(seq instanceof tjs.Tensor);
      assert.deepEqual(Array.from(seq.data as BigInt64Array, Number).slice(T), c.generated_ids);
    } finally {
      await model.dispose();
    }
  });
});
