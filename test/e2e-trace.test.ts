import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startStack } from '@verdict/cli/stack';
import { parseRunConfig } from '@verdict/learner';
import { createInMemorySpanExporter, type FinishedSpan, startTelemetry } from '@verdict/runtime';
import { startNatsServer } from '@verdict/runtime/testing';
import { toyStackOptions } from './support/stack.js';
import { writeToyJudge, writeToyStudent } from './support/toy-models.js';

// OTel SpanKind values (the API enum; kept numeric so this package needs no OTel dependency).
const KIND = { SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 } as const;

test('one trace follows a rollout: learner → policy-server → reward-service → judge-server → learner', async (t) => {
  const exporter = createInMemorySpanExporter();
  const telemetry = await startTelemetry({ serviceName: 'verdict-e2e', traceExporter: exporter });
  const nats = await startNatsServer();
  const student = writeToyStudent();
  const judge = writeToyJudge();
  const work = mkdtempSync(join(tmpdir(), 'verdict-trace-'));
  const stack = await startStack(
    toyStackOptions({
      natsUrl: nats.url,
      studentDir: student.dir,
      judgeDir: judge.dir,
      workDir: work,
      skip: ['evaluator'],
    }),
  );
  let spans: FinishedSpan[] = [];
  try {
    const run = stack.learner!.startRun(
      parseRunConfig({
        runId: 'trace-run',
        student: { checkpointUri: student.dir },
        judge: { modelId: 'toy-judge' },
        dataMix: [{ name: 'toy', limit: 8 }],
        labeledRatio: { labeled: 1, unlabeled: 1 },
        reward: { weights: { lambdaVr: 0.5, muJudge: 0.5 } },
        promptsPerStep: 2,
        groupSize: 2,
        rolloutSampling: { temperature: 1, maxNewTokens: 8 },
        maxSteps: 1,
      }),
      false,
    );
    await run.done;
    assert.equal(run.status().state, 'COMPLETED', run.status().message);
  } finally {
    await stack.stop();
    await telemetry.forceFlush();
    // Read before shutdown: the in-memory exporter forgets its spans when it shuts down.
    spans = exporter.getFinishedSpans();
    await telemetry.shutdown();
    await nats.stop();
    student.cleanup();
    judge.cleanup();
    rmSync(work, { recursive: true, force: true });
  }

  const byTrace = new Map<string, FinishedSpan[]>();
  for (const s of spans) {
    const id = s.spanContext().traceId;
    byTrace.set(id, [...(byTrace.get(id) ?? []), s]);
  }
  const has = (list: FinishedSpan[], kind: number, name: RegExp) =>
    list.some((s) => s.kind === kind && name.test(s.name));
  const complete = [...byTrace.values()].find(
    (list) =>
      has(list, KIND.PRODUCER, /^publish verdict\.rollout\.requested$/) &&
      has(list, KIND.CONSUMER, /^process verdict\.rollout\.requested$/) &&
      has(list, KIND.PRODUCER, /^publish verdict\.rollout\.generated$/) &&
      has(list, KIND.CONSUMER, /^process verdict\.rollout\.generated$/) &&
      has(list, KIND.CLIENT, /JudgeService/) &&
      has(list, KIND.SERVER, /JudgeService/) &&
      has(list, KIND.PRODUCER, /^publish verdict\.rollout\.scored$/) &&
      has(list, KIND.CONSUMER, /^process verdict\.rollout\.scored$/),
  );
  assert.ok(
    complete,
    `no trace holds every hop; span names: ${[...new Set(spans.map((s) => `${s.kind}:${s.name}`))].join(', ')}`,
  );
  const root = complete.find((s) => /^learner step 1 requests$/.test(s.name));
  assert.ok(root, 'the trace starts at the learner step span');
  // Parent links form one chain from the learner's step down to the learner's consumer.
  const ids = new Set(complete.map((s) => s.spanContext().spanId));
  const orphans = complete.filter((s) => s !== root && !ids.has(s.parentSpanContext?.spanId ?? ''));
  assert.deepEqual(
    orphans.map((s) => s.name),
    [],
    'every span of the trace has its parent in the trace',
  );
  t.diagnostic(
    `trace ${root.spanContext().traceId}: ${complete.length} spans: ${[...new Set(complete.map((s) => s.name))].join(' → ')}`,
  );
});
