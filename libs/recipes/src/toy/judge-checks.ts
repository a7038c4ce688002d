import {
  arithmeticClaims,
  checkAnswer,
  generateToyProblems,
  generateVerifierData,
  renderJudgePrompt,
  TOY_EVAL_SEED,
} from '@verdict/data';
import { generate, type LlamaModel } from '@verdict/models';
import { auroc } from '@verdict/rl';
import type { SolverTemplate } from './judge-recipe-config.js';
import { judgeScores, mean } from './judge-scores.js';
import { type StudentSample, studentPrompt } from './student-samples.js';

/**
 * What DESIGN.md §6 asks of a judge besides its AUROC on answers: does it catch a wrong step
 * (per-claim AUROC, planted one-step slips), and can it solve the problems itself.
 */
export interface JudgeCheckMetrics {
  /** Per claim: P(Yes) of the solution cut after a step whose earlier steps hold, against that step holding. */
  readonly claims: { readonly auroc: number; readonly items: number; readonly holdRate: number };
  /** Mean P(Yes) on gold solutions with one arithmetic step changed (the answer follows the slip). */
  readonly slipProbe: { readonly meanPYes: number; readonly samples: number };
  /** The judge as a solver: greedy, in the prompt it learned to solve in, strict answer check. */
  readonly solver: {
    readonly greedyInDomain: number;
    readonly problems: number;
    /** `judge`: its prompt up to "Solution:"; `plain`: the student's prompt (absent in older manifests: judge). */
    readonly template?: SolverTemplate;
  };
}

/** A solution cut after one of its steps, labeled by whether that step's arithmetic holds. */
export interface ClaimItem {
  readonly question: string;
  readonly prefix: string;
  readonly holds: boolean;
}

/**
 * Per-claim items from solutions: for each line with an `a op b = c` step whose earlier steps all
 * hold, the solution up to and including that line, labeled by that line's steps. Lines after the
 * first wrong step are left out: their label would say nothing new about the chain.
 */
export function claimItems(samples: readonly { question: string; solution: string }[]): ClaimItem[] {
  const out: ClaimItem[] = [];
  for (const s of samples) {
    const lines = s.solution.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const claims = arithmeticClaims(lines[i]!);
      if (claims.length === 0) continue;
      const holds = claims.every((c) => c.holds);
      out.push({ question: s.question, prefix: lines.slice(0, i + 1).join('\n'), holds });
      if (!holds) break;
    }
  }
  return out;
}

/** Problems of the slip probe: at least `SLIP_PROBE_PROBLEMS` planted slips (issue 15 asks ≥ 500). */
export const SLIP_PROBE_PROBLEMS = 600;

/** The judge's checks: per claim on the student's samples, planted slips, and solving. */
export async function measureJudgeChecks(
  model: LlamaModel,
  samples: readonly StudentSample[],
  options: {
    readonly seed: number;
    readonly solverProblems: number;
    readonly maxNewTokens: number;
    /** The prompt the judge solves in (default `judge`). */
    readonly solverTemplate?: SolverTemplate;
  },
): Promise<JudgeCheckMetrics> {
  const items = claimItems(samples.map((s) => ({ question: s.problem.question, solution: s.solution })));
  const claimScores = await judgeScores(
    model,
    items.map((c) => ({ question: c.question, answer: c.prefix })),
  );
  const labels = items.map((c) => c.holds);

  const slips = generateVerifierData(
    generateToyProblems(SLIP_PROBE_PROBLEMS, { seed: `slip-probe:${options.seed}`, split: 'id' }),
    { seed: `slip-probe:${options.seed}`, kinds: ['arithmetic-slip'], wrongPerProblem: 1 },
  ).filter((d) => !d.label);
  const slipScores = await judgeScores(
    model,
    slips.map((d) => ({ question: d.question, answer: d.solution })),
  );

  const template = options.solverTemplate ?? 'judge';
  const prompt = template === 'plain' ? studentPrompt : solverPrompt;
  const problems = generateToyProblems(options.solverProblems, { seed: TOY_EVAL_SEED, split: 'id' });
  let right = 0;
  for (let start = 0; start < problems.length; start += 64) {
    const chunk = problems.slice(start, start + 64);
    const gens = await generate(
      model,
      chunk.map((p) => prompt(p.question)),
      {
        temperature: 0,
        maxNewTokens: options.maxNewTokens,
        ...(template === 'judge' ? { stopStrings: ['\nIs this'] } : {}),
      },
    );
    gens.forEach((g, i) => {
      if (checkAnswer(solverAnswerText(g.text), chunk[i]!.answer, 'strict')) right++;
    });
  }
  return {
    claims: { auroc: auroc(claimScores, labels), items: items.length, holdRate: mean(labels.map(Number)) },
    slipProbe: { meanPYes: mean(slipScores), samples: slips.length },
    solver: {
      greedyInDomain: problems.length === 0 ? Number.NaN : right / problems.length,
      problems: problems.length,
      template,
    },
  };
}

/** The judge prompt cut after "Solution:": what the judge learned to continue as a solver (phase 0). */
export function solverPrompt(question: string): string {
  const marker = '\nSolution:';
  const text = renderJudgePrompt(question, '').text;
  return text.slice(0, text.indexOf(marker) + marker.length);
}

/**
 * A solver continuation up to the end of its first `#### n` line: the solution as the judge was
 * taught to write it. Whatever it writes after (a judge trained on "…\n#### n\nIs this solution
 * correct?" may run on) is not part of its answer.
 */
export function solverAnswerText(text: string): string {
  const mark = text.indexOf('####');
  if (mark < 0) return text;
  const end = text.indexOf('\n', mark);
  return end < 0 ? text : text.slice(0, end);
}
