import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { validateRunConfig } from '@verdict/learner';
import {
  type FamilyModel,
  generate,
  judge,
  type LlamaFamilyConfig,
  loadModel,
  loadModelConfig,
  type OptConfig,
} from '@verdict/models';
import { learnerV1 } from '@verdict/proto';
import { repoRoot } from './helm.js';
import {
  GALACTICA_125M_CONFIG,
  QWEN3_0_6B_CONFIG,
  withLayers,
  writeGpt2Tokenizer,
  writeQwen3Tokenizer,
  writeRandomCheckpoint,
} from './paper-models.js';

// CPU smoke test of the paper recipe's models: the semi-supervised arm's run config pointed at
// random-weight checkpoints of the same families and shapes, cut to 2 layers, loaded through
// loadModel (the family registry), one rollout generation with the run's sampling and one judge call
// with its template. The student is Galactica-125M's shape exactly (OPT: hidden 768, 12 heads,
// FFN 3072, vocab 50,000, 2,048 + 2 learned positions, pre-LN, GELU, final LN, tied head) with GPT-2's
// BPE cut to 50,000 ids (Galactica's own tokenizer is not available here). The judge is Qwen3 cut to
// 2 layers AND to Qwen3-0.6B's width (hidden 1024, 16 heads, 8 KV heads, head_dim 128, FFN 3072, vocab
// 151,936, tied): Qwen3-8B cut to 2 layers is still ~1.6B parameters, too heavy for a 2-core CI.

const QUESTION =
  'Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. ' +
  'How many clips did Natalia sell altogether in April and May?';

let tmp: string;
let student: FamilyModel | undefined;
let judgeModel: FamilyModel | undefined;
const dirs = { student: '', judge: '' };

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'verdict-paper-recipe-'));
  dirs.student = join(tmp, 'galactica-125m');
  dirs.judge = join(tmp, 'qwen3-8b');
  const eos = writeGpt2Tokenizer(dirs.student, GALACTICA_125M_CONFIG.vocab_size);
  writeRandomCheckpoint(
    dirs.student,
    { ...withLayers(GALACTICA_125M_CONFIG, 2), bos_token_id: eos, eos_token_id: eos, pad_token_id: eos },
    1,
  );
  writeQwen3Tokenizer(dirs.judge);
  writeRandomCheckpoint(dirs.judge, withLayers(QWEN3_0_6B_CONFIG, 2), 2);
});

after(async () => {
  await student?.close();
  await judgeModel?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('paper recipe on CPU: 2-layer random Galactica-125M and Qwen3 (0.6B width)', () => {
  const arm = JSON.parse(
    readFileSync(join(repoRoot, 'deploy/recipes/paper-galactica/arms/semi-supervised.json'), 'utf8'),
  );
  const runConfig = () =>
    validateRunConfig(
      learnerV1.RunConfig.fromJSON({
        ...arm,
        student: { ...arm.student, checkpointUri: dirs.student },
        reference: { ...arm.reference, checkpointUri: dirs.student },
      }),
    );

  test("the families and shapes are the recipe models' (config.json through the registry)", () => {
    const s = loadModelConfig(dirs.student) as OptConfig;
    assert.equal(s.modelType, 'opt');
    assert.deepEqual(
      [s.hiddenSize, s.numHeads, s.vocabSize, s.maxPositionEmbeddings, s.numLayers],
      [768, 12, 50000, 2048, 2],
    );
    const j = loadModelConfig(dirs.judge) as LlamaFamilyConfig;
    assert.equal(j.modelType, 'qwen3');
    assert.deepEqual(
      [j.hiddenSize, j.numHeads, j.numKvHeads, j.headDim, j.vocabSize],
      [1024, 16, 8, 128, 151936],
    );
  });

  test('the run config validates with the student folder, then one rollout batch and one judge call run', async () => {
    const config = runConfig();
    assert.equal(config.student.checkpointUri, dirs.student);
    student = loadModel(config.student.checkpointUri, { intraOpThreads: 1 });
    const G = 2;
    const sampling = config.rolloutSampling;
    const rollouts = await generate(
      student,
      Array.from({ length: G }, (_, i) => ({
        ids: student!.tokenizer.encode(`Question: ${QUESTION}\nAnswer:`),
        seed: config.seed + i,
      })),
      { temperature: sampling.temperature, topP: sampling.topP, maxNewTokens: 12 },
    );
    assert.equal(rollouts.length, G);
    for (const r of rollouts) {
      assert.ok(r.ids.length >= 1 && r.ids.length <= 12);
      assert.equal(r.logprobs.length, r.ids.length);
      assert.ok(r.logprobs.every((l) => Number.isFinite(l) && l <= 0));
      assert.ok(r.ids.every((id) => id >= 0 && id < 50000));
    }

    judgeModel = loadModel(dirs.judge, { intraOpThreads: 1 });
    const template = config.reward.judgeTemplateName as 'chat';
    const results = await judge(
      judgeModel,
      rollouts.map((r) => ({ question: QUESTION, answer: r.text })),
      { template },
    );
    assert.equal(results.length, G);
    const yes = judgeModel.tokenizer.encode('Yes', { addSpecialTokens: false });
    const no = judgeModel.tokenizer.encode('No', { addSpecialTokens: false });
    for (const r of results) {
      // Qwen3's chat template (thinking off) answers with the bare "Yes"/"No" tokens.
      assert.deepEqual([r.yesId, r.noId], [yes[0], no[0]]);
      assert.ok(r.score > 0 && r.score < 1, String(r.score));
      assert.ok(Math.abs(r.pYesFull + r.pNoFull + r.otherMass - 1) < 1e-6);
    }
  });
});
