// The learner with an OPT (Galactica-shaped) student: its trainer loads the student through the
// model registry (OPT, not Llama), scores rollouts that the inference engine generated (left-padded
// batch) within 1e-5 of their log-probs, trains (GRPO and PPO's value head on the OPT trunk) and
// hands over OPT weights; StartRun refuses a student or reference it could not train, naming the field.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateToyProblems, writeToyTokenizer } from '@verdict/data';
import { generate, loadModel, loadModelConfig, readSafetensors } from '@verdict/models';
import { disposeInMemoryBroker, isVerdictError, silentLogger } from '@verdict/runtime';
import type { ScoredSample } from '../src/domain/scored-sample.js';
import { packRows } from '../src/domain/train-rows.js';
import { createLearnerApp, type LearnerApp, loadLearnerConfig, parseRunConfig } from '../src/index.js';
import { createPolicyTrainer } from '../src/training/policy-trainer.js';
import { writeOptStudent, writeToyStudent } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'verdict-learner-opt-'));
let opt: { dir: string; cleanup: () => void };
after(() => {
  opt?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});
before(() => {
  opt = writeOptStudent('opt-tiny-galactica');
});

const runFields = (dir: string, extra: Record<string, unknown> = {}) => ({
  runId: 'opt',
  student: { checkpointUri: dir },
  judge: { modelId: 'j' },
  dataMix: [{ name: 'toy', limit: 8 }],
  promptsPerStep: 2,
  groupSize: 4,
  learningRate: 1e-3,
  klCoef: 0.05,
  ...extra,
});

/** Rollouts of the inference engine (what a policy-server publishes) as the learner's scored samples. */
async function rollouts(dir: string): Promise<ScoredSample[]> {
  const model = loadModel(dir);
  try {
    const problems = generateToyProblems(2, { seed: 5, split: 'id' });
    // Prompts of different lengths in one left-padded batch: OPT's positions must come from the mask.
    const lengths = [16, 24];
    const prompts = problems.flatMap((p, q) =>
      [0, 1, 2, 3].map((i) => ({
        ids: model.tokenizer.encode(p.question).slice(0, lengths[q]),
        seed: 10 * q + i,
      })),
    );
    assert.deepEqual(
      [...new Set(prompts.map((p) => p.ids.length))],
      lengths,
      'two prompt lengths, so the batch is left-padded',
    );
    const gens = await generate(model, prompts, { temperature: 1, maxNewTokens: 10 });
    return gens.map((g, k) => ({
      rolloutId: `r${k}`,
      runId: 'opt',
      step: 1,
      groupId: `g${k >> 2}`,
      groupIndex: k % 4,
      groupSize: 4,
      questionId: `q${k >> 2}`,
      labeled: true,
      promptIds: g.promptIds,
      completionIds: g.ids,
      rolloutLogprobs: g.logprobs,
      policyVersion: 0,
      terminal: g.finishReason === 'stop_token',
      status: 'OK' as const,
      total: k % 3 === 0 ? 1 : 0,
      generatorId: 'test',
    }));
  } finally {
    await model.close();
  }
}

describe('learner with an OPT student', () => {
  for (const algorithm of ['ALGORITHM_GRPO', 'ALGORITHM_PPO'] as const) {
    it(`${algorithm}: the trainer loads OPT, scores the rollouts within 1e-5 of their log-probs, trains`, async (t) => {
      const samples = await rollouts(opt.dir);
      const run = parseRunConfig(runFields(opt.dir, { algorithm }));
      const trainer = createPolicyTrainer({ run, intraOpThreads: 1 });
      try {
        assert.equal(trainer.modelConfig.modelType, 'opt');
        // GRPO-style advantages (±) so the update moves the weights; PPO replaces them by GAE.
        const rows = samples.map((sample) => ({ sample, advantage: sample.total - 1 / 3 }));
        const batches = [packRows(rows.slice(0, 4)), packRows(rows.slice(4))];
        const out = await trainer.train([batches], 1);
        t.diagnostic(
          `max |Δ log p| ${out.mismatchMaxAbsLogprobDiff.toExponential(2)}, KL ${out.mismatchKl.toExponential(2)}, ` +
            `grad norm ${out.gradNorm.toFixed(3)}${out.valueLoss !== undefined ? `, value loss ${out.valueLoss.toFixed(4)}` : ''}`,
        );
        assert.ok(out.mismatchMaxAbsLogprobDiff <= 1e-5, `mismatch ${out.mismatchMaxAbsLogprobDiff}`);
        assert.equal(out.skipped, false);
        assert.ok(Number.isFinite(out.gradNorm) && out.gradNorm > 0, `grad norm ${out.gradNorm}`);
        if (algorithm === 'ALGORITHM_PPO')
          assert.ok(Number.isFinite(out.valueLoss), 'value head on the OPT trunk');

        // The handed-over weights are the OPT tensors, changed; the checkpoint is an OPT folder.
        const start = readSafetensors(join(opt.dir, 'model.safetensors'));
        const bytesPath = join(tmp, `${algorithm}.safetensors`);
        writeFileSync(bytesPath, trainer.weights());
        const handed = readSafetensors(bytesPath);
        assert.deepEqual([...handed.keys()].sort(), [...start.keys()].sort());
        const name = 'model.decoder.layers.0.fc1.weight';
        assert.ok(
          handed.get(name)!.data.some((x, i) => x !== start.get(name)!.data[i]),
          `${name} moved`,
        );
        const ckpt = join(tmp, `ckpt-${algorithm}`);
        trainer.save(ckpt, { note: 'test' });
        assert.equal(loadModelConfig(ckpt).modelType, 'opt');
      } finally {
        await trainer.close();
      }
    });
  }
});

describe('StartRun checks the student and reference families', () => {
  const broker = `learner-opt-${process.pid}`;
  let app: LearnerApp;
  let llama: { dir: string; cleanup: () => void };
  before(async () => {
    llama = writeToyStudent();
    app = createLearnerApp(
      loadLearnerConfig({
        NATS_URL: `mem://${broker}`,
        LEARNER_PORT: '0',
        LEARNER_HOST: '127.0.0.1',
        LEARNER_RUNS_DIR: join(tmp, 'runs'),
      }),
      { logger: silentLogger, telemetry: false },
    );
    await app.start();
  });
  after(async () => {
    await app.stop();
    disposeInMemoryBroker(broker);
    llama.cleanup();
  });

  const refused = (fields: Record<string, unknown>, field: string, message: RegExp) =>
    assert.throws(
      () => app.startRun(parseRunConfig(fields), false),
      (e: unknown) => {
        assert.ok(isVerdictError(e), String(e));
        assert.equal(e.code, 'INVALID_ARGUMENT', e.message);
        assert.equal(e.field, field);
        assert.match(e.message, message);
        return true;
      },
    );

  it('an unsupported model_type is refused at once, listing the supported ones', () => {
    const dir = mkdtempSync(join(tmp, 'gpt2-'));
    writeToyTokenizer(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2', vocab_size: 1024 }));
    refused(runFields(dir), 'student.checkpointUri', /unsupported model_type "gpt2".*opt/);
    refused(runFields(opt.dir, { reference: { checkpointUri: dir } }), 'reference.checkpointUri', /gpt2/);
  });

  it('an OPT folder without a tokenizer is refused: the learner encodes text prompts', () => {
    const dir = mkdtempSync(join(tmp, 'no-tokenizer-'));
    copyFileSync(join(opt.dir, 'config.json'), join(dir, 'config.json'));
    refused(runFields(dir), 'student.checkpointUri', /tokenizer/);
  });

  it('a reference with another vocabulary is refused (the KL compares the same token ids)', () => {
    refused(
      runFields(opt.dir, { reference: { checkpointUri: llama.dir } }),
      'reference.checkpointUri',
      /vocab_size \d+ must equal the student's 1024/,
    );
  });

  it('an OPT student starts a run', async () => {
    const run = app.startRun(parseRunConfig(runFields(opt.dir, { runId: 'opt-starts' })), false);
    run.requestStop('test');
    await run.done;
  });
});
