import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createJudgeServerApp, loadJudgeServerConfig } from '@verdict/judge-server';
import { judge, loadModel } from '@verdict/models';
import { judgeV1 } from '@verdict/proto';
import { writeRandomToyModel } from '@verdict/recipes';
import { parseJudgeCalibration } from '@verdict/rl';
import { createGrpcClient, silentLogger } from '@verdict/runtime';
import { verdictInProcess } from './in-process.js';

const ITEMS = 48;

function row(i: number) {
  const a = i % 10;
  const b = (i * 7) % 10;
  return { question: `What is ${a} plus ${b}?`, solution: `It is ${a} and ${b}, so ${a + b + (i % 3)}.` };
}

const jsonl = (rows: readonly object[]): string => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

describe('verdict judge calibrate', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'verdict-calibrate-cli-'));
  const modelDir = join(scratch, 'toy-judge');
  const poolFile = join(scratch, 'pool.jsonl');

  before(async () => {
    writeRandomToyModel(modelDir, {
      hiddenSize: 32,
      layers: 2,
      maxPositions: 96,
      seed: 11,
      scale: 1.5,
      numHeads: 4,
      numKvHeads: 2,
    });
    // Labels that the judge's margin predicts, with some flipped so the pool is not separable:
    // the fit then has a finite, positive slope.
    const rows = Array.from({ length: ITEMS }, (_, i) => row(i));
    const model = loadModel(modelDir);
    const results = await judge(
      model,
      rows.map((r) => ({ question: r.question, answer: r.solution })),
      { template: 'plain' },
    );
    await model.close();
    const margins = results.map((r) => r.zYes - r.zNo);
    const median = [...margins].sort((x, y) => x - y)[ITEMS / 2]!;
    const labeled = rows.map((r, i) => ({ ...r, label: margins[i]! >= median !== (i % 6 === 0) }));
    writeFileSync(poolFile, jsonl(labeled));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('writes calibration.json and the HTML report into the model folder; the judge-server applies it', async () => {
    const r = await verdictInProcess([
      'judge',
      'calibrate',
      '--model',
      modelDir,
      '--pool',
      poolFile,
      '--template',
      'plain',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.calibration, join(modelDir, 'calibration.json'));
    assert.equal(doc.report, join(modelDir, 'calibration.html'));
    const text = readFileSync(doc.calibration, 'utf8');
    const loaded = parseJudgeCalibration(text, doc.calibration);
    assert.equal(loaded.hash, doc.hash);
    assert.equal(loaded.temperature, doc.temperature);
    assert.equal(loaded.bias, doc.bias);
    assert.ok(doc.temperature > 0 && Number.isFinite(doc.bias));
    const file = JSON.parse(text);
    assert.equal(file.pool.sha256, createHash('sha256').update(readFileSync(poolFile)).digest('hex'));
    assert.equal(file.pool.items, ITEMS);
    assert.equal(file.pool.fit_items + file.pool.held_out_items, ITEMS);
    assert.equal(file.judge.template_name, 'plain');
    for (const split of [file.metrics.fit, file.metrics.held_out]) {
      for (const k of ['ece_before', 'ece_after', 'brier_before', 'brier_after', 'nll_before', 'nll_after']) {
        assert.equal(typeof split[k], 'number', k);
        assert.ok(Number.isFinite(split[k]), k);
      }
    }
    // Fitting minimises the NLL on the fit split: never worse than the raw judge there.
    assert.ok(file.metrics.fit.nll_after <= file.metrics.fit.nll_before + 1e-9);
    const html = readFileSync(doc.report, 'utf8');
    assert.match(html, /<svg/);
    assert.match(html, /Reliability \(held out\)/);
    assert.match(html, new RegExp(`T = ${doc.temperature.toFixed(4)}`));

    // The server started on this folder finds calibration.json by itself and names its hash.
    const app = createJudgeServerApp(
      loadJudgeServerConfig({
        JUDGE_MODEL_DIR: modelDir,
        JUDGE_HOST: '127.0.0.1',
        JUDGE_PORT: '0',
        JUDGE_DEFAULT_TEMPLATE: 'plain',
      }),
      { logger: silentLogger, telemetry: false },
    );
    const { address } = await app.start();
    const client = createGrpcClient(judgeV1.JudgeServiceClient, address, { defaultDeadlineMs: 20_000 });
    try {
      const { results } = await client.unary('judgeBatch', {
        items: [{ id: 'a', ...row(3), templateName: '' }],
      });
      const x = results[0]!;
      assert.equal(x.provenance?.calibrationHash, doc.hash);
      const want = 1 / (1 + Math.exp(-((x.yesLogit - x.noLogit - doc.bias) / doc.temperature)));
      assert.ok(Math.abs(x.calibratedScore! - want) < 1e-6, `${x.calibratedScore} vs ${want}`);
    } finally {
      client.close();
      await app.stop();
    }
  });

  it('--out elsewhere: the report goes next to it', async () => {
    const out = join(scratch, 'elsewhere', 'judge-cal.json');
    const r = await verdictInProcess([
      'judge',
      'calibrate',
      '--model',
      modelDir,
      '--pool',
      poolFile,
      '--out',
      out,
      '--temperature-only',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).bias, 0);
    assert.ok(existsSync(out));
    assert.ok(existsSync(join(scratch, 'elsewhere', 'judge-cal.html')));
  });

  it('bad input: exit 2 with one line naming the flag, before the model loads', async () => {
    const write = (name: string, rows: readonly object[]) => {
      const p = join(scratch, name);
      writeFileSync(p, jsonl(rows));
      return p;
    };
    const fewer = write(
      'few.jsonl',
      Array.from({ length: 5 }, (_, i) => ({ ...row(i), label: i % 2 === 0 })),
    );
    const oneClass = write(
      'one-class.jsonl',
      Array.from({ length: 30 }, (_, i) => ({ ...row(i), label: true })),
    );
    const badLabel = write('bad-label.jsonl', [{ ...row(0), label: 'yes' }]);
    const noSolution = write('no-solution.jsonl', [{ question: 'q', label: 1 }]);
    const cases: [string[], RegExp][] = [
      [['--model', modelDir], /--pool is required/],
      [['--pool', poolFile], /--model is required/],
      [['--model', modelDir, '--pool', join(scratch, 'nope.jsonl')], /--pool .*nope\.jsonl cannot be read/],
      [
        ['--model', modelDir, '--pool', fewer],
        /--pool .* holds 5 labeled items, fewer than --min-items \(20\)/,
      ],
      [['--model', modelDir, '--pool', oneClass], /--pool .* has 30 true and 0 false labels/],
      [['--model', modelDir, '--pool', badLabel], /--pool line 1: "label" must be true\/false or 1\/0/],
      [['--model', modelDir, '--pool', noSolution], /--pool line 1 needs a non-empty string "solution"/],
      [['--model', modelDir, '--pool', poolFile, '--held-out', '0'], /--held-out must be/],
    ];
    for (const [args, pattern] of cases) {
      const r = await verdictInProcess(['judge', 'calibrate', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '');
    }
  });
});
