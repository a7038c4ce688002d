/** Wall-clock marks of one rollout's trip through the services (epoch ms; absent marks are unknown). */
export interface RolloutTimeline {
  readonly generationStartMs?: number;
  readonly generationEndMs?: number;
  /** When the reward-service took the generated sample. */
  readonly receivedMs?: number;
  readonly judgeStartMs?: number;
  readonly judgeEndMs?: number;
  readonly scoredMs?: number;
}

/** How a step's wait for its rollouts splits up; the four parts sum to the window. */
export interface RolloutWaitPhases {
  /** Some policy-server was generating. */
  readonly generate: number;
  /** No generation, but some judge call was in flight. */
  readonly judge: number;
  /** Neither, but the reward-service held some sample (verifiable reward, mixing, publishing). */
  readonly reward: number;
  /** None of the above: messages on the way between services, batch windows, polling. */
  readonly messaging: number;
}

type Kind = 'generate' | 'judge' | 'reward';
const PRIORITY: readonly Kind[] = ['generate', 'judge', 'reward'];

/**
 * Partitions the window [startMs, endMs] by what the services were doing for these rollouts.
 * Intervals of one kind are unioned (many rollouts generate in one batch), clipped to the window,
 * and overlapping kinds count once, for the first of generate > judge > reward: so the parts sum
 * to the window exactly, and a part is the time the step would save if that kind took no time.
 * Pure: the marks come from the rollout messages (same clock in the embedded stack; across
 * machines the split is only as good as their clocks).
 */
export function partitionRolloutWait(
  timelines: readonly RolloutTimeline[],
  startMs: number,
  endMs: number,
): RolloutWaitPhases {
  const events: { t: number; kind: Kind; delta: 1 | -1 }[] = [];
  const add = (kind: Kind, a: number | undefined, b: number | undefined) => {
    if (a === undefined || b === undefined) return;
    const lo = Math.max(a, startMs);
    const hi = Math.min(b, endMs);
    if (!(hi > lo)) return;
    events.push({ t: lo, kind, delta: 1 }, { t: hi, kind, delta: -1 });
  };
  for (const r of timelines) {
    add('generate', r.generationStartMs, r.generationEndMs);
    add('judge', r.judgeStartMs, r.judgeEndMs);
    add('reward', r.receivedMs, r.scoredMs);
  }
  events.sort((x, y) => x.t - y.t);
  const open: Record<Kind, number> = { generate: 0, judge: 0, reward: 0 };
  const spent: Record<Kind, number> = { generate: 0, judge: 0, reward: 0 };
  let covered = 0;
  let prev = startMs;
  for (const e of events) {
    if (e.t > prev) {
      const active = PRIORITY.find((k) => open[k] > 0);
      if (active !== undefined) {
        spent[active] += e.t - prev;
        covered += e.t - prev;
      }
      prev = e.t;
    }
    open[e.kind] += e.delta;
  }
  const window = Math.max(0, endMs - startMs);
  return { ...spent, messaging: Math.max(0, window - covered) };
}
