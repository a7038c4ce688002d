import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { renderJudgePrompt } from '@verdict/models';
import { judgeV1 } from '@verdict/proto';
import {
  formatJudgeCalibration,
  JUDGE_CALIBRATION_FORMAT,
  type JudgeCalibrationDocument,
} from '@verdict/rl/judge-calibration';
import { createGrpcClient, isVerdictError } from '@verdict/runtime';
import { loadJudgeServerConfig } from '../src/config.js';
import { loadModel, startJudgeApp } from './helpers.js';
import { writeToyJudgeModel } from './toy-judge-model.js';

const S = judgeV1.JudgeStatus;
const T = 2.5;
const BIAS = -0.75;

function calibrationDoc(templateHash: string, temperature = T, bias = BIAS): JudgeCalibrationDocument {
  const split = {
    items: 2,
    ece_before: 0.3,
    ece_after: 0.1,
    brier_before: 0.3,
    brier_after: 0.2,
    nll_before: 1,
    nll_after: 0.6,
  };
  return {
    format: JUDGE_CALIBRATION_FORMAT,
    method: 'temperature-bias',
    margin: 'z_yes - z_no',
    temperature,
    bias,
    judge: { model_id: 'toy-judge', template_name: 'plain', template_hash: templateHash },
    pool: {
      file: 'pool.jsonl',
      sha256: '0'.repeat(64),
      items: 4,
      positives: 2,
      fit_items: 2,
      held_out_items: 2,
      seed: 0,
    },
    bins: 10,
    metrics: { fit: split, held_out: split },
  };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const items = ['1', '2', '3', '4'].map((id) => ({
  id,
  question: `What is ${id} plus 2?`,
  solution: `It is ${id} and 2, so ${Number(id) + 2}.`,
  templateName: '',
}));

describe('judge-server with a calibration', () => {
  const fixture = writeToyJudgeModel({ maxPositions: 96 });
  const model = loadModel(fixture.dir);
  const scratch = mkdtempSync(join(tmpdir(), 'verdict-judge-calibration-'));
  // The plain template's hash, computed the way the server does: what a calibration is tied to.
  const plainHash = createHash('sha256')
    .update(renderJudgePrompt(model.tokenizer, '{question}', '{solution}', 'plain'))
    .digest('hex');
  const inModelDir = formatJudgeCalibration(calibrationDoc(plainHash));
  writeFileSync(join(fixture.dir, 'calibration.json'), inModelDir);
  const apps: ReturnType<typeof startJudgeApp>[] = [];
  const clients: { close(): void }[] = [];

  async function serve(env: Record<string, string>) {
    const app = startJudgeApp(fixture.dir, { JUDGE_MODEL_ID: 'toy-judge', ...env }, { model });
    apps.push(app);
    const { address } = await app.start();
    const client = createGrpcClient(judgeV1.JudgeServiceClient, address, { defaultDeadlineMs: 20_000 });
    clients.push(client);
    return client;
  }

  after(async () => {
    for (const c of clients) c.close();
    for (const a of apps) await a.stop();
    await model.close();
    fixture.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('loads <model dir>/calibration.json: raw and calibrated scores, the file hash in provenance', async () => {
    const client = await serve({});
    const { results } = await client.unary('judgeBatch', { items });
    const hash = createHash('sha256').update(inModelDir).digest('hex');
    const calibrated = new Set<number>();
    for (const r of results) {
      assert.equal(r.status, S.JUDGE_STATUS_OK);
      const margin = r.yesLogit - r.noLogit;
      // The raw score is unchanged: σ(z_yes − z_no).
      assert.ok(Math.abs(r.score - sigmoid(margin)) < 1e-5, `raw ${r.score} vs σ(${margin})`);
      assert.ok(r.calibratedScore !== undefined, 'calibrated_score is set');
      assert.ok(
        Math.abs(r.calibratedScore - sigmoid((margin - BIAS) / T)) < 1e-6,
        `calibrated ${r.calibratedScore} vs σ((${margin} − ${BIAS}) / ${T})`,
      );
      // Not the raw score under another name.
      assert.ok(Math.abs(r.calibratedScore - r.score) > 1e-4);
      calibrated.add(r.calibratedScore);
      assert.equal(r.provenance?.calibrationHash, hash);
      assert.equal(r.provenance?.templateHash, plainHash);
    }
    assert.ok(calibrated.size > 1, 'items get their own calibrated scores');
    // The stream path carries the same.
    for await (const m of client.bidi('judgeStream', [{ item: items[0]! }])) {
      const r = m.result!;
      assert.equal(r.provenance?.calibrationHash, hash);
      assert.ok(Math.abs(r.calibratedScore! - results[0]!.calibratedScore!) < 1e-9);
    }
  });

  it('JUDGE_CALIBRATION_FILE wins over the model folder; a calibration of another template leaves scores raw', async () => {
    const named = join(scratch, 'named.json');
    const text = formatJudgeCalibration(calibrationDoc(plainHash, 0.5, 1));
    writeFileSync(named, text);
    const client = await serve({ JUDGE_CALIBRATION_FILE: named });
    const [r] = (await client.unary('judgeBatch', { items: [items[1]!] })).results;
    assert.ok(Math.abs(r!.calibratedScore! - sigmoid((r!.yesLogit - r!.noLogit - 1) / 0.5)) < 1e-6);
    assert.equal(r!.provenance?.calibrationHash, createHash('sha256').update(text).digest('hex'));

    const other = join(scratch, 'other-template.json');
    writeFileSync(other, formatJudgeCalibration(calibrationDoc('c'.repeat(64))));
    const rawOnly = await serve({ JUDGE_CALIBRATION_FILE: other });
    const [x] = (await rawOnly.unary('judgeBatch', { items: [items[1]!] })).results;
    assert.equal(x!.status, S.JUDGE_STATUS_OK);
    assert.equal(x!.calibratedScore, undefined);
    assert.equal(x!.provenance?.calibrationHash, '');
    assert.ok(Math.abs(x!.score - r!.score) < 1e-9);
  });

  it('JUDGE_CALIBRATION_FILE=none serves raw scores only, even with calibration.json in the folder', async () => {
    const client = await serve({ JUDGE_CALIBRATION_FILE: 'none' });
    const [r] = (await client.unary('judgeBatch', { items: [items[2]!] })).results;
    assert.equal(r!.calibratedScore, undefined);
    assert.equal(r!.provenance?.calibrationHash, '');
  });

  it('refuses an unreadable or unusable calibration file at config load, naming the variable', () => {
    const bad = join(scratch, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...calibrationDoc(plainHash), temperature: -1 }));
    for (const [file, pattern] of [
      [join(scratch, 'missing.json'), /JUDGE_CALIBRATION_FILE .*missing\.json cannot be read/],
      [bad, /JUDGE_CALIBRATION_FILE .*bad\.json: temperature must be a finite number > 0/],
    ] as const) {
      assert.throws(
        () =>
          loadJudgeServerConfig({
            JUDGE_MODEL_DIR: fixture.dir,
            JUDGE_PORT: '0',
            JUDGE_CALIBRATION_FILE: file,
          }),
        (error: unknown) =>
          isVerdictError(error) && error.code === 'INVALID_ARGUMENT' && pattern.test(error.message),
      );
    }
  });
});
