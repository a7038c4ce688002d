import { formatToyNumber, generateToyProblems } from '@verdict/data';
import type { ModelTokenizer } from '@verdict/models';
import type { WeightedSequence } from './train-examples.js';

const SYMBOL = { add: '+', sub: '-', mul: '*', div: '/' } as const;

/**
 * Arithmetic "pretraining" for the toy models: lines `v op b = r` with the operands and results
 * of real toy solution steps (so the number ranges match), `perSequence` lines per sequence, loss
 * on the result tokens. The toy analogue of a pretrained base model that knows some arithmetic:
 * from scratch, a small Llama learns the solutions' wording in a few hundred steps but not the
 * sums inside them, which the CoT data alone holds too sparsely (1–4 equations per example).
 */
export function arithmeticDrillSequences(
  tokenizer: ModelTokenizer,
  options: {
    readonly sequences: number;
    readonly perSequence: number;
    readonly seed: string;
    /** Draw the facts from problems of this difficulty only (small numbers at 1). Default mixed. */
    readonly difficulty?: 1 | 2 | 3 | 4 | 'mixed';
  },
): WeightedSequence[] {
  const problems = generateToyProblems(Math.ceil((options.sequences * options.perSequence) / 2.5), {
    seed: options.seed,
    split: 'id',
    difficulty: options.difficulty ?? 'mixed',
  });
  const facts = problems.flatMap((p) =>
    p.spec.steps.map((s) => ({
      lhs: `${formatToyNumber(s.before)} ${SYMBOL[s.op]} ${formatToyNumber(s.operand)} =`,
      rhs: ` ${formatToyNumber(s.after)}`,
    })),
  );
  const bos = tokenizer.bosId ?? 1;
  const newline = tokenizer.encode('\n', { addSpecialTokens: false });
  const out: WeightedSequence[] = [];
  for (
    let i = 0;
    i + options.perSequence <= facts.length && out.length < options.sequences;
    i += options.perSequence
  ) {
    const ids = [bos];
    const weights = [0];
    for (const f of facts.slice(i, i + options.perSequence)) {
      const lhs = tokenizer.encode(f.lhs, { addSpecialTokens: false });
      const rhs = tokenizer.encode(f.rhs, { addSpecialTokens: false });
      ids.push(...lhs, ...rhs, ...newline);
      weights.push(...lhs.map(() => 0), ...rhs.map(() => 1), ...newline.map(() => 1));
    }
    out.push({ ids, weights });
  }
  return out;
}
