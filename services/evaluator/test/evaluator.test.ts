import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  findSharedDatasets,
  loadSuite,
  ORACLE_MODEL,
  type Problem,
  readHistory,
  runSuiteEval,
  type SuiteGenerator,
  wrongNumber,
} from '@verdict/data';
import { generate, loadLlamaModel, locateSharedDir } from '@verdict/models';
import { evaluatorV1 } from '@verdict/proto';
import { createGrpcClient, type GrpcClient, isVerdictError, silentLogger } from '@verdict/runtime';
import { createEvaluatorApp, type EvaluatorApp, loadEvaluatorConfig } from '../src/index.js';
import {
  type FakePolicyServer,
  modelAnswerFn,
  rejectIf,
  startFakePolicyServer,
} from './fake-policy-server.js';

const serviceRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const hasDatasets = findSharedDatasets(process.cwd()) !== undefined;

// The rule model: right on problems whose id hash is even; samples 0 and 1 right, 2 wrong.
const problemsByQuestion = new Map<string, Problem>();
for (const p of [...loadSuite('toy-id'), ...loadSuite('toy-ood')]) problemsByQuestion.set(p.question, p);
function halfRight(p: Problem): boolean {
  let h = 0;
  for (const c of p.id) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h % 2 === 0;
}
const answerText = (p: Problem, right: boolean): string =>
  right ? ORACLE_MODEL.answer(p) : `I think it is ${wrongNumber(p.answer)}.`;
const questionOf = (prompt: string): string => prompt.replace(/^Question: /, '').replace(/\nAnswer:$/, '');
const ruleAnswer = (prompts: readonly string[], sampling: { temperature: number }, samples: number) =>
  prompts.map((prompt) => {
    const p = problemsByQuestion.get(questionOf(prompt));
    if (p === undefined) return Array.from({ length: samples }, () => 'no idea');
    return Array.from({ length: samples }, (_, i) =>
      sampling.temperature === 0 ? answerText(p, halfRight(p)) : answerText(p, i % 3 !== 2),
    );
  });
/** The same model as a local harness generator: the library reference for the wire results. */
const REJECTED = 'toy-ood-eval-3';
const localRule: SuiteGenerator = {
  model: 'local',
  greedy: async (batch) =>
    batch.map(({ problem }) => (problem.id === REJECTED ? '' : answerText(problem, halfRight(problem)))),
  sample: async (batch, s) =>
    batch.map(({ problem }) =>
      Array.from({ length: s.count }, (_, i) =>
        problem.id === REJECTED ? '' : answerText(problem, i % 3 !== 2),
      ),
    ),
};

type EvalClient = GrpcClient<evaluatorV1.EvaluatorServiceClient>;

async function collect(client: EvalClient, req: Partial<evaluatorV1.RunSuiteRequest>) {
  const events: evaluatorV1.RunSuiteResponse[] = [];
  for await (const e of client.serverStream('runSuite', {
    suite: '',
    limit: 0n,
    samples: 0,
    policyTarget: '',
    ...req,
  })) {
    events.push(e);
  }
  return events;
}

describe('evaluator service over gRPC', () => {
  let policy: FakePolicyServer;
  let app: EvaluatorApp;
  let client: EvalClient;
  let reportDir: string;
  before(async () => {
    const rejectedQuestion = problemsByQuestion.get(
      [...problemsByQuestion.values()].find((p) => p.id === REJECTED)!.question,
    )!.question;
    policy = await startFakePolicyServer(
      rejectIf((prompt) => questionOf(prompt) === rejectedQuestion, ruleAnswer),
    );
    reportDir = mkdtempSync(join(tmpdir(), 'verdict-evaluator-'));
    const config = loadEvaluatorConfig({
      EVALUATOR_HOST: '127.0.0.1',
      EVALUATOR_PORT: '0',
      EVALUATOR_POLICY_TARGET: policy.address,
      EVALUATOR_REPORT_DIR: reportDir,
      EVALUATOR_BATCH_SIZE: '8',
    });
    app = createEvaluatorApp(config, { logger: silentLogger, telemetry: false });
    const { address } = await app.start();
    client = createGrpcClient(evaluatorV1.EvaluatorServiceClient, address, { defaultDeadlineMs: 60_000 });
  });
  after(async () => {
    client.close();
    await app.stop();
    await policy.stop();
    rmSync(reportDir, { recursive: true, force: true });
  });

  it('RunSuite streams progress per batch, then one report equal to the library harness', async () => {
    const events = await collect(client, {
      suite: 'toy-ood',
      limit: 20n,
      samples: 3,
      sampling: {
        temperature: 0.7,
        topP: 1,
        topK: 0,
        seed: 5n,
        maxNewTokens: 64,
        stopTokenIds: [],
        stopStrings: [],
      },
    });
    const progress = events.slice(0, -1).map((e) => e.progress);
    assert.deepEqual(
      progress.map((p) => [p?.done, p?.total]),
      [
        [8n, 20n],
        [16n, 20n],
        [20n, 20n],
      ],
    );
    const report = events.at(-1)?.report;
    assert.ok(report, 'the last event is the report');
    assert.equal(events.filter((e) => e.report !== undefined).length, 1);

    const reference = await runSuiteEval({
      suite: 'toy-ood',
      generator: localRule,
      limit: 20,
      samples: 3,
      seed: 5,
    });
    const r = reference.result;
    assert.ok(
      r.strict.accuracy > 0.1 && r.strict.accuracy < 0.9,
      `non-trivial accuracy ${r.strict.accuracy}`,
    );
    assert.equal(report.suite, 'toy-ood');
    assert.equal(report.n, 20n);
    assert.equal(report.k, 3);
    assert.equal(report.strict, r.strict.accuracy);
    assert.equal(report.flexible, r.flexible.accuracy);
    assert.equal(report.greedyAccuracy, r.flexible.accuracy);
    assert.equal(report.majAtK, r.flexible.maj_at_k);
    assert.equal(report.meanAtK, r.flexible.mean_at_k);
    assert.equal(progress.at(-1)?.runningAccuracy, r.flexible.accuracy);
    // Per-question outcomes in suite order, for pairing runs; their means are the headline numbers.
    assert.deepEqual(
      report.problems.map((p) => p.id),
      reference.items.map((i) => i.id),
    );
    const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.equal(meanOf(report.problems.map((p) => (p.greedyCorrect ? 1 : 0))), r.flexible.accuracy);
    assert.ok(report.problems.every((p) => p.samples === 3 && p.samplesCorrect <= 3));
    assert.ok(
      Math.abs(meanOf(report.problems.map((p) => p.samplesCorrect / 3)) - r.flexible.mean_at_k!) < 1e-12,
    );
    assert.ok(Math.abs(meanOf(report.problems.map((p) => p.majAtK!)) - r.flexible.maj_at_k!) < 1e-12);
    assert.deepEqual(Object.keys(report.perCategory).sort(), Object.keys(r.per_category).sort());
    for (const [name, c] of Object.entries(r.per_category)) {
      assert.equal(report.perCategory[name]?.strict, c.strict.accuracy, name);
      assert.equal(report.perCategory[name]?.n, BigInt(c.n), name);
    }
    assert.deepEqual(report.model, { modelId: 'test-policy', version: 7n });
    assert.ok(report.startedAt instanceof Date && report.finishedAt! >= report.startedAt);
    // Greedy at temperature 0; samples with samples_per_prompt = 3 and the request's seed.
    const sampled = policy.calls.filter((c) => c.samplesPerPrompt === 3);
    assert.ok(
      sampled.length > 0 && sampled.every((c) => c.sampling?.seed === 5n && c.sampling.temperature > 0),
    );
    assert.ok(
      policy.calls.filter((c) => c.samplesPerPrompt === 1).every((c) => c.sampling?.temperature === 0),
    );

    // Reports on disk: the run JSON (with the per-item outputs), history line, HTML.
    const history = readHistory(reportDir).entries;
    assert.equal(history.at(-1)?.suite, 'toy-ood');
    assert.equal(history.at(-1)?.model, 'test-policy');
    assert.equal(history.at(-1)?.model_version, '7');
    const runJson = JSON.parse(
      readFileSync(join(reportDir, 'runs', `${history.at(-1)!.run_id}.json`), 'utf8'),
    );
    const items = runJson.items['toy-ood'] as { id: string; greedy: string }[];
    assert.equal(
      items.find((i) => i.id === REJECTED)?.greedy,
      '',
      'a rejected prompt is scored as no answer',
    );
    assert.deepEqual(
      items.map((i) => i.greedy),
      reference.items.map((i) => i.greedy),
    );
    assert.match(readFileSync(join(reportDir, 'report.html'), 'utf8'), /<svg /);
  });

  it('unknown suite and out-of-range fields are INVALID_ARGUMENT naming the field', async () => {
    const cases: [Partial<evaluatorV1.RunSuiteRequest>, string][] = [
      [{ suite: 'gsm9k' }, 'suite'],
      [{ suite: 'toy-id', samples: 1000 }, 'samples'],
      [
        {
          suite: 'toy-id',
          sampling: { temperature: -1, topP: 1, topK: 0, maxNewTokens: 8, stopTokenIds: [], stopStrings: [] },
        },
        'sampling.temperature',
      ],
    ];
    for (const [req, field] of cases) {
      await assert.rejects(collect(client, req), (e: unknown) => {
        assert.ok(isVerdictError(e));
        assert.equal(e.code, 'INVALID_ARGUMENT');
        assert.equal(e.field, field);
        assert.match(e.message, new RegExp(field.replace('.', '\\.')));
        return true;
      });
    }
  });

  it('ListSuites lists the suites with sizes and categories', async () => {
    const { suites } = await client.unary('listSuites', {});
    const byName = new Map(suites.map((s) => [s.suite, s]));
    assert.equal(byName.get('toy-id')?.size, 2000n);
    assert.deepEqual(byName.get('toy-id')?.categories, ['1', '2', '3', '4']);
    if (hasDatasets) {
      assert.equal(byName.get('gsm8k-test')?.size, 1319n);
      assert.equal(byName.get('gsm-plus')?.categories.length, 8);
    }
  });

  it('an unreachable policy-server fails the stream with UNAVAILABLE', async () => {
    const closed = await startFakePolicyServer(ruleAnswer);
    const target = closed.address;
    await closed.stop();
    const config = loadEvaluatorConfig({
      EVALUATOR_PORT: '0',
      EVALUATOR_HOST: '127.0.0.1',
      EVALUATOR_POLICY_TARGET: target,
      EVALUATOR_REPORT_DIR: reportDir,
      EVALUATOR_GENERATE_TIMEOUT: '1500ms',
    });
    const once = createEvaluatorApp(
      { ...config, nightly: { ...config.nightly, suites: ['toy-id'], limit: 4 } },
      { logger: silentLogger, telemetry: false },
    );
    const outcome = await once.runOnce();
    assert.equal(outcome.ok, false);
    assert.equal(outcome.failures[0]?.suite, 'toy-id');
  });
});

describe('evaluator with a real model behind the policy-server (stories260k)', () => {
  it('RunSuite greedy texts equal direct generate() on the same prompts', async () => {
    const model = loadLlamaModel(join(locateSharedDir(), 'fixtures', 'stories260k'));
    const policy = await startFakePolicyServer(modelAnswerFn(model, generate), {
      modelId: 'stories260k',
      version: 0n,
    });
    const reportDir = mkdtempSync(join(tmpdir(), 'verdict-evaluator-'));
    const app = createEvaluatorApp(
      loadEvaluatorConfig({
        EVALUATOR_HOST: '127.0.0.1',
        EVALUATOR_PORT: '0',
        EVALUATOR_POLICY_TARGET: policy.address,
        EVALUATOR_REPORT_DIR: reportDir,
        EVALUATOR_MAX_NEW_TOKENS: '16',
      }),
      { logger: silentLogger, telemetry: false },
    );
    const { address } = await app.start();
    const client = createGrpcClient(evaluatorV1.EvaluatorServiceClient, address, {
      defaultDeadlineMs: 120_000,
    });
    try {
      const events = await collect(client, { suite: 'toy-id', limit: 4n });
      const report = events.at(-1)?.report;
      assert.equal(report?.n, 4n);
      assert.deepEqual(report?.model, { modelId: 'stories260k', version: 0n });
      const entry = readHistory(reportDir).entries[0]!;
      const items = JSON.parse(readFileSync(join(reportDir, 'runs', `${entry.run_id}.json`), 'utf8')).items[
        'toy-id'
      ];
      const problems = loadSuite('toy-id', { limit: 4 });
      const direct = await generate(
        model,
        problems.map((p) => `Question: ${p.question}\nAnswer:`),
        { maxNewTokens: 16, temperature: 0 },
      );
      assert.deepEqual(
        items.map((i: { greedy: string }) => i.greedy),
        direct.map((g) => g.text),
      );
      assert.ok(direct.every((g) => g.text.length > 0));
    } finally {
      client.close();
      await app.stop();
      await policy.stop();
      await model.close();
      rmSync(reportDir, { recursive: true, force: true });
    }
  });
});

describe('verdict-evaluator --once (the nightly CronJob command, spawned)', () => {
  let policy: FakePolicyServer;
  before(async () => {
    policy = await startFakePolicyServer(ruleAnswer);
  });
  after(() => policy.stop());

  const run = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      execFile(
        process.execPath,
        [join(serviceRoot, 'bin', 'evaluator.mjs'), ...args],
        { env: { ...process.env, ...env }, encoding: 'utf8' },
        (err, stdout, stderr) =>
          done({ code: err === null ? 0 : ((err.code as number) ?? null), stdout, stderr }),
      );
    });

  it('runs the suites, writes reports under one run id and exits 0; bad suite exits 2', async () => {
    const reportDir = mkdtempSync(join(tmpdir(), 'verdict-nightly-'));
    try {
      const env = {
        EVALUATOR_POLICY_TARGET: policy.address,
        EVALUATOR_REPORT_DIR: reportDir,
        EVALUATOR_LIMIT: '12',
        EVALUATOR_SAMPLES: '2',
      };
      const r = await run(['--once', '--suites', 'toy-id,toy-ood'], env);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.ok, true);
      assert.deepEqual(
        out.results.map((x: { suite: string; n: number; k: number }) => [x.suite, x.n, x.k]),
        [
          ['toy-id', 12, 2],
          ['toy-ood', 12, 2],
        ],
      );
      const history = readHistory(reportDir).entries;
      assert.equal(history.length, 2);
      assert.equal(new Set(history.map((h) => h.run_id)).size, 1);
      assert.ok(existsSync(join(reportDir, 'report.html')));
      assert.equal(readdirSync(join(reportDir, 'runs')).length, 2); // json + html

      const bad = await run(['--once', '--suites', 'toy-id,nope'], env);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /EVALUATOR_SUITES has unknown suite\(s\) nope/);
    } finally {
      rmSync(reportDir, { recursive: true, force: true });
    }
  });
});
