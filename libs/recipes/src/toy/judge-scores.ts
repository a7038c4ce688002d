import { type JudgeModel, judge } from '@verdict/models';

/** Mean of `xs`; NaN when empty ("not measured", never a silent 0). */
export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The judge's P(Yes) for each (question, solution), through `judge()` (the judge-server's code path). */
export async function judgeScores(
  model: JudgeModel,
  items: readonly { readonly question: string; readonly answer: string }[],
): Promise<number[]> {
  return (await judge(model, items, { template: 'plain', maxBatchSize: 32 })).map((r) => r.score);
}
