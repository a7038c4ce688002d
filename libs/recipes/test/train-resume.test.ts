import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateToyProblems, writeToyTokenizer } from '@verdict/data';
import { createRandomLlamaWeights, loadModelTokenizer } from '@verdict/models';
import type { ParamMap } from '@verdict/rl';
import { studentSftSequences } from '../src/toy/student.js';
import { toyLlamaConfig } from '../src/toy/toy-model.js';
import { type TrainPhase, trainOnSequences } from '../src/toy/train-examples.js';

const dir = mkdtempSync(join(tmpdir(), 'verdict-train-resume-'));
writeToyTokenizer(join(dir, 'tokenizer'));
const tokenizer = loadModelTokenizer(join(dir, 'tokenizer'));
const config = toyLlamaConfig({ hiddenSize: 32, numLayers: 1, numHeads: 2, intermediateSize: 64 });
const sequencesOf = (seed: string) =>
  studentSftSequences(tokenizer, config, generateToyProblems(40, { seed, split: 'id' }));
const first = sequencesOf('resume-a');
const second = sequencesOf('resume-b');

function train(phases: readonly TrainPhase[], checkpointDir?: string, lines: string[] = []) {
  return trainOnSequences({
    label: 'resume test',
    config,
    params: createRandomLlamaWeights(config, 3),
    phases,
    train: { batchSize: 8, lr: 3e-3 },
    seed: 5,
    threads: 1,
    onProgress: (line) => lines.push(line),
    ...(checkpointDir ? { checkpointing: { dir: checkpointDir, everySteps: 3 } } : {}),
  });
}

function maxAbsDiff(a: ParamMap, b: ParamMap): number {
  let worst = 0;
  for (const [name, x] of a) {
    const y = b.get(name)!;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  }
  return worst;
}

describe('trainOnSequences checkpointing', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a run killed after a checkpoint resumes where it was and ends on the same weights as one unbroken run', async () => {
    const phases = (later: Promise<readonly (typeof second)[number][]>): TrainPhase[] => [
      { sequences: first, count: first.length, epochs: 1 },
      { sequences: later, count: second.length, epochs: 1 },
    ];
    const unbroken = await train(phases(Promise.resolve(second)));
    assert.equal(unbroken.summary.steps, 10);

    // The second phase's data never comes: the run dies after 5 steps, its last checkpoint at step 3.
    const ckpt = join(dir, 'ckpt');
    const never = Promise.reject(new Error('killed'));
    never.catch(() => {}); // awaited by the run; handled here so it is not reported as unhandled
    await assert.rejects(train(phases(never), ckpt), /killed/);
    assert.ok(existsSync(join(ckpt, 'latest', 'trainer_state.json')));
    assert.ok(!existsSync(join(ckpt, 'latest.next')), 'no half-written checkpoint left behind');

    const lines: string[] = [];
    const resumed = await train(phases(Promise.resolve(second)), ckpt, lines);
    assert.ok(
      lines.some((l) => l.includes('resuming at step 3 of 10')),
      lines.join('\n'),
    );
    assert.equal(resumed.summary.steps, 10);
    assert.equal(resumed.summary.tokens, unbroken.summary.tokens, 'every batch counted once');
    assert.equal(maxAbsDiff(resumed.params, unbroken.params), 0);
    assert.ok(
      maxAbsDiff(resumed.params, createRandomLlamaWeights(config, 3)) > 1e-3,
      'training moved the weights',
    );
  });
});
