import type { Problem } from '@verdict/data';
import type { AfterStepInfo } from '@verdict/learner';
import {
  type ArmSeedResult,
  type ArmSpec,
  armRunId,
  type CurvePoint,
  createHackingGuard,
  type ExperimentConfig,
  type GuardEvent,
  loweredWeights,
  type SeenSliceScore,
  shadowGuardObservation,
} from '@verdict/recipes';
import { armRunConfig } from './arm-run-config.js';
import { type ArmStack, startArmStack } from './arm-stack.js';
import { createShadowProber, type ShadowProbe, type ShadowProber } from './shadow-probe.js';
import { evaluateSuite } from './suite-eval.js';

export interface RunArmOptions {
  readonly arm: ArmSpec;
  readonly seed: number;
  readonly config: ExperimentConfig;
  readonly messagingUrl: string;
  readonly workDir: string;
  readonly studentDir: string;
  readonly judgeDir: string;
  readonly judgeModelId: string;
  readonly shadowProblems: readonly Problem[];
  /** The first problems of this seed's training stream (`ArmSeedResult.seen`). */
  readonly seenProblems: readonly Problem[];
  readonly logLevel: string;
  readonly progress: (line: string) => void;
}

const pct = (x: number | undefined) =>
  x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(1)}%`;
const num = (x: number | undefined, d = 3) => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));

/** Greedy on the seen slice through the same services as the shadow probe (gold-checked, strict). */
async function probeSeenSlice(stack: ArmStack, o: RunArmOptions): Promise<SeenSliceScore> {
  const prober = createShadowProber({
    policyAddress: stack.addresses['policy-server']!,
    judgeAddress: stack.addresses['judge-server']!,
    problems: o.seenProblems,
    maxNewTokens: o.config.maxNewTokens,
  });
  try {
    const probe = await prober.probe();
    return { n: probe.n, greedy: probe.accuracy, problems: probe.correct.map((c) => (c ? 1 : 0)) };
  } finally {
    prober.close();
  }
}

/**
 * One arm with one seed through the real services: start its stack, shadow-probe the SFT start,
 * run the learner (RL arms) with the guard in the after-step hook, evaluate the final weights
 * through the evaluator (toy-id and toy-ood, greedy and maj@k), stop the stack.
 */
export async function runArm(o: RunArmOptions): Promise<ArmSeedResult> {
  const { arm, seed, config } = o;
  const runId = armRunId(arm, seed);
  const tag = `[${runId}]`;
  const started = performance.now();
  const rl = arm.algorithm !== 'sft';
  const curve: CurvePoint[] = [];
  const guardEvents: GuardEvent[] = [];
  const guard = createHackingGuard(config.guard);
  let weights = { lambdaVr: arm.lambdaVr, muJudge: arm.muJudge, rhoRerank: arm.rhoRerank ?? 0 };
  let stack: ArmStack | undefined;
  let prober: ShadowProber | undefined;

  const afterStep = async (info: AfterStepInfo): Promise<void> => {
    const m = info.metrics;
    const due = info.step % config.shadow.everySteps === 0 || info.step >= config.steps;
    let probe: ShadowProbe | undefined;
    if (due) {
      await stack!.waitForVersion(info.weightsVersion, 120_000);
      probe = await prober!.probe();
    }
    // The guard watches the shadow slice only: the same greedy problems every probe, so the judge
    // score moves with the policy, not with which questions a step drew (the rollout judge reward of
    // a step swings by ±0.2 under a binary-ish judge; measured).
    const verdict = probe ? guard.observe(shadowGuardObservation(info.step, probe, arm.muJudge)) : undefined;
    curve.push({
      step: info.step,
      rewardTotal: m.reward.totalMean,
      ...(m.reward.verifiableMean !== undefined ? { rewardVerifiable: m.reward.verifiableMean } : {}),
      ...(m.reward.judgeMean !== undefined ? { rewardJudge: m.reward.judgeMean } : {}),
      kl: m.kl,
      entropy: m.entropy,
      responseLength: m.responseLengthMean,
      ...(m.judgeGoldAgreement !== undefined ? { rolloutAgreement: m.judgeGoldAgreement } : {}),
      ...(probe
        ? {
            heldOutAccuracy: probe.accuracy,
            shadowJudgeMean: probe.judgeMean,
            shadowAgreement: probe.agreement,
            ...(Number.isFinite(probe.auroc) ? { shadowAuroc: probe.auroc } : {}),
          }
        : {}),
      ...(verdict ? { guardSuspect: verdict.suspect } : {}),
      guardAlarm: guard.alarmStep !== null,
    });
    o.progress(
      `${tag} step ${info.step}/${config.steps} reward ${num(m.reward.totalMean)} (vr ${num(m.reward.verifiableMean)}, judge ${num(m.reward.judgeMean)}) ` +
        `kl ${num(m.kl, 4)} len ${num(m.responseLengthMean, 1)}` +
        (probe
          ? ` | held-out ${pct(probe.accuracy)} judge ${num(probe.judgeMean)} agree ${pct(probe.agreement)} AUROC ${num(probe.auroc)}`
          : '') +
        (verdict?.suspect ? ' | guard: suspect' : '') +
        ` | ${(m.timings.totalMs / 1000).toFixed(1)} s`,
    );
    if (verdict === undefined || verdict.action === 'none') return;
    const reason = verdict.reason ?? 'reward hacking suspected';
    o.progress(`${tag} REWARD-HACKING ALARM at step ${info.step}: ${reason} → ${verdict.action}`);
    if (verdict.action === 'stop') {
      guardEvents.push({ step: info.step, action: 'stop', reason });
      info.run.requestStop(`reward-hacking guard: ${reason}`);
    } else if (verdict.action === 'lower-mu') {
      weights = loweredWeights(weights, config.guard.muFactor);
      guardEvents.push({ step: info.step, action: 'lower-mu', reason, weights });
      // The learner sends the weights with each rollout request: no reward-service restart.
      info.run.setRewardWeights(weights);
    } else {
      guardEvents.push({ step: info.step, action: 'alarm', reason });
    }
  };

  let status: ArmSeedResult['status'] = rl ? 'completed' : 'baseline';
  let message: string | undefined;
  let steps = 0;
  try {
    stack = await startArmStack({
      messagingUrl: o.messagingUrl,
      workDir: o.workDir,
      studentDir: o.studentDir,
      judgeDir: o.judgeDir,
      runId,
      weights,
      rl,
      maxNewTokens: config.maxNewTokens,
      afterStep,
      logLevel: o.logLevel,
    });
    prober = createShadowProber({
      policyAddress: stack.addresses['policy-server']!,
      judgeAddress: stack.addresses['judge-server']!,
      problems: o.shadowProblems,
      maxNewTokens: config.maxNewTokens,
    });
    await stack.waitForVersion(0, 60_000);
    const start = await prober.probe();
    curve.push({
      step: 0,
      heldOutAccuracy: start.accuracy,
      shadowJudgeMean: start.judgeMean,
      shadowAgreement: start.agreement,
      ...(Number.isFinite(start.auroc) ? { shadowAuroc: start.auroc } : {}),
    });
    guard.observe(shadowGuardObservation(0, start, arm.muJudge));
    o.progress(
      `${tag} start: held-out ${pct(start.accuracy)} judge ${num(start.judgeMean)} agree ${pct(start.agreement)} AUROC ${num(start.auroc)} (shadow slice of ${start.n})`,
    );

    if (rl) {
      const { validateRunConfig } = await import('@verdict/learner');
      const runConfig = validateRunConfig(
        armRunConfig(arm, config, { seed, studentDir: o.studentDir, judgeModelId: o.judgeModelId }),
      );
      const run = stack.learner!.startRun(runConfig, false);
      await run.done;
      const s = run.status();
      steps = s.step;
      if (s.state === 'FAILED') {
        status = 'failed';
        message = s.message;
      } else if (s.state === 'STOPPED') {
        status = 'stopped';
        message = s.message;
      }
      await stack.waitForVersion(s.weightsVersion, 120_000);
    }

    const evalArgs = {
      evaluatorAddress: stack.addresses['evaluator']!,
      limit: config.eval.problems,
      samples: config.eval.samples,
      temperature: config.eval.temperature,
      seed: seed * 1_000_003 + 17,
      maxNewTokens: config.maxNewTokens,
    };
    const id = await evaluateSuite({ ...evalArgs, suite: 'toy-id' });
    const ood = await evaluateSuite({ ...evalArgs, suite: 'toy-ood' });
    const seen = await probeSeenSlice(stack, o);
    o.progress(
      `${tag} ${status}: toy-id greedy ${pct(id.greedy)} maj@${id.k} ${pct(id.majAtK)} | toy-ood greedy ${pct(ood.greedy)} maj@${ood.k} ${pct(ood.majAtK)}` +
        ` | seen greedy ${pct(seen.greedy)}` +
        (guard.alarmStep !== null ? ` | alarm at step ${guard.alarmStep}` : ''),
    );
    return {
      armId: arm.id,
      seed,
      runId,
      status,
      ...(message !== undefined ? { message } : {}),
      steps,
      alarmStep: guard.alarmStep,
      guardEvents,
      eval: { id, ood },
      seen,
      curve,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    prober?.close();
    await stack?.stop();
  }
}
