import type { SampleGroup, ScoredSample } from './scored-sample.js';

export type AddOutcome = 'accepted' | 'seen' | 'pending' | 'unexpected';

export interface TakeResult {
  /** Complete groups within the staleness bound (masked samples included; the trainer masks them). */
  readonly groups: SampleGroup[];
  /** Samples dropped because their policy version lags more than the bound. */
  readonly stale: ScoredSample[];
  /** Every sample settled by this take (groups + stale): ack them once the step is checkpointed. */
  readonly settledIds: string[];
}

interface PendingGroup {
  readonly groupId: string;
  readonly step: number;
  readonly size: number;
  readonly samples: Map<number, ScoredSample>;
}

/**
 * Collects scored rollouts into GRPO groups; pure (no I/O, no clock). Idempotent by rollout id:
 * ids consumed by an earlier step (`seen`, persisted in the checkpoint) and ids already held are
 * reported, never added twice. A step is complete when every group it expects holds all G
 * samples. `take` hands out complete groups whose samples are all within the staleness bound and
 * drops (counts) samples that can no longer be used.
 */
export class StepCollector {
  private readonly seen: Set<string>;
  private readonly groups = new Map<string, PendingGroup>();
  private readonly expectedByStep = new Map<number, Set<string>>();

  constructor(seenIds: Iterable<string> = []) {
    this.seen = new Set(seenIds);
  }

  /** Declares the groups a step requested. */
  expect(step: number, groups: readonly { groupId: string; size: number }[]): void {
    const ids = this.expectedByStep.get(step) ?? new Set<string>();
    for (const g of groups) {
      ids.add(g.groupId);
      if (!this.groups.has(g.groupId)) {
        this.groups.set(g.groupId, { groupId: g.groupId, step, size: g.size, samples: new Map() });
      }
    }
    this.expectedByStep.set(step, ids);
  }

  isSeen(rolloutId: string): boolean {
    return this.seen.has(rolloutId);
  }

  add(sample: ScoredSample): AddOutcome {
    if (this.seen.has(sample.rolloutId)) return 'seen';
    let group = this.groups.get(sample.groupId);
    if (group === undefined) {
      // A group requested before a restart and not re-declared: keep it, it may still be usable.
      if (!(sample.groupSize >= 1) || sample.groupIndex >= sample.groupSize) return 'unexpected';
      group = { groupId: sample.groupId, step: sample.step, size: sample.groupSize, samples: new Map() };
      this.groups.set(sample.groupId, group);
    }
    if (sample.groupIndex < 0 || sample.groupIndex >= group.size) return 'unexpected';
    const held = group.samples.get(sample.groupIndex);
    if (held !== undefined) return held.rolloutId === sample.rolloutId ? 'pending' : 'unexpected';
    group.samples.set(sample.groupIndex, sample);
    return 'accepted';
  }

  /** Groups of `step` still missing samples (0 = the step's batch is complete). */
  missingGroups(step: number): number {
    let missing = 0;
    for (const id of this.expectedByStep.get(step) ?? []) {
      const g = this.groups.get(id);
      if (g !== undefined && g.samples.size < g.size) missing++;
    }
    return missing;
  }

  /** Samples held but not yet taken. */
  get heldCount(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.samples.size;
    return n;
  }

  /**
   * Takes the usable groups at `currentVersion`: a group is usable when complete and every sample's
   * lag (currentVersion − policyVersion) is ≤ `stalenessBound`. Samples lagging beyond the bound are
   * dropped and counted, and so is the rest of their group (GRPO needs the whole group). Incomplete
   * groups within the bound stay for a later step. Taken and dropped ids join the seen set.
   */
  take(currentVersion: number, stalenessBound: number): TakeResult {
    const groups: SampleGroup[] = [];
    const stale: ScoredSample[] = [];
    const settledIds: string[] = [];
    for (const [id, g] of [...this.groups]) {
      const samples = [...g.samples.values()];
      const tooOld = samples.some((s) => currentVersion - s.policyVersion > stalenessBound);
      // A group requested for an earlier step that is still incomplete will only get older.
      const abandoned = g.samples.size < g.size && currentVersion - g.step >= stalenessBound + 1;
      if (tooOld || abandoned) {
        if (samples.length === 0 && !abandoned) continue;
        stale.push(...samples);
        this.forget(id, g, samples, settledIds);
        continue;
      }
      if (g.samples.size < g.size) continue;
      const ordered = [...samples].sort((a, b) => a.groupIndex - b.groupIndex);
      groups.push({ groupId: id, step: g.step, samples: ordered });
      this.forget(id, g, samples, settledIds);
    }
    return { groups, stale, settledIds };
  }

  private forget(id: string, g: PendingGroup, samples: ScoredSample[], settled: string[]): void {
    this.groups.delete(id);
    this.expectedByStep.get(g.step)?.delete(id);
    for (const s of samples) {
      this.seen.add(s.rolloutId);
      settled.push(s.rolloutId);
    }
  }

  /** The seen ids, for the checkpoint. */
  seenIds(): string[] {
    return [...this.seen];
  }
}
