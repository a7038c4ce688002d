import { JUDGE_NO, JUDGE_YES, renderJudgePrompt } from '@verdict/data';
import type { ModelTokenizer } from '@verdict/models';
import type { WeightedSequence } from './train-examples.js';

/** A labeled (question, solution) pair for the judge. */
export interface JudgeTrainItem {
  readonly question: string;
  readonly solution: string;
  readonly label: boolean;
}

export function verdictId(tokenizer: ModelTokenizer, word: string): number {
  const ids = tokenizer.encode(word, { addSpecialTokens: false });
  if (ids.length !== 1) throw new Error(`judge verdict ${JSON.stringify(word)} is not one token`);
  return ids[0]!;
}

/** Where a solution's tokens sit in its judge prompt: `[from, to)`, or undefined when unaligned. */
export function solutionSpan(
  tokenizer: ModelTokenizer,
  text: string,
  solution: string,
  prompt: readonly number[],
) {
  // The toy tokenizer splits on fixed boundaries, so prefix encodings are prefixes of the full one.
  const marker = '\nSolution:';
  const before = text.slice(0, text.indexOf(marker) + marker.length);
  const from = tokenizer.encode(before).length;
  const withSolution = tokenizer.encode(`${before} ${solution}`);
  const to = withSolution.length;
  return to > from && prompt[from] === withSolution[from] ? { from, to } : undefined;
}

/**
 * Phase 0 of the judge: it learns to solve before it learns to judge. The JUDGE_TEMPLATE prompt with
 * a gold solution, every solution token weighted 1 (a language model's loss), no verdict. A judge
 * that can write the right chain reads a student's chain against its own, and that is what lifts
 * its AUROC (measured: see the package README).
 */
export function judgeSolverSequences(
  tokenizer: ModelTokenizer,
  problems: readonly { readonly question: string; readonly solution: string }[],
): WeightedSequence[] {
  return problems.map((p) => {
    const text = renderJudgePrompt(p.question, p.solution).text;
    const ids = tokenizer.encode(text);
    const span = solutionSpan(tokenizer, text, p.solution, ids);
    if (span === undefined)
      throw new Error(`judge solver sequence: solution tokens not aligned in ${JSON.stringify(text)}`);
    return { ids, weights: ids.map((_, t) => (t >= span.from && t < span.to ? 1 : 0)) };
  });
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
      const span = solutionSpan(tokenizer, text, item.solution, prompt);
      if (span !== undefined) {
        for (let t = span.from; t < span.to; t++) weights[t] = lmLossWeight / (span.to - span.from);
      }
    }
    return { ids: [...prompt, item.label ? yes : no], weights: [...weights, 1] };
  });
}
