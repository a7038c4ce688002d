// Exactly-once accounting of one run, by rollout id: pure (the chaos run gathers the counts).

export type Stage = 'requested' | 'generated' | 'scored';

export interface LedgerInput {
  /** Every rollout id the run must produce (a pure function of run id, steps, prompts, G). */
  readonly expected: readonly string[];
  /** Stored messages per id on each stage's subject. */
  readonly stored: Readonly<Record<Stage, ReadonlyMap<string, number>>>;
  /** Ids the learner consumed (the final checkpoint's seen set). */
  readonly trained: readonly string[];
  /** Samples each step's metrics line counts (ok + masked + stale), one entry per line in metrics.jsonl. */
  readonly stepSamples: readonly { readonly step: number; readonly samples: number }[];
  readonly steps: number;
  readonly perStep: number;
}

export interface Ledger {
  /** Expected ids missing from some stage or never trained. */
  readonly lost: number;
  /** Ids stored more than once on some stage, ids nobody asked for, and samples counted twice. */
  readonly duplicated: number;
  /** One line per problem (capped), for failure messages. */
  readonly problems: readonly string[];
}

export function rolloutIds(runId: string, steps: number, prompts: number, groupSize: number): string[] {
  const ids: string[] = [];
  for (let s = 1; s <= steps; s++)
    for (let q = 0; q < prompts; q++)
      for (let g = 0; g < groupSize; g++) ids.push(`${runId}.s${s}.q${q}.g${g}`);
  return ids;
}

export function settleLedger(input: LedgerInput): Ledger {
  const problems: string[] = [];
  const note = (p: string) => {
    if (problems.length < 20) problems.push(p);
  };
  const expected = new Set(input.expected);
  const trained = new Set(input.trained);
  const lostIds = new Set<string>();
  const duplicatedIds = new Set<string>();
  for (const stage of ['requested', 'generated', 'scored'] as const) {
    const counts = input.stored[stage];
    for (const id of expected) {
      if (!counts.has(id)) {
        lostIds.add(id);
        note(`${id}: never stored on ${stage}`);
      }
    }
    for (const [id, n] of counts) {
      if (!expected.has(id)) {
        duplicatedIds.add(id);
        note(`${id}: stored on ${stage} but never asked for`);
      } else if (n > 1) {
        duplicatedIds.add(id);
        note(`${id}: stored ${n} times on ${stage}`);
      }
    }
  }
  for (const id of expected) {
    if (!trained.has(id)) {
      lostIds.add(id);
      note(`${id}: not in the learner's consumed set`);
    }
  }
  for (const id of trained) {
    if (!expected.has(id)) {
      duplicatedIds.add(id);
      note(`${id}: consumed but never asked for`);
    }
  }
  // A step trained twice shows as a second metrics line; a step's line must count its whole batch.
  let doubleCounted = 0;
  for (let s = 1; s <= input.steps; s++) {
    const lines = input.stepSamples.filter((l) => l.step === s);
    if (lines.length === 0) note(`step ${s}: no metrics line`);
    if (lines.length > 1) {
      doubleCounted += lines.slice(1).reduce((a, l) => a + l.samples, 0);
      note(`step ${s}: ${lines.length} metrics lines`);
    }
    const first = lines[0];
    if (first !== undefined && first.samples !== input.perStep) {
      if (first.samples > input.perStep) doubleCounted += first.samples - input.perStep;
      note(`step ${s}: metrics count ${first.samples} samples, expected ${input.perStep}`);
    }
  }
  return { lost: lostIds.size, duplicated: duplicatedIds.size + doubleCounted, problems };
}
