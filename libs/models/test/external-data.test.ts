import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generate, leftPadBatch, loadLlamaModel } from '../src/index.js';
import { loadStoriesReference, storiesDir } from './helpers.js';

// Graphs over the external-data threshold load from ONNX files with external data (what a
// model over 2 GiB needs); forced here with a threshold of 0 on stories260k.
describe('a model whose graphs load from external-data files', () => {
  const ref = loadStoriesReference();
  const root = mkdtempSync(join(tmpdir(), 'models-extdata-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  // minBufferedPositions 0: decode steps run the KV-buffer graph, so both generation graphs load from files.
  const model = loadLlamaModel(storiesDir(), {
    externalDataBytes: 0,
    externalDataDir: root,
    minBufferedPositions: 0,
  });
  const inline = loadLlamaModel(storiesDir(), { minBufferedPositions: 0 });
  after(() => inline.close());
  const modelDir = () => {
    const dirs = readdirSync(root);
    assert.equal(dirs.length, 1, `one folder for the model (got ${dirs})`);
    assert.match(dirs[0]!, /^verdict-model-/);
    return join(root, dirs[0]!);
  };

  it('greedy generation reproduces reference.json (prompts alone and batched)', async () => {
    const c = ref.cases[0]!;
    const [out] = await generate(model, [c.prompt], { maxNewTokens: 48, temperature: 0 });
    assert.deepEqual(out!.ids, c.generated_ids);
    const outs = await generate(
      model,
      ref.cases.map((k) => k.prompt),
      { maxNewTokens: 48, temperature: 0 },
    );
    ref.cases.forEach((k, i) => {
      assert.deepEqual(outs[i]!.ids, k.generated_ids, k.prompt);
    });
  });

  it('the judge graph loads from a file too and scores exactly as the inline model', async () => {
    const input = leftPadBatch(
      ref.cases.map((c) => c.input_ids),
      0,
    );
    const ids = [1, 2, 100, 511];
    const [a, b] = [await model.scoreLast(input, ids), await inline.scoreLast(input, ids)];
    assert.deepEqual(Array.from(a.selectedLogits), Array.from(b.selectedLogits));
    assert.deepEqual(Array.from(a.logSumExp), Array.from(b.logSumExp));
  });

  it('the model folder holds one model file per graph and the weights once', () => {
    const dir = modelDir();
    assert.deepEqual(readdirSync(dir).sort(), ['decode.onnx', 'judge.onnx', 'prefill.onnx', 'weights.data']);
    let weightBytes = 0;
    for (const w of model.weights.values()) weightBytes += w.byteLength;
    const dataBytes = statSync(join(dir, 'weights.data')).size;
    // Three graphs over the same weights: written per graph it would be about 3× the weights.
    assert.ok(dataBytes >= weightBytes, `${dataBytes} >= ${weightBytes}`);
    assert.ok(dataBytes < 1.5 * weightBytes, `${dataBytes} < 1.5 × ${weightBytes} (weights written once)`);
  });

  it('close() removes the folder', async () => {
    const dir = modelDir();
    await model.close();
    assert.equal(existsSync(dir), false);
    assert.deepEqual(readdirSync(root), []);
  });

  it('externalDataBytes must be >= 0', () => {
    assert.throws(() => loadLlamaModel(storiesDir(), { externalDataBytes: -1 }), /externalDataBytes must be/);
  });
});
