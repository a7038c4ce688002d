// The chaos driver's fault schedule: a pure function of a seed, printed in a text form that
// `parseSchedule` reads back, so a failing run's faults can be replayed exactly (`--schedule`).
// Faults are placed by progress (messages seen on verdict.rollout.>), not by wall time: a slow or
// loaded machine still gets every fault inside the run, at the same point of the pipeline.
import { createRng } from '@verdict/data';

export type NatsSignal = 'SIGKILL' | 'SIGTERM';

interface FaultAt {
  /** Fires once this many rollout messages were seen... */
  readonly atMessage: number;
  /** ...plus this delay (lands faults inside processing, not only at publish moments). */
  readonly delayMs: number;
  /** How long the victim stays down before it is started again. */
  readonly downMs: number;
}

export type Fault =
  | (FaultAt & { readonly kind: 'kill'; readonly target: string })
  | (FaultAt & { readonly kind: 'nats'; readonly signal: NatsSignal });

export interface ScheduleOptions {
  readonly seed: number;
  readonly faults: number;
  /** Rollout messages the run is expected to produce (faults spread over 5 %–90 % of them). */
  readonly totalMessages: number;
  /** Services a kill may hit. */
  readonly targets: readonly string[];
  /** One nats-server restart in every block of this many faults (its place in the block is random). */
  readonly natsEvery: number;
}

/**
 * Stratified: fault i fires at a random point of the i-th of `faults` equal slices of the run, so
 * faults are spread over the whole run and never bunch up at its start.
 */
export function chaosSchedule(o: ScheduleOptions): Fault[] {
  if (!(o.faults >= 0) || !(o.natsEvery >= 1) || o.targets.length === 0) {
    throw new RangeError('chaosSchedule: faults ≥ 0, natsEvery ≥ 1 and at least one target');
  }
  const rng = createRng(`chaos:${o.seed}`);
  const kinds: ('kill' | 'nats')[] = [];
  while (kinds.length < o.faults) {
    const block: ('kill' | 'nats')[] = ['nats', ...Array<'kill'>(o.natsEvery - 1).fill('kill')];
    kinds.push(...rng.shuffle(block));
  }
  const first = Math.round(o.totalMessages * 0.05);
  const span = Math.max(1, Math.round(o.totalMessages * 0.85));
  const slice = span / Math.max(1, o.faults);
  return kinds.slice(0, o.faults).map((kind, i) => {
    const atMessage = first + Math.floor(slice * i + rng.next() * slice);
    const delayMs = rng.int(0, 500);
    if (kind === 'nats') {
      return {
        kind,
        signal: rng.next() < 0.5 ? 'SIGKILL' : 'SIGTERM',
        atMessage,
        delayMs,
        downMs: rng.int(500, 3_000),
      };
    }
    return { kind, target: rng.pick(o.targets), atMessage, delayMs, downMs: rng.int(0, 1_500) };
  });
}

/** `120+340:kill:policy-server-1:500` / `300+20:nats:SIGKILL:1500`, space-separated. */
export function formatSchedule(faults: readonly Fault[]): string {
  return faults
    .map(
      (f) => `${f.atMessage}+${f.delayMs}:${f.kind}:${f.kind === 'kill' ? f.target : f.signal}:${f.downMs}`,
    )
    .join(' ');
}

const TOKEN = /^(\d+)\+(\d+):(kill|nats):([A-Za-z0-9-]+):(\d+)$/;

/** Reads `formatSchedule`'s text back; names the bad token. */
export function parseSchedule(text: string, targets: readonly string[]): Fault[] {
  return text
    .trim()
    .split(/\s+/)
    .filter((t) => t !== '')
    .map((token) => {
      const m = TOKEN.exec(token);
      if (m === null)
        throw new Error(`schedule: bad fault ${JSON.stringify(token)} (want AT+DELAY:kill|nats:WHO:DOWN)`);
      const [, at, delay, kind, who, down] = m;
      const base = { atMessage: Number(at), delayMs: Number(delay), downMs: Number(down) };
      if (kind === 'nats') {
        if (who !== 'SIGKILL' && who !== 'SIGTERM')
          throw new Error(`schedule: ${token}: signal must be SIGKILL or SIGTERM`);
        return { ...base, kind, signal: who };
      }
      if (!targets.includes(who!))
        throw new Error(`schedule: ${token}: target must be one of ${targets.join(', ')}`);
      return { ...base, kind: 'kill', target: who! };
    });
}

/** One fault as a log line. */
export function describeFault(f: Fault): string {
  const what = f.kind === 'kill' ? `SIGKILL ${f.target}` : `restart nats-server (${f.signal})`;
  return `${what} at message ${f.atMessage} + ${f.delayMs} ms, down ${f.downMs} ms`;
}
