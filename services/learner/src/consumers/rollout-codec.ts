import { commonV1, type rewardV1, rolloutV1, weightsV1 } from '@verdict/proto';
import type { PosedQuestion } from '../domain/question-pool.js';
import type { ComponentValue, SampleStatus, ScoredSample } from '../domain/scored-sample.js';
import type { SamplingConfig } from '../run-config/run-config.js';

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
  readonly sampling: SamplingConfig;
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
    sampling: {
      temperature: spec.sampling.temperature,
      topP: spec.sampling.topP,
      topK: spec.sampling.topK,
      seed: BigInt(spec.seed),
      maxNewTokens: spec.sampling.maxNewTokens,
      stopStrings: [...spec.sampling.stopStrings],
    },
    policyVersionWanted: BigInt(spec.policyVersionWanted),
    requestedAt: new Date(),
  });
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
