import { formatSftExample, PLAIN_TEMPLATE, type ToyProblem } from '@verdict/data';
import type { LlamaFamilyConfig, ModelTokenizer } from '@verdict/models';
import type { WeightedSequence } from './train-examples.js';

/** SFT sequences for the student: prompt (with BOS, no loss) + " solution" + EOS (loss). */
export function studentSftSequences(
  tokenizer: ModelTokenizer,
  config: LlamaFamilyConfig,
  problems: readonly ToyProblem[],
): WeightedSequence[] {
  const eos = config.eosTokenIds[0] ?? tokenizer.eosId ?? 2;
  return problems.map((p) => {
    const ex = formatSftExample({ question: p.question, solution: p.solution ?? '' }, PLAIN_TEMPLATE);
    if (ex.prompt.kind !== 'plain') throw new Error('plain template expected');
    const prompt = tokenizer.encode(ex.prompt.text);
    const completion = [...tokenizer.encode(ex.completion, { addSpecialTokens: false }), eos];
    return {
      ids: [...prompt, ...completion],
      weights: [...prompt.map(() => 0), ...completion.map(() => 1)],
    };
  });
}
