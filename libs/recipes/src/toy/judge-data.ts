import { JUDGE_NO, JUDGE_YES, renderJudgePrompt } from '@verdict/data';
import type { ModelTokenizer } from '@verdict/models';
import type { WeightedSequence } from './train-examples.js';

/** A labeled (question, solution) pair for the judge. */
export interface JudgeTrainItem {
  readonly question: string;
  readonly solution: string;
  readonly label: boolean;
}

function verdictId(tokenizer: ModelTokenizer, word: string): number {
  const ids = tokenizer.encode(word, { addSpecialTokens: false });
  if (ids.length !== 1) throw new Error(`judge verdict ${JSON.stringify(word)} is not one token`);
  return ids[0]!;
}

/**
 * The judge's training sequence: the JUDGE_TEMPLATE prompt (with BOS) + " Yes"/" No". The verdict
 * token has weight 1. For correct solutions the solution tokens also carry an LM loss of total
 * weight `lmLossWeight` (spread over them), so the judge learns the arithmetic it must check.
 */
export function judgeSequences(
  tokenizer: ModelTokenizer,
  items: readonly JudgeTrainItem[],
  lmLossWeight: number,
): WeightedSequence[] {
  const yes = verdictId(tokenizer, JUDGE_YES);
  const no = verdictId(tokenizer, JUDGE_NO);
  return items.map((item) => {
    const text = renderJudgePrompt(item.question, item.solution).text;
    const prompt = tokenizer.encode(text);
    const weights = prompt.map(() => 0);
    if (item.label && lmLossWeight > 0) {
      // The solution span: tokens after "Solution:" up to the end of the solution text. The toy
      // tokenizer splits on fixed boundaries, so prefix encodings are prefixes of the full one.
      const marker = '\nSolution:';
      const before = text.slice(0, text.indexOf(marker) + marker.length);
      const from = tokenizer.encode(before).length;
      const to = tokenizer.encode(`${before} ${item.solution}`).length;
      const span = to - from;
      if (span > 0 && prompt[from] === tokenizer.encode(`${before} ${item.solution}`)[from]) {
        for (let t = from; t < to; t++) weights[t] = lmLossWeight / span;
      }
    }
    return { ids: [...prompt, item.label ? yes : no], weights: [...weights, 1] };
  });
}
