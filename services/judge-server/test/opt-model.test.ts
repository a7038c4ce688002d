import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeToyTokenizer } from '@verdict/data';
import { isModelError, judge, loadModel, locateSharedDir, supportedModelTypes } from '@verdict/models';
import { judgeV1 } from '@verdict/proto';
import { createGrpcClient, isVerdictError } from '@verdict/runtime';
import { gateModel, startJudgeApp, waitFor } from './helpers.js';

// The server loads any registered family through the model registry: an OPT checkpoint
// (shared/fixtures/opt-tiny, which ships no tokenizer, completed here with the toy tokenizer so
// it can render and judge text) serves JudgeBatch; an unsupported model_type fails the start
// with the engine's message; a call that arrives while the model loads gets UNAVAILABLE.

const tmp = mkdtempSync(join(tmpdir(), 'verdict-judge-opt-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** opt-tiny-galactica's config and weights with the toy tokenizer (vocab < the model's 1024). */
function optJudgeDir(): string {
  const src = join(locateSharedDir(), 'fixtures', 'opt-tiny', 'opt-tiny-galactica');
  if (!existsSync(join(src, 'config.json'))) {
    throw new Error(`opt-tiny fixture not found at ${src} (set VERDICT_SHARED_DIR to the shared folder)`);
  }
  const dir = mkdtempSync(join(tmp, 'opt-'));
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(src, f), join(dir, f));
  writeToyTokenizer(dir);
  return dir;
}

const items = [
  { id: 'a', question: 'What is 2 plus 3?', solution: 'It is 5.', templateName: '' },
  { id: 'b', question: 'What is 4 plus 4?', solution: 'It is 9.', templateName: '' },
];

describe('judge-server with an OPT model', () => {
  it('loads JUDGE_MODEL_DIR through the registry and returns what judge() returns', async () => {
    const dir = optJudgeDir();
    const app = startJudgeApp(dir, { JUDGE_MODEL_ID: 'opt-tiny' });
    const direct = loadModel(dir);
    const client = createGrpcClient(judgeV1.JudgeServiceClient, (await app.start()).address, {
      defaultDeadlineMs: 20_000,
    });
    try {
      const { results } = await client.unary('judgeBatch', { items });
      const want = await judge(
        direct,
        items.map((i) => ({ question: i.question, answer: i.solution })),
        { template: 'plain' },
      );
      assert.equal(results.length, items.length);
      results.forEach((r, i) => {
        assert.equal(r.status, judgeV1.JudgeStatus.JUDGE_STATUS_OK, r.message);
        assert.ok(Math.abs(r.score - want[i]!.score) < 1e-6, `score ${r.score} vs ${want[i]!.score}`);
        assert.equal(r.yesTokenId, want[i]!.yesId);
        assert.equal(r.provenance?.judgeModelId, 'opt-tiny');
      });
      assert.equal(app.engine?.maxPromptTokens.limit, 128, 'max_position_embeddings of the OPT config');
    } finally {
      client.close();
      await app.stop();
      await direct.close();
    }
  });

  it('an unsupported model_type fails the start (and main.ts exits 2) with the message listing the supported types', async () => {
    const dir = mkdtempSync(join(tmp, 'gpt2-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2' }));
    const app = startJudgeApp(dir, {});
    await assert.rejects(app.start(), (error: unknown) => {
      assert.ok(isModelError(error), String(error));
      assert.equal(error.code, 'UNSUPPORTED_ARCHITECTURE');
      assert.equal(
        error.message,
        `unsupported model_type "gpt2": supported are ${supportedModelTypes().join(', ')}`,
      );
      return true;
    });
    // The process (main.ts): one line naming the problem, exit 2 like a bad variable.
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, JUDGE_MODEL_DIR: dir, JUDGE_PORT: '0', JUDGE_HOST: '127.0.0.1' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(
      r.stderr.trim().split('\n').at(-1),
      `judge-server: unsupported model_type "gpt2": supported are ${supportedModelTypes().join(', ')}`,
    );
  });

  it('a call while the model loads gets UNAVAILABLE, not INTERNAL', async () => {
    const dir = optJudgeDir();
    const model = loadModel(dir);
    const gated = gateModel(model);
    const app = startJudgeApp(dir, {}, { model: gated });
    gated.hold(); // the start's warm-up call waits at the gate: bound, not loaded
    const started = app.start();
    try {
      await waitFor(() => gated.calls > 0);
      const early = createGrpcClient(judgeV1.JudgeServiceClient, app.address!, {
        defaultDeadlineMs: 5_000,
      });
      try {
        await assert.rejects(early.unary('judgeBatch', { items }), (error: unknown) => {
          assert.ok(isVerdictError(error), String(error));
          assert.equal(error.code, 'UNAVAILABLE', error.message);
          assert.match(error.message, /judge model is still loading/);
          return true;
        });
      } finally {
        early.close();
      }
    } finally {
      gated.release();
      await started;
      await app.stop();
      await model.close();
    }
  });
});
