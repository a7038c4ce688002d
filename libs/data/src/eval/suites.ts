import {
  type ReadOptions,
  readGsm8k,
  readGsmHard,
  readGsmPlus,
  readMawps,
  readSvamp,
} from '../datasets/readers.js';
import type { Problem } from '../problem.js';
import { generateToyProblems } from '../toy/generator.js';

export const SUITE_NAMES = [
  'gsm8k-test',
  'gsm8k-train',
  'svamp',
  'gsm-plus',
  'gsm-hard',
  'mawps',
  'toy-id',
  'toy-ood',
] as const;
export type SuiteName = (typeof SUITE_NAMES)[number];

/**
 * Toy evaluation suites use their own seed and size; training data must be generated with a
 * different seed (the toy recipes use numeric seeds, this one is a string, so they never collide).
 */
export const TOY_EVAL_SEED = 'eval';
// 2,000 so an experiment can pair ≥ 1,000 problems per suite (problem i depends only on the seed and
// i, so the first 500 are the same problems as when the suites held 500).
export const TOY_EVAL_SIZE = 2000;

export interface Suite {
  readonly name: SuiteName;
  readonly description: string;
  /** The `meta` key reported per category (GSM-Plus: perturbation type; MAWPS: subset). */
  readonly categoryKey?: string;
  load(options?: ReadOptions): Problem[];
}

const SUITES: Readonly<Record<SuiteName, Suite>> = {
  'gsm8k-test': {
    name: 'gsm8k-test',
    description: 'GSM8K test, 1319 problems',
    load: (o) => readGsm8k('test', o),
  },
  'gsm8k-train': {
    name: 'gsm8k-train',
    description: 'GSM8K train, 7473 problems',
    load: (o) => readGsm8k('train', o),
  },
  svamp: {
    name: 'svamp',
    description: 'SVAMP, 1000 problems (out of domain)',
    categoryKey: 'type',
    load: (o) => readSvamp(o),
  },
  'gsm-plus': {
    name: 'gsm-plus',
    description: 'GSM-Plus testmini, 2400 problems in 8 perturbation types',
    categoryKey: 'perturbationType',
    load: (o) => readGsmPlus(o),
  },
  'gsm-hard': { name: 'gsm-hard', description: 'GSM-Hard v2, 1319 problems', load: (o) => readGsmHard(o) },
  mawps: {
    name: 'mawps',
    description: 'MAWPS (4 subsets), 2065 problems',
    categoryKey: 'subset',
    load: (o) => readMawps(o),
  },
  'toy-id': {
    name: 'toy-id',
    description: `toy world, in-domain scenarios, ${TOY_EVAL_SIZE} problems`,
    categoryKey: 'difficulty',
    load: () => generateToyProblems(TOY_EVAL_SIZE, { seed: TOY_EVAL_SEED, split: 'id' }),
  },
  'toy-ood': {
    name: 'toy-ood',
    description: `toy world, held-out scenarios, ${TOY_EVAL_SIZE} problems`,
    categoryKey: 'difficulty',
    load: () => generateToyProblems(TOY_EVAL_SIZE, { seed: TOY_EVAL_SEED, split: 'ood' }),
  },
};

export function isSuiteName(name: string): name is SuiteName {
  return (SUITE_NAMES as readonly string[]).includes(name);
}

export function getSuite(name: string): Suite {
  if (!isSuiteName(name)) throw new RangeError(`unknown suite "${name}"; known: ${SUITE_NAMES.join(', ')}`);
  return SUITES[name];
}

/** A suite's problems, the first `limit` of them when given (file order, so runs are comparable). */
export function loadSuite(name: string, options: ReadOptions & { limit?: number } = {}): Problem[] {
  const problems = getSuite(name).load(options);
  return options.limit === undefined ? problems : problems.slice(0, options.limit);
}

/** The category a suite reports a problem under, if the suite has categories. */
export function problemCategory(suite: Suite, problem: Problem): string | undefined {
  if (suite.categoryKey === undefined) return undefined;
  const v = problem.meta[suite.categoryKey];
  return v === undefined ? undefined : String(v);
}
