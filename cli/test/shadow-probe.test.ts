// The shadow prober over real services: any slice size (requests are split below the servers'
// per-request limits), and the split does not change what it measures.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateToyProblems } from '@verdict/data';
import { writeRandomToyModel } from '@verdict/recipes';
import { silentLogger } from '@verdict/runtime';
import { createShadowProber } from '../src/experiment/shadow-probe.js';
import { type Stack, startStack } from '../src/stack/index.js';

let work: string;
let stack: Stack;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'verdict-shadow-'));
  const model = (name: string, seed: number) =>
    writeRandomToyModel(join(work, name), { hiddenSize: 16, layers: 1, maxPositions: 256, seed, scale: 1 });
  stack = await startStack({
    messaging: { start: 'memory' },
    studentDir: model('student', 3),
    judgeDir: model('judge', 11),
    runsDir: join(work, 'runs'),
    reportDir: join(work, 'reports'),
    logger: silentLogger,
  });
  // Generate waits for weights: let the policy-server load the student first.
  while (stack.policies[0]!.health().loadedVersion === undefined) await new Promise((r) => setTimeout(r, 50));
});
after(async () => {
  await stack?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('a slice larger than one request (300 > 256 sequences) is probed whole, the same in any split', async () => {
  const problems = generateToyProblems(300, { seed: 'shadow-probe-test', split: 'id' });
  const probe = (requestSize?: number) => {
    const prober = createShadowProber({
      policyAddress: stack.addresses['policy-server-0']!,
      judgeAddress: stack.addresses['judge-server']!,
      problems,
      maxNewTokens: 6,
      ...(requestSize !== undefined ? { requestSize } : {}),
    });
    return prober.probe().finally(() => prober.close());
  };
  const whole = await probe();
  assert.equal(whole.n, 300);
  assert.equal(whole.correct.length, 300);
  assert.ok(Number.isFinite(whole.judgeMean), 'every solution judged');
  const split = await probe(70);
  assert.deepEqual(split.correct, whole.correct);
  assert.ok(Math.abs(split.judgeMean - whole.judgeMean) < 1e-9, `${split.judgeMean} vs ${whole.judgeMean}`);
  assert.equal(split.agreement, whole.agreement);
  // The judge's AUROC on the policy's own samples: undefined (NaN) when every answer has one label.
  const mixed = whole.correct.some(Boolean) && !whole.correct.every(Boolean);
  if (mixed) assert.ok(whole.auroc >= 0 && whole.auroc <= 1, `auroc ${whole.auroc}`);
  else assert.ok(Number.isNaN(whole.auroc), `one label only: auroc ${whole.auroc} must be NaN`);
  assert.ok(Object.is(split.auroc, whole.auroc) || Math.abs(split.auroc - whole.auroc) < 1e-12);
});
