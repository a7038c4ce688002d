// The cases: a pure function of (seed, method, case index), so any one case can be rebuilt alone.
// Each draws a kind (plausible, based on a valid request, edge, mutated) and its bytes.
import { SUITE_NAMES } from '@verdict/data';
import { evaluatorV1, health, judgeV1, learnerV1, policyV1, rewardV1 } from '@verdict/proto';
import { type CaseKind, type GenOptions, generateMessage, overrideOneField } from './generate.js';
import { mutate } from './mutate.js';
import { Rng } from './rng.js';
import type { FuzzMethod, FuzzSchema } from './schema.js';

export function hintsFor(schema: FuzzSchema): GenOptions['hints'] {
  return {
    suite: [...SUITE_NAMES],
    service: ['', ...schema.serviceNames],
    template_name: ['', 'default'],
    run_id: ['fuzz-run', 'run-1'],
    question: ['What is 2 + 3?', 'Tom has 3 apples and buys 4 more. How many apples does he have?'],
    solution: ['#### 5', '3 + 4 = 7\n#### 7', 'The answer is 7.'],
    completion: ['#### 5', '3 + 4 = 7\n#### 7', 'The answer is 7.'],
    text: ['What is 2 + 3?', 'Q: 1 + 1 = ?\nA:'],
    gold_answer: ['5', '7'],
    policy_target: ['', '127.0.0.1:1', 'dns:///metadata.google.internal:80'],
    // Folders that are not models (never one that is: a valid StartRun would train mid-fuzz).
    checkpoint_uri: ['/nonexistent/verdict-fuzz', '/tmp', '/', '/etc/passwd', '.', 'file:///etc'],
    name: ['toy'],
  };
}

const JUDGE_ITEM = { id: 'a', question: 'What is 2 + 3?', solution: '2 + 3 = 5\n#### 5', templateName: '' };

/**
 * A valid request per method (by its path), the start of `based` cases. The run config names a
 * model folder that does not exist: a based StartRun gets as far as loading the model, and never
 * starts training in the middle of the fuzz.
 */
export const BASES: Readonly<Record<string, Uint8Array>> = {
  '/verdict.judge.v1.JudgeService/JudgeBatch': judgeV1.JudgeBatchRequest.encode({
    items: [JUDGE_ITEM],
  }).finish(),
  '/verdict.judge.v1.JudgeService/JudgeStream': judgeV1.JudgeStreamRequest.encode({
    item: JUDGE_ITEM,
  }).finish(),
  '/verdict.reward.v1.RewardService/Score': rewardV1.ScoreRequest.encode(
    rewardV1.ScoreRequest.fromPartial({
      items: [
        {
          id: 'a',
          question: 'What is 2 + 3?',
          completion: '#### 5',
          labeled: true,
          goldAnswer: '5',
          groupId: 'g',
        },
        { id: 'b', question: 'What is 2 + 3?', completion: '#### 6', labeled: false, groupId: 'g' },
      ],
    }),
  ).finish(),
  '/verdict.policy.v1.PolicyService/Generate': policyV1.GenerateRequest.encode(
    policyV1.GenerateRequest.fromPartial({
      requestId: 'r',
      prompts: [{ text: 'What is 2 + 3?' }],
      sampling: { temperature: 1, topP: 1, maxNewTokens: 4, seed: 1n },
      samplesPerPrompt: 2,
    }),
  ).finish(),
  '/verdict.evaluator.v1.EvaluatorService/RunSuite': evaluatorV1.RunSuiteRequest.encode(
    evaluatorV1.RunSuiteRequest.fromPartial({ suite: 'toy-id', limit: 2n, sampling: { maxNewTokens: 4 } }),
  ).finish(),
  '/verdict.learner.v1.LearnerService/StartRun': learnerV1.StartRunRequest.encode(
    learnerV1.StartRunRequest.fromPartial({
      config: {
        runId: 'fuzz-base',
        student: { checkpointUri: '/nonexistent/verdict-fuzz/student', modelId: 'toy-student' },
        judge: { modelId: 'toy-judge' },
        dataMix: [{ name: 'toy', limit: 8 }],
        labeledRatio: { labeled: 1, unlabeled: 1 },
        reward: { weights: { lambdaVr: 0.5, muJudge: 0.5 } },
        algorithm: learnerV1.Algorithm.ALGORITHM_GRPO,
        promptsPerStep: 2,
        groupSize: 2,
        microBatchSize: 2,
        learningRate: 1e-2,
        rolloutSampling: { temperature: 1, maxNewTokens: 4 },
        maxSteps: 1,
        seed: 1,
      },
    }),
  ).finish(),
  '/verdict.learner.v1.LearnerService/GetRunStatus': learnerV1.GetRunStatusRequest.encode({
    runId: 'fuzz-base',
  }).finish(),
  '/grpc.health.v1.Health/Check': health.HealthCheckRequest.encode({ service: '' }).finish(),
};

export interface BuiltCase {
  readonly kind: CaseKind;
  readonly messages: Uint8Array[];
  readonly notes: string[];
  /** Request metadata (headers) besides grpc-js's own. */
  readonly metadata: readonly (readonly [string, string | Buffer])[];
  /** A deadline of its own (short), instead of the run's. */
  readonly deadlineMs?: number;
}

function printable(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(rng.range(0x20, 0x7e));
  return s;
}

/** Headers a client may send: trace context that is not one, tokens, binary values, long values. */
function fuzzMetadata(rng: Rng, notes: string[]): [string, string | Buffer][] {
  const out: [string, string | Buffer][] = [];
  for (let i = rng.range(1, 3); i > 0; i--) {
    switch (rng.int(5)) {
      case 0:
        out.push([
          'traceparent',
          rng.chance(0.5) ? `00-${printable(rng, rng.size(80))}` : printable(rng, 55),
        ]);
        break;
      case 1:
        out.push(['authorization', `Bearer ${printable(rng, rng.size(200))}`]);
        break;
      case 2:
        out.push(['x-fuzz-bin', Buffer.from(rng.bytes(rng.size(4096)))]);
        break;
      case 3:
        out.push(['verdict-schema', printable(rng, rng.size(32))]);
        break;
      default: {
        const n = rng.size(16 * 1024);
        out.push(['x-fuzz', 'v'.repeat(n)]);
        notes.push(`metadata value of ${n} chars`);
      }
    }
  }
  notes.push(`metadata ${out.map(([k]) => k).join(', ')}`);
  return out;
}

/** The request bytes of one case: a pure function of (seed, method, index). */
export function buildCase(
  method: FuzzMethod,
  seed: number,
  index: number,
  hints: GenOptions['hints'],
): BuiltCase {
  const rng = Rng.forCase(seed, method.id, index);
  const base = BASES[method.path];
  const r = rng.next();
  const kind: CaseKind =
    r < 0.25
      ? 'plausible'
      : r < 0.45
        ? base !== undefined
          ? 'based'
          : 'plausible'
        : r < 0.8
          ? 'edge'
          : 'mutated';
  const streaming =
    method.desc.methodKind === 'bidi_streaming' || method.desc.methodKind === 'client_streaming';
  const count = streaming ? rng.size(8) : 1;
  const notes: string[] = [];
  const messages: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const from = kind === 'mutated' ? rng.pick(['plausible', 'edge', 'based'] as const) : kind;
    const bytes =
      from === 'based' && base !== undefined
        ? overrideOneField(rng, base, method.desc.input, { hints }, notes)
        : generateMessage(rng, method.desc.input, from === 'based' ? 'plausible' : from, { hints }, notes);
    // In a stream only some messages are mutated: garbage after good items matters most.
    messages.push(kind === 'mutated' && (!streaming || rng.chance(0.5)) ? mutate(rng, bytes, notes) : bytes);
  }
  notes.unshift(`${messages.length} message(s), ${messages.reduce((n, m) => n + m.length, 0)} bytes`);
  const metadata = rng.chance(0.1) ? fuzzMetadata(rng, notes) : [];
  // Sometimes a deadline that passes mid-call: the server must drop the work, not leak it.
  const deadlineMs = rng.chance(0.05) ? rng.range(1, 50) : undefined;
  if (deadlineMs !== undefined) notes.push(`deadline ${deadlineMs} ms`);
  return { kind, messages, notes, metadata, ...(deadlineMs !== undefined ? { deadlineMs } : {}) };
}
