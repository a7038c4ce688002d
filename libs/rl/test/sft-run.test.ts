import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generate, loadLlamaModel, locateSharedDir } from '@verdict/models';
import { runSft } from '../src/training/sft/run-sft.js';
import { SftInputError } from '../src/training/sft/sft-data.js';

const storiesDir = join(locateSharedDir(), 'fixtures', 'stories260k');

test('runSft: held-out loss falls, progress lines carry loss/tok/s/eta, output loads and generates the learned completion', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-sft-'));
  try {
    const names = ['Tom', 'Lily', 'Sue', 'Ben'];
    const things = ['ball', 'cat', 'tree', 'cake'];
    const lines: string[] = [];
    for (const n of names)
      for (const t of things)
        lines.push(JSON.stringify({ prompt: `${n} had a ${t}.`, completion: ` ${n} loved the ${t}.` }));
    writeFileSync(join(dir, 'train.jsonl'), `${lines.join('\n')}\n`);
    const progress: string[] = [];
    const out = join(dir, 'out');
    const s = await runSft({
      modelDir: storiesDir,
      dataPath: join(dir, 'train.jsonl'),
      outDir: out,
      epochs: 4,
      lr: 3e-3,
      batchSize: 4,
      evalFraction: 0.25,
      seed: 1,
      onProgress: (l) => progress.push(l),
    });
    assert.equal(s.evalExamples, 4);
    assert.equal(s.steps, 12);
    assert.ok(s.evalLossBefore! > 1, `eval before ${s.evalLossBefore}`);
    assert.ok(s.evalLoss! < s.evalLossBefore! / 4, `eval ${s.evalLossBefore} → ${s.evalLoss}`);
    assert.ok(
      progress.some((l) => /step 12\/12 loss \d+\.\d+ .*tok\/s \d+ eta /.test(l)),
      progress.join('\n'),
    );
    assert.ok(progress.some((l) => /eval loss/.test(l)));
    const model = loadLlamaModel(out);
    try {
      const [g] = await generate(model, ['Sue had a cat.'], { maxNewTokens: 16, temperature: 0 });
      assert.match(g!.text, /^ Sue loved the /);
    } finally {
      await model.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runSft: bad data is an INVALID_ARGUMENT/NOT_FOUND error naming the problem', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-sft-bad-'));
  try {
    writeFileSync(join(dir, 'bad.jsonl'), '{"prompt": "a"}\nnot json\n');
    const base = { modelDir: storiesDir, outDir: join(dir, 'out') };
    await assert.rejects(
      runSft({ ...base, dataPath: join(dir, 'bad.jsonl') }),
      (e: unknown) =>
        e instanceof SftInputError &&
        e.code === 'INVALID_ARGUMENT' &&
        /line 1: .*line 2: not JSON/.test(e.message),
    );
    await assert.rejects(
      runSft({ ...base, dataPath: join(dir, 'missing.jsonl') }),
      (e: unknown) => e instanceof SftInputError && e.code === 'NOT_FOUND',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
