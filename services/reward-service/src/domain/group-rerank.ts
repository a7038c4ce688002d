/** A sample's rerank term: its normalised rank in the group, or why it has none. */
export type RerankOutcome =
  | { readonly kind: 'value'; readonly value: number }
  | { readonly kind: 'unavailable'; readonly reason: string };

/**
 * R_rerank for the members of one group, in input order. `scores[i]` is member i's judge
 * score, or undefined when its judge call failed: such a member is left out of the ranking and
 * gets no rerank value. With n members that have a score, member i gets
 *   (members with a strictly lower score + 0.5 · OTHER members with an equal score) / (n − 1),
 * in [0, 1]; n < 2 → unavailable for everyone (nothing to rank against).
 */
export function computeGroupRerank(scores: readonly (number | undefined)[]): RerankOutcome[] {
  const ranked = scores.filter((s): s is number => s !== undefined && Number.isFinite(s));
  const n = ranked.length;
  return scores.map((score): RerankOutcome => {
    if (score === undefined || !Number.isFinite(score)) {
      return { kind: 'unavailable', reason: 'no judge score for this sample' };
    }
    if (n < 2) {
      return {
        kind: 'unavailable',
        reason: `group has ${n} member with a judge score (of ${scores.length}); rerank needs at least 2`,
      };
    }
    let lower = 0;
    let equal = 0;
    for (const other of ranked) {
      if (other < score) lower++;
      else if (other === score) equal++;
    }
    // `equal` counted the sample itself once.
    return { kind: 'value', value: (lower + 0.5 * (equal - 1)) / (n - 1) };
  });
}
