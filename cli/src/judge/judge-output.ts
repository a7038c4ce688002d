/** Where a judgment came from: the same fields the judge-server puts in JudgeResult.provenance. */
export interface JudgeProvenanceOutput {
  judge_model_id: string;
  template_name: string;
  template_hash: string;
}

/**
 * One judged item as `verdict judge` prints it, identical for local and --remote judging
 * (the first five keys are the DESIGN.md §6 contract).
 */
export interface JudgeOutput {
  score: number;
  p_yes_full: number;
  other_mass: number;
  yes_id: number;
  no_id: number;
  z_yes: number;
  z_no: number;
  /** OK, INVALID, TIMEOUT, OVERLOADED or ERROR (the wire JudgeStatus without its prefix). */
  status: string;
  /** Detail for a non-OK status; empty on OK. */
  message: string;
  provenance: JudgeProvenanceOutput;
}

/** Batch output (--items): each result carries its item id. */
export type JudgeBatchOutput = { results: (JudgeOutput & { id: string })[] };

/** Human-readable lines (without --json): one block per item. */
export function formatJudgeOutput(result: unknown): string {
  const one = (r: JudgeOutput, id?: string): string =>
    [
      `${id === undefined ? '' : `[${id}] `}${r.status}${r.message ? ` ${r.message}` : ''}`,
      `  score ${r.score.toFixed(6)}  p_yes_full ${r.p_yes_full.toExponential(4)}  other_mass ${r.other_mass.toFixed(6)}`,
      `  yes_id ${r.yes_id} no_id ${r.no_id}  z_yes ${r.z_yes.toFixed(4)} z_no ${r.z_no.toFixed(4)}`,
      `  judge ${r.provenance.judge_model_id}  template ${r.provenance.template_name} ${r.provenance.template_hash.slice(0, 12)}`,
    ].join('\n');
  const batch = result as Partial<JudgeBatchOutput>;
  if (Array.isArray(batch.results)) return batch.results.map((r) => one(r, r.id)).join('\n');
  return one(result as JudgeOutput);
}
