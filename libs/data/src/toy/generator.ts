import { createRng, type Rng } from '../prng.js';
import type { Problem } from '../problem.js';
import {
  HELD_OUT_PEOPLE,
  IN_DOMAIN_PEOPLE,
  type Person,
  TOY_OPS,
  TOY_SCENARIOS,
  type ToyOp,
  type ToyScenario,
} from './scenarios.js';

export type ToySplit = 'id' | 'ood';
/** 1–4: the number of operations, and how large the numbers get. */
export type ToyDifficulty = 1 | 2 | 3 | 4;

/** One step of a solution chain as written (values may be wrong in a corrupted solution). */
export interface ToyStep {
  readonly op: ToyOp;
  readonly operand: number;
  readonly before: number;
  readonly after: number;
}

/** Everything needed to re-render a toy problem and its solution. */
export interface ToySpec {
  readonly scenario: string;
  readonly person: Person;
  readonly item: string;
  readonly place: string;
  readonly start: number;
  readonly steps: readonly ToyStep[];
  readonly answer: number;
  readonly difficulty: ToyDifficulty;
}

export interface ToyProblem extends Problem {
  readonly spec: ToySpec;
}

/**
 * Operand ranges per difficulty. Kept small (results stay at most three digits, mostly two) so a
 * sub-million-parameter model can learn the arithmetic inside a 10-minute CPU budget; the
 * difficulty knob then mostly means more steps. `mulUpTo` bounds the value a step may multiply.
 */
const RANGES: Record<ToyDifficulty, { start: number; add: number; mul: number; mulUpTo: number }> = {
  1: { start: 12, add: 9, mul: 3, mulUpTo: 30 },
  2: { start: 20, add: 12, mul: 3, mulUpTo: 40 },
  3: { start: 30, add: 15, mul: 4, mulUpTo: 40 },
  4: { start: 40, add: 20, mul: 4, mulUpTo: 40 },
};

export function applyOp(op: ToyOp, v: number, b: number): number {
  switch (op) {
    case 'add':
      return v + b;
    case 'sub':
      return v - b;
    case 'mul':
      return v * b;
    case 'div':
      return v / b;
  }
}

/** Numbers as the solutions write them: integers plainly, others to at most 2 decimals. */
export function formatToyNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Math.round(x * 100) / 100);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Fills a sentence template for a problem's entities and the given numbers. */
export function fillToyText(
  text: string,
  spec: Pick<ToySpec, 'person' | 'item' | 'place'>,
  numbers: { a?: number; b?: number; v?: number; r?: number } = {},
): string {
  const he = spec.person.he;
  const words: Record<string, string> = {
    name: spec.person.name,
    he,
    He: capitalize(he),
    his: he === 'he' ? 'his' : 'her',
    His: he === 'he' ? 'His' : 'Her',
    him: he === 'he' ? 'him' : 'her',
    item: spec.item,
    place: spec.place,
    // Written as a placeholder so template strings never look like `${...}` interpolation.
    usd: '$',
  };
  return text.replaceAll(/\{(\w+)\}/g, (_whole, key: string) => {
    const word = words[key];
    if (word !== undefined) return word;
    const n = numbers[key as 'a' | 'b' | 'v' | 'r'];
    if (n === undefined) throw new RangeError(`toy template ${JSON.stringify(text)} needs {${key}}`);
    return formatToyNumber(n);
  });
}

/** Picks an operand for `op` on value v that keeps the chain whole and positive, or undefined. */
function pickOperand(rng: Rng, op: ToyOp, v: number, d: ToyDifficulty): number | undefined {
  const r = RANGES[d];
  if (op === 'add') return rng.int(2, r.add);
  if (op === 'sub') return v >= 4 ? rng.int(1, Math.min(v - 2, r.add)) : undefined;
  if (op === 'mul') return v <= r.mulUpTo ? rng.int(2, r.mul) : undefined;
  const divisors = [2, 3, 4, 5, 6, 7, 8, 9].filter((b) => v % b === 0 && v / b >= 2);
  return divisors.length > 0 ? rng.pick(divisors) : undefined;
}

function scenariosFor(split: ToySplit): readonly ToyScenario[] {
  return TOY_SCENARIOS.filter((s) => s.heldOut === (split === 'ood'));
}

export function getToyScenario(name: string): ToyScenario {
  const s = TOY_SCENARIOS.find((x) => x.name === name);
  if (s === undefined) throw new RangeError(`unknown toy scenario "${name}"`);
  return s;
}

/** The chain-of-thought solution for a spec: one line per step, then `#### answer`. */
export function renderToySolution(
  spec: ToySpec,
  steps: readonly ToyStep[] = spec.steps,
  finalAnswer?: number,
): string {
  const scenario = getToyScenario(spec.scenario);
  const lines = steps.map((s) =>
    fillToyText(scenario.ops[s.op].step, spec, { b: s.operand, v: s.before, r: s.after }),
  );
  const last = finalAnswer ?? steps[steps.length - 1]?.after ?? spec.start;
  return `${lines.join('\n')}\n#### ${formatToyNumber(last)}`;
}

export interface ToyOptions {
  readonly seed: number | string;
  readonly split?: ToySplit;
  /** A fixed difficulty, or 'mixed' to draw 1–4 per problem (default 'mixed'). */
  readonly difficulty?: ToyDifficulty | 'mixed';
}

/**
 * The `index`-th toy problem of a (seed, split) stream. Each problem has its own PRNG stream,
 * so problem i is the same whatever count is asked for.
 */
export function generateToyProblem(index: number, options: ToyOptions): ToyProblem {
  const split = options.split ?? 'id';
  const rng = createRng(`${options.seed}:${split}:${index}`);
  const difficulty: ToyDifficulty =
    options.difficulty === undefined || options.difficulty === 'mixed'
      ? (rng.int(1, 4) as ToyDifficulty)
      : options.difficulty;
  const scenario = rng.pick(scenariosFor(split));
  const person = rng.pick(scenario.heldOut ? HELD_OUT_PEOPLE : IN_DOMAIN_PEOPLE);
  const item = rng.pick(scenario.items);
  const place = rng.pick(scenario.places);
  const start = rng.int(4, RANGES[difficulty].start);
  const entities = { person, item, place };
  const sentences = [fillToyText(rng.pick(scenario.start), entities, { a: start })];
  const steps: ToyStep[] = [];
  let v = start;
  while (steps.length < difficulty) {
    // Try ops in a random order; 'add' always works, so each step finds one.
    for (const op of rng.shuffle(TOY_OPS)) {
      const operand = pickOperand(rng, op, v, difficulty);
      if (operand === undefined) continue;
      const after = applyOp(op, v, operand);
      steps.push({ op, operand, before: v, after });
      sentences.push(fillToyText(rng.pick(scenario.ops[op].text), entities, { b: operand }));
      v = after;
      break;
    }
  }
  sentences.push(fillToyText(rng.pick(scenario.question), entities));
  const spec: ToySpec = { scenario: scenario.name, ...entities, start, steps, answer: v, difficulty };
  return {
    id: `toy-${split}-${options.seed}-${index}`,
    source: 'toy',
    question: sentences.join(' '),
    answer: v,
    answerText: formatToyNumber(v),
    solution: renderToySolution(spec),
    meta: { split, scenario: scenario.name, difficulty, ops: steps.map((s) => s.op).join(',') },
    spec,
  };
}

/** `count` toy problems of a (seed, split) stream. */
export function generateToyProblems(count: number, options: ToyOptions): ToyProblem[] {
  return Array.from({ length: count }, (_, i) => generateToyProblem(i, options));
}
