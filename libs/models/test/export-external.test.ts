import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeOnnxModel } from '@verdict/graph';
import { exportLlamaOnnx } from '../src/index.js';
import { loadStoriesReference, storiesDir } from './helpers.js';

// What a model over 2 GiB gets ('auto' past 1.5 GiB of weights), forced on stories260k.
describe("exportLlamaOnnx with externalData 'always'", () => {
  const out = mkdtempSync(join(tmpdir(), 'verdict-export-ext-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  it('writes model.onnx + model.onnx_data (also under onnx/) and flags config.json', () => {
    const r = exportLlamaOnnx(storiesDir(), out, { externalData: 'always' });
    for (const f of [
      'model.onnx',
      'model.onnx_data',
      'onnx/model.onnx',
      'onnx/model.onnx_data',
      'config.json',
    ])
      assert.ok(r.files.includes(f), f);
    assert.equal(statSync(join(out, 'model.onnx_data')).size, r.dataBytes);
    assert.ok(r.dataBytes! > 10 * r.onnxBytes, 'the weights are in the data file');
    assert.ok(
      readFileSync(join(out, 'onnx/model.onnx_data')).equals(readFileSync(join(out, 'model.onnx_data'))),
    );
    const m = decodeOnnxModel(readFileSync(join(out, 'model.onnx')));
    const ext = m.graph!.initializer!.filter((t) => t.dataLocation === 1);
    assert.ok(ext.length > 0);
    for (const t of ext)
      assert.equal(t.externalData?.find((e) => e.key === 'location')?.value, 'model.onnx_data');
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    assert.equal(config['transformers.js_config']?.use_external_data_format, true);
    const original = JSON.parse(readFileSync(join(storiesDir(), 'config.json'), 'utf8'));
    assert.equal(config.vocab_size, original.vocab_size, 'the original config is kept');
  });

  it('transformers.js loads it and its greedy generate reproduces reference.json', async () => {
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

  it('a later inline export into the same folder removes the stale data files', () => {
    const r = exportLlamaOnnx(storiesDir(), out, { externalData: 'never' });
    assert.equal(r.dataBytes, undefined);
    assert.equal(existsSync(join(out, 'model.onnx_data')), false);
    assert.equal(existsSync(join(out, 'onnx/model.onnx_data')), false);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    assert.equal(config['transformers.js_config'], undefined);
  });
});
