import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateToyProblems, writeToyTokenizer } from '@verdict/data';
import { generate, loadModel, locateSharedDir, readSafetensors } from '@verdict/models';

// `verdict sft` on an OPT student (shared/fixtures/opt-tiny/opt-tiny-galactica, Galactica-shaped,
// plus the toy tokenizer in a copy: the fixture has none) through the real CLI process: the loss
// falls, and the saved folder is an OPT checkpoint that the model registry loads and generates from.
// Without --max-seq-len, since the fixture's 128 positions are fewer than the usual 256.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'verdict-sft-opt-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function verdict(args: string[]) {
  const r = spawnSync('npx', ['--no-install', 'verdict', ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function optStudent(): string {
  const src = join(locateSharedDir(), 'fixtures', 'opt-tiny', 'opt-tiny-galactica');
  if (!existsSync(join(src, 'config.json'))) {
    throw new Error(`opt-tiny fixture not found at ${src} (set VERDICT_SHARED_DIR to the shared folder)`);
  }
  const dir = join(tmp, 'student');
  writeToyTokenizer(dir);
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(src, f), join(dir, f));
  return dir;
}

interface SftOut {
  out_dir: string;
  steps: number;
  train_examples: number;
  eval_examples: number;
  final_train_loss: number;
  eval_loss_before: number;
  eval_loss: number;
}

test('verdict sft trains an OPT student: the loss falls; the checkpoint loads as OPT and generates', async (t) => {
  const student = optStudent();
  const data = join(tmp, 'train.jsonl');
  // Short toy problems and their worked solutions: every word is in the toy tokenizer's vocabulary.
  const examples = generateToyProblems(16, { seed: 3, split: 'id' }).map((p) => ({
    prompt: p.question,
    completion: ` ${p.solution}`,
  }));
  writeFileSync(data, `${examples.map((e) => JSON.stringify(e)).join('\n')}\n`);
  const out = join(tmp, 'out');
  const r = verdict([
    'sft',
    '--model',
    student,
    '--data',
    data,
    '--out',
    out,
    '--epochs',
    '4',
    '--lr',
    '3e-3',
    '--batch-size',
    '4',
    '--eval-fraction',
    '0.25',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as SftOut;
  assert.equal(s.train_examples + s.eval_examples, 16);
  assert.equal(s.steps, 4 * Math.ceil(s.train_examples / 4));
  assert.match(r.stderr, /max-seq-len 128/, 'the default follows the model’s 128 positions');
  const stepLosses = [...r.stderr.matchAll(/step \d+\/\d+ loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
  assert.equal(stepLosses.length, s.steps);
  t.diagnostic(
    `train loss ${stepLosses[0]} → ${stepLosses.at(-1)} over ${s.steps} steps; ` +
      `eval loss ${s.eval_loss_before.toFixed(4)} → ${s.eval_loss.toFixed(4)}`,
  );
  assert.ok(stepLosses.at(-1)! < stepLosses[0]! * 0.8, `train loss ${stepLosses[0]} → ${stepLosses.at(-1)}`);
  assert.ok(s.eval_loss < s.eval_loss_before, `eval loss ${s.eval_loss_before} → ${s.eval_loss}`);

  // An OPT folder with the student's tensor names (learned positions included), changed by training.
  const start = readSafetensors(join(student, 'model.safetensors'));
  const trained = readSafetensors(join(out, 'model.safetensors'));
  assert.deepEqual([...trained.keys()].sort(), [...start.keys()].sort());
  assert.ok(trained.has('model.decoder.embed_positions.weight'));
  const model = loadModel(out);
  try {
    assert.equal(model.config.modelType, 'opt');
    const [g] = await generate(model, [examples[0]!.prompt], { maxNewTokens: 8, temperature: 0 });
    assert.ok(g!.ids.length > 0, 'generated tokens');
    assert.ok(g!.logprobs.every((x) => Number.isFinite(x) && x <= 0));
    t.diagnostic(`greedy after SFT: ${JSON.stringify(g!.text)}`);
  } finally {
    await model.close();
  }
});
