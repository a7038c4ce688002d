/**
 * The arithmetic a solution asserts, checked like a calculator would: every `a op b = c` in the
 * text (toy solutions write `36 - 9 = 27`, GSM8K's calculator annotations `<<36-9=27>>`), with
 * + − × ÷ written as `+ - * / x × ÷`. A final answer reached through a wrong step is a guess, not a
 * solution; the verifiable reward can ask for both (`answerAndArithmeticHold`).
 */

export type ArithmeticOp = '+' | '-' | '*' | '/';

export interface ArithmeticClaim {
  readonly a: number;
  readonly op: ArithmeticOp;
  readonly b: number;
  /** What the text says the result is. */
  readonly claimed: number;
  /** `a op b`; NaN for a division by zero. */
  readonly value: number;
  /** The claimed result equals the value as written (to the claimed number's own decimals, at least 2). */
  readonly holds: boolean;
  /** Where the claim starts in the text. */
  readonly index: number;
}

const NUM = String.raw`(-?[$€£]?\d+(?:,\d{3})*(?:\.\d+)?)`;
// `a op b = c` (currency signs allowed: `8 + 6 = $14`); `a` must not continue a word or a longer
// number (`x2 + 3 = 5` is no claim, nor is `234 + 1 = 235` inside `1,234 + 1 = 1,235`), and `c`
// must not run on into more digits. Not starting after `digit,` also keeps the scan linear: a
// start inside every group of a long `1,111,111,…` run re-read the run to its end (quadratic).
const CLAIM = new RegExp(
  String.raw`(?<![\w.]|\d,)${NUM}\s*([-+*/x×÷])\s*${NUM}\s*=\s*${NUM}(?![\d.]*\d)`,
  'g',
);

const OPS: Record<string, ArithmeticOp> = {
  '+': '+',
  '-': '-',
  '*': '*',
  x: '*',
  '×': '*',
  '/': '/',
  '÷': '/',
};

const parse = (s: string) => Number(s.replace(/[,$€£]/g, ''));

function decimals(raw: string): number {
  const dot = raw.indexOf('.');
  return dot < 0 ? 0 : raw.length - dot - 1;
}

function apply(op: ArithmeticOp, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? Number.NaN : a / b;
  }
}

/** Every `a op b = c` claim in `text`, in order, each checked. */
export function arithmeticClaims(text: string): ArithmeticClaim[] {
  const out: ArithmeticClaim[] = [];
  for (const m of text.matchAll(CLAIM)) {
    const op = OPS[m[2]!]!;
    const a = parse(m[1]!);
    const b = parse(m[3]!);
    const claimed = parse(m[4]!);
    const value = apply(op, a, b);
    // A result written with d decimals is right when it is the value rounded to d places; at
    // least 2, so "10 / 3 = 3.33" holds and "10 / 3 = 3" does not.
    const tolerance = 0.5 * 10 ** -Math.max(2, decimals(m[4]!)) + 1e-9 * Math.abs(value);
    out.push({
      a,
      op,
      b,
      claimed,
      value,
      holds: Number.isFinite(value) && Math.abs(value - claimed) <= tolerance,
      index: m.index,
    });
  }
  return out;
}

/** True when every arithmetic claim in `text` holds (vacuously true with none). */
export function arithmeticHolds(text: string): boolean {
  return arithmeticClaims(text).every((c) => c.holds);
}
