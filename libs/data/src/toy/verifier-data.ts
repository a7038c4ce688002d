import { answersEqual } from '../answer/check-answer.js';
import { createRng, type Rng } from '../prng.js';
import { JUDGE_NO, JUDGE_YES, renderJudgePrompt } from '../prompts/templates.js';
import {
  applyOp,
  fillToyText,
  formatToyNumber,
  getToyScenario,
  type ToyProblem,
  type ToyStep,
} from './generator.js';
import type { ToyOp } from './scenarios.js';

export const TOY_ERROR_KINDS = [
  'arithmetic-slip',
  'wrong-operation',
  'dropped-step',
  'wrong-number',
  'wrong-final-line',
] as const;
export type ToyErrorKind = (typeof TOY_ERROR_KINDS)[number];

/** One labeled solution for verifier (judge) training. */
export interface VerifierExample {
  readonly problemId: string;
  readonly question: string;
  readonly solution: string;
  /** True when the solution is correct (its final answer equals gold and every step holds). */
  readonly label: boolean;
  readonly errorKind: ToyErrorKind | null;
  /** The answer the solution's `####` line states. */
  readonly statedAnswer: number;
  readonly gold: number;
}

const SYMBOL: Record<ToyOp, string> = { add: '+', sub: '-', mul: '*', div: '/' };

/** Steps from index `from` on, re-run correctly from `value` (how a mistake propagates). */
function propagate(steps: readonly ToyStep[], from: number, value: number): ToyStep[] {
  const out: ToyStep[] = [];
  let v = value;
  for (const s of steps.slice(from)) {
    const after = applyOp(s.op, v, s.operand);
    out.push({ ...s, before: v, after });
    v = after;
  }
  return out;
}

/** Renders step lines; `symbols` overrides the operator shown on a step (wrong operation). */
function renderSteps(
  problem: ToyProblem,
  steps: readonly ToyStep[],
  symbols: ReadonlyMap<number, string> = new Map(),
): string[] {
  const scenario = getToyScenario(problem.spec.scenario);
  return steps.map((s, i) => {
    const line = fillToyText(scenario.ops[s.op].step, problem.spec, {
      b: s.operand,
      v: s.before,
      r: s.after,
    });
    const shown = symbols.get(i);
    if (shown === undefined) return line;
    const v = formatToyNumber(s.before);
    const b = formatToyNumber(s.operand);
    return line.replace(`${v} ${SYMBOL[s.op]} ${b} =`, `${v} ${shown} ${b} =`);
  });
}

function finish(lines: readonly string[], stated: number): string {
  return [...lines, `#### ${formatToyNumber(stated)}`].join('\n');
}

function slip(rng: Rng, x: number): number {
  const delta = rng.pick([-10, -2, -1, 1, 2, 10]);
  return x + delta === x ? x + 1 : x + delta;
}

/**
 * A realistic wrong solution of `kind` for a toy problem, or undefined when that kind cannot
 * change the final answer here (e.g. a dropped step that happens not to matter).
 */
export function corruptToySolution(
  problem: ToyProblem,
  kind: ToyErrorKind,
  rng: Rng,
): { solution: string; statedAnswer: number } | undefined {
  const steps = problem.spec.steps;
  const i = rng.int(0, steps.length - 1);
  const step = steps[i]!;
  let lines: string[];
  let stated: number;
  if (kind === 'arithmetic-slip') {
    const wrong = { ...step, after: slip(rng, step.after) };
    const chain = [...steps.slice(0, i), wrong, ...propagate(steps, i + 1, wrong.after)];
    lines = renderSteps(problem, chain);
    stated = chain[chain.length - 1]!.after;
  } else if (kind === 'wrong-operation') {
    const other = rng.pick((['add', 'sub', 'mul', 'div'] as const).filter((o) => o !== step.op));
    const after = applyOp(other, step.before, step.operand);
    // Same wording as the right step, wrong operator and its result: how such slips look.
    const chain = [...steps.slice(0, i), { ...step, after }, ...propagate(steps, i + 1, after)];
    lines = renderSteps(problem, chain, new Map([[i, SYMBOL[other]]]));
    stated = chain[chain.length - 1]!.after;
  } else if (kind === 'dropped-step') {
    const chain = [...steps.slice(0, i), ...propagate(steps, i + 1, step.before)];
    lines = renderSteps(problem, chain);
    stated = chain[chain.length - 1]?.after ?? problem.spec.start;
  } else if (kind === 'wrong-number') {
    // Copy a different number from the question into this step (or misread it by a little).
    const candidates = [problem.spec.start, ...steps.map((s) => s.operand)].filter((n) => n !== step.operand);
    const operand =
      candidates.length > 0 && rng.next() < 0.7 ? rng.pick(candidates) : slip(rng, step.operand);
    if (step.op === 'div' && operand === 0) return undefined;
    const after = applyOp(step.op, step.before, operand);
    const chain = [...steps.slice(0, i), { ...step, operand, after }, ...propagate(steps, i + 1, after)];
    lines = renderSteps(problem, chain);
    stated = chain[chain.length - 1]!.after;
  } else {
    // Every step right, the final line wrong: an earlier intermediate or a near miss.
    lines = renderSteps(problem, steps);
    const earlier = steps.slice(0, -1).map((s) => s.after);
    stated = earlier.length > 0 && rng.next() < 0.5 ? rng.pick(earlier) : slip(rng, problem.spec.answer);
  }
  // Compare what the text will say (2-decimal rounding), not the exact value.
  if (answersEqual(Number(formatToyNumber(stated)), problem.spec.answer)) return undefined;
  return { solution: finish(lines, stated), statedAnswer: stated };
}

export interface VerifierDataOptions {
  readonly seed: number | string;
  /** Wrong solutions per problem (each problem also gets its correct one); default 1. */
  readonly wrongPerProblem?: number;
  readonly kinds?: readonly ToyErrorKind[];
}

/** Correct and wrong solutions with labels, deterministic by seed; kinds drawn uniformly. */
export function generateVerifierData(
  problems: readonly ToyProblem[],
  options: VerifierDataOptions,
): VerifierExample[] {
  const rng = createRng(`verifier:${options.seed}`);
  const kinds = options.kinds ?? TOY_ERROR_KINDS;
  const out: VerifierExample[] = [];
  for (const p of problems) {
    const base = { problemId: p.id, question: p.question, gold: p.spec.answer };
    out.push({ ...base, solution: p.solution!, label: true, errorKind: null, statedAnswer: p.spec.answer });
    for (let w = 0; w < (options.wrongPerProblem ?? 1); w++) {
      // A few tries: some kinds cannot change the answer on some problems.
      for (let attempt = 0; attempt < 8; attempt++) {
        const kind = rng.pick(kinds);
        const wrong = corruptToySolution(p, kind, rng);
        if (wrong === undefined) continue;
        out.push({ ...base, ...wrong, label: false, errorKind: kind });
        break;
      }
    }
  }
  return out;
}

/** The example in the judge prompt format with its single-token target. */
export function toJudgeExample(example: VerifierExample): {
  prompt: string;
  target: string;
  templateVersion: string;
} {
  const rendered = renderJudgePrompt(example.question, example.solution);
  return {
    prompt: rendered.text,
    target: example.label ? JUDGE_YES : JUDGE_NO,
    templateVersion: rendered.version,
  };
}
