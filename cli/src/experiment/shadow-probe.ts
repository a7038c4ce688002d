import { checkAnswer, PLAIN_TEMPLATE, type Problem, renderStudentPrompt } from '@verdict/data';
import { judgeV1, policyV1 } from '@verdict/proto';
import { auroc } from '@verdict/rl';
import { createGrpcClient } from '@verdict/runtime';

/** The shadow judge's view of the current policy on a held-out labeled slice. */
export interface ShadowProbe {
  /** Greedy accuracy against gold (strict extraction). */
  readonly accuracy: number;
  /** Mean judge score of the greedy solutions. */
  readonly judgeMean: number;
  /** Share of solutions where the judge (score ≥ 0.5) agrees with gold correctness. */
  readonly agreement: number;
  /**
   * The judge's AUROC against gold correctness on these solutions: how well it ranks the current
   * policy's own samples (NaN when all are right or all wrong).
   */
  readonly auroc: number;
  readonly n: number;
  readonly policyVersion: number;
  /** Per-problem greedy correctness, in slice order. */
  readonly correct: readonly boolean[];
}

export interface ShadowProber {
  probe(): Promise<ShadowProbe>;
  close(): void;
}

/**
 * Shadow-judges a held-out labeled slice through the real services: greedy solutions from the
 * policy-server (`Generate`), scores from the judge-server (`JudgeBatch`), correctness from the gold
 * answers. Nothing of it reaches training; greedy decoding makes it a pure function of the weights.
 */
export function createShadowProber(o: {
  policyAddress: string;
  judgeAddress: string;
  problems: readonly Problem[];
  maxNewTokens: number;
  /**
   * Problems per Generate / JudgeBatch call (default 128): within the policy-server's 256 sequences
   * and the judge-server's 256 items per request, so any slice size works.
   */
  requestSize?: number;
}): ShadowProber {
  const policy = createGrpcClient(policyV1.PolicyServiceClient, o.policyAddress, {
    defaultDeadlineMs: 300_000,
  });
  const judge = createGrpcClient(judgeV1.JudgeServiceClient, o.judgeAddress, { defaultDeadlineMs: 120_000 });
  const requestSize = o.requestSize ?? 128;
  let seq = 0;

  /** Greedy solutions of one request's problems, and the newest policy version that served them. */
  async function solve(problems: readonly Problem[]): Promise<{ texts: string[]; version: number }> {
    const texts = problems.map(() => '');
    let version = 0;
    const stream = policy.serverStream('generate', {
      requestId: `shadow-${process.pid}-${++seq}`,
      prompts: problems.map((p) => {
        const r = renderStudentPrompt(p.question, PLAIN_TEMPLATE);
        return { text: r.kind === 'plain' ? r.text : '', applyChatTemplate: false };
      }),
      sampling: {
        temperature: 0,
        topP: 1,
        topK: 0,
        maxNewTokens: o.maxNewTokens,
        stopTokenIds: [],
        stopStrings: [],
      },
      samplesPerPrompt: 1,
      minPolicyVersion: 0n,
    });
    for await (const chunk of stream) {
      texts[chunk.promptIndex] = (texts[chunk.promptIndex] ?? '') + chunk.textDelta;
      version = Math.max(version, Number(chunk.policyVersion));
    }
    return { texts, version };
  }

  /** The judge's scores of one request's solutions (NaN where it gave none). */
  async function score(problems: readonly Problem[], texts: readonly string[]): Promise<number[]> {
    const { results } = await judge.unary('judgeBatch', {
      items: problems.map((p, i) => ({
        id: String(i),
        question: p.question,
        // An empty solution is INVALID at the judge; a lone space keeps the item judged (and wrong).
        solution: texts[i]!.trim() === '' ? '(no answer)' : texts[i]!.trim(),
        templateName: '',
      })),
    });
    const scores = problems.map(() => Number.NaN);
    for (const r of results) {
      if (r.status === judgeV1.JudgeStatus.JUDGE_STATUS_OK) scores[Number(r.id)] = r.score;
    }
    return scores;
  }

  return {
    async probe() {
      const texts: string[] = [];
      const scores: number[] = [];
      let version = 0;
      for (let start = 0; start < o.problems.length; start += requestSize) {
        const part = o.problems.slice(start, start + requestSize);
        const solved = await solve(part);
        texts.push(...solved.texts);
        version = Math.max(version, solved.version);
        scores.push(...(await score(part, solved.texts)));
      }
      const correct = o.problems.map((p, i) => checkAnswer(texts[i]!, p.answer, 'strict'));
      let agree = 0;
      let judged = 0;
      let sum = 0;
      scores.forEach((s, i) => {
        if (!Number.isFinite(s)) return;
        judged++;
        sum += s;
        if (s >= 0.5 === correct[i]) agree++;
      });
      const n = o.problems.length;
      const judgedAt = scores.flatMap((s, i) => (Number.isFinite(s) ? [i] : []));
      return {
        auroc: auroc(
          judgedAt.map((i) => scores[i]!),
          judgedAt.map((i) => correct[i]!),
        ),
        accuracy: correct.filter(Boolean).length / n,
        judgeMean: judged > 0 ? sum / judged : Number.NaN,
        agreement: judged > 0 ? agree / judged : Number.NaN,
        n,
        policyVersion: version,
        correct,
      };
    },
    close() {
      policy.close();
      judge.close();
    },
  };
}
