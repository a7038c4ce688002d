import { commonV1, type rewardV1, rolloutV1, weightsV1 } from '@verdict/proto';
import type { PosedQuestion } from '../domain/question-pool.js';
import type { ComponentValue, SampleStatus, ScoredSample } from '../domain/scored-sample.js';
import type { RolloutTimeline } from '../domain/step-phases.js';

const STATUS: Record<number, SampleStatus> = {
  [commonV1.RewardStatus.REWARD_STATUS_OK]: 'OK',
  [commonV1.RewardStatus.REWARD_STATUS_ABSTAIN]: 'ABSTAIN',
  [commonV1.RewardStatus.REWARD_STATUS_TIMEOUT]: 'TIMEOUT',
  [commonV1.RewardStatus.REWARD_STATUS_ERROR]: 'ERROR',
};

/** UNSPECIFIED (and anything unknown) is ERROR, as the contract says. */
export function sampleStatus(status: commonV1.RewardStatus): SampleStatus {
  return STATUS[status] ?? 'ERROR';
}

function component(c: rewardV1.RewardComponent | undefined): ComponentValue | undefined {
  return c === undefined ? undefined : { status: sampleStatus(c.status), value: c.value };
}

/** Rollout id of sample `index` of question `question` in `step`: deterministic, so a resumed step re-asks the same ids. */
export function rolloutId(runId: string, step: number, question: number, index: number): string {
  return `${runId}.s${step}.q${question}.g${index}`;
}

export function groupId(runId: string, step: number, question: number): string {
  return `${runId}.s${step}.q${question}`;
}

export interface RequestSpec {
  readonly runId: string;
  readonly step: number;
  readonly questionIndex: number;
  readonly question: PosedQuestion;
  readonly promptText: string;
  readonly promptIds: readonly number[];
  readonly groupSize: number;
  readonly groupIndex: number;
  /** The run's rollout sampling (its seed is replaced by `seed`). */
  readonly sampling: commonV1.SamplingParams;
  /** The run's reward config: the reward-service mixes this sample with it. */
  readonly reward: rewardV1.RewardConfig;
  readonly seed: number;
  readonly policyVersionWanted: number;
}

export function buildRolloutRequest(spec: RequestSpec): rolloutV1.RolloutRequested {
  const q = spec.question;
  return rolloutV1.RolloutRequested.fromPartial({
    rolloutId: rolloutId(spec.runId, spec.step, spec.questionIndex, spec.groupIndex),
    runId: spec.runId,
    step: BigInt(spec.step),
    groupId: groupId(spec.runId, spec.step, spec.questionIndex),
    groupIndex: spec.groupIndex,
    groupSize: spec.groupSize,
    questionId: q.id,
    question: q.question,
    promptText: spec.promptText,
    promptTokenIds: [...spec.promptIds],
    labeled: q.labeled,
    ...(q.labeled ? { goldAnswer: q.gold } : {}),
    sampling: { ...spec.sampling, seed: BigInt(spec.seed) },
    reward: spec.reward,
    policyVersionWanted: BigInt(spec.policyVersionWanted),
    requestedAt: new Date(),
  });
}

function durationMs(d: { seconds: bigint; nanos: number } | undefined): number | undefined {
  return d === undefined ? undefined : Number(d.seconds) * 1000 + d.nanos / 1e6;
}

/** The marks the services stamped on a rollout (generation = its batch's start to its own end). */
function timelineOf(m: rolloutV1.RolloutScored): RolloutTimeline {
  const req = m.generated?.request;
  const g = m.generated?.timings;
  const requested = req?.requestedAt?.getTime();
  const queue = durationMs(g?.queueWait);
  const t = m.timings;
  const ms = (d: Date | undefined) => d?.getTime();
  const marks: Record<string, number | undefined> = {
    generationStartMs: requested !== undefined && queue !== undefined ? requested + queue : undefined,
    generationEndMs: ms(g?.finishedAt),
    receivedMs: ms(t?.receivedAt),
    judgeStartMs: ms(t?.judgeStartedAt),
    judgeEndMs: ms(t?.judgeFinishedAt),
    scoredMs: ms(m.scoredAt),
  };
  return Object.fromEntries(Object.entries(marks).filter(([, v]) => v !== undefined)) as RolloutTimeline;
}

/** Decodes a RolloutScored into the learner's sample; throws on a message missing its nested stages. */
export function decodeScored(bytes: Uint8Array): ScoredSample {
  const m = rolloutV1.RolloutScored.decode(bytes);
  const g = m.generated;
  const req = g?.request;
  if (g === undefined || req === undefined) throw new Error('RolloutScored without generated.request');
  const reward = m.reward;
  const c = reward?.components;
  const verifiable = component(c?.verifiable);
  const judge = component(c?.judge);
  const rerank = component(c?.rerank);
  const detail = c?.judgeDetail;
  return {
    rolloutId: req.rolloutId,
    runId: req.runId,
    step: Number(req.step),
    groupId: req.groupId,
    groupIndex: req.groupIndex,
    groupSize: req.groupSize,
    questionId: req.questionId,
    labeled: req.labeled,
    promptIds: g.promptTokenIds.length > 0 ? g.promptTokenIds : req.promptTokenIds,
    completionIds: g.completionTokenIds,
    rolloutLogprobs: g.logprobs,
    policyVersion: Number(g.policyVersion),
    terminal:
      g.finishReason === commonV1.FinishReason.FINISH_REASON_STOP_TOKEN ||
      g.finishReason === commonV1.FinishReason.FINISH_REASON_STOP_STRING,
    status: reward === undefined ? 'ERROR' : sampleStatus(reward.status),
    total: reward?.total ?? 0,
    ...(verifiable ? { verifiable } : {}),
    ...(judge ? { judge } : {}),
    ...(rerank ? { rerank } : {}),
    ...(detail ? { judgePYesFull: detail.pYesFull, judgeOtherMass: detail.otherMass } : {}),
    generatorId: g.generatorId,
    timeline: timelineOf(m),
  };
}

export function buildWeightsPublished(p: {
  runId: string;
  version: number;
  step: number;
  modelId: string;
  bucket: string;
  objectName: string;
  sha256: string;
  sizeBytes: number;
}): Uint8Array {
  return weightsV1.WeightsPublished.encode(
    weightsV1.WeightsPublished.fromPartial({
      runId: p.runId,
      version: BigInt(p.version),
      step: BigInt(p.step),
      modelId: p.modelId,
      bucket: p.bucket,
      objectName: p.objectName,
      sha256: p.sha256,
      sizeBytes: BigInt(p.sizeBytes),
      format: weightsV1.WeightsFormat.WEIGHTS_FORMAT_SAFETENSORS,
      createdAt: new Date(),
    }),
  ).finish();
}
